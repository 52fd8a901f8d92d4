#!/usr/bin/env python3
"""Times torch's scaled_dot_product_attention on the shapes `kvplan bench` runs, on the same GPU.

The shapes come from kvplan itself (`kvplan bench ARGS --dry-run --format json`), so both tools
agree on them; the rows written have the keys of kvplan bench's JSON rows (impl = "torch_sdpa" or
"torch_sdpa_<backend>"), so `kvplan report` can join the two. Decode rows: q is [batch, q_heads, 1,
head_dim], K and V contiguous [batch, kv_heads, ctx, head_dim] (SDPA has no block table). Prefill
rows (`--phase prefill`): q [batch, q_heads, ctx, d_qk], K [batch, kv_heads, ctx, d_qk], V [batch,
kv_heads, ctx, d_v] with is_causal=True (MLA: 192/128 heads, one K/V per head), once per backend of
--backend (default for prefill: flash and cudnn). GQA and MQA through enable_gqa=True. SDPA writes
no KV cache, which kvplan's prefill does. fp8 caches and layer rows are skipped: SDPA takes no fp8
K/V, and a torch layer is not built here; so are MLA decode rows (SDPA has no absorbed MLA path).

Like kvplan bench it measures its ceilings in the same run (a 1 GiB device copy, a bf16 8192^3
matmul), checks each output against float64 on the first sequence before timing, flushes L2
before every timed run, and reports the median of --iters runs timed with CUDA events.

  python3 bench/compare_torch.py --kvplan build/kvplan --out torch.json -- --model llama-3-8b --ctx 128k
"""
import argparse
import json
import statistics
import subprocess
import sys


def kvplan_rows(kvplan, bench_args):
    command = [kvplan, "bench", *bench_args, "--dry-run", "--gpu", "h100-sxm", "--format", "json"]
    return json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)["rows"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kvplan", default="build/kvplan", help="the kvplan binary that names the shapes")
    parser.add_argument("--iters", type=int, default=20, help="timed runs per shape (median; at least 20)")
    parser.add_argument("--backend", default="default",
                        help="auto, flash, efficient, cudnn, math, or a comma list; default: auto for decode rows, "
                             "flash,cudnn for prefill rows")
    parser.add_argument("--out", help="write the JSON document here as well as to stdout")
    parser.add_argument("bench_args", nargs=argparse.REMAINDER, help="-- then kvplan bench's shape arguments")
    args = parser.parse_args()
    bench_args = [a for a in args.bench_args if a != "--"]
    if args.iters < 20:
        sys.exit("compare_torch.py: --iters must be at least 20")

    import torch
    import torch.nn.functional as F

    if not torch.cuda.is_available():
        print("compare_torch.py: no CUDA device", file=sys.stderr)
        sys.exit(3)
    device = torch.device("cuda")
    props = torch.cuda.get_device_properties(device)
    flush = torch.empty(2 * getattr(props, "L2_cache_size", 64 << 20), dtype=torch.uint8, device=device)

    def median_time(run, iters):
        for _ in range(3):
            run()
        times = []
        for _ in range(iters):
            flush.zero_()
            start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            run()
            stop.record()
            stop.synchronize()
            times.append(start.elapsed_time(stop) * 1e-3)
        return statistics.median(times)

    src = torch.randn(1 << 29, dtype=torch.bfloat16, device=device)  # 1 GiB
    dst = torch.empty_like(src)
    copy_bytes_per_s = 2 * src.numel() * 2 / median_time(lambda: dst.copy_(src), args.iters)
    del src, dst
    a = torch.randn(8192, 8192, dtype=torch.bfloat16, device=device)
    b = torch.randn(8192, 8192, dtype=torch.bfloat16, device=device)
    gemm_flops_per_s = 2 * 8192**3 / median_time(lambda: a @ b, args.iters)
    del a, b

    backends = {
        "flash": [torch.nn.attention.SDPBackend.FLASH_ATTENTION],
        "efficient": [torch.nn.attention.SDPBackend.EFFICIENT_ATTENTION],
        "cudnn": [torch.nn.attention.SDPBackend.CUDNN_ATTENTION],
        "math": [torch.nn.attention.SDPBackend.MATH],
    }
    rows, notes = [], []
    for row in kvplan_rows(args.kvplan, bench_args):
        if row.get("phase") == "prefill":
            chosen = ["flash", "cudnn"] if args.backend == "default" else args.backend.split(",")
            for backend in chosen:
                rows.append(prefill_row(row, backend, backends, median_time, copy_bytes_per_s, gemm_flops_per_s, args.iters))
            continue
        if row.get("phase") == "layer":
            rows.append(dict(row, impl="torch_sdpa", check="skipped: no torch layer in this script"))
            continue
        if row["variant"].startswith("mla"):
            continue  # MLA decode: SDPA has no naive or absorbed MLA path
        out = dict(row, impl="torch_sdpa", page_size=0, splits=None)
        bq, hq, hkv, d, ctx = row["batch"], row["n_q_heads"], row["n_kv_heads"], row["head_dim"], row["ctx_tokens"]
        if row["kv_dtype"] == "fp8":
            out.update(check="skipped: SDPA takes no fp8 K/V")
            rows.append(out)
            continue
        dtype = torch.float16 if row["kv_dtype"] == "fp16" else torch.bfloat16
        q = torch.randn(bq, hq, 1, d, dtype=dtype, device=device)
        k = torch.randn(bq, hkv, ctx, d, dtype=dtype, device=device)
        v = torch.randn(bq, hkv, ctx, d, dtype=dtype, device=device)

        backend = "auto" if args.backend == "default" else args.backend

        def attend():
            if backend == "auto":
                return F.scaled_dot_product_attention(q, k, v, enable_gqa=hq != hkv)
            with torch.nn.attention.sdpa_kernel(backends[backend]):
                return F.scaled_dot_product_attention(q, k, v, enable_gqa=hq != hkv)

        got = attend()[0].double()
        k0 = k[0].double().repeat_interleave(hq // hkv, dim=0)
        v0 = v[0].double().repeat_interleave(hq // hkv, dim=0)
        want = torch.softmax(q[0].double() @ k0.transpose(-1, -2) / d**0.5, dim=-1) @ v0
        error = ((got - want).norm() / want.norm()).item()
        threshold = 5e-3 if dtype == torch.float16 else 1e-2
        out.update(rel_l2_error=error, check="pass" if error < threshold else "fail")
        if error < threshold:
            seconds = median_time(attend, args.iters)
            floor = max(row["bytes"] / copy_bytes_per_s, row["flops"] / gemm_flops_per_s)
            out.update(time_median_s=seconds, gb_per_s=row["bytes"] / seconds / 1e9,
                       tflop_per_s=row["flops"] / seconds / 1e12, floor_s=floor, roofline_pct=100 * floor / seconds)
        rows.append(out)
        del q, k, v

    notes.append("bytes and flops are kvplan's counts for the same shape (the paged cache's block table included)")
    document = {
        "command": "bench", "impl": "torch_sdpa", "torch": torch.__version__, "backend": args.backend,
        "device": props.name, "dry_run": False, "ceilings_source": "measured in this run",
        "bandwidth_bytes_per_s": copy_bytes_per_s, "peak_bf16_flops_per_s": gemm_flops_per_s,
        "iters": args.iters, "rows": rows, "notes": notes,
    }
    text = json.dumps(document, indent=2)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")


def prefill_row(row, backend, backends, median_time, copy_bytes_per_s, gemm_flops_per_s, iters):
    """Causal SDPA on the prefill row's shape with one backend, checked on the last 64 query rows of
    the first sequence against float64 before it is timed."""
    import torch
    import torch.nn.functional as F

    out = dict(row, impl=f"torch_sdpa_{backend}", page_size=0, splits=None)
    if row["kv_dtype"] == "fp8":
        return dict(out, check="skipped: SDPA takes no fp8 K/V")
    mla = row["variant"].startswith("mla")
    bq, hq, ctx = row["batch"], row["n_q_heads"], row["ctx_tokens"]
    hkv = hq if mla else row["n_kv_heads"]
    d_qk, d_v = (192, 128) if mla else (row["head_dim"], row["head_dim"])
    dtype = torch.float16 if row["kv_dtype"] == "fp16" else torch.bfloat16
    q = torch.randn(bq, hq, ctx, d_qk, dtype=dtype, device="cuda")
    k = torch.randn(bq, hkv, ctx, d_qk, dtype=dtype, device="cuda")
    v = torch.randn(bq, hkv, ctx, d_v, dtype=dtype, device="cuda")

    def attend():
        if backend == "auto":
            return F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=hq != hkv)
        with torch.nn.attention.sdpa_kernel(backends[backend]):
            return F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=hq != hkv)

    try:
        got = attend()[0, :, -64:].double()
    except RuntimeError as error:  # the backend does not take this shape (e.g. d_qk != d_v)
        return dict(out, check=f"skipped: {backend} backend refused the shape: {str(error).splitlines()[0][:200]}")
    rows = min(64, ctx)
    k0 = k[0].double().repeat_interleave(hq // hkv, dim=0)
    v0 = v[0].double().repeat_interleave(hq // hkv, dim=0)
    scores = q[0, :, -rows:].double() @ k0.transpose(-1, -2) / d_qk**0.5
    positions = torch.arange(ctx - rows, ctx, device="cuda")[:, None]
    scores = scores.masked_fill(torch.arange(ctx, device="cuda")[None, :] > positions, float("-inf"))
    want = torch.softmax(scores, dim=-1) @ v0
    error = ((got[:, -rows:] - want).norm() / want.norm()).item()
    threshold = 5e-3 if dtype == torch.float16 else 1e-2
    out.update(rel_l2_error=error, check="pass" if error < threshold else "fail")
    if error < threshold:
        seconds = median_time(attend, iters)
        floor = max(row["bytes"] / copy_bytes_per_s, row["flops"] / gemm_flops_per_s)
        out.update(time_median_s=seconds, gb_per_s=row["bytes"] / seconds / 1e9, tflop_per_s=row["flops"] / seconds / 1e12,
                   floor_s=floor, roofline_pct=100 * floor / seconds, peak_pct=100 * row["flops"] / seconds / gemm_flops_per_s)
    del q, k, v
    return out


if __name__ == "__main__":
    main()

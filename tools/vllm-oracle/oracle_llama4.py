#!/usr/bin/env python3
"""Oracle: run vLLM's own KV-cache planning code on CPU for hand-built specs.

No model is loaded; no GPU is needed. The config object is a plain Python
class carrying only the attributes the planning code reads, but the
`max_concurrent_batches`, `max_in_flight_tokens` and
`num_prefill_lookahead_tokens` properties are borrowed verbatim from
vllm.config.VllmConfig so vLLM's own formulas are evaluated.

Flow mirrors vllm/v1/engine/core.py::_initialize_kv_caches:
  get_global_kv_cache_groups -> get_kv_cache_configs ->
  generate_scheduler_kv_cache_config -> update_kv_cache_capacity
"""

import logging
import os
import sys
import traceback
from types import SimpleNamespace

os.environ.setdefault("VLLM_LOGGING_LEVEL", "INFO")

import torch  # noqa: E402

import vllm  # noqa: E402
from vllm.config import VllmConfig  # noqa: E402
from vllm.utils.math_utils import cdiv  # noqa: E402
from vllm.v1.core import kv_cache_planning as P  # noqa: E402
from vllm.v1.core import kv_cache_utils as U  # noqa: E402
from vllm.v1.kv_cache_interface import (  # noqa: E402
    FullAttentionSpec,
    MLAAttentionSpec,
    SlidingWindowSpec,
    UniformTypeKVCacheSpecs,
)

GiB = 1 << 30
MiB = 1 << 20
BF16 = torch.bfloat16


# ---------------------------------------------------------------- config ----
class FakeVllmConfig:
    # vLLM's own property code, evaluated on this object.
    max_concurrent_batches = VllmConfig.max_concurrent_batches
    max_in_flight_tokens = VllmConfig.max_in_flight_tokens
    num_prefill_lookahead_tokens = VllmConfig.num_prefill_lookahead_tokens

    def __init__(self, max_model_len, mnbt, pp=1, tp=1, dcp=1,
                 layout="LBNHC", async_scheduling=True, v2_runner=True):
        self.model_config = SimpleNamespace(
            max_model_len=max_model_len,
            original_max_model_len=max_model_len,
            supports_kv_cache_grouping=False,
        )
        self.parallel_config = SimpleNamespace(
            pipeline_parallel_size=pp,
            tensor_parallel_size=tp,
            decode_context_parallel_size=dcp,
            prefill_context_parallel_size=1,
            cp_kv_cache_interleave_size=1,
        )
        self.scheduler_config = SimpleNamespace(
            max_num_batched_tokens=mnbt,
            disable_hybrid_kv_cache_manager=False,
            async_scheduling=async_scheduling,
        )
        cache_config = SimpleNamespace(
            num_gpu_blocks_override=None,
            prefix_cache_retention_interval=None,
            kv_cache_layout=layout,
            block_size=16,
            num_gpu_blocks=None,
        )
        from vllm.config.cache import CacheConfig
        cache_config.get_resolved_kv_cache_layout = (
            lambda cc=cache_config: CacheConfig.get_resolved_kv_cache_layout(cc)
        )
        self.cache_config = cache_config
        self.attention_config = SimpleNamespace(hisparse_config=None)
        self.speculative_config = None
        self.diffusion_config = None
        self.device_config = SimpleNamespace(device_type="cuda")
        self.use_v2_model_runner = v2_runner


# ----------------------------------------------------------------- specs ----
def lname(i):
    return f"model.layers.{i}.self_attn.attn"


def full(heads, hd, bs=16, dtype=BF16):
    return FullAttentionSpec(block_size=bs, num_kv_heads=heads, head_size=hd,
                             dtype=dtype)


def swa(heads, hd, window, bs=16, dtype=BF16):
    return SlidingWindowSpec(block_size=bs, num_kv_heads=heads, head_size=hd,
                             dtype=dtype, sliding_window=window)


def mla(bs, dtype=BF16, head=576):
    # As MLAAttention.get_kv_cache_spec builds it (num_kv_heads=1,
    # max_tp_shards=1, head_size = kv_lora_rank + qk_rope_head_dim).
    return MLAAttentionSpec(block_size=bs, num_kv_heads=1, max_tp_shards=1,
                            head_size=head, dtype=dtype,
                            cache_dtype_str="auto")


# ------------------------------------------------------------------ run -----
class LogCapture(logging.Handler):
    def __init__(self):
        super().__init__()
        self.msgs = []

    def emit(self, record):
        try:
            self.msgs.append(record.getMessage())
        except Exception:
            pass


def kind(spec):
    if isinstance(spec, UniformTypeKVCacheSpecs):
        return "Uniform[" + type(spec.first_spec).__name__ + "]"
    s = type(spec).__name__
    if getattr(spec, "sliding_window", None) is not None:
        s += f"(w={spec.sliding_window})"
    return s


def run_case(title, cfg, worker_specs, avail, expect=None):
    print("=" * 78)
    print(title)
    print(f"  max_model_len={cfg.model_config.max_model_len} "
          f"MNBT={cfg.scheduler_config.max_num_batched_tokens} "
          f"PP={cfg.parallel_config.pipeline_parallel_size} "
          f"max_concurrent_batches={cfg.max_concurrent_batches} "
          f"max_in_flight_tokens={cfg.max_in_flight_tokens} "
          f"layout={cfg.cache_config.kv_cache_layout}")
    print(f"  available bytes per worker: {avail}  "
          f"(GiB: {[a / GiB for a in avail]})")
    page_sizes = sorted({s.page_size_bytes for w in worker_specs
                         for s in w.values()})
    print(f"  page_size_bytes per layer (input specs): {page_sizes}")

    cap = LogCapture()
    vlog = logging.getLogger("vllm")
    vlog.addHandler(cap)
    vlog.setLevel(logging.INFO)
    result = {}
    try:
        groups = P.get_global_kv_cache_groups(cfg, worker_specs)
        print(f"  global KV cache groups: {len(groups)}")
        for gi, g in enumerate(groups):
            s = g.kv_cache_spec
            print(f"    g{gi}: {kind(s)} layers={len(g.layer_names)} "
                  f"block_size={s.block_size} "
                  f"group page_size_bytes={s.page_size_bytes}")
        try:
            cfgs = P.get_kv_cache_configs(cfg, worker_specs, list(avail), groups)
        except ValueError as e:
            print("  ONE-REQUEST CHECK: FAIL (vLLM raises ValueError)")
            print("    message:", str(e))
            result["check"] = "FAIL"
            result["msg"] = str(e)
            return result
        print("  ONE-REQUEST CHECK: PASS")
        result["check"] = "PASS"
        # Per-worker num_blocks before min: recompute exactly as
        # get_kv_cache_configs does (avail // pool bytes per block).
        builder = P.get_kv_cache_config_builder(cfg) if hasattr(
            P, "get_kv_cache_config_builder") else None
        from vllm.v1.core.kv_cache_config_builder import (
            get_kv_cache_config_builder)
        builder = get_kv_cache_config_builder(cfg)
        per_worker = []
        for wspec, a in zip(worker_specs, avail):
            pg = P._project_kv_cache_groups_to_worker(groups, wspec)
            bpb = P._pool_bytes_per_block_from_builder(builder, cfg, pg)
            per_worker.append((a // bpb, bpb))
        for wi, (c, (nb, bpb)) in enumerate(zip(cfgs, per_worker)):
            print(f"  worker {wi}: bytes_per_block={bpb} "
                  f"num_blocks(own)={nb} num_blocks(final)={c.num_blocks} "
                  f"tensor sizes={sorted({t.size for t in c.kv_cache_tensors})}")
        result["per_worker_blocks"] = [nb for nb, _ in per_worker]
        sched = U.generate_scheduler_kv_cache_config(cfgs)
        result["num_blocks"] = sched.num_blocks
        print(f"  num_blocks (min over workers) = {sched.num_blocks}")
        bpr_total = 0
        for gi, g in enumerate(sched.kv_cache_groups):
            s = g.kv_cache_spec
            req = cdiv(s.max_memory_usage_bytes(cfg), s.page_size_bytes)
            bpr_total += req
            print(f"    sched g{gi}: {kind(s)} layers={len(g.layer_names)} "
                  f"block_size={s.block_size} page={s.page_size_bytes} "
                  f"blocks/request={req} "
                  f"block_table_width={s.max_num_blocks_per_req(cfg, cfg.model_config.max_model_len)}")
        print(f"  blocks/request total = {bpr_total}")
        result["blocks_per_req"] = bpr_total
        conc = U.get_max_concurrency_for_kv_cache_config(cfg, sched)
        tokens, conc2 = U.get_kv_cache_capacity(cfg, sched)
        assert conc == conc2
        # worker-side (aggregated) config must agree
        conc_w = U.get_max_concurrency_for_kv_cache_config(cfg, cfgs[0])
        print(f"  max concurrency = {conc!r} ({conc:.2f}x); "
              f"worker0-config concurrency = {conc_w!r}")
        print(f"  KV cache size tokens = {tokens:,}")
        result["conc"] = conc
        result["tokens"] = tokens
        for m in cap.msgs:
            if "padding" in m or "Hybrid" in m or "Overriding" in m:
                print("  vLLM planning log:", m)
        cap.msgs.clear()
        U.update_kv_cache_capacity(cfg, sched)
        for m in cap.msgs:
            if "KV cache size" in m:
                print("  vLLM log:", m)
        if expect:
            for k, v in expect.items():
                got = result.get(k)
                ok = (abs(got - v) < 5e-3) if isinstance(v, float) else got == v
                print(f"  expect {k}={v}: got {got} -> "
                      f"{'OK' if ok else 'MISMATCH'}")
        return result
    except Exception:
        traceback.print_exc(file=sys.stdout)
        result["error"] = True
        return result
    finally:
        vlog.removeHandler(cap)


def main():
    from vllm.v1.kv_cache_interface import ChunkedLocalAttentionSpec
    def chunked(heads, hd, chunk, bs=16, dtype=BF16):
        return ChunkedLocalAttentionSpec(block_size=bs, num_kv_heads=heads, head_size=hd, dtype=dtype,
                                         attention_chunk_size=chunk)
    # llama-4-scout: 48 layers, every 4th (3, 7, ...) global, others chunked 8192; 8x128 bf16
    specs = {lname(i): (full(8, 128) if (i + 1) % 4 == 0 else chunked(8, 128, 8192)) for i in range(48)}
    run_case("L4. llama-4-scout 64 GiB, mml 1048576, MNBT 8192", FakeVllmConfig(1048576, 8192), [specs], [64 * GiB])
    run_case("L4b. llama-4-scout 10 GiB, mml 131072, MNBT 8192", FakeVllmConfig(131072, 8192), [specs], [10 * GiB])

if __name__ == "__main__":
    main()

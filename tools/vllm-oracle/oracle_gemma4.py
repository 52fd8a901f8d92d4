#!/usr/bin/env python3
"""Oracle: vLLM 0.33.0's KV-cache planning for Gemma-4 dense (31B), CPU only.

Specs are built the way model_layers/attention/attention.py::
Attention.get_kv_cache_spec builds them for Gemma4Attention layers
(model_executor/models/gemma4.py): sliding layers -> SlidingWindowSpec with the
primary block size (``_largest_kernel_block_within`` returns the primary block
for MultipleOf(16) backends), full layers -> FullAttentionSpec; per-rank KV heads
= max(1, heads // TP) (Gemma4Attention.__init__); kv dtype from
utils/torch_utils.py::kv_cache_dtype_str_to_dtype.
The block size per GPU is the one the source gives (see gemma4-dsv4-rules.md §B2):
H100: TRITON_FLASH_ATTN composite -> 16; B200: TRITON_FLASHINFER composite -> 64.
Layout: v1/attention/backends/utils.py::get_supported_kv_cache_layouts /
resolve_kv_cache_layout over the composite's two backends.
Grouping / num_blocks / capacity: oracle.py::run_case (vLLM's own functions).
"""

import importlib.util
import logging
import os
import sys

os.environ.setdefault("VLLM_LOGGING_LEVEL", "INFO")

import torch  # noqa: E402

sys.modules.setdefault("vllm._C_stable_libtorch", type(sys)("stub"))

import vllm  # noqa: E402
from vllm.utils.torch_utils import kv_cache_dtype_str_to_dtype  # noqa: E402
from vllm.v1.attention.backends.utils import (  # noqa: E402
    get_supported_kv_cache_layouts,
    resolve_kv_cache_layout,
)
from vllm.v1.attention.backends.triton_attn import TritonAttentionBackend  # noqa: E402
from vllm.v1.kv_cache_interface import (  # noqa: E402
    FullAttentionSpec,
    SlidingWindowSpec,
    get_kv_quant_mode,
)

spec_ = importlib.util.spec_from_file_location(
    "oracle_base", os.path.join(os.path.dirname(__file__), "oracle.py"))
oracle_base = importlib.util.module_from_spec(spec_)
spec_.loader.exec_module(oracle_base)

GiB = 1 << 30

# google/gemma-4-31B(-it) text_config (see rules §B4)
G31 = dict(layers=60, kv_heads=16, head=256, global_kv_heads=4,
           global_head=512, window=1024, k_eq_v=True)
# google/gemma-4-26B-A4B text_config (presets/models/gemma-4-26b-a4b.yaml)
G26 = dict(layers=30, kv_heads=8, head=256, global_kv_heads=2,
           global_head=512, window=1024, k_eq_v=True)


def layer_types(n):
    # Gemma4TextConfig.__post_init__ default = 5 sliding : 1 full, last full;
    # the 31B config.json lists exactly this pattern.
    t = ["sliding_attention" if (i + 1) % 6 else "full_attention"
         for i in range(n)]
    t[-1] = "full_attention"
    return t


def build_specs(m, tp, cache_dtype, block_size):
    mc = type("MC", (), {"dtype": torch.bfloat16})()
    dtype = kv_cache_dtype_str_to_dtype(cache_dtype, mc)
    mode = get_kv_quant_mode(cache_dtype)
    specs = {}
    for i, t in enumerate(layer_types(m["layers"])):
        name = f"language_model.model.layers.{i}.self_attn.attn"
        if t == "sliding_attention":
            specs[name] = SlidingWindowSpec(
                block_size=block_size, num_kv_heads=max(1, m["kv_heads"] // tp),
                head_size=m["head"], dtype=dtype, kv_quant_mode=mode,
                sliding_window=m["window"])
        else:
            # per_layer_config: full layers use global_head_dim and, because
            # attention_k_eq_v is true, num_global_key_value_heads.
            kv = m["global_kv_heads"] if m["k_eq_v"] else m["kv_heads"]
            specs[name] = FullAttentionSpec(
                block_size=block_size, num_kv_heads=max(1, kv // tp),
                head_size=m["global_head"], dtype=dtype, kv_quant_mode=mode)
    return specs


def case(title, m, tp, cache_dtype, block_size, mml, other_backend,
         avail_gib=40):
    cfg = oracle_base.FakeVllmConfig(mml, 8192, tp=tp)
    cfg.kv_transfer_config = None
    specs = build_specs(m, tp, cache_dtype, block_size)
    layouts = get_supported_kv_cache_layouts([TritonAttentionBackend,
                                              other_backend])
    cfg.cache_config.kv_cache_layout = None
    layout = resolve_kv_cache_layout(cfg, [[x.name for x in layouts]],
                                     specs.values())
    cfg.cache_config.kv_cache_layout = layout.name
    print("=" * 78)
    print(title, "| layout", layout.name)
    seen = {}
    for s in specs.values():
        k = (type(s).__name__, s.num_kv_heads, s.head_size, s.dtype,
             s.page_size_bytes)
        seen[k] = seen.get(k, 0) + 1
    for k, n in seen.items():
        print(f"    {n} x {k[0]} kv_heads/rank={k[1]} head={k[2]} dtype={k[3]} "
              f"page(block {block_size})={k[4]}")
    return oracle_base.run_case(title, cfg, [dict(specs) for _ in range(tp)],
                                [avail_gib * GiB] * tp)


def main():
    print("vllm", vllm.__version__)
    from vllm.v1.attention.backends.flash_attn import FlashAttentionBackend
    from vllm.v1.attention.backends.flashinfer import FlashInferBackend
    for mml in (131072, 32768):
        for tp in (1, 2):
            for dt in ("auto", "fp8"):
                case(f"gemma-4-31B H100 TP{tp} kv {dt} block 16 mml {mml}",
                     G31, tp, dt, 16, mml, FlashAttentionBackend)
        for dt in ("auto", "fp8"):
            case(f"gemma-4-31B B200 TP1 kv {dt} block 64 mml {mml}",
                 G31, 1, dt, 64, mml, FlashInferBackend)
    # tests/core/presets_2026_test.cc: the 26B-A4B preset at 32k on Hopper
    case("gemma-4-26B-A4B H100 TP1 kv auto block 16 mml 32768", G26, 1, "auto",
         16, 32768, FlashAttentionBackend)
    # TP8 on H100: the 4 global KV heads are replicated (1 per rank)
    case("gemma-4-31B H100 TP8 kv auto block 16 mml 131072", G31, 8, "auto",
         16, 131072, FlashAttentionBackend)


if __name__ == "__main__":
    logging.getLogger("vllm").setLevel(logging.INFO)
    main()

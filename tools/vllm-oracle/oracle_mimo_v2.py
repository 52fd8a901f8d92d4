#!/usr/bin/env python3
"""Oracle: vLLM 0.33.0's KV-cache planning for MiMo-V2-Flash, CPU only.

Specs are built the way model_layers/attention/attention.py::Attention.get_kv_cache_spec
builds them for MiMoV2Attention layers (model_executor/models/mimo_v2.py): head_size 192 and
head_size_v 128 on both kinds; sliding layers (hybrid_layer_pattern == 1) -> SlidingWindowSpec
with swa_num_key_value_heads and sliding_window_size, full layers -> FullAttentionSpec with
num_key_value_heads; per rank max(1, heads // TP) (MiMoV2Attention.__init__). The DiffKV
backends take multiples of 16, so the block is 16. Grouping / page unification / num_blocks /
capacity: oracle.py::run_case (vLLM's own functions). Cited by tests/core/mimo_v2_test.cc.
"""

import importlib.util
import logging
import os
import sys

import torch  # noqa: E402

sys.modules.setdefault("vllm._C_stable_libtorch", type(sys)("stub"))

import vllm  # noqa: E402
from vllm.v1.kv_cache_interface import FullAttentionSpec, SlidingWindowSpec  # noqa: E402

spec_ = importlib.util.spec_from_file_location(
    "oracle_base", os.path.join(os.path.dirname(__file__), "oracle.py"))
oracle_base = importlib.util.module_from_spec(spec_)
spec_.loader.exec_module(oracle_base)

GiB = 1 << 30

# tests/data/configs/mimo-v2-flash/config.json
PATTERN = [0, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 0,
           1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 0]


def build_specs(tp, block_size=16, dtype=torch.bfloat16):
    specs = {}
    for i, sliding in enumerate(PATTERN):
        name = f"model.layers.{i}.self_attn.attn"
        if sliding:
            specs[name] = SlidingWindowSpec(
                block_size=block_size, num_kv_heads=max(1, 8 // tp), head_size=192,
                head_size_v=128, dtype=dtype, sliding_window=128)
        else:
            specs[name] = FullAttentionSpec(
                block_size=block_size, num_kv_heads=max(1, 4 // tp), head_size=192,
                head_size_v=128, dtype=dtype)
    return specs


def case(title, tp, mml, avail_gib=40):
    cfg = oracle_base.FakeVllmConfig(mml, 8192, tp=tp)
    cfg.kv_transfer_config = None
    specs = build_specs(tp)
    pages = {}
    for s in specs.values():
        k = (type(s).__name__, s.num_kv_heads, s.page_size_bytes)
        pages[k] = pages.get(k, 0) + 1
    print("=" * 78)
    print(title)
    for k, n in pages.items():
        print(f"    {n} x {k[0]} kv_heads/rank={k[1]} page(block 16)={k[2]}")
    return oracle_base.run_case(title, cfg, [dict(specs) for _ in range(tp)], [avail_gib * GiB] * tp)


def main():
    print("vllm", vllm.__version__)
    case("MiMo-V2-Flash H200 TP8 bf16 mml 131072", 8, 131072)
    case("MiMo-V2-Flash H200 TP1 bf16 mml 131072", 1, 131072)


if __name__ == "__main__":
    logging.getLogger("vllm").setLevel(logging.INFO)
    main()

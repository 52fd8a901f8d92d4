#!/usr/bin/env python3
"""Oracle: vLLM 0.33.0's KV-cache grouping for MiniMax-M3's caches, CPU only, on hand-built specs.

MiniMax-M3 (models/minimax_m3, docs/engines-frontier.md): 60 layers of GQA (4 K/V heads of 128,
FullAttentionSpec from MiniMaxM3SparseAttention.get_kv_cache_spec); the 57 sparse layers
(sparse_attention_config.sparse_attention_freq) also cache the index key
(common/indexer.py:MiniMaxM3IndexerCache: MLAAttentionSpec, 1 head, sparse_index_dim 128, bf16,
cache_role indexer); both backends take blocks of 128 (sparse_block_size). Prints the groups and
tokens vLLM's get_kv_cache_configs makes of them: one UniformTypeKVCacheSpecs group, a block holding
every layer's K/V page and every sparse layer's key page, as for GLM-5.2's indexer keys.
kvplan does not plan MiniMax-M3 yet; this records what it would have to match.
"""

import importlib.util
import logging
import os

import torch

spec_ = importlib.util.spec_from_file_location(
    "oracle_base", os.path.join(os.path.dirname(__file__), "oracle.py"))
oracle = importlib.util.module_from_spec(spec_)
spec_.loader.exec_module(oracle)

from vllm.v1.kv_cache_interface import (  # noqa: E402
    FullAttentionSpec, MLAAttentionSpec, SparseCacheRole)

GiB = 1 << 30


def case(tp, avail_gib=40, mml=131072):
    cfg = oracle.FakeVllmConfig(mml, 8192, tp=tp)
    kv_heads = max(1, 4 // tp)
    specs = {}
    for i in range(60):
        specs[f"model.layers.{i}.self_attn.attn"] = FullAttentionSpec(
            block_size=128, num_kv_heads=kv_heads, head_size=128, head_size_v=128,
            dtype=torch.bfloat16)
        if i >= 3:  # sparse_attention_freq: layers 3..59
            specs[f"model.layers.{i}.self_attn.indexer.k_cache"] = MLAAttentionSpec(
                block_size=128, num_kv_heads=1, head_size=128, dtype=torch.bfloat16,
                cache_role=SparseCacheRole.INDEXER)
    oracle.run_case(f"MiniMax-M3 TP{tp} {avail_gib} GiB mml {mml}", cfg,
                    [dict(specs) for _ in range(tp)], [avail_gib * GiB] * tp)


if __name__ == "__main__":
    logging.getLogger("vllm").setLevel(logging.INFO)
    case(1)
    case(8)

#!/usr/bin/env python3
"""vLLM's own layer classes, built at a given TP size (as rank 0) on the meta device: the bytes of
their parameters are the oracle for kvplan's checkpoint sharding (src/core/checkpoint_shards.cc).

Usage (with vLLM installed; no GPU, no weights):
  python scripts/vllm_shard_oracle.py TP HIDDEN HEADS KV_HEADS HEAD_DIM INTERMEDIATE VOCAB
Prints bf16 bytes per rank of the embedding, the LM head, the fused QKV projection, o_proj, the
fused gate/up projection and down_proj. tests/core/checkpoint_shards_test.cc quotes its output
for vLLM 0.33.
"""
import sys
from types import SimpleNamespace

import torch
import vllm.distributed.parallel_state as parallel_state
import vllm.model_executor.layers.linear as linear
import vllm.model_executor.layers.vocab_parallel_embedding as vocab
from vllm.config import DeviceConfig, VllmConfig, set_current_vllm_config

tp, hidden, heads, kv_heads, head_dim, intermediate, vocab_size = (int(arg) for arg in sys.argv[1:8])
# Every TP query in vLLM goes through get_tp_group(): a stand-in group of `tp` ranks seen from rank 0.
parallel_state.get_tp_group = lambda: SimpleNamespace(rank_in_group=0, world_size=tp)
torch.set_default_dtype(torch.bfloat16)
with set_current_vllm_config(VllmConfig(device_config=DeviceConfig(device="cpu"))), torch.device("meta"):
    layers = {
        "embed": vocab.VocabParallelEmbedding(vocab_size, hidden),
        "lm_head": vocab.ParallelLMHead(vocab_size, hidden),
        "qkv": linear.QKVParallelLinear(hidden, head_dim, heads, kv_heads, bias=False),
        "o": linear.RowParallelLinear(heads * head_dim, hidden, bias=False),
        "gate_up": linear.MergedColumnParallelLinear(hidden, [intermediate, intermediate], bias=False),
        "down": linear.RowParallelLinear(intermediate, hidden, bias=False),
    }
for name, layer in layers.items():
    print(name, sum(p.numel() * p.element_size() for p in layer.parameters()))

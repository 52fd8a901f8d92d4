#!/usr/bin/env python3
"""Oracle: vLLM 0.33.0's own KVCacheManager, on CPU, counting what a shared prefix saves.

A pool of hand-built KV-cache groups (full attention, sliding window, chunked local) is given to a
real KVCacheManager. Requests of L tokens whose prompts start with the same P-token prefix are
admitted the way the scheduler admits them (get_computed_blocks, then allocate_slots with the
hit), prefilled to L - 1 tokens in one step, then given their last token (a decode step, which
runs remove_skipped_blocks). The blocks held are the pool's blocks less its free ones (the null
block aside; cached blocks nobody references count as free, as vLLM counts them).

    held(n requests) = unique x n + shared per prefix (one prefix)
so  unique = held(3) - held(2) and shared per prefix = held(1) - unique, once the prefix is
cached in every group (from the second request on; with a state group, from the third).

tests/core/prefix_sharing_test.cc cites the cases below. Nothing is stubbed: no layer, no model,
no GPU is involved in block accounting.
"""

import os
import sys
from types import SimpleNamespace

import torch

from vllm.sampling_params import SamplingParams
from vllm.utils.hashing import sha256
from vllm.v1.core import kv_cache_utils as U
from vllm.v1.core.kv_cache_manager import KVCacheManager
from vllm.v1.kv_cache_interface import (
    ChunkedLocalAttentionSpec,
    FullAttentionSpec,
    KVCacheConfig,
    KVCacheGroupSpec,
    MambaSpec,
    MLAAttentionSpec,
    SlidingWindowSpec,
)
from vllm.v1.request import Request

BF16 = torch.bfloat16


def full(bs):
    return FullAttentionSpec(block_size=bs, num_kv_heads=8, head_size=128, dtype=BF16)


def mla(bs):
    return MLAAttentionSpec(block_size=bs, num_kv_heads=1, head_size=576, dtype=BF16)


def sliding(bs, window):
    return SlidingWindowSpec(block_size=bs, num_kv_heads=8, head_size=128, dtype=BF16,
                             sliding_window=window)


def mamba(bs):
    return MambaSpec(block_size=bs, shapes=((4, 64), (8, 64, 64)), dtypes=(BF16, torch.float32),
                     mamba_cache_mode="align")


def chunked(bs, chunk):
    return ChunkedLocalAttentionSpec(block_size=bs, num_kv_heads=8, head_size=128, dtype=BF16,
                                     attention_chunk_size=chunk)


def manager(specs, bs, num_blocks, max_model_len, caching=True):
    groups = [KVCacheGroupSpec([f"layer{i}"], spec) for i, spec in enumerate(specs)]
    config = KVCacheConfig(num_blocks=num_blocks, kv_cache_tensors=[], kv_cache_groups=groups)
    return KVCacheManager(config, max_model_len=max_model_len, scheduler_block_size=bs,
                          hash_block_size=bs, max_in_flight_tokens=max_model_len,
                          enable_caching=caching)


_next_token = [100000]


def request(rid, prefix, length, bs):
    # The prefix, then tokens no other request has, up to L - 1 prompt tokens.
    unique = list(range(_next_token[0], _next_token[0] + length - 1 - len(prefix)))
    _next_token[0] += len(unique)
    return Request(rid, prefix + unique, SamplingParams(max_tokens=1), None,
                   block_hasher=U.get_request_block_hasher(bs, sha256))


def admit_and_prefill(kvm, req):
    """Admits a request with its prefix-cache hit and prefills its prompt; returns the hit."""
    hit_blocks, hit, req.shared_prefix_boundary = kvm.get_computed_blocks(req)
    # A group that lags (a state group without a checkpoint at the prefix's end) makes the
    # hybrid coordinator return the hit all groups agree on and name the junction; the scheduler
    # (Scheduler._get_local_prefix_cache_hit and its chunk stops) ends a prefill chunk there, so
    # the state at the junction is cached for the requests after this one.
    junction = req.shared_prefix_boundary
    ends = ([junction] if junction > hit else []) + [req.num_tokens]
    assert kvm.allocate_slots(req, ends[0] - hit, hit, hit_blocks) is not None, "pool too small"
    req.num_computed_tokens = ends[0]
    for end in ends[1:]:
        kvm.new_step_starts()
        assert kvm.allocate_slots(req, end - req.num_computed_tokens) is not None, "pool too small"
        req.num_computed_tokens = end
    kvm.new_step_starts()
    return hit


def decode_last_token(kvm, req):
    req.append_output_token_ids(7)
    assert kvm.allocate_slots(req, 1) is not None, "pool too small"


def held(kvm, num_blocks):
    return num_blocks - 1 - kvm.block_pool.get_num_free_blocks()


def run(name, specs, bs, P, L, num_blocks=20000, caching=True):
    U.init_none_hash(sha256)
    prefix = list(range(1, P + 1))
    held_by, hits = [], []
    for n in (1, 2, 3):
        kvm = manager(specs, bs, num_blocks, L, caching)
        reqs = [request(f"{name}-{n}-{i}", prefix, L, bs) for i in range(n)]
        hits = [admit_and_prefill(kvm, r) for r in reqs]
        for r in reqs:
            decode_last_token(kvm, r)
        held_by.append(held(kvm, num_blocks))
    unique = held_by[2] - held_by[1]
    print(f"{name}: P={P} L={L} block={bs}: held by 1, 2, 3 requests {held_by}; hits {hits}; "
          f"unique {unique}, shared per prefix {held_by[0] - unique}")


if __name__ == "__main__":
    # llama-3-8b: one full-attention group, block 16; ctx 32k, prefix 8k (and one ending mid-block).
    run("full", [full(16)], 16, 8192, 32768)
    run("full-mid-block", [full(16)], 16, 8200, 32768)
    run("full-no-caching", [full(16)], 16, 8192, 32768, caching=False)
    # deepseek-v2-lite (MLA), FLASHMLA's 64-token block: same rule as full attention.
    run("mla", [mla(64)], 64, 8192, 32768)
    # gemma-2 shape: one full group and one sliding group (W 4096), block 16.
    run("gemma2-window-passed", [full(16), sliding(16, 4096)], 16, 8192, 32768)
    run("gemma2-window-over-prefix", [full(16), sliding(16, 4096)], 16, 6144, 8192)
    # gpt-oss shape: sliding window 128.
    run("gptoss", [full(16), sliding(16, 128)], 16, 8192, 32768)
    # llama-4 shape: chunked local attention, chunk 8192.
    run("llama4-chunk-passed", [full(16), chunked(16, 8192)], 16, 4096, 32768)
    run("llama4-chunk-over-prefix", [full(16), chunked(16, 8192)], 16, 6000, 8000)
    # A Mamba-2 state group (mamba_cache_mode align) beside full attention, blocks of 64.
    run("state-align", [full(64), mamba(64)], 64, 8192, 32768)

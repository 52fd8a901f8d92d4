#!/usr/bin/env python3
"""Oracle: vLLM 0.33.0's planning code for a target model with an EAGLE / EAGLE-3 draft.

What vLLM does with a draft (read in its source, reproduced here on CPU):
- The drafter's attention layers register in the same static forward context as the target's
  (v1/spec_decode/llm_base_proposer.py, SpecDecodeBaseProposer.load_model), named after the
  target's layers (llama_eagle3.py, LlamaModel: prefix layers.{i + target layers}); the model
  runner's get_kv_cache_spec returns one spec per layer, draft included, so the draft layer joins
  the target's groups (get_kv_cache_groups) and is charged a page in every block.
- The draft layer is built with the target's TP (draft_tensor_parallel_size defaults to it), so
  its spec is FullAttentionSpec(num_kv_heads = 8 / TP, head_size 128), the target's own.
  The layer itself needs a GPU to build; its spec is hand-built here, as in oracle.py.
- num_lookahead_tokens (config/vllm.py, VllmConfig.num_lookahead_tokens) is k for EAGLE-family
  drafters; the scheduler passes it to KVCacheManager.allocate_slots, which asks for
  min(tokens + k, max_model_len) slots. FullAttentionSpec.max_memory_usage_bytes and
  get_max_concurrency_for_kv_cache_config never read it: the start-up figures have no lookahead.
  Part B runs a real KVCacheManager to show the blocks a request holds with and without it.

tests/core/speculative_test.cc and tests/cli/speculative_cli_test.cc cite the cases below.
"""

import os
import sys
from dataclasses import replace
from types import SimpleNamespace

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402
from vllm.config import VllmConfig  # noqa: E402
from vllm.sampling_params import SamplingParams  # noqa: E402
from vllm.utils.hashing import sha256  # noqa: E402
from vllm.v1.core import kv_cache_utils as U  # noqa: E402
from vllm.v1.core.kv_cache_manager import KVCacheManager  # noqa: E402
from vllm.v1.kv_cache_interface import KVCacheConfig, KVCacheGroupSpec  # noqa: E402
from vllm.v1.request import Request  # noqa: E402

from oracle import GiB, FakeVllmConfig, full, lname, run_case, swa  # noqa: E402


class EagleConfig(FakeVllmConfig):
    num_speculative_tokens = VllmConfig.num_speculative_tokens
    num_lookahead_tokens = VllmConfig.num_lookahead_tokens

    def __init__(self, *args, k=4, **kwargs):
        super().__init__(*args, **kwargs)
        self.speculative_config = SimpleNamespace(
            num_speculative_tokens=k,
            use_eagle=lambda: True, use_dflash=lambda: False, use_dspark=lambda: False,
            uses_draft_model=lambda: False, use_multi_module_mtp=lambda: False,
            use_eagle_block_drop=lambda: True)


def draft(spec):
    # Attention.get_kv_cache_spec marks a drafter's layer is_draft; the field has compare=False,
    # so the draft layer's spec still equals the target's and merges into its group.
    return replace(spec, is_draft=True)


def llama70b(tp, draft_layers):
    heads = 8 // tp
    specs = {lname(i): full(heads, 128) for i in range(80)}
    for i in range(80, 80 + draft_layers):
        specs[lname(i)] = draft(full(heads, 128))
    return specs


def held_blocks(bs, length, lookahead, max_model_len):
    """Blocks one request of `length` tokens holds after its prefill, in a real KVCacheManager."""
    U.init_none_hash(sha256)
    config = KVCacheConfig(num_blocks=10000, kv_cache_tensors=[],
                           kv_cache_groups=[KVCacheGroupSpec(["layer0"], full(2, 128))])
    kvm = KVCacheManager(config, max_model_len=max_model_len, scheduler_block_size=bs,
                         hash_block_size=bs, max_in_flight_tokens=8192, enable_caching=True)
    req = Request("r", list(range(1, length + 1)), SamplingParams(max_tokens=1), None,
                  block_hasher=U.get_request_block_hasher(bs, sha256))
    assert kvm.allocate_slots(req, length, num_lookahead_tokens=lookahead) is not None
    return 10000 - 1 - kvm.block_pool.get_num_free_blocks()


def main():
    cfg = EagleConfig(32768, 8192, tp=4)
    print("num_lookahead_tokens =", cfg.num_lookahead_tokens,
          " num_prefill_lookahead_tokens =", cfg.num_prefill_lookahead_tokens)
    # A. Llama-3.1-70B, TP 4, bf16, block 16, kv_cache_memory 40 GiB, max_model_len 32768.
    run_case("A0. llama-3.1-70b TP4, no draft: 80 full layers (2 x 128 per rank), 40 GiB, 32k",
             FakeVllmConfig(32768, 8192, tp=4), [llama70b(4, 0)], [40 * GiB])
    run_case("A1. llama-3.1-70b TP4 + EAGLE-3 draft (1 layer, 2 x 128 per rank), k 4, 40 GiB, 32k",
             cfg, [llama70b(4, 1)], [40 * GiB])
    run_case("A2. same, TP 8 (1 K/V head per rank), 20 GiB",
             EagleConfig(32768, 8192, tp=8), [llama70b(8, 1)], [20 * GiB])
    # B. What the lookahead does at run time (allocate_slots), block 16, max_model_len 32768.
    for length in (1000, 1020, 1024, 32764, 32768):
        print(f"B. request of {length} tokens: blocks held without lookahead "
              f"{held_blocks(16, length, 0, 32768)}, with 4 lookahead slots "
              f"{held_blocks(16, length, 4, 32768)}")
    # C. A hybrid target: Gemma-3-27B (62 layers, 5 sliding (w 1024) : 1 full, 16 x 128) at TP 2
    # (8 x 128 per rank) with a one-layer full-attention draft, 20 GiB, 32k.
    gemma = {lname(i): (full(8, 128) if i % 6 == 5 else swa(8, 128, 1024)) for i in range(62)}
    run_case("C0. gemma-3-27b TP2, no draft, 20 GiB, 32k", FakeVllmConfig(32768, 8192, tp=2),
             [gemma], [20 * GiB])
    gemma[lname(62)] = draft(full(8, 128))
    run_case("C1. gemma-3-27b TP2 + one full draft layer, k 4, 20 GiB, 32k",
             EagleConfig(32768, 8192, tp=2), [gemma], [20 * GiB])


if __name__ == "__main__":
    main()

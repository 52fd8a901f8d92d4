#!/usr/bin/env python3
"""Llama-4 chunked local attention through vLLM 0.33's planning code (oracle.py's harness)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from oracle import BF16, GiB, FakeVllmConfig, full, lname, run_case  # noqa: E402


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

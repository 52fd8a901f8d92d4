#!/usr/bin/env python3
"""vLLM 0.33's planning code with the hybrid KV cache manager off (--disable-hybrid-kv-cache-manager,
or a KV connector without SupportsHMA): get_global_kv_cache_groups calls
unify_hybrid_kv_cache_specs, whose _promote_local_kv_cache_specs turns sliding and chunked specs
into full attention. Each case runs with the allocator on and off.

tests/core/hybrid_off_test.cc cites the cases below.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from oracle import BF16, GiB, FakeVllmConfig, full, lname, run_case, swa  # noqa: E402


def both(title, make_cfg, specs, avail):
    for off in (False, True):
        cfg = make_cfg()
        cfg.scheduler_config.disable_hybrid_kv_cache_manager = off
        run_case(f"{title} (hybrid allocator {'off' if off else 'on'})", cfg, [dict(specs)], avail)


def main():
    from vllm.v1.kv_cache_interface import ChunkedLocalAttentionSpec

    # gemma-3-27b at TP 4: 62 layers, every 6th global, the others sliding 1024; 16 KV heads / 4 x 128.
    gemma = {lname(i): (full(4, 128) if (i + 1) % 6 == 0 else swa(4, 128, 1024)) for i in range(62)}
    both("H1. gemma-3-27b TP4 40 GiB, mml 32768, MNBT 8192", lambda: FakeVllmConfig(32768, 8192, tp=4), gemma, [40 * GiB])

    # gpt-oss-20b at TP 1: 24 layers alternating sliding 128 / full; 8 KV heads x 64.
    oss = {lname(i): (swa(8, 64, 128) if i % 2 == 0 else full(8, 64)) for i in range(24)}
    both("H2. gpt-oss-20b TP1 40 GiB, mml 131072, MNBT 8192", lambda: FakeVllmConfig(131072, 8192), oss, [40 * GiB])

    # llama-4-scout at TP 4: every 4th layer global, the others chunked 8192; 8 KV heads / 4 x 128.
    def chunked(heads, hd, chunk):
        return ChunkedLocalAttentionSpec(block_size=16, num_kv_heads=heads, head_size=hd, dtype=BF16,
                                         attention_chunk_size=chunk)
    scout = {lname(i): (full(2, 128) if (i + 1) % 4 == 0 else chunked(2, 128, 8192)) for i in range(48)}
    both("H3. llama-4-scout TP4 20 GiB, mml 131072, MNBT 8192", lambda: FakeVllmConfig(131072, 8192, tp=4), scout,
         [20 * GiB])


if __name__ == "__main__":
    main()

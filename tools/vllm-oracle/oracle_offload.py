#!/usr/bin/env python3
"""Oracle: vLLM 0.33.0's own CPUOffloadingSpec, on CPU, sizing the native offloading buffer.

`--kv-offloading-size S` becomes kv_connector_extra_config cpu_bytes_to_use = S x 2^30
(config/vllm.py:_post_init_kv_transfer_config). CPUOffloadingSpec.__init__ turns it into
chunks from worker_kv_bytes_per_block (one GPU block, all layers, one rank), the world size and
the 4096-byte page; cpu/common.py:_kv_cache_size_tokens turns chunks into the tokens it reports.
A hand-built OffloadingConfig is given to the real class: no model, no GPU.
tests/core/kv_offload_test.cc cites the cases below.
"""

from vllm.v1.kv_offload.config import (
    OffloadingCacheConfig,
    OffloadingConfig,
    OffloadingGroupConfig,
    OffloadingModelConfig,
    OffloadingParallelConfig,
)
from vllm.v1.kv_offload.cpu.spec import CPUOffloadingSpec

GIB = 1 << 30


def offloading_config(worker_bytes_per_block, world_size, block_size, max_model_len, extra_config):
    """A hand-built OffloadingConfig for one group of one layer on TP = world_size."""
    parallel = OffloadingParallelConfig(
        rank=0, world_size=world_size, tp_size=world_size, pp_size=1, pcp_size=1, dcp_size=1,
        data_parallel_index=0, data_parallel_size=1, data_parallel_rank_local=None,
        is_parallelism_agnostic=True)
    return OffloadingConfig(
        groups=(OffloadingGroupConfig(tokens_per_block=block_size, layer_names=("l0",), group_id=0),),
        worker_kv_bytes_per_block=worker_bytes_per_block,
        enable_kv_cache_events=False,
        extra_config=extra_config,
        engine_id="oracle",
        model=OffloadingModelConfig(name="oracle", dtype="bfloat16", max_model_len=max_model_len),
        cache=OffloadingCacheConfig(tokens_per_hash=block_size, blocks_per_chunk=1),
        parallel=parallel)


def spec(worker_bytes_per_block, world_size, gib, block_size, max_model_len):
    s = CPUOffloadingSpec(offloading_config(worker_bytes_per_block, world_size, block_size, max_model_len,
                                            {"cpu_bytes_to_use": gib * GIB}))
    return s.num_chunks, s.kv_bytes_per_chunk, s.cpu_info.cpu_kv_cache_size_tokens


CASES = [
    # qwen3-32b TP 1: 64 layers x 65536 B per block of 16 tokens, 512 GiB, L = 131072.
    ("qwen3-32b tp1 512GiB", 4194304, 1, 512, 16, 131072),
    # qwen3-32b TP 2: 2097152 B per rank, 100 GiB, L = 32768.
    ("qwen3-32b tp2 100GiB", 2097152, 2, 100, 16, 32768),
    # A chunk that is not page-aligned and an L that is not a multiple of the block.
    ("unaligned", 9000, 2, 1, 16, 1000),
]

if __name__ == "__main__":
    for name, per_block, world, gib, block, length in CASES:
        chunks, chunk_bytes, tokens = spec(per_block, world, gib, block, length)
        print(f"{name}: chunks {chunks}, chunk bytes {chunk_bytes}, tokens {tokens}")

#!/usr/bin/env python3
"""Oracle: vLLM 0.33.0's own TieringOffloadingSpec with one file-system tier, on CPU.

`--kv-transfer-config` with kv_connector OffloadingConnector and kv_connector_extra_config
{"spec_name": "TieringOffloadingSpec", "cpu_bytes_to_use": N, "secondary_tiers": [{"type": "fs",
"root_dir": D}]} builds this spec (kv_offload/factory.py). The CPU tier is CPUOffloadingSpec's;
the fs tier (tiering/fs/manager.py:FileSystemTierManager) takes its bytes per file from the CPU
tier's view (strides[0]) and has no size parameter at all. The script prints both, and the
constructor's parameters, for the cases tests/core/kv_offload_disk_test.cc cites.
"""

import inspect
import tempfile

from vllm.v1.kv_offload.tiering.fs.manager import FileSystemTierManager
from vllm.v1.kv_offload.tiering.spec import TieringOffloadingSpec

from oracle_offload import offloading_config


def tiering(worker_bytes_per_block, world_size, cpu_bytes, block_size, max_model_len):
    spec = TieringOffloadingSpec(offloading_config(
        worker_bytes_per_block, world_size, block_size, max_model_len,
        {"spec_name": "TieringOffloadingSpec", "cpu_bytes_to_use": cpu_bytes,
         "secondary_tiers": [{"type": "fs", "root_dir": tempfile.mkdtemp()}]}))
    manager = spec.get_manager()
    fs_tier = manager.secondary_tiers[0]
    result = (spec.num_chunks, spec.kv_bytes_per_chunk, fs_tier._block_size)
    manager.shutdown()
    return result


CASES = [
    # The unaligned chunk of kv_offload_test.cc: 9000 B per rank x 2 ranks -> 20480 B. A small
    # CPU buffer (1 MiB) keeps the shared mmap small; the file size does not depend on it.
    ("unaligned tp2", 9000, 2, 1 << 20, 16, 1000),
    # qwen3-32b TP 2: 2097152 B per rank -> 4194304 B per file.
    ("qwen3-32b tp2", 2097152, 2, 64 << 20, 16, 131072),
]

if __name__ == "__main__":
    print("FileSystemTierManager parameters:", list(inspect.signature(FileSystemTierManager).parameters))
    for name, per_block, world, cpu_bytes, block, length in CASES:
        chunks, chunk_bytes, file_bytes = tiering(per_block, world, cpu_bytes, block, length)
        print(f"{name}: cpu chunks {chunks}, cpu chunk bytes {chunk_bytes}, fs bytes per file {file_bytes}")

#!/usr/bin/env python3
"""Oracle: decode context parallel (DCP) in vLLM 0.33.0, CPU only.

What is vLLM code here (called, not re-implemented):
  * tp % dcp                config/parallel.py::ParallelConfig (its validator)
  * GQA/MQA limits          config/model.py::ModelConfig.verify_with_parallel_config
                            (called unbound on a stand-in `self`)
  * which backends take DCP v1/attention/backend.py::AttentionBackend.supports_dcp
                            on each backend class kvplan knows
  * blocks, block count,    oracle.py's harness: get_global_kv_cache_groups,
    concurrency, tokens     get_kv_cache_configs, get_kv_cache_capacity,
                            update_kv_cache_capacity, with
                            parallel_config.decode_context_parallel_size set
What is stubbed: FLASH_ATTN_MLA imports FlashAttention kernels and CUTLASS_MLA
allocates a CUDA workspace at import; fa_utils' missing names read as None and
torch.empty drops its device and num_compute_units reads 1 for those imports. The layer specs are built by
hand as oracle.py builds them (MLA: 1 head of 576, max_tp_shards 1; GQA: the
heads each TP rank holds).
"""

import importlib.util
import os
import sys
from types import SimpleNamespace
from unittest import mock

os.environ.setdefault("VLLM_LOGGING_LEVEL", "INFO")

import torch  # noqa: E402

sys.modules.setdefault("vllm._C_stable_libtorch", type(sys)("stub"))

import vllm.v1.attention.backends.fa_utils as fa_utils  # noqa: E402
from vllm.config.model import ModelConfig  # noqa: E402
from vllm.config.parallel import ParallelConfig  # noqa: E402
from vllm.v1.attention.backends.registry import AttentionBackendEnum  # noqa: E402

spec_ = importlib.util.spec_from_file_location(
    "oracle_base", os.path.join(os.path.dirname(__file__), "oracle.py"))
oracle_base = importlib.util.module_from_spec(spec_)
spec_.loader.exec_module(oracle_base)

GiB = 1 << 30
KVPLAN_BACKENDS = [
    "FLASH_ATTN", "FLASHINFER", "TRITON_ATTN", "ROCM_ATTN", "FLASH_ATTN_MLA",
    "FLASHMLA", "FLASHINFER_MLA", "CUTLASS_MLA", "TRITON_MLA",
    "FLASH_ATTN_MLA_SPARSE", "FLASHMLA_SPARSE", "FLASHINFER_MLA_SPARSE",
    "FLASH_ATTN_MLA_SPARSE_FA4", "FLASHINFER_MLA_SPARSE_SM90",
]


def backend_table():
    print("AttentionBackend.supports_dcp() per backend:")
    fa_utils.__getattr__ = lambda name: None
    real_empty = torch.empty

    def cpu_empty(*args, **kwargs):
        kwargs.pop("device", None)
        return real_empty(*args, **kwargs)

    import vllm.utils.platform_utils as platform_utils
    with mock.patch.object(torch, "empty", cpu_empty), \
            mock.patch.object(platform_utils, "num_compute_units", lambda d: 1):
        for name in KVPLAN_BACKENDS:
            cls = AttentionBackendEnum[name].get_class()
            print(f"  {name:28s} {cls.__name__:36s} {cls.supports_dcp()}")


def parallel_check(tp, dcp):
    try:
        ParallelConfig(tensor_parallel_size=tp, decode_context_parallel_size=dcp)
        return "ok"
    except Exception as e:  # pydantic's ValidationError wraps vLLM's ValueError
        return "refused: " + str(e).splitlines()[-2].strip()[:90]


def model_check(q_heads, kv_heads, use_mla, tp, dcp):
    stand_in = SimpleNamespace(
        model_arch_config=SimpleNamespace(total_num_attention_heads=q_heads),
        get_total_num_kv_heads=lambda: kv_heads,
        use_mla=use_mla,
        multimodal_config=None,
    )
    parallel = SimpleNamespace(
        enable_hc_sp=False, tensor_parallel_size=tp, enable_expert_parallel=False,
        pipeline_parallel_size=1, decode_context_parallel_size=dcp)
    try:
        ModelConfig.verify_with_parallel_config(stand_in, parallel)
        return "ok"
    except ValueError as e:
        return "refused: " + str(e)[:110]


def checks():
    print("ParallelConfig (tp, dcp):")
    for tp, dcp in [(8, 8), (8, 2), (8, 3), (8, 16), (16, 2)]:
        print(f"  TP {tp} DCP {dcp}: {parallel_check(tp, dcp)}")
    print("ModelConfig.verify_with_parallel_config (q heads, kv heads, mla, tp, dcp):")
    for case in [(128, 128, True, 8, 8),   # DeepSeek-V3
                 (64, 4, False, 8, 2),     # Qwen3-235B-A22B
                 (64, 4, False, 8, 4),
                 (64, 8, False, 8, 2),     # Llama-3.1-70B at TP 8
                 (64, 8, False, 16, 2),    # Llama-3.1-70B at TP 16
                 (40, 4, False, 8, 4),     # 10 query heads per KV head, DCP 4
                 (32, 4, False, 8, 2)]:
        print(f"  {case}: {model_check(*case)}")


def planning():
    # DeepSeek-V3: 61 MLA layers, 576 x 2 B, FLASH_ATTN_MLA's block 16 on H200.
    for dcp, ctx, expect in [
            (1, 32768, dict(num_blocks=38199, blocks_per_req=2048, tokens=611184)),
            (8, 32768, dict(num_blocks=38199, blocks_per_req=256, tokens=4889472)),
            (8, 32769, dict(num_blocks=38199, blocks_per_req=257, tokens=4870595))]:
        specs = {oracle_base.lname(i): oracle_base.mla(16) for i in range(61)}
        oracle_base.run_case(
            f"DeepSeek-V3 61 MLA bf16 bs16, 40 GiB, ctx {ctx}, TP 8 DCP {dcp}",
            oracle_base.FakeVllmConfig(ctx, 16384, tp=8, dcp=dcp), [specs],
            [40 * GiB], expect)
    # Qwen3-235B-A22B: 94 layers, 4 KV heads over TP 8 = 1 head per rank.
    for dcp, expect in [(1, dict(num_blocks=55775, blocks_per_req=2048, tokens=892400)),
                        (2, dict(num_blocks=55775, blocks_per_req=1024, tokens=1784800))]:
        specs = {oracle_base.lname(i): oracle_base.full(1, 128) for i in range(94)}
        oracle_base.run_case(
            f"Qwen3-235B-A22B 94 x (1 x 128) bf16 bs16, 40 GiB, ctx 32768, TP 8 DCP {dcp}",
            oracle_base.FakeVllmConfig(32768, 16384, tp=8, dcp=dcp), [specs],
            [40 * GiB], expect)
    # The one-request check with DCP: 61 layers at 1 GiB hold 954 blocks of
    # 1124352 B (null block aside); 128k over DCP 8 needs 1024 of them.
    specs = {oracle_base.lname(i): oracle_base.mla(16) for i in range(61)}
    oracle_base.run_case(
        "DeepSeek-V3, 1 GiB, ctx 131072, DCP 8 (one-request check)",
        oracle_base.FakeVllmConfig(131072, 16384, tp=8, dcp=8), [specs], [GiB])


def sliding():
    # gpt-oss-style 12 sliding (W 128) + 12 full layers with DCP 2: vLLM asserts in
    # SlidingWindowSpec.max_memory_usage_bytes ("DCP not support sliding window").
    specs = {oracle_base.lname(i): (oracle_base.swa(1, 64, 128) if i % 2 == 0
                                    else oracle_base.full(1, 64))
             for i in range(24)}
    oracle_base.run_case(
        "sliding + full layers, DCP 2 (vLLM refuses)",
        oracle_base.FakeVllmConfig(32768, 16384, tp=16, dcp=2), [specs], [20 * GiB])


def main():
    backend_table()
    checks()
    planning()
    sliding()


if __name__ == "__main__":
    main()

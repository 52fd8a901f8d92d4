#!/usr/bin/env python3
"""Gemma-4 H100 --kv-cache-dtype fp8 kernel-block check with vLLM functions.
Emulates SM90 (patched current_platform) and a FA wheel reporting FA3+FA4
(fake vllm.vllm_flash_attn.flash_attn_interface); no vllm_config is current, so
flash_attn_version is None = the per-layer FA3/FA4 mode Gemma4Config picks
for SM90+fp8. Calls TRITON_FLASH_ATTN composite get_supported_kernel_block_sizes,
v1/worker/utils.py::customize_attention_spec and select_common_block_size."""
import sys, types
sys.modules.setdefault("vllm._C_stable_libtorch", type(sys)("stub"))
fake = types.ModuleType("vllm.vllm_flash_attn.flash_attn_interface")
fake.is_fa_version_supported = lambda v: v in (3, 4)
fake.fa_version_unsupported_reason = lambda v: None
pkg = types.ModuleType("vllm.vllm_flash_attn"); pkg.__path__ = []
for _n in ("compile_flash_attn_varlen_func_from_specs","flash_attn_varlen_func","get_scheduler_metadata"): setattr(pkg, _n, lambda *a, **k: None)
sys.modules["vllm.vllm_flash_attn"] = pkg
sys.modules["vllm.vllm_flash_attn.flash_attn_interface"] = fake
import torch
from vllm.v1.worker.utils import customize_attention_spec, select_common_block_size
from vllm.v1.attention.backends import fa_utils
from vllm.v1.attention.backends.triton_flash_attn import TritonFlashAttentionBackend as C
from dataclasses import replace
from vllm.platforms import current_platform
from vllm.platforms.interface import DeviceCapability
P = type(current_platform)
P.get_device_capability = classmethod(lambda cls, device_id=0: DeviceCapability(9, 0))
P.is_device_capability_family = lambda self, cap, *a, **k: cap == 90
P.is_cuda = lambda self: True
from vllm.v1.attention.backends import fa_utils
print("fa version head512:", fa_utils.get_flash_attn_version(head_size=512), "head256:", fa_utils.get_flash_attn_version(head_size=256))
from vllm.v1.attention.backends.triton_flash_attn import TritonFlashAttentionBackend as C
from vllm.v1.kv_cache_interface import FullAttentionSpec, SlidingWindowSpec, KVQuantMode
from vllm.v1.worker.utils import customize_attention_spec, select_common_block_size
for dt, mode in ((torch.uint8, KVQuantMode.FP8_PER_TENSOR), (torch.bfloat16, KVQuantMode.NONE)):
    full = FullAttentionSpec(block_size=16, num_kv_heads=4, head_size=512, dtype=dt, kv_quant_mode=mode)
    sw = SlidingWindowSpec(block_size=16, num_kv_heads=16, head_size=256, dtype=dt, kv_quant_mode=mode, sliding_window=1024)
    print(dt, "composite sizes full:", C.get_supported_kernel_block_sizes(full), "sliding:", C.get_supported_kernel_block_sizes(sw), "no spec:", C.get_supported_kernel_block_sizes())
    f = customize_attention_spec(C, full)
    print("  customized full stride alignment:", f.block_stride_alignment, f.get_block_stride_alignment())
    for bs in (32, 64, 128):
        try:
            print("  select_common_block_size", bs, "->", select_common_block_size(bs, [C], [replace(f, block_size=bs)]))
        except ValueError as e:
            print("  select_common_block_size", bs, "-> ValueError:", e)

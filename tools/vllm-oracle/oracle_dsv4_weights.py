#!/usr/bin/env python3
"""Oracle: the weights vLLM 0.33.0 allocates for DeepSeek-V4 on one TP rank, from its own
DeepseekV4ForCausalLM (models/deepseek_v4/nvidia/model.py) built on the meta device, as an H200
(SM 9.0) builds it. CPU only, no weights.

Usage: oracle_dsv4_weights.py DIR_WITH_CONFIG_JSON TP[:ep] ...
Prints, per TP size, the bytes of every parameter and persistent buffer (each tensor once: the
router and shared experts are also reachable under ffn.experts), the parameter count (fp4 expert
bytes as two values, without the fp8/fp4 scales and the int32 hash tables), the routed experts'
share, and the buffers outside the state dict (the RoPE cos/sin tables).
tests/core/deepseek_v4_weights_test.cc and presets/models/deepseek-v4-*.yaml quote its output.

Stubbed (what needs a GPU): the parallel groups (a TP group of TP ranks seen from rank 0, EP the
same with ":ep"), CUDA streams and events, the fp8 linear kernel choice (init_fp8_linear_kernel),
the MXFP4 MoE backend (Marlin, what SM 9.0 falls to: FlashInfer TRT-LLM and DeepGEMM MXFP4 need
SM 10.0), the device capability (9.0) and device type (meta).
"""
import sys
from types import SimpleNamespace

import torch

sys.modules.setdefault("vllm._C_stable_libtorch", type(sys)("stub"))

import vllm.distributed.parallel_state as ps  # noqa: E402


def group(size):
    return SimpleNamespace(rank_in_group=0, world_size=size, is_first_rank=True, is_last_rank=True, rank=0,
                           ranks=list(range(size)), local_rank=0)


def set_groups(tp, ep):
    for name in ("_WORLD", "_TP", "_PP", "_DP", "_EP", "_DCP", "_PCP", "_ETP", "_EPLB"):
        wide = name in ("_TP", "_WORLD") or (ep and name == "_EP")
        setattr(ps, name, group(tp if wide else 1))


set_groups(1, False)

from vllm.config import DeviceConfig, ModelConfig, VllmConfig, set_current_vllm_config  # noqa: E402


class NoStream:
    def __init__(self, *args, **kwargs):
        pass


torch.cuda.Stream = NoStream
torch.cuda.Event = NoStream

import vllm.model_executor.layers.quantization.fp8 as fp8  # noqa: E402
import vllm.model_executor.layers.quantization.mxfp4 as mxfp4  # noqa: E402
from vllm.model_executor.layers.fused_moe.oracle.mxfp4 import Mxfp4MoeBackend  # noqa: E402
from vllm.platforms import current_platform  # noqa: E402
from vllm.platforms.interface import DeviceCapability  # noqa: E402

fp8.init_fp8_linear_kernel = lambda *args, **kwargs: None
mxfp4.select_deepseek_v4_mxfp4_moe_backend = lambda moe: (Mxfp4MoeBackend.MARLIN, None)
current_platform.__class__.get_device_capability = classmethod(lambda cls, device_id=0: DeviceCapability(9, 0))
current_platform.__class__.device_type = "meta"

import vllm.models.deepseek_v4.nvidia.model as dsv4  # noqa: E402


def build(config_dir, tp, ep):
    set_groups(tp, ep)
    model_config = ModelConfig(model=config_dir, skip_tokenizer_init=True, dtype="bfloat16", max_model_len=131072)
    config = VllmConfig(model_config=model_config, device_config=DeviceConfig(device="cpu"))
    config.parallel_config.tensor_parallel_size = tp
    config.parallel_config.enable_expert_parallel = ep
    # The model loader builds the model under the model's dtype (set_default_torch_dtype).
    torch.set_default_dtype(torch.bfloat16)
    with set_current_vllm_config(config), torch.device("meta"):
        model = dsv4.DeepseekV4ForCausalLM(vllm_config=config)
    torch.set_default_dtype(torch.float32)
    return model, model_config.hf_config


def main():
    config_dir = sys.argv[1]
    for arg in sys.argv[2:]:
        tp, _, mode = arg.partition(":")
        model, hf = build(config_dir, int(tp), mode == "ep")
        tensors = dict(model.named_parameters())  # each tensor once
        tensors.update(model.named_buffers())
        persistent = set(model.state_dict())
        total = params = routed = 0
        outside = {}
        for name, tensor in tensors.items():
            size = tensor.numel() * tensor.element_size()
            if name not in persistent:
                outside[name] = (str(tensor.dtype), list(tensor.shape), size)
                continue
            total += size
            if name.endswith("weight_scale_inv") or name.endswith("_weight_scale") or "tid2eid" in name:
                continue
            values = tensor.numel() * (2 if tensor.dtype == torch.uint8 else 1)
            params += values
            if name.endswith("w13_weight") or name.endswith("w2_weight"):
                routed += values
        active = params - routed + routed // hf.n_routed_experts * hf.num_experts_per_tok
        print(f"TP {arg}: {total} B per rank; {params} params ({routed} routed, {active} active)")
        for name, (dtype, shape, size) in outside.items():
            print(f"  not in the state dict: {name} {dtype} {shape} {size} B")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Kimi-K3's parameters as vLLM 0.33 builds the model, counted on the meta device (no GPU, no weights).

Usage: python count_params_meta.py DIR   (DIR holds the config.json, its quantization_config removed)
Prints the total, the count per top-level module and every parameter of layers 0, 1, 3 and 92.
presets/models/kimi-k3.yaml quotes its output.

Stubbed, because this machine has no GPU: the current device, CUDA streams and events (no parameters),
the MLA layers' attention backend and prefill backend (no parameters), and FusedMoE, replaced by its
unquantized weights w13 [E, 2 x I, hidden] (gate and up) and w2 [E, hidden, I] at the checkpoint's
moe_intermediate_size I (3072: vLLM pads nothing here; it prints the I it was given).
"""
import os
import sys
import tempfile

import torch

os.environ.setdefault("VLLM_LOGGING_LEVEL", "WARNING")
from vllm.config import DeviceConfig, LoadConfig, ModelConfig, VllmConfig, set_current_vllm_config  # noqa: E402
from vllm.distributed import init_distributed_environment, initialize_model_parallel  # noqa: E402
from vllm.model_executor.model_loader.utils import get_model_architecture  # noqa: E402
from vllm.platforms import current_platform  # noqa: E402

MOE_INTERMEDIATE = 3072  # Kimi-K3's moe_intermediate_size

init_distributed_environment(world_size=1, rank=0, local_rank=0,
                             distributed_init_method=f"file://{tempfile.mktemp()}", backend="gloo")
mc = ModelConfig(model=sys.argv[1], trust_remote_code=True, skip_tokenizer_init=True, dtype="bfloat16",
                 enforce_eager=True)
vc = VllmConfig(model_config=mc, device_config=DeviceConfig(device="cpu"), load_config=LoadConfig(load_format="dummy"))
with set_current_vllm_config(vc):
    initialize_model_parallel(1, 1)
cls, arch = get_model_architecture(mc)
print(cls, arch)

current_platform.current_device = lambda: torch.device("cpu")


class _NoCuda:
    def __init__(self, *a, **k):
        pass

    def __getattr__(self, name):
        return lambda *a, **k: None


torch.cuda.Stream = _NoCuda
torch.cuda.Event = _NoCuda
torch.cuda.current_stream = lambda *a, **k: _NoCuda()

import vllm.models.kimi_k3.nvidia.mla as kimi_mla  # noqa: E402
import vllm.models.kimi_k3.nvidia.model as kimi_model  # noqa: E402


class _Experts(torch.nn.Module):
    def __init__(self, **kw):
        super().__init__()
        experts, hidden = kw["num_experts"], kw["hidden_size"]
        print("experts", experts, hidden, kw["intermediate_size"])
        self.w13_weight = torch.nn.Parameter(torch.empty(experts, 2 * MOE_INTERMEDIATE, hidden))
        self.w2_weight = torch.nn.Parameter(torch.empty(experts, hidden, MOE_INTERMEDIATE))

    def __getattr__(self, name):
        try:
            return super().__getattr__(name)
        except AttributeError:
            if name.startswith(("w13", "w2")):
                raise
            return None


class _Impl:
    def __init__(self, *a, **k):
        pass


class _Backend:
    @staticmethod
    def get_impl_cls():
        return _Impl

    @staticmethod
    def get_name():
        return "NONE"


kimi_model.FusedMoEFactory = lambda **kw: _Experts(**kw)
kimi_mla.get_attn_backend = lambda *a, **k: _Backend
kimi_mla.get_mla_prefill_backend = lambda vc: (lambda *a, **k: None)

with set_current_vllm_config(vc), torch.device("meta"):
    model = cls(vllm_config=vc, prefix="")
per_module = {}
for name, p in model.named_parameters():
    key = ".".join(name.split(".")[:2])
    per_module[key] = per_module.get(key, 0) + p.numel()
print(sum(per_module.values()), per_module)
for name, p in model.named_parameters():
    if any(f".layers.{i}." in name for i in (0, 1, 3, 92)):
        print(name, tuple(p.shape))

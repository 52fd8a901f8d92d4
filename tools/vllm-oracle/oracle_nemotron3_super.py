#!/usr/bin/env python3
"""Oracle: vLLM 0.33.0's KV-cache planning for Nemotron-3-Super-120B-A12B and
Nemotron-3.5-Lightning-30B-A3B, read from their real config.json
(tests/data/configs/nemotron-3-super-120b-a12b-fp8, whose time_step_limit holds Python's
Infinity; nemotron-3.5-lightning-30b-a3b-nvfp4, which names its layers in layers_block_type)
through transformers' NemotronHConfig, the class vLLM 0.33 loads for nemotron_h. The harness
and what it stubs are oracle_mamba.py's (its docstring)."""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import oracle_mamba as om  # noqa: E402
from transformers import NemotronHConfig  # noqa: E402
from vllm.model_executor.models.config import NemotronHForCausalLMConfig  # noqa: E402
from vllm.model_executor.models.nemotron_h import NemotronHForCausalLM  # noqa: E402
from vllm.v1.attention.backends.registry import MambaAttentionBackendEnum  # noqa: E402

CONFIGS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../tests/data/configs/")
CONFIG = CONFIGS + "nemotron-3-super-120b-a12b-fp8/config.json"
LIGHTNING = CONFIGS + "nemotron-3.5-lightning-30b-a3b-nvfp4/config.json"


def super_hf(path=CONFIG):
    with open(path) as f:
        raw = json.load(f)  # json.loads reads the Infinity in time_step_limit
    config = NemotronHConfig.from_dict(raw)
    hf = {k: raw[k] for k in ("hidden_size", "num_attention_heads", "num_key_value_heads", "head_dim",
                              "mamba_num_heads", "mamba_head_dim", "n_groups", "ssm_state_size",
                              "conv_kernel", "expand", "mamba_ssm_cache_dtype")}
    hf["architectures"] = ["NemotronHForCausalLM"]
    hf["num_hidden_layers"] = config.num_hidden_layers
    hf["hybrid_override_pattern"] = config.hybrid_override_pattern
    return hf


def super_case(tp, kv_dtype, mml, prefix_caching=True, path=CONFIG):
    hf = super_hf(path)
    cfg = om.HybridFakeConfig(hf, tp, kv_dtype, mml, 8192, prefix_caching)
    NemotronHForCausalLMConfig.update_mamba_ssm_cache_dtype(
        cache_config=cfg.cache_config, hf_config=cfg.model_config.hf_config)
    kinds = []
    for i, ch in enumerate(hf["hybrid_override_pattern"]):
        if ch == "M":
            kinds.append((f"model.layers.{i}.mixer", "mamba"))
        elif ch == "*":
            kinds.append((f"model.layers.{i}.mixer.attn", "attn"))
        else:
            kinds.append((f"model.layers.{i}.mixer", "none"))
    return cfg, *om.align_and_build_specs(
        cfg, NemotronHForCausalLM, kinds, None, MambaAttentionBackendEnum.MAMBA2,
        lambda c: dict(num_prefill_checkpoint_blocks=1, prefill_checkpoint_alignment=1))


def main():
    import vllm
    print("vllm", vllm.__version__, "from", vllm.__file__)
    print("pattern", super_hf()["hybrid_override_pattern"])
    for tp in (2, 4):
        om.run("Nemotron-3-Super-120B-A12B H100", super_case, tp, "auto", 262144)
    om.run("Nemotron-3-Super-120B-A12B H100", super_case, 2, "auto", 32768)
    print("pattern", super_hf(LIGHTNING)["hybrid_override_pattern"])
    om.run("Nemotron-3.5-Lightning-30B-A3B H100", super_case, 1, "auto", 131072, path=LIGHTNING)


if __name__ == "__main__":
    main()

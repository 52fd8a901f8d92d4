#!/usr/bin/env python3
"""Oracle: vLLM 0.33.0's own KV-cache planning for Falcon-H1
(FalconH1ForCausalLM), on CPU, via oracle_mamba's harness.

Every decoder layer is a FalconH1ParallelHybrid: an attention layer
(model.layers.<i>.attn) and a MambaMixer2 registered under its own layer
index (model.layers.<num_hidden_layers + i>.mixer, "In V1 all attention/ssm
layers must have different index in prefix"), so vLLM plans L attention and
L Mamba layers. Real vLLM code: FalconH1ForCausalLM.get_mamba_state_shape_from_config
/ get_mamba_state_dtype_from_config, Platform._align_hybrid_block_size with
FlashAttentionBackend, get_kv_cache_configs and update_kv_cache_capacity;
stubbed as in oracle_mamba.py.

The config: tiiuae/Falcon-H1-7B-Instruct's fields as a third-party copy gives
them (no verbatim config.json with a citable origin was found).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import oracle_mamba as om  # noqa: E402
from vllm.model_executor.models.falcon_h1 import FalconH1ForCausalLM  # noqa: E402
from vllm.v1.attention.backends.registry import MambaAttentionBackendEnum  # noqa: E402

FALCON_H1_7B = dict(
    architectures=["FalconH1ForCausalLM"],
    num_hidden_layers=44, hidden_size=3072, num_attention_heads=12,
    num_key_value_heads=2, head_dim=128, mamba_d_ssm=3072, mamba_n_heads=24,
    mamba_d_head=128, mamba_n_groups=1, mamba_d_state=256, mamba_d_conv=4,
    mamba_expand=2,
)


def falcon_case(tp, kv_dtype, mml, prefix_caching=True,
                backend=om.FlashAttentionBackend):
    hf = FALCON_H1_7B
    layers = hf["num_hidden_layers"]
    cfg = om.HybridFakeConfig(hf, tp, kv_dtype, mml, 8192, prefix_caching)
    kinds = [(f"model.layers.{i}.attn", "attn") for i in range(layers)]
    kinds += [(f"model.layers.{layers + i}.mixer", "mamba")
              for i in range(layers)]
    return cfg, *om.align_and_build_specs(
        cfg, FalconH1ForCausalLM, kinds, None,
        MambaAttentionBackendEnum.MAMBA2,
        # MambaMixer2.get_kv_cache_spec: always
        lambda c: dict(num_prefill_checkpoint_blocks=1,
                       prefill_checkpoint_alignment=1),
        backend)


def main():
    import vllm
    print("vllm", vllm.__version__, "from", vllm.__file__)
    for tp in (1, 2):
        for kv in ("auto", "fp8"):
            for mml in (262144, 32768):
                om.run("Falcon-H1-7B H100", falcon_case, tp, kv, mml)
    om.run("Falcon-H1-7B H100 (no prefix caching)", falcon_case,
           1, "auto", 262144, prefix_caching=False)


if __name__ == "__main__":
    main()

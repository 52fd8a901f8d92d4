#!/usr/bin/env python3
"""Oracle: vLLM 0.33.0's own KV-cache planning for Granite-4.0-H
(GraniteMoeHybridForCausalLM), on CPU, via oracle_mamba's harness.

Real vLLM code: GraniteMoeHybridForCausalLM.get_mamba_state_shape_from_config /
get_mamba_state_dtype_from_config, Platform._align_hybrid_block_size with
FlashAttentionBackend, get_kv_cache_configs and update_kv_cache_capacity.
Stubbed as in oracle_mamba.py: the model class lookup, the backend list and the
prefill checkpoint alignment (None: MambaMixer2 does not override it). The
attention head size is hidden_size / num_attention_heads, as
GraniteMoeHybridAttention computes it. Layer kinds follow layer_types, with the
legacy "mamba" / "attention" names transformers 5 remaps.

The config: ibm-granite/granite-4.0-h-tiny's fields as third-party copies give
them (no verbatim config.json with a citable origin was found).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import oracle_mamba as om  # noqa: E402
from vllm.model_executor.models.granitemoehybrid import (  # noqa: E402
    GraniteMoeHybridForCausalLM,
)
from vllm.v1.attention.backends.registry import MambaAttentionBackendEnum  # noqa: E402

LAYER_TYPES = (["mamba"] * 5 + ["attention"] + ["mamba"] * 9 + ["attention"]
               + ["mamba"] * 9 + ["attention"] + ["mamba"] * 9 + ["attention"]
               + ["mamba"] * 4)
GRANITE_4_H_TINY = dict(
    architectures=["GraniteMoeHybridForCausalLM"],
    num_hidden_layers=40, layer_types=LAYER_TYPES, hidden_size=1536,
    num_attention_heads=12, num_key_value_heads=4, head_dim=1536 // 12,
    mamba_n_heads=48, mamba_d_head=64, mamba_n_groups=1, mamba_d_state=128,
    mamba_d_conv=4, mamba_expand=2,
)


def granite_case(tp, kv_dtype, mml, prefix_caching=True,
                 backend=om.FlashAttentionBackend):
    hf = GRANITE_4_H_TINY
    cfg = om.HybridFakeConfig(hf, tp, kv_dtype, mml, 8192, prefix_caching)
    kinds = []
    for i, kind in enumerate(hf["layer_types"]):
        if kind in ("attention", "full_attention"):
            kinds.append((f"model.layers.{i}.self_attn.attn", "attn"))
        else:
            kinds.append((f"model.layers.{i}.mamba", "mamba"))
    return cfg, *om.align_and_build_specs(
        cfg, GraniteMoeHybridForCausalLM, kinds, None,
        MambaAttentionBackendEnum.MAMBA2,
        # MambaMixer2.get_kv_cache_spec: always
        lambda c: dict(num_prefill_checkpoint_blocks=1,
                       prefill_checkpoint_alignment=1),
        backend)


def main():
    import vllm
    print("vllm", vllm.__version__, "from", vllm.__file__)
    for tp in (1, 4):
        for kv in ("auto", "fp8"):
            for mml in (131072, 32768):
                om.run("Granite-4.0-H-Tiny H100", granite_case, tp, kv, mml)
    om.run("Granite-4.0-H-Tiny H100 (no prefix caching)", granite_case,
           1, "auto", 131072, prefix_caching=False)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Oracle: vLLM 0.33.0's own KV-cache planning for Jamba (JambaForCausalLM),
on CPU, via oracle_mamba's harness.

Layer kinds: transformers' JambaConfig.layers_block_type (layer i is
attention when i % attn_layer_period == attn_layer_offset, else Mamba-1), as
JambaModel.get_layer reads it. Real vLLM code:
JambaForCausalLM.get_mamba_state_shape_from_config (mamba1_state_shape) /
get_mamba_state_dtype_from_config, Platform._align_hybrid_block_size with
FlashAttentionBackend, get_kv_cache_configs and update_kv_cache_capacity.
Stubbed as in oracle_mamba.py; the Mamba-1 mixer (MambaMixer) keeps
MambaBase.get_kv_cache_spec, so no prefill checkpoint blocks are set. The
attention head size is hidden_size / num_attention_heads
(JambaAttentionDecoderLayer).

The config: ai21labs/Jamba-v0.1's fields as third-party copies give them (no
verbatim config.json with a citable origin was found).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import oracle_mamba as om  # noqa: E402
from vllm.model_executor.models.jamba import JambaForCausalLM  # noqa: E402
from vllm.v1.attention.backends.registry import MambaAttentionBackendEnum  # noqa: E402

JAMBA_V01 = dict(
    architectures=["JambaForCausalLM"],
    num_hidden_layers=32, hidden_size=4096, num_attention_heads=32,
    num_key_value_heads=8, head_dim=4096 // 32, attn_layer_period=8,
    attn_layer_offset=4, mamba_d_state=16, mamba_d_conv=4, mamba_expand=2,
)


def jamba_case(tp, kv_dtype, mml, prefix_caching=True,
               backend=om.FlashAttentionBackend):
    hf = JAMBA_V01
    cfg = om.HybridFakeConfig(hf, tp, kv_dtype, mml, 8192, prefix_caching)
    kinds = []
    for i in range(hf["num_hidden_layers"]):
        if i % hf["attn_layer_period"] == hf["attn_layer_offset"]:
            kinds.append((f"model.layers.{i}.attn", "attn"))
        else:
            kinds.append((f"model.layers.{i}.mixer", "mamba"))
    return cfg, *om.align_and_build_specs(
        cfg, JambaForCausalLM, kinds, None,
        MambaAttentionBackendEnum.MAMBA1, None, backend)


def main():
    import vllm
    print("vllm", vllm.__version__, "from", vllm.__file__)
    for tp in (1, 2):
        for kv in ("auto", "fp8"):
            for mml in (262144, 32768):
                om.run("Jamba-v0.1 H100", jamba_case, tp, kv, mml)
    om.run("Jamba-v0.1 H100 (no prefix caching)", jamba_case,
           1, "auto", 262144, prefix_caching=False)


if __name__ == "__main__":
    main()

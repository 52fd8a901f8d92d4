#!/usr/bin/env python3
"""Qwen3.5-27B and Qwen3.5-35B-A3B (GDN + attention; the presets' config.json shapes) through vLLM 0.33's own planning code,
reusing oracle_mamba.py's harness. mamba_ssm_cache_dtype is set the way
Qwen3_5ForConditionalGenerationConfig.verify_and_update_config does from mamba_ssm_dtype."""
import sys
sys.path.insert(0, __import__("os").path.dirname(__file__))
import oracle_mamba as M
from vllm.model_executor.models.qwen3_5 import Qwen3_5ForCausalLM

QWEN35_27B = dict(
    architectures=["Qwen3_5ForCausalLM"],
    num_hidden_layers=64, full_attention_interval=4, hidden_size=5120,
    num_attention_heads=24, num_key_value_heads=4, head_dim=256,
    linear_conv_kernel_dim=4, linear_key_head_dim=128, linear_num_key_heads=16,
    linear_num_value_heads=48, linear_value_head_dim=128, mamba_ssm_dtype="float32",
)
# Qwen/Qwen3.5-35B-A3B's text_config (presets/models/qwen3.5-35b-a3b.yaml): the fields the cache depends on.
QWEN35_35B_A3B = dict(QWEN35_27B, architectures=["Qwen3_5MoeForCausalLM"],
    num_hidden_layers=40, hidden_size=2048, num_attention_heads=16, num_key_value_heads=2,
    linear_num_value_heads=32)


def case(tp, kv_dtype, mml, prefix_caching=True, hf=QWEN35_27B):
    cfg = M.HybridFakeConfig(hf, tp, kv_dtype, mml, 8192, prefix_caching)
    cfg.cache_config.mamba_ssm_cache_dtype = hf["mamba_ssm_dtype"]
    kinds = []
    for i in range(hf["num_hidden_layers"]):
        if (i + 1) % 4 == 0:
            kinds.append((f"model.layers.{i}.self_attn.attn", "attn"))
        else:
            kinds.append((f"model.layers.{i}.linear_attn", "mamba"))
    align = M.FLASHINFER_GDN_CHECKPOINT_ALIGNMENT if prefix_caching else None
    def ckpt(c):
        return dict(num_prefill_checkpoint_blocks=1,
                    prefill_checkpoint_alignment=c.cache_config.mamba_block_size)
    return cfg, *M.align_and_build_specs(cfg, Qwen3_5ForCausalLM, kinds, align,
        M.MambaAttentionBackendEnum.GDN_ATTN, ckpt if align else None, M.FlashAttentionBackend)

for tp in (1, 2):
    for kv in ("auto", "fp8"):
        M.run("Qwen3.5-27B H100", case, tp, kv, 262144)
# tests/core/presets_2026_test.cc: the presets at 32k on Hopper (H100 and H200 pick the same backend).
M.run("Qwen3.5-27B Hopper TP1 32k", case, 1, "auto", 32768)
M.run("Qwen3.5-35B-A3B Hopper TP1 32k", case, 1, "auto", 32768, hf=QWEN35_35B_A3B)

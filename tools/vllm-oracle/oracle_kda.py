#!/usr/bin/env python3
"""Oracle: vLLM 0.33.0's own KV-cache planning for Kimi-Linear (KDA state
layers beside MLA), on CPU, for the config tests/core/kda_test.cc builds and
for Kimi-K3's text_config (tests/core/presets_2026_test.cc).

Real vLLM code: KimiLinearForCausalLM.get_mamba_state_shape_from_config /
get_mamba_state_dtype_from_config (MambaStateShapeCalculator.kda_state_shape,
MambaStateDtypeCalculator.kda_state_dtype), Platform._align_hybrid_block_size
with FlashAttnMLABackend (FLASH_ATTN_MLA, first for MLA on Hopper in 0.33,
src/core/vllm_backend.cc), and the planning of oracle.run_case.

Stubbed as in oracle_mamba.py (and fa_utils' kernel names, as in oracle_dcp.py): the model class lookup, the non-SSM backend
list, and get_mamba_prefill_checkpoint_alignment, set to what the KDA layer
says: kda_prefill_checkpoint_alignment("flashkda") = 16 in align mode (FlashKDA
on SM90 with a bfloat16 model, head_dim 128 and a bounded gate), and the layer's
spec override num_prefill_checkpoint_blocks = 1 (nvidia/kda.py:get_kv_cache_spec).
"""

import os
import sys
from dataclasses import replace
from types import SimpleNamespace

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402

import oracle  # noqa: E402
import vllm  # noqa: E402,F401
from vllm.config.cache import CacheConfig  # noqa: E402
from vllm.model_executor.layers.mamba import abstract as mamba_abstract  # noqa: E402
from vllm.model_executor.layers.mamba.kda_checkpoint import (  # noqa: E402
    kda_prefill_checkpoint_alignment,
)
from vllm.model_executor.models import ModelRegistry  # noqa: E402
from vllm.models.kimi_k3.nvidia.model import KimiLinearForCausalLM  # noqa: E402
from vllm.platforms.interface import Platform  # noqa: E402
from vllm.v1.attention.backends import fa_utils  # noqa: E402

# flashattn_mla.py imports FlashAttention kernels this CPU box lacks; as in
# oracle_dcp.py, the missing names read as None (only the class's static block
# sizes are used here).
for _name in ("flash_attn_varlen_func", "get_scheduler_metadata"):
    if not hasattr(fa_utils, _name):
        setattr(fa_utils, _name, None)
from vllm.v1.attention.backends.mla.flashattn_mla import FlashAttnMLABackend  # noqa: E402
from vllm.v1.attention.backends.registry import MambaAttentionBackendEnum  # noqa: E402
from vllm.v1.kv_cache_interface import MambaSpec, MLAAttentionSpec  # noqa: E402

GiB = 1 << 30
# tests/core/kda_test.cc's config (KimiLinearConfig defaults plus chosen widths).
KDA_LAYERS = [n for n in range(1, 33) if n % 4 != 0]
HF = dict(
    architectures=["KimiLinearForCausalLM"], num_hidden_layers=32,
    num_attention_heads=32, num_key_value_heads=32, kv_lora_rank=512,
    qk_rope_head_dim=64, head_dim=128,
    linear_attn_config=dict(num_heads=32, head_dim=128, short_conv_kernel_size=4,
                            gate_lower_bound=-5.0, kda_layers=KDA_LAYERS),
)

# moonshotai/Kimi-K3's text_config (presets/models/kimi-k3.yaml): the fields the cache depends on.
K3_HF = dict(
    architectures=["KimiLinearForCausalLM"], num_hidden_layers=93,
    num_attention_heads=96, num_key_value_heads=96, kv_lora_rank=512,
    qk_rope_head_dim=64, head_dim=128,
    linear_attn_config=dict(num_heads=96, head_dim=128, short_conv_kernel_size=4,
                            gate_lower_bound=-5.0,
                            kda_layers=[n for n in range(1, 92) if n % 4 != 0]),
)


def case(mml, flashkda=True, prefix_caching=True, config=HF, tp=1, title="kimi_linear"):
    cfg = oracle.FakeVllmConfig(mml, 8192, tp=tp)
    HF = config
    hf = SimpleNamespace(**HF)
    mc = cfg.model_config
    mc.architecture = HF["architectures"][0]
    mc.dtype = torch.bfloat16
    mc.use_mla = True
    mc.is_hybrid = True
    mc.hf_config = hf
    mc.hf_text_config = hf
    mc.get_num_kv_heads = lambda pc: 1
    mc.get_num_attention_heads = lambda pc: HF["num_attention_heads"] // tp
    mc.get_head_size = lambda: 512 + 64
    cc = cfg.cache_config
    cc.cache_dtype = "auto"
    cc.block_size = CacheConfig.DEFAULT_BLOCK_SIZE
    cc.user_specified_block_size = False
    cc.kv_cache_dtype_skip_layers = []
    cc.mamba_cache_dtype = "auto"
    cc.mamba_ssm_cache_dtype = "auto"
    cc.use_replayssm = False
    cc.mamba_page_size_padded = None
    cc.prefix_match_unit = None
    cc.enable_prefix_caching = prefix_caching
    cc.mamba_cache_mode = "align" if prefix_caching else "none"
    cc.mamba_block_size = cc.block_size if prefix_caching else mml
    cfg.num_speculative_tokens = 0
    align = (kda_prefill_checkpoint_alignment("flashkda")
             if flashkda and prefix_caching else None)

    saved = (ModelRegistry.resolve_model_cls, Platform._find_non_ssm_backends,
             mamba_abstract.get_mamba_prefill_checkpoint_alignment)
    ModelRegistry.resolve_model_cls = (
        lambda arch, model_config=None: (KimiLinearForCausalLM, arch))
    Platform._find_non_ssm_backends = classmethod(lambda cls, vc: [FlashAttnMLABackend])
    mamba_abstract.get_mamba_prefill_checkpoint_alignment = lambda vc: align
    try:
        cc.block_size = FlashAttnMLABackend.get_preferred_block_size(
            CacheConfig.DEFAULT_BLOCK_SIZE)
        Platform._align_hybrid_block_size(cfg, FlashAttnMLABackend)
    finally:
        (ModelRegistry.resolve_model_cls, Platform._find_non_ssm_backends,
         mamba_abstract.get_mamba_prefill_checkpoint_alignment) = saved

    mla = MLAAttentionSpec(block_size=cc.block_size, num_kv_heads=1,
                           max_tp_shards=1, head_size=512 + 64,
                           dtype=torch.bfloat16, cache_dtype_str="auto")
    kda = MambaSpec(
        shapes=tuple(KimiLinearForCausalLM.get_mamba_state_shape_from_config(cfg)),
        dtypes=KimiLinearForCausalLM.get_mamba_state_dtype_from_config(cfg),
        block_size=cc.mamba_block_size, page_size_padded=cc.mamba_page_size_padded,
        mamba_type=MambaAttentionBackendEnum.KDA if hasattr(
            MambaAttentionBackendEnum, "KDA") else MambaAttentionBackendEnum.GDN_ATTN,
        mamba_cache_mode=cc.mamba_cache_mode, num_speculative_blocks=0)
    if align is not None:
        kda = replace(kda, num_prefill_checkpoint_blocks=1,
                      prefill_checkpoint_alignment=align)
    specs = {}
    for i in range(HF["num_hidden_layers"]):
        if (i + 1) in HF["linear_attn_config"]["kda_layers"]:
            specs[f"model.layers.{i}.self_attn"] = kda
        else:
            specs[f"model.layers.{i}.self_attn.attn"] = mla
    print(f"  block_size={cc.block_size} mla page={mla.page_size_bytes} "
          f"kda shapes={kda.shapes} dtypes={kda.dtypes} "
          f"real={kda.real_page_size_bytes} padded={kda.page_size_bytes}")
    oracle.run_case(f"{title} H100 TP{tp} mml={mml} flashkda={flashkda}", cfg,
                    [specs] * tp, [40 * GiB] * tp)


if __name__ == "__main__":
    case(131072)
    case(131072, flashkda=False)
    for tp in (1, 8):
        case(32768, config=K3_HF, tp=tp, title="Kimi-K3")

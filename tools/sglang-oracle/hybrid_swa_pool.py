#!/usr/bin/env python3
"""Oracle: SGLang 0.5.23's HybridSWAPoolConfigurator for MiMo-V2-Flash, Step-3.7-Flash, Gemma-4 and Llama-4.

Runs the release's own HybridSWAPoolConfigurator.__init__ and calculate_pool_sizes (imported from
the wheel; torch needed, no GPU) on a stub KVCacheConfigurator carrying the model geometry SGLang's
ModelConfig derives from the config.json (get_num_kv_heads, get_swa_num_kv_heads, head_dim,
v_head_dim, swa_head_dim, swa_v_head_dim), with the runtime context (attention TP, the
swa_full_tokens_ratio 0.8 default, unified memory off) faked. Cited by tests/core/sglang_swa_test.cc.

    pip install torch ipython msgspec gguf   # beside an unpacked sglang 0.5.23 wheel
    PYTHONPATH=/tmp/sgl/0.5.23 python3 tools/sglang-oracle/hybrid_swa_pool.py
"""

import types

import torch

import sglang.srt.model_executor.pool_configurator as pc
from sglang.srt.configs.model_config import AttentionArch

GiB = 1 << 30


def configurator(tp, full_heads, swa_heads, head, v_head, full_layers, swa_layers, window, page,
                 swa_head=None, swa_v_head=None, dtype=torch.bfloat16):
    # Gemma-4's sliding layers have a head width of their own (utils/hf_transformers/config.py:
    # _apply_gemma4_attention_overrides sets head_dim, swa_head_dim and swa_v_head_dim per kind).
    swa_head = head if swa_head is None else swa_head
    swa_v_head = v_head if swa_v_head is None else swa_v_head
    pc.get_parallel = lambda: types.SimpleNamespace(attn_tp_size=tp, attn_dcp_size=1)
    pc.get_schedule = lambda: types.SimpleNamespace(swa_full_tokens_ratio=0.8, max_total_tokens=None)
    pc.get_memory = lambda: types.SimpleNamespace(enable_unified_memory=False, enable_hisparse=False)
    model_config = types.SimpleNamespace(
        attention_arch=AttentionArch.MHA,
        get_num_kv_heads=lambda t, dcp=1: max(1, full_heads // t),
        get_swa_num_kv_heads=lambda t: max(1, swa_heads // t),
        head_dim=head, v_head_dim=v_head, swa_head_dim=swa_head, swa_v_head_dim=swa_v_head)
    kvc = types.SimpleNamespace(
        kv_cache_dtype_str="auto", kv_cache_dtype=dtype, model_config=model_config,
        layer_info=types.SimpleNamespace(full_attention_layer_ids=list(range(full_layers)),
                                         swa_attention_layer_ids=list(range(swa_layers))),
        sliding_window_size=window, page_size=page, is_draft_worker=False,
        spec_algorithm=types.SimpleNamespace(is_eagle=lambda: False, is_standalone=lambda: False,
                                             is_dflash_family=lambda: False),
        fused_entry_bytes=lambda name: None)
    return pc.HybridSWAPoolConfigurator(kvc)


def case(title, budget, page, **geometry):
    c = configurator(page=page, **geometry)
    sizes = c.calculate_pool_sizes(budget, page)
    print(f"{title}: full_per_token={c._full_per_token} swa_per_token={c._swa_per_token} "
          f"cell={c._cell_size} full={sizes.full_max_total_num_tokens} swa={sizes.swa_max_total_num_tokens}")


def main():
    mimo = dict(full_heads=4, swa_heads=8, head=192, v_head=128, full_layers=9, swa_layers=39, window=128)
    case("MiMo-V2-Flash TP8 H200 (fa3, page 1) 40 GiB", 40 * GiB, 1, tp=8, **mimo)
    case("MiMo-V2-Flash TP1 40 GiB", 40 * GiB, 1, tp=1, **mimo)
    case("MiMo-V2-Flash TP8 B200 (fa4, page 128) 40 GiB", 40 * GiB, 128, tp=8, **mimo)
    step = dict(full_heads=8, swa_heads=8, head=128, v_head=128, full_layers=12, swa_layers=33, window=512)
    case("Step-3.7-Flash TP8 H200 (fa3, page 1) 40 GiB", 40 * GiB, 1, tp=8, **step)
    # Full layers: num_global_key_value_heads x global_head_dim (K and V rows both); sliding layers:
    # num_key_value_heads x head_dim.
    gemma31 = dict(full_heads=4, swa_heads=16, head=512, v_head=512, swa_head=256, swa_v_head=256,
                   full_layers=10, swa_layers=50, window=1024)
    case("Gemma-4-31B TP8 H200 (triton, page 1) 40 GiB", 40 * GiB, 1, tp=8, **gemma31)
    case("Gemma-4-31B TP2 H200 (triton, page 1) 40 GiB", 40 * GiB, 1, tp=2, **gemma31)
    case("Gemma-4-31B TP1 B200 (trtllm_mha, page 64) 40 GiB", 40 * GiB, 64, tp=1, **gemma31)
    gemma26 = dict(full_heads=2, swa_heads=8, head=512, v_head=512, swa_head=256, swa_v_head=256,
                   full_layers=5, swa_layers=25, window=1024)
    case("Gemma-4-26B-A4B TP4 H100 (triton, page 1) 40 GiB", 40 * GiB, 1, tp=4, **gemma26)
    case("Gemma-4-31B TP8 H200 fp8 (triton, page 1) 40 GiB", 40 * GiB, 1, tp=8, dtype=torch.float8_e4m3fn, **gemma31)
    # nvfp4: the configurator prices torch.float4_e2m1fn_x2 at its element size, 1 B per value (kvplan
    # refuses nvfp4 on this pool): gpt-oss-120b's 8 heads x (64 + 64) x 1 B = 1024 B per layer, where
    # packed nvfp4 with scales would be 8 x 2 x (32 + 4) = 576 B.
    case("gpt-oss-120b TP1 B200 nvfp4 (trtllm_mha, page 64) 40 GiB", 40 * GiB, 64, tp=1, dtype=torch.float4_e2m1fn_x2,
         full_heads=8, swa_heads=8, head=64, v_head=64, full_layers=18, swa_layers=18, window=128)
    # Llama4ForConditionalGeneration: get_hybrid_layer_ids puts every 4th layer in the full pool, the
    # other 36 in the SWA pool, whose window is attention_chunk_size (8192).
    llama4 = dict(full_heads=8, swa_heads=8, head=128, v_head=128, full_layers=12, swa_layers=36, window=8192)
    case("Llama-4-Scout TP8 H100 (fa3, page 1) 40 GiB", 40 * GiB, 1, tp=8, **llama4)
    case("Llama-4-Scout TP4 B200 (trtllm_mha, page 64) 40 GiB", 40 * GiB, 64, tp=4, **llama4)
    # A 7-layer gemma4_text with its last 2 layers (one sliding, one full) reading earlier caches:
    # SGLang still gives them rows, so 3 full and 4 sliding layers (num_key_value_heads 2, no k_eq_v).
    case("Gemma-4 with 2 KV-shared layers TP1 (triton, page 1) 40 GiB", 40 * GiB, 1, tp=1, full_heads=2, swa_heads=2,
         head=512, v_head=512, swa_head=256, swa_v_head=256, full_layers=3, swa_layers=4, window=512)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Oracle: SGLang 0.5.23's HybridSWAPoolConfigurator for MiMo-V2-Flash and Step-3.7-Flash.

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


def configurator(tp, full_heads, swa_heads, head, v_head, full_layers, swa_layers, window, page):
    pc.get_parallel = lambda: types.SimpleNamespace(attn_tp_size=tp, attn_dcp_size=1)
    pc.get_schedule = lambda: types.SimpleNamespace(swa_full_tokens_ratio=0.8, max_total_tokens=None)
    pc.get_memory = lambda: types.SimpleNamespace(enable_unified_memory=False, enable_hisparse=False)
    model_config = types.SimpleNamespace(
        attention_arch=AttentionArch.MHA,
        get_num_kv_heads=lambda t, dcp=1: max(1, full_heads // t),
        get_swa_num_kv_heads=lambda t: max(1, swa_heads // t),
        head_dim=head, v_head_dim=v_head, swa_head_dim=head, swa_v_head_dim=v_head)
    kvc = types.SimpleNamespace(
        kv_cache_dtype_str="auto", kv_cache_dtype=torch.bfloat16, model_config=model_config,
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


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Oracle: SGLang 0.5.23's state-pool arithmetic (from its wheel, not vLLM), on CPU.

Runs Qwen3NextConfig (Qwen3_5TextConfig for Qwen3.5) / NemotronHConfig.mamba2_cache_params (built from the preset's config
fields), KVCacheConfigurator._profile_available_bytes (which calls _handle_max_mamba_cache) with
the free-memory query faked to free before loading = the CUDA total and free after = total -
weights (float32 with several ranks, as the all-reduced minimum is), DefaultPoolConfigurator.
calculate_pool_sizes on the attention layers' cell, and resolve_max_num_reqs. The server-argument
defaults (extra_buffer with the overlap scheduler, ratio 0.9) are the ones ServerArgs.resolve_once()
resolves for these architectures on a faked CUDA GPU.

    PYTHONPATH=path/to/unpacked/sglang-0.5.23-wheel venv/bin/python tools/vllm-oracle/oracle_sglang_state.py \
        nemotron-3-nano-30b-a3b 1 150109945856 63200000000 0.903 32768 1

argv: preset attn_tp cuda_total_bytes weights_bytes mem_fraction_static context_len page_size
[several_ranks 0|1]. tests/core/sglang_state_test.cc cites what it prints.
"""
import sys, types
import yaml
import numpy as np
import sglang.srt.mem_cache.kv_cache_configurator as kc
import sglang.srt.runtime_context as rc
model, tp = sys.argv[1], int(sys.argv[2])
total, weights, fraction = int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
ctx, page = int(sys.argv[6]), int(sys.argv[7])
several = len(sys.argv) > 8 and sys.argv[8] == "1"
par = types.SimpleNamespace(attn_tp_size=tp, tp_size=tp, enable_cp_tp_group_sharing=False, launch_world_size=2 if several else 1,
                            world_group=types.SimpleNamespace(cpu_group=None), pp_size=1, attn_dcp_size=1)
rc.get_parallel = lambda: par
cfg = yaml.safe_load(open(f"presets/models/{model}.yaml"))["config"]
multimodal = "text_config" in cfg
if cfg["model_type"] in ("qwen3_5", "qwen3_5_moe"):
    # Qwen3.5 / Qwen3.6: the language model's Qwen3_5(Moe)TextConfig, a Qwen3NextConfig subclass.
    import sglang.srt.configs.qwen3_next as m
    import sglang.srt.configs.qwen3_5 as q
    m.get_parallel = lambda: par
    text = cfg["text_config"]
    conf = (q.Qwen3_5MoeTextConfig if cfg["model_type"] == "qwen3_5_moe" else q.Qwen3_5TextConfig)(**text)
    cfg = text
elif cfg["model_type"] == "qwen3_next":
    import sglang.srt.configs.qwen3_next as m
    m.get_parallel = lambda: par
    conf = m.Qwen3NextConfig(**cfg)
else:
    import sglang.srt.configs.nemotron_h as m
    m.get_parallel = lambda: par
    conf = m.NemotronHConfig(**cfg)
params = conf.mamba2_cache_params
print("state dtype", params.dtype, "conv", params.shape.conv, "temporal", params.shape.temporal, "layers", len(params.layers))
print("mamba_cache_per_req", params.mamba_cache_per_req, "full attention layers", len(conf.full_attention_layer_ids))
sched = types.SimpleNamespace(mem_fraction_static=fraction, prefill_max_requests=None, max_mamba_cache_size=None,
                              mamba_full_memory_ratio=0.9, max_running_requests=None, disable_overlap_schedule=False,
                              max_total_tokens=None)
ctxo = types.SimpleNamespace(override=lambda name, **kw: setattr(sched, "max_mamba_cache_size", kw["max_mamba_cache_size"]))
kc.get_context = lambda: ctxo
kc.get_schedule = lambda: sched
f32 = lambda x: float(np.float32(x)) if several else float(x)
kc.get_available_gpu_memory = lambda *a, **k: f32(total - weights) / (1 << 30)
kc.get_parallel = lambda: par
graph = types.SimpleNamespace(cuda_graph_config=types.SimpleNamespace(prefill=types.SimpleNamespace(full_prefill_max_req=None, backend="breakable")))
mamba = types.SimpleNamespace(enable_linear_replayssm_spec=False, enable_mamba_extra_buffer=True, enable_mamba_extra_buffer_lazy=False)
kc.get_exec = lambda: types.SimpleNamespace(graph=graph, mamba=mamba)
kc.get_disagg = lambda: types.SimpleNamespace(disaggregation_mode="null")
kc.get_mm = lambda: types.SimpleNamespace(mm_feature_transport=None)
kc.get_memory = lambda: types.SimpleNamespace(disable_radix_cache=False, enable_unified_memory=False)
spec = types.SimpleNamespace(is_none=lambda: True)
me = types.SimpleNamespace(device="cuda", gpu_id=0, mambaish_config=conf, post_capture_kv_active=False, pp_size=1,
                           model_config=types.SimpleNamespace(is_multimodal=multimodal, context_len=ctx, num_hidden_layers=conf.num_hidden_layers),
                           spec_algorithm=spec, hybrid_gdn_config=None, hybrid_kda_config=None, extra_mamba_cache_bytes_per_req=0,
                           attn_dp_size=1, fused_entry_bytes=lambda kind: None)
me._handle_max_mamba_cache = lambda rest: kc.KVCacheConfigurator._handle_max_mamba_cache(me, rest)
me._calculate_mamba_ratio = lambda: kc.KVCacheConfigurator._calculate_mamba_ratio(me)
kv_bytes = kc.KVCacheConfigurator._profile_available_bytes(me, f32(total) / (1 << 30))
print("max_mamba_cache_size", sched.max_mamba_cache_size, "kv_bytes", kv_bytes)
from sglang.srt.model_executor.pool_configurator import DefaultPoolConfigurator
c = object.__new__(DefaultPoolConfigurator)
heads = max(1, cfg["num_key_value_heads"] // tp)
c._cell_size = heads * cfg["head_dim"] * 2 * 2 * len(conf.full_attention_layer_ids)
c._fixed_overhead_bytes, c._zero_kv_max_tokens = 0, None
tokens = c.calculate_pool_sizes(kv_bytes, page).max_total_num_tokens
print("cell", c._cell_size, "tokens", tokens)
print("ratio", me._calculate_mamba_ratio(), "max_num_reqs", kc.KVCacheConfigurator.resolve_max_num_reqs(me, tokens))

#!/usr/bin/env python3
"""Oracle: vLLM 0.33.0's own KV-cache planning for DeepSeek-V4(-Flash), CPU
only, on specs built by vLLM's own spec functions.

vLLM code called (not re-implemented):
  * kv dtype / layout      models/deepseek_v4/attention.py::
                           _resolve_dsv4_kv_cache_dtype
  * block size             platforms/interface.py::Platform.
                           _preferred_block_size_for_backends
  * compressed KV spec     attention.py::DeepseekV4Attention.get_kv_cache_spec
  * indexer K spec         attention.py::DeepseekV4IndexerCache.get_kv_cache_spec
  * SWA spec               v1/attention/backends/mla/sparse_swa.py::
                           DeepseekV4SWACache.get_kv_cache_spec
  * compressor state spec  models/deepseek_v4/compressor.py::
                           CompressorStateCache.get_kv_cache_spec
  (all called unbound on a stand-in `self` carrying exactly the attributes
   their __init__ would have set, see the __init__ code quoted per stub)
  * backend customisation  v1/worker/utils.py::customize_attention_spec
  * KV cache layout        v1/attention/backends/utils.py::
                           get_supported_kv_cache_layouts / resolve_kv_cache_layout
  * grouping / num_blocks  oracle.py::run_case (get_global_kv_cache_groups,
                           get_kv_cache_configs, generate_scheduler_kv_cache_config,
                           get_kv_cache_capacity, update_kv_cache_capacity)
Not exercised: device availability of FlashMLA / FlashInfer kernels.
"""

import importlib.util
import logging
import os
import sys
from types import SimpleNamespace

os.environ.setdefault("VLLM_LOGGING_LEVEL", "INFO")

import torch  # noqa: E402

sys.modules.setdefault("vllm._C_stable_libtorch", type(sys)("stub"))

import vllm  # noqa: E402
from vllm.config.cache import CacheConfig  # noqa: E402
from vllm.models.deepseek_v4.attention import (  # noqa: E402
    DeepseekV4Attention,
    DeepseekV4IndexerCache,
    _resolve_dsv4_kv_cache_dtype,
)
from vllm.models.deepseek_v4.compressor import (  # noqa: E402
    CompressorBackend,
    CompressorStateCache,
)
from vllm.models.deepseek_v4.nvidia.flashinfer_sparse import (  # noqa: E402
    DeepseekSparseSWAFlashInferBackend,
    DeepseekV4FlashInferMLAAttention,
    DeepseekV4FlashInferMLASparseBackend,
)
from vllm.models.deepseek_v4.nvidia.flashmla import (  # noqa: E402
    DeepseekSparseSWAFlashMLABackend,
    DeepseekV4FlashMLAAttention,
)
from vllm.models.deepseek_v4.sparse_mla import DeepseekV4FlashMLABackend  # noqa: E402
from vllm.platforms.cuda import CudaPlatform  # noqa: E402
from vllm.v1.attention.backends.mla.indexer import (  # noqa: E402
    DeepseekV4IndexerBackend,
)
from vllm.v1.attention.backends.mla.sparse_swa import DeepseekV4SWACache  # noqa: E402
from vllm.v1.attention.backends.utils import (  # noqa: E402
    get_supported_kv_cache_layouts,
    resolve_kv_cache_layout,
)
from vllm.v1.worker.utils import customize_attention_spec  # noqa: E402

spec_ = importlib.util.spec_from_file_location(
    "oracle_base", os.path.join(os.path.dirname(__file__), "oracle.py"))
oracle_base = importlib.util.module_from_spec(spec_)
spec_.loader.exec_module(oracle_base)

GiB = 1 << 30

# DeepSeek-V4-Flash config.json (see gemma4-dsv4-rules.md §4). compress_ratios
# carries trailing MTP/DSpark entries; transformers' DeepseekV4Config keeps
# layer_types[:num_hidden_layers].
FLASH = dict(
    num_hidden_layers=43, head_dim=512, qk_rope_head_dim=64, sliding_window=128,
    index_head_dim=128, num_attention_heads=64,
    compress_ratios=[0, 0] + [4, 128] * 20 + [4, 0, 0, 0],
)
# DeepSeek-V4-Pro for comparison (61 layers, 128, 128, then 4/128 alternate).
PRO = dict(
    num_hidden_layers=61, head_dim=512, qk_rope_head_dim=64, sliding_window=128,
    index_head_dim=128, num_attention_heads=128,
    compress_ratios=[128, 128] + [4, 128] * 29 + [4, 0],
)


def layer_ratios(model):
    # transformers DeepseekV4Config: layer_types = [_COMPRESS_RATIO_TO_LAYER_TYPE
    # [r] for r in compress_ratios][:n]; vLLM: compress_ratio =
    # max(1, compress_rates.get(layer_type, 0)) (DeepseekV4Attention.__init__).
    from transformers import DeepseekV4Config
    hf = DeepseekV4Config(num_hidden_layers=model["num_hidden_layers"],
                          compress_ratios=model["compress_ratios"])
    return [max(1, hf.compress_rates.get(t, 0)) for t in hf.layer_types]


def build_specs(cfg, model, attn_cls):
    cache_config = cfg.cache_config
    head_dim = model["head_dim"]
    # DeepseekV4Attention.__init__: resolve dtype from the backend's layout
    kv_cache_dtype, kv_torch_dtype = _resolve_dsv4_kv_cache_dtype(
        attn_cls.use_fp8_ds_mla_layout, cache_config.cache_dtype, cache_config)
    swa_backend = attn_cls.swa_backend_cls
    backends = [DeepseekV4IndexerBackend, CompressorBackend, swa_backend,
                attn_cls.backend_cls]
    block_size = CudaPlatform._preferred_block_size_for_backends(
        backends, CacheConfig.DEFAULT_BLOCK_SIZE, cfg)
    cache_config.block_size = block_size

    def compressor_state(ratio, hd):
        # DeepseekCompressor.__init__: coff = 1 + (ratio == 4);
        # state_dim = 2 * coff * head_dim, fp32; CompressorStateCache.__init__:
        # sliding_window = coff*ratio, block_size 4 (C4) / 8 (C128).
        coff = 1 + (ratio == 4)
        st = SimpleNamespace(block_size=4 if ratio == 4 else 8,
                             state_dim=2 * coff * hd, dtype=torch.float32,
                             sliding_window=coff * ratio)
        s = CompressorStateCache.get_kv_cache_spec(st, cfg)
        return customize_attention_spec(CompressorBackend, s)

    specs = {}
    for i, ratio in enumerate(layer_ratios(model)):
        p = f"model.layers.{i}.attn"
        # registration order of DeepseekV4Attention.__init__: indexer
        # (k_cache, then its compressor), swa cache, the layer itself, then
        # the attention compressor.
        if ratio == 4:
            idx_self = SimpleNamespace(
                cache_config=cache_config,
                head_dim=model["index_head_dim"] + model["index_head_dim"] // 128 * 4,
                dtype=torch.uint8, compress_ratio=ratio)
            s = DeepseekV4IndexerCache.get_kv_cache_spec(idx_self, cfg)
            specs[f"{p}.indexer.k_cache"] = customize_attention_spec(
                DeepseekV4IndexerBackend, s)
            specs[f"{p}.indexer.compressor.state_cache"] = compressor_state(
                ratio, model["index_head_dim"])
        swa_self = SimpleNamespace(
            cache_config=cache_config, bounded_replay=False, block_size=64,
            head_dim=head_dim, dtype=kv_torch_dtype,
            window_size=model["sliding_window"], packed_bytes_per_token=584,
            packed_page_alignment=576, packed_block_stride_alignment=None)
        s = DeepseekV4SWACache.get_kv_cache_spec(swa_self, cfg)
        specs[f"{p}.swa_cache"] = customize_attention_spec(swa_backend, s)
        attn_self = SimpleNamespace(
            compress_ratio=ratio, kv_cache_dtype=kv_cache_dtype,
            head_dim=head_dim, kv_cache_torch_dtype=kv_torch_dtype)
        s = DeepseekV4Attention.get_kv_cache_spec(attn_self, cfg)
        if s is not None:
            specs[p] = customize_attention_spec(attn_cls.backend_cls, s)
            specs[f"{p}.compressor.state_cache"] = compressor_state(
                ratio, head_dim)
    layouts = get_supported_kv_cache_layouts(backends)
    cfg.cache_config.kv_cache_layout = None
    layout = resolve_kv_cache_layout(
        cfg, [[x.name for x in layouts]], specs.values())
    return kv_cache_dtype, block_size, specs, layout


def describe(specs):
    kinds = {}
    for name, s in specs.items():
        kind = name.split(".attn")[-1] or ".attn"
        key = (kind, type(s).__name__, s.block_size, s.page_size_bytes)
        kinds.setdefault(key, [0, s])[0] += 1
    for (kind, cls, bs, page), (n, s) in sorted(kinds.items()):
        extra = ""
        if hasattr(s, "sliding_window") and getattr(s, "sliding_window", None):
            extra += f" window={s.sliding_window}"
        print(f"    {kind:30s} x{n:3d} {cls:20s} block={bs:4d} "
              f"tokens_per_state={s.tokens_per_state} states={s.num_states} "
              f"head={s.head_size} dtype={s.dtype} "
              f"content_B={s.state_content_size_bytes} "
              f"unpadded={s.unpadded_page_size_bytes} page={page} "
              f"stride_align={s.get_block_stride_alignment()}{extra}")


def case(title, model, attn_cls, user_dtype, mml, tp=8, avail_gib=40):
    cfg = oracle_base.FakeVllmConfig(mml, 8192, tp=tp)
    cfg.cache_config.cache_dtype = user_dtype
    cfg.cache_config.user_specified_block_size = False
    cfg.kv_transfer_config = None
    cfg.model_config.hf_config = SimpleNamespace(**model)
    cfg.model_config.hf_text_config = cfg.model_config.hf_config
    kv_dtype, bs, specs, layout = build_specs(cfg, model, attn_cls)
    cfg.cache_config.kv_cache_layout = layout.name
    print("=" * 78)
    print(title)
    print(f"  attention class {attn_cls.__name__} backend "
          f"{attn_cls.backend_cls.get_name()}; --kv-cache-dtype {user_dtype} -> "
          f"{kv_dtype}; block size {bs}; layout {layout.name}; "
          f"{len(specs)} cache layers")
    describe(specs)
    return oracle_base.run_case(title, cfg, [dict(specs) for _ in range(tp)],
                                [avail_gib * GiB] * tp)


def main():
    print("vllm", vllm.__version__, "from", vllm.__file__)
    print("Flash compress ratio per layer:", layer_ratios(FLASH))
    for mml in (131072, 32768):
        for dt in ("auto", "fp8"):
            case(f"DSV4-Flash H200 TP8 FLASHMLA_SPARSE_DSV4 --kv-cache-dtype "
                 f"{dt} mml {mml}", FLASH, DeepseekV4FlashMLAAttention, dt, mml)
        # B200 default is the same FlashMLA class (_select_dsv4_attn_cls)
        for dt in ("auto", "fp8"):
            case(f"DSV4-Flash B200 TP8 --attention-backend "
                 f"FLASHINFER_MLA_SPARSE_DSV4 --kv-cache-dtype {dt} mml {mml}",
                 FLASH, DeepseekV4FlashInferMLAAttention, dt, mml)
    case("DSV4-Pro H200 TP8 FLASHMLA_SPARSE_DSV4 auto mml 131072", PRO,
         DeepseekV4FlashMLAAttention, "auto", 131072)


if __name__ == "__main__":
    logging.getLogger("vllm").setLevel(logging.INFO)
    main()

#!/usr/bin/env python3
"""Oracle: vLLM 0.33.0's own KV-cache planning for DeepSeek-V3.2 (sparse MLA
+ lightning indexer), CPU only, on specs built by vLLM's own functions.

What is vLLM code here (called, not re-implemented):
  * backend priority list  platforms/cuda.py::_get_backend_priorities
  * fp8 -> fp8_ds_mla      model_executor/layers/attention/mla_attention.py::
                           _canonicalize_sparse_mla_kv_cache_dtype
  * block size             platforms/interface.py::Platform.
                           _preferred_block_size_for_backends
  * latent spec            mla_attention.py::MLAAttention.get_kv_cache_spec
                           (called unbound on a stand-in `self`)
  * indexer spec           model_executor/models/deepseek_v2.py::
                           DeepseekV32IndexerCache.get_kv_cache_spec (same)
  * backend customisation  v1/worker/utils.py::customize_attention_spec
  * KV cache layout        v1/attention/backends/utils.py::
                           get_supported_kv_cache_layouts / resolve_kv_cache_layout
  * grouping / num_blocks  v1/core/kv_cache_planning.py::get_global_kv_cache_groups,
                           get_kv_cache_configs; v1/core/kv_cache_utils.py::
                           generate_scheduler_kv_cache_config,
                           get_kv_cache_capacity, update_kv_cache_capacity
What is NOT exercised (no GPU): which backend validate_configuration accepts
on the device (FA3/FA4/FlashInfer availability). The backend per case is the
one the priority list + source reading select; see sparse-mla-rules.md.
"""

import importlib.util
import logging
import os
import sys
from types import SimpleNamespace
from unittest import mock

os.environ.setdefault("VLLM_LOGGING_LEVEL", "INFO")

import torch  # noqa: E402

# platforms/cuda.py imports the CUDA custom-op library at module level for op
# registration only; none of the planning code used here needs it.
sys.modules.setdefault("vllm._C_stable_libtorch", type(sys)("stub"))

import vllm  # noqa: E402
from vllm.config.cache import CacheConfig  # noqa: E402
from vllm.platforms import current_platform  # noqa: E402
from vllm.platforms.cuda import CudaPlatform, _get_backend_priorities  # noqa: E402
from vllm.platforms.interface import DeviceCapability  # noqa: E402
from vllm.v1.attention.backends.mla.indexer import (  # noqa: E402
    DeepseekV32IndexerBackend,
)
from vllm.v1.attention.backends.registry import AttentionBackendEnum  # noqa: E402
from vllm.v1.attention.backends.utils import (  # noqa: E402
    get_supported_kv_cache_layouts,
    resolve_kv_cache_layout,
)
from vllm.model_executor.layers.attention.mla_attention import (  # noqa: E402
    MLAAttention,
    _canonicalize_sparse_mla_kv_cache_dtype,
)
from vllm.model_executor.models.deepseek_v2 import (  # noqa: E402
    DeepseekV32IndexerCache,
)
from vllm.v1.worker.utils import customize_attention_spec  # noqa: E402

spec_ = importlib.util.spec_from_file_location(
    "oracle_base", os.path.join(os.path.dirname(__file__), "oracle.py"))
oracle_base = importlib.util.module_from_spec(spec_)
spec_.loader.exec_module(oracle_base)

GiB = 1 << 30

# DeepSeek-V3.2 geometry (config.json values, see sparse-mla-rules.md §5)
NUM_LAYERS = 61
KV_LORA_RANK = 512
QK_ROPE_HEAD_DIM = 64
INDEX_HEAD_DIM = 128
INDEX_N_HEADS = 64
NUM_HEADS = 128


class FakeConfig(oracle_base.FakeVllmConfig):
    """oracle.py's config plus the attributes the spec/backend code reads."""

    def __init__(self, max_model_len, tp):
        super().__init__(max_model_len, 8192, tp=tp)
        hf = SimpleNamespace(
            index_topk=2048, index_n_heads=INDEX_N_HEADS,
            index_head_dim=INDEX_HEAD_DIM, kv_lora_rank=KV_LORA_RANK,
            qk_rope_head_dim=QK_ROPE_HEAD_DIM, qk_nope_head_dim=128,
            num_attention_heads=NUM_HEADS, num_hidden_layers=NUM_LAYERS)
        self.model_config.dtype = torch.bfloat16
        self.model_config.hf_text_config = hf
        self.model_config.hf_config = hf
        self.model_config.get_num_attention_heads = (
            lambda pc: NUM_HEADS // pc.tensor_parallel_size)
        self.cache_config.kv_cache_layout = None  # resolved below, as core does
        self.cache_config.user_specified_block_size = False
        self.kv_transfer_config = None


def pick_backend(cap, cache_dtype, heads_per_rank):
    """First sparse backend of vLLM's priority list that the source says is
    valid for DeepSeek-V3.2 on a stock CUDA build (see rules §2)."""
    prio = _get_backend_priorities(True, cap, heads_per_rank, cache_dtype,
                                   False, KV_LORA_RANK + QK_ROPE_HEAD_DIM, False)
    sparse = [b for b in prio if "SPARSE" in b.name]
    quant = cache_dtype not in ("auto", "bfloat16")
    for b in sparse:
        if b.name == "FLASH_ATTN_MLA_SPARSE":
            if not quant and cap.major == 9:
                return prio, b, FlashAttnMLASparseStub  # FA3 on stock Hopper
            continue
        if b.name == "FLASH_ATTN_MLA_SPARSE_FA4":
            if not quant and cap.major == 10 and heads_per_rank in (
                    8, 16, 32, 64, 128):
                return prio, b, FlashAttnMLASparseFA4Stub
            continue
        cls = b.get_class()
        if cache_dtype not in cls.supported_kv_cache_dtypes:
            continue
        if not cls.supports_compute_capability(cap):
            continue
        return prio, b, cls
    raise RuntimeError("no backend")


class FlashAttnMLASparseStub:
    """FLASH_ATTN_MLA_SPARSE cannot be imported without CUDA FA kernels; these
    are its planning hooks verbatim (flashattn_mla_sparse.py)."""

    @staticmethod
    def get_name():
        return "FLASH_ATTN_MLA_SPARSE"

    @staticmethod
    def get_supported_kernel_block_sizes(kv_cache_spec=None):
        from vllm.v1.attention.backend import MultipleOf
        return [MultipleOf(64)]

    @classmethod
    def supports_block_size(cls, bs):
        from vllm.v1.attention.backend import AttentionBackend
        return AttentionBackend.supports_block_size.__func__(cls, bs)

    @classmethod
    def get_preferred_block_size(cls, d):
        from vllm.v1.attention.backend import AttentionBackend
        return AttentionBackend.get_preferred_block_size.__func__(cls, d)

    rows = 1  # FA3: align_blocks_to_rows(spec)

    @classmethod
    def customize_spec(cls, spec):
        from vllm.v1.attention.backends.mla.sparse_utils import (
            align_blocks_to_rows)
        return align_blocks_to_rows(spec, cls.rows)

    @classmethod
    def supported_kv_cache_layouts(cls):
        return None

    @classmethod
    def is_ssm(cls):
        return False


class FlashAttnMLASparseFA4Stub(FlashAttnMLASparseStub):
    """FLASH_ATTN_MLA_SPARSE_FA4 (same file): kernel blocks MultipleOf(64);
    customize_spec inherited from _FlashInferMLASparseBackendBase =
    align_blocks_to_rows(spec, 64)."""

    rows = 64

    @staticmethod
    def get_name():
        return "FLASH_ATTN_MLA_SPARSE_FA4"


def build_specs(cfg, cap, user_cache_dtype, layer_ids, indexer_ids=None):
    heads_per_rank = NUM_HEADS // cfg.parallel_config.tensor_parallel_size
    prio, enum, cls = pick_backend(cap, user_cache_dtype, heads_per_rank)
    cache_dtype = _canonicalize_sparse_mla_kv_cache_dtype(cls, user_cache_dtype)
    cfg.cache_config.cache_dtype = cache_dtype
    backends = [cls, DeepseekV32IndexerBackend]
    block_size = CudaPlatform._preferred_block_size_for_backends(
        backends, CacheConfig.DEFAULT_BLOCK_SIZE, cfg)
    cfg.cache_config.block_size = block_size

    specs = {}
    for i in layer_ids:
        latent_self = SimpleNamespace(
            kv_cache_dtype=cache_dtype, head_size=KV_LORA_RANK + QK_ROPE_HEAD_DIM,
            sliding_window=None, topk_buffer_width=2048, indexer=object(),
            non_causal_multi_token_decode=False)
        lat = MLAAttention.get_kv_cache_spec(latent_self, cfg)
        lat = customize_attention_spec(cls, lat)
        specs[f"model.layers.{i}.self_attn.attn"] = lat
        if indexer_ids is not None and i not in indexer_ids:
            continue  # DeepseekV32Attention.__init__ built no indexer here
        idx_self = SimpleNamespace(
            cache_config=cfg.cache_config,
            head_dim=INDEX_HEAD_DIM + INDEX_HEAD_DIM // 128 * 4,
            dtype=torch.uint8)
        idx = DeepseekV32IndexerCache.get_kv_cache_spec(idx_self, cfg)
        idx = customize_attention_spec(DeepseekV32IndexerBackend, idx)
        specs[f"model.layers.{i}.self_attn.indexer.k_cache"] = idx
    layouts = get_supported_kv_cache_layouts(backends)
    layout = resolve_kv_cache_layout(
        cfg, [[x.name for x in layouts]], specs.values())
    return prio, enum, cache_dtype, block_size, specs, layout


def case(title, device_cap, family100, user_cache_dtype, mml, tp=8,
         avail_gib=40, layer_ids=range(NUM_LAYERS), indexer_ids=None):
    cfg = FakeConfig(mml, tp)
    def is_family(_self, capability, *args, **kwargs):
        return capability == (100 if family100 else 90)

    with mock.patch.object(type(current_platform), "is_device_capability_family",
                           is_family, create=True), \
         mock.patch.object(type(current_platform), "is_cuda",
                           lambda _self: True, create=True):
        prio, enum, cache_dtype, bs, specs, layout = build_specs(
            cfg, device_cap, user_cache_dtype, layer_ids, indexer_ids)
    lat = next(s for n, s in specs.items() if n.endswith(".attn"))
    idx = next(s for n, s in specs.items() if n.endswith(".k_cache"))
    print("=" * 78)
    print(title)
    print(f"  priority list (MLA, cap {device_cap.major}{device_cap.minor}, "
          f"{user_cache_dtype}, heads/rank {NUM_HEADS // tp}): "
          f"{[b.name for b in prio]}")
    print(f"  chosen sparse backend: {enum.name}; cache dtype after "
          f"canonicalisation: {cache_dtype}; block size: {bs}; layout: "
          f"{layout.name}")
    print(f"  latent spec: {type(lat).__name__} head_size={lat.head_size} "
          f"dtype={lat.dtype} state_content_bytes={lat.state_content_size_bytes} "
          f"page={lat.page_size_bytes} align={lat.get_block_stride_alignment()} "
          f"max_tp_shards={lat.max_tp_shards}")
    print(f"  indexer spec: {type(idx).__name__} head_size={idx.head_size} "
          f"dtype={idx.dtype} role={idx.cache_role.value} "
          f"state_content_bytes={idx.state_content_size_bytes} "
          f"page={idx.page_size_bytes} align={idx.get_block_stride_alignment()} "
          f"max_tp_shards={idx.max_tp_shards}")
    latents = sum(1 for n in specs if n.endswith(".attn"))
    print(f"  layers with KV: {len(specs)} ({latents} latent + "
          f"{len(specs) - latents} indexer)")
    avail = [avail_gib * GiB] * tp
    return oracle_base.run_case(title, cfg, [dict(specs) for _ in range(tp)],
                                avail)


def main():
    print("vllm", vllm.__version__, "from", vllm.__file__)
    H200 = DeviceCapability(9, 0)
    B200 = DeviceCapability(10, 0)
    for mml in (131072, 163840):
        case(f"H200 TP8 bf16 (auto) 40 GiB/GPU mml {mml}", H200, False,
             "auto", mml)
        case(f"H200 TP8 --kv-cache-dtype fp8 40 GiB/GPU mml {mml}", H200,
             False, "fp8", mml)
        case(f"B200 TP8 bf16 (auto) 40 GiB/GPU mml {mml}", B200, True,
             "auto", mml)
        case(f"B200 TP8 --kv-cache-dtype fp8 40 GiB/GPU mml {mml}", B200,
             True, "fp8", mml)
    # TP4 on B200: 32 heads/rank, FA4 no longer first for bf16
    case("B200 TP4 bf16 (auto) 40 GiB/GPU mml 163840", B200, True, "auto",
         163840, tp=4)
    # MTP draft layer (num_nextn_predict_layers 1, only with
    # --speculative-config method=mtp): one more latent + indexer layer
    case("H200 TP8 fp8 + MTP draft layer 61 (62 layers) mml 163840", H200,
         False, "fp8", 163840, layer_ids=range(NUM_LAYERS + 1))


if __name__ == "__main__":
    logging.getLogger("vllm").setLevel(logging.INFO)
    main()

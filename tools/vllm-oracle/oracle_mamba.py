#!/usr/bin/env python3
"""Oracle: vLLM 0.33.0's own KV-cache planning for hybrid (attention + state)
models, on CPU, for hand-built specs.

What runs as vLLM's real code (nothing re-implemented):
  * the state shapes/dtypes: <ModelClass>.get_mamba_state_shape_from_config /
    get_mamba_state_dtype_from_config (-> MambaStateShapeCalculator,
    MambaStateDtypeCalculator) of Qwen3NextForCausalLM / NemotronHForCausalLM;
  * NemotronHForCausalLMConfig.update_mamba_ssm_cache_dtype ("auto" -> config);
  * Platform._align_hybrid_block_size (attention block size + padded mamba page)
    with the real attention backend class (FlashAttentionBackend; on this CPU box
    its get_supported_kernel_block_sizes() takes the same branch as on H100 for
    head_dim 128/256: [MultipleOf(16)]);
  * vllm.v1.worker.utils.customize_attention_spec (backend spec hook);
  * get_global_kv_cache_groups / get_kv_cache_configs /
    generate_scheduler_kv_cache_config / update_kv_cache_capacity (via
    oracle.run_case).

What is stubbed (documented in mamba-rules.md):
  * ModelRegistry.resolve_model_cls -> the model class (no HF download);
  * Platform._find_non_ssm_backends -> [the backend class] (layers not built);
  * get_mamba_prefill_checkpoint_alignment -> what the built layers would say:
    GDN with FlashInfer prefill (Hopper) = FLASHINFER_GDN_CHECKPOINT_ALIGNMENT
    (64) in align mode; Mamba-2 mixer = None (it does not override
    MambaBase.get_prefill_checkpoint_alignment).
  * the per-layer specs are built as the layers build them:
    Attention.get_kv_cache_spec (FullAttentionSpec at cache_config.block_size),
    MambaBase.get_kv_cache_spec (+ the GDN / MambaMixer2 overrides that set
    num_prefill_checkpoint_blocks / prefill_checkpoint_alignment).
"""

import os
import sys
from dataclasses import replace
from types import SimpleNamespace

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402

import oracle  # noqa: E402  (reuses FakeVllmConfig, run_case)
from vllm.config.cache import CacheConfig  # noqa: E402
from vllm.model_executor.layers.mamba import abstract as mamba_abstract  # noqa: E402
from vllm.model_executor.models import ModelRegistry  # noqa: E402
from vllm.model_executor.models.config import NemotronHForCausalLMConfig  # noqa: E402
from vllm.model_executor.models.nemotron_h import NemotronHForCausalLM  # noqa: E402
from vllm.model_executor.models.qwen3_next import Qwen3NextForCausalLM  # noqa: E402
from vllm.platforms.interface import Platform  # noqa: E402
from vllm.utils.torch_utils import STR_DTYPE_TO_TORCH_DTYPE  # noqa: E402
from vllm.v1.attention.backends.flash_attn import FlashAttentionBackend  # noqa: E402
from vllm.v1.attention.backends.gdn_attn import (  # noqa: E402
    FLASHINFER_GDN_CHECKPOINT_ALIGNMENT,
)
from vllm.v1.attention.backends.registry import MambaAttentionBackendEnum  # noqa: E402
from vllm.v1.kv_cache_interface import (  # noqa: E402
    FullAttentionSpec,
    MambaSpec,
    get_kv_quant_mode,
)
from vllm.v1.worker.utils import customize_attention_spec  # noqa: E402

GiB = 1 << 30

QWEN3_NEXT_80B = dict(
    architectures=["Qwen3NextForCausalLM"],
    num_hidden_layers=48, full_attention_interval=4, hidden_size=2048,
    num_attention_heads=16, num_key_value_heads=2, head_dim=256,
    linear_conv_kernel_dim=4, linear_key_head_dim=128, linear_num_key_heads=16,
    linear_num_value_heads=32, linear_value_head_dim=128,
)
NEMOTRON3_NANO = dict(
    architectures=["NemotronHForCausalLM"],
    num_hidden_layers=52,
    hybrid_override_pattern="MEMEM*EMEMEM*EMEMEM*EMEMEM*EMEMEM*EMEMEMEM*EMEMEMEME",
    hidden_size=2688, num_attention_heads=32, num_key_value_heads=2, head_dim=128,
    mamba_num_heads=64, mamba_head_dim=64, n_groups=8, ssm_state_size=128,
    conv_kernel=4, expand=2, mamba_ssm_cache_dtype="float32",
)


class HybridFakeConfig(oracle.FakeVllmConfig):
    """oracle.FakeVllmConfig plus what the hybrid paths read."""

    def __init__(self, hf, tp, kv_dtype, max_model_len, mnbt, prefix_caching):
        super().__init__(max_model_len, mnbt, tp=tp)
        hf_ns = SimpleNamespace(**hf)
        tp_kv = max(1, hf["num_key_value_heads"] // tp)
        mc = self.model_config
        mc.architecture = hf["architectures"][0]
        mc.dtype = torch.bfloat16
        mc.use_mla = False
        mc.is_hybrid = True
        mc.hf_config = hf_ns
        mc.hf_text_config = hf_ns
        mc.get_num_kv_heads = lambda pc, n=tp_kv: n
        mc.get_num_attention_heads = (
            lambda pc, n=hf["num_attention_heads"] // tp: n)
        mc.get_head_size = lambda d=hf["head_dim"]: d
        cc = self.cache_config
        cc.cache_dtype = kv_dtype
        cc.block_size = CacheConfig.DEFAULT_BLOCK_SIZE
        cc.user_specified_block_size = False
        cc.kv_cache_dtype_skip_layers = []
        cc.mamba_cache_dtype = "auto"
        cc.mamba_ssm_cache_dtype = "auto"
        cc.use_replayssm = False
        cc.mamba_page_size_padded = None
        cc.prefix_match_unit = None
        cc.enable_prefix_caching = prefix_caching
        # MambaModelConfig.verify_and_update_config (models/config.py):
        cc.mamba_cache_mode = "align" if prefix_caching else "none"
        cc.mamba_block_size = cc.block_size if prefix_caching else max_model_len
        self.num_speculative_tokens = 0


def align_and_build_specs(cfg, model_cls, layer_kinds, checkpoint_alignment,
                          mamba_type, sets_checkpoint_blocks,
                          backend=FlashAttentionBackend):
    """Run the real Platform._align_hybrid_block_size, then build the layer
    specs as Attention.get_kv_cache_spec / MambaBase.get_kv_cache_spec do."""
    saved = (ModelRegistry.resolve_model_cls, Platform._find_non_ssm_backends,
             mamba_abstract.get_mamba_prefill_checkpoint_alignment)
    ModelRegistry.resolve_model_cls = lambda arch, model_config=None: (model_cls, arch)
    Platform._find_non_ssm_backends = classmethod(lambda cls, vc: [backend])
    mamba_abstract.get_mamba_prefill_checkpoint_alignment = (
        lambda vc: checkpoint_alignment)
    try:
        # Phase 1 of update_block_size_for_backend (single backend):
        cfg.cache_config.block_size = backend.get_preferred_block_size(
            CacheConfig.DEFAULT_BLOCK_SIZE)
        Platform._align_hybrid_block_size(cfg, backend)
    finally:
        (ModelRegistry.resolve_model_cls, Platform._find_non_ssm_backends,
         mamba_abstract.get_mamba_prefill_checkpoint_alignment) = saved

    cc = cfg.cache_config
    kv_dtype = (cfg.model_config.dtype if cc.cache_dtype == "auto"
                else STR_DTYPE_TO_TORCH_DTYPE[cc.cache_dtype])
    attn = customize_attention_spec(backend, FullAttentionSpec(
        block_size=cc.block_size,
        num_kv_heads=cfg.model_config.get_num_kv_heads(cfg.parallel_config),
        head_size=cfg.model_config.get_head_size(),
        dtype=kv_dtype, kv_quant_mode=get_kv_quant_mode(cc.cache_dtype)))
    mamba = MambaSpec(
        shapes=tuple(model_cls.get_mamba_state_shape_from_config(cfg)),
        dtypes=model_cls.get_mamba_state_dtype_from_config(cfg),
        block_size=cc.mamba_block_size,
        page_size_padded=cc.mamba_page_size_padded,
        mamba_type=mamba_type,
        mamba_cache_mode=cc.mamba_cache_mode,
        num_speculative_blocks=0)
    if sets_checkpoint_blocks:
        mamba = replace(mamba, **sets_checkpoint_blocks(cfg))
    specs = {}
    for name, kind in layer_kinds:
        if kind == "attn":
            specs[name] = attn
        elif kind == "mamba":
            specs[name] = mamba
    return attn, mamba, specs


def describe(cfg, attn, mamba, specs):
    cc = cfg.cache_config
    print(f"  mamba_cache_mode={cc.mamba_cache_mode} "
          f"cache_dtype={cc.cache_dtype} "
          f"mamba dtypes={[str(d) for d in mamba.dtypes]} "
          f"(mamba_ssm_cache_dtype={cc.mamba_ssm_cache_dtype})")
    print(f"  state shapes per rank: {mamba.shapes}")
    per_tok = attn.copy_with_new_block_size(1).page_size_bytes
    print(f"  attention: {attn.num_kv_heads} kv heads x {attn.head_size} "
          f"{attn.dtype} -> {per_tok} B/token/layer; block_size={cc.block_size}; "
          f"page={attn.page_size_bytes}")
    print(f"  mamba page: real={mamba.real_page_size_bytes} "
          f"padded={mamba.page_size_bytes} "
          f"(pad {mamba.page_size_bytes - mamba.real_page_size_bytes} B); "
          f"mamba block_size={mamba.block_size}; "
          f"ckpt_blocks={mamba.num_prefill_checkpoint_blocks} "
          f"ckpt_align={mamba.prefill_checkpoint_alignment}")
    n_attn = sum(isinstance(s, FullAttentionSpec) for s in specs.values())
    n_mamba = sum(isinstance(s, MambaSpec) for s in specs.values())
    print(f"  cache layers: {n_attn} attention + {n_mamba} state")


def qwen3_next_case(tp, kv_dtype, mml, prefix_caching=True,
                    gdn_flashinfer_prefill=True, backend=FlashAttentionBackend):
    hf = QWEN3_NEXT_80B
    cfg = HybridFakeConfig(hf, tp, kv_dtype, mml, 8192, prefix_caching)
    interval = hf["full_attention_interval"]
    kinds = []
    for i in range(hf["num_hidden_layers"]):
        if (i + 1) % interval == 0:
            kinds.append((f"model.layers.{i}.self_attn.attn", "attn"))
        else:
            kinds.append((f"model.layers.{i}.linear_attn", "mamba"))
    # QwenGatedDeltaNet.__init__: alignment only with FlashInfer GDN prefill
    # (Hopper always; Blackwell only with head_k_dim 128 and CUDA runtime >= 13)
    align = (FLASHINFER_GDN_CHECKPOINT_ALIGNMENT
             if prefix_caching and gdn_flashinfer_prefill else None)

    def gdn_ckpt(c):
        # QwenGatedDeltaNet.get_kv_cache_spec, when _exports_checkpoints:
        # grid = get_mamba_prefill_checkpoint_grid = mamba_block_size here
        return dict(num_prefill_checkpoint_blocks=1,
                    prefill_checkpoint_alignment=c.cache_config.mamba_block_size)

    return cfg, *align_and_build_specs(
        cfg, Qwen3NextForCausalLM, kinds, align,
        MambaAttentionBackendEnum.GDN_ATTN, gdn_ckpt if align else None,
        backend)


def nemotron_case(tp, kv_dtype, mml, prefix_caching=True,
                  backend=FlashAttentionBackend):
    hf = NEMOTRON3_NANO
    cfg = HybridFakeConfig(hf, tp, kv_dtype, mml, 8192, prefix_caching)
    NemotronHForCausalLMConfig.update_mamba_ssm_cache_dtype(
        cache_config=cfg.cache_config, hf_config=cfg.model_config.hf_config)
    kinds = []
    for i, ch in enumerate(hf["hybrid_override_pattern"]):
        if ch == "M":
            kinds.append((f"model.layers.{i}.mixer", "mamba"))
        elif ch == "*":
            kinds.append((f"model.layers.{i}.mixer.attn", "attn"))
        else:  # "E" (MoE) and "-" (MLP) layers own no cache
            kinds.append((f"model.layers.{i}.mixer", "none"))
    return cfg, *align_and_build_specs(
        cfg, NemotronHForCausalLM, kinds, None,
        MambaAttentionBackendEnum.MAMBA2,
        # MambaMixer2.get_kv_cache_spec: always
        lambda c: dict(num_prefill_checkpoint_blocks=1,
                       prefill_checkpoint_alignment=1),
        backend)


def run(title, builder, tp, kv_dtype, mml, prefix_caching=True, **kw):
    cfg, attn, mamba, specs = builder(tp, kv_dtype, mml, prefix_caching, **kw)
    print("#" * 78)
    print(f"{title} TP{tp} kv={kv_dtype} mml={mml} "
          f"prefix_caching={prefix_caching}")
    describe(cfg, attn, mamba, specs)
    # Every TP rank holds the same per-rank specs; one worker is enough
    # (get_kv_cache_configs takes min over workers; they are equal).
    oracle.run_case(f"{title} TP{tp} kv={kv_dtype} mml={mml}", cfg,
                    [specs] * tp, [40 * GiB] * tp)


def main():
    import vllm
    print("vllm", vllm.__version__, "from", vllm.__file__)
    for tp in (1, 4):
        for kv in ("auto", "fp8"):
            for mml in (262144, 32768):
                run("Qwen3-Next-80B-A3B H100", qwen3_next_case, tp, kv, mml)
    run("Qwen3-Next-80B-A3B H100 (no prefix caching)", qwen3_next_case,
        1, "auto", 262144, prefix_caching=False)
    # B200: FLASHINFER is first in the SM100 priority list; on this CPU box
    # FlashInferBackend.get_supported_kernel_block_sizes() returns [16, 32, 64]
    # (on SM100 it may add 128..1024; the minimum, 16, is what alignment uses).
    from vllm.v1.attention.backends.flashinfer import FlashInferBackend
    run("Qwen3-Next-80B-A3B B200, GDN prefill Triton (CUDA<13)",
        qwen3_next_case, 1, "auto", 262144, gdn_flashinfer_prefill=False,
        backend=FlashInferBackend)
    run("Qwen3-Next-80B-A3B B200, GDN prefill FlashInfer (CUDA>=13)",
        qwen3_next_case, 1, "auto", 262144, backend=FlashInferBackend)
    for tp in (1, 2):
        for kv in ("auto", "fp8"):
            for mml in (262144, 32768):
                run("Nemotron-3-Nano-30B-A3B H100", nemotron_case, tp, kv, mml)
    run("Nemotron-3-Nano-30B-A3B H100 (no prefix caching)", nemotron_case,
        1, "auto", 262144, prefix_caching=False)
    run("Nemotron-3-Nano-30B-A3B B200", nemotron_case, 1, "auto", 262144,
        backend=FlashInferBackend)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Oracle: vLLM 0.33.0's own KV-cache planning for GLM-5 (glm_moe_dsa), CPU only.

vLLM serves glm_moe_dsa with DeepSeek-V3.2's sparse MLA code
(models/deepseek_v32/__init__.py maps GlmMoeDsaForCausalLM to DeepseekV32ForCausalLM
on CUDA), so this reuses oracle_sparse.py's spec building with GLM-5's geometry
(config.json: 78 layers, 64 heads, kv_lora_rank 512, qk_rope_head_dim 64,
index_head_dim 128, index_n_heads 32) and adds the one GLM-specific rule:
  * model_executor/models/config.py::GlmMoeDsaForCausalLM.verify_and_update_config
    (called here, not re-implemented) turns cache dtype "auto" into fp8_e4m3 on
    CUDA capability family 10.x.
It also plans GLM-5.2: models/deepseek_v32/attention.py's skip_topk rule with
index_topk_freq 4 / index_skip_topk_offset 3 gives an indexer (and its key
cache) to 21 of the 78 layers; the MTP layer always has one.
"""

import importlib.util
import logging
import os
from types import SimpleNamespace
from unittest import mock

spec_ = importlib.util.spec_from_file_location(
    "oracle_sparse", os.path.join(os.path.dirname(__file__), "oracle_sparse.py"))
sparse = importlib.util.module_from_spec(spec_)
spec_.loader.exec_module(sparse)

from vllm.model_executor.models.config import GlmMoeDsaForCausalLM  # noqa: E402
from vllm.platforms import current_platform  # noqa: E402
from vllm.platforms.interface import DeviceCapability  # noqa: E402

sparse.NUM_LAYERS = 78
sparse.NUM_HEADS = 64
sparse.INDEX_N_HEADS = 32


def glm_cache_dtype(family100, user_cache_dtype):
    """The cache dtype after GlmMoeDsaForCausalLM.verify_and_update_config."""
    cfg = SimpleNamespace(
        cache_config=SimpleNamespace(cache_dtype=user_cache_dtype),
        speculative_config=None,
        parallel_config=SimpleNamespace(set_dcp_defaults=lambda **kw: None))

    def is_family(_self, capability, *args, **kwargs):
        return capability == (100 if family100 else 90)

    with mock.patch.object(type(current_platform), "is_device_capability_family",
                           is_family, create=True), \
         mock.patch.object(type(current_platform), "is_cuda",
                           lambda _self: True, create=True):
        GlmMoeDsaForCausalLM.verify_and_update_config(cfg)
    return cfg.cache_config.cache_dtype


def glm52_indexer_layers():
    """DeepseekV32Attention.__init__'s skip_topk with GLM-5.2's fields."""
    freq, offset, layers = 4, 3, 78
    return [i for i in range(layers)
            if not max(i - offset + 1, 0) % freq != 0]


def main():
    H200 = DeviceCapability(9, 0)
    B200 = DeviceCapability(10, 0)
    layers = glm52_indexer_layers()
    print(f"GLM-5.2 layers with an indexer: {len(layers)}: {layers}")
    for title, cap, fam, user in (
            ("H200 TP8 auto 40 GiB/GPU mml 131072", H200, False, "auto"),
            ("H200 TP8 fp8 40 GiB/GPU mml 131072", H200, False, "fp8"),
            ("B200 TP8 auto 40 GiB/GPU mml 131072", B200, True, "auto")):
        dtype = glm_cache_dtype(fam, user)
        print(f"{title}: cache dtype after GlmMoeDsaForCausalLM: {dtype}")
        sparse.case(title, cap, fam, dtype, 131072, tp=8, avail_gib=40,
                    layer_ids=range(78))
    dtype = glm_cache_dtype(False, "fp8")
    sparse.case("H200 TP8 fp8 + MTP layer 78 (79 layers) mml 131072", H200,
                False, dtype, 131072, tp=8, avail_gib=40, layer_ids=range(79))
    # GLM-5.2: the latent on all 78 layers, the indexer key on 21 of them
    # (and on the MTP layer, which always builds one).
    for title, cap, fam, user in (
            ("GLM-5.2 H200 TP8 auto 40 GiB/GPU mml 131072", H200, False, "auto"),
            ("GLM-5.2 H200 TP8 fp8 40 GiB/GPU mml 131072", H200, False, "fp8"),
            ("GLM-5.2 B200 TP8 auto 40 GiB/GPU mml 131072", B200, True, "auto")):
        dtype = glm_cache_dtype(fam, user)
        sparse.case(title, cap, fam, dtype, 131072, tp=8, avail_gib=40,
                    layer_ids=range(78), indexer_ids=layers)
    sparse.case("GLM-5.2 H200 TP8 fp8 + MTP layer 78 mml 131072", H200, False,
                glm_cache_dtype(False, "fp8"), 131072, tp=8, avail_gib=40,
                layer_ids=range(79), indexer_ids=layers + [78])


if __name__ == "__main__":
    logging.getLogger("vllm").setLevel(logging.INFO)
    main()

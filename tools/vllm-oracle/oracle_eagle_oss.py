#!/usr/bin/env python3
"""Oracle: vLLM 0.33.0's planning code for gpt-oss with a one-layer EAGLE-3 draft.

What vLLM does with this draft (read in its source, reproduced here on CPU):
- Part A loads the draft's config.json (tests/data/configs/gpt-oss-20b-eagle3, SpecForge's
  gpt-oss-20B-eagle3-dense.json) with vLLM's own loader, then wraps it in EAGLEConfig as
  SpeculativeConfig does. Its model_type is gpt_oss, so transformers builds a GptOssConfig, whose
  defaults fill layer_types (["sliding_attention"] for one layer) and sliding_window (128).
  llama.py's LlamaAttention reads layer_types at the draft-relative index (layer 24 - 24 = 0), so
  the draft layer gets per_layer_sliding_window 128: a SlidingWindowSpec like the target's
  sliding layers (8 K/V heads of 64 / TP). A draft whose model_type is llama has no layer_types
  (LlamaConfig) and gets a FullAttentionSpec like the target's full layers.
- gpt_oss.py: even layers slide over 128 tokens, odd layers attend to everything.
- Part B runs get_kv_cache_groups / get_kv_cache_configs on the hand-built specs: 12 sliding + 12
  full, then with the draft's sliding layer (13 + 12) or full layer (12 + 13). The 1.5 rule of
  _get_kv_cache_groups_uniform_page_size makes the group size 13 and pads the short type with one
  layer ("Add 1 padding layers").

tests/core/speculative_test.cc and tests/cli/speculative_cli_test.cc cite the cases below.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from oracle import GiB, FakeVllmConfig, full, lname, run_case, swa  # noqa: E402
from oracle_eagle import EagleConfig, draft  # noqa: E402

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "data", "configs",
                       "gpt-oss-20b-eagle3")


def load_draft_config():
    from vllm.transformers_utils.config import get_config
    from vllm.transformers_utils.configs.eagle import EAGLEConfig
    inner = get_config(os.path.abspath(FIXTURE), trust_remote_code=False)
    config = EAGLEConfig(inner, method="eagle3", model_type="eagle")
    print(f"A. draft config: {type(inner).__name__} -> EAGLEConfig architectures={config.architectures} "
          f"layer_types={config.layer_types} sliding_window={config.sliding_window} "
          f"num_key_value_heads={config.num_key_value_heads} head_dim={config.head_dim} "
          f"draft_vocab_size={config.draft_vocab_size} vocab_size={config.vocab_size}")
    return config


def gpt_oss(layers, tp, draft_kind):
    heads = 8 // tp
    specs = {lname(i): (swa(heads, 64, 128) if i % 2 == 0 else full(heads, 64)) for i in range(layers)}
    if draft_kind == "sliding":
        specs[lname(layers)] = draft(swa(heads, 64, 128))
    elif draft_kind == "full":
        specs[lname(layers)] = draft(full(heads, 64))
    return specs


def main():
    load_draft_config()
    ctx, mnbt = 131072, 8192
    for name, layers, tp in (("gpt-oss-20b", 24, 1), ("gpt-oss-120b", 36, 2), ("gpt-oss-120b", 36, 4)):
        for draft_kind in ("none", "sliding", "full"):
            cfg = FakeVllmConfig(ctx, mnbt, tp=tp) if draft_kind == "none" else EagleConfig(ctx, mnbt, tp=tp, k=3)
            run_case(f"B. {name} TP{tp}, draft layer: {draft_kind}, k 3, 40 GiB, 128k", cfg,
                     [gpt_oss(layers, tp, draft_kind)] * tp, [40 * GiB] * tp)


if __name__ == "__main__":
    main()

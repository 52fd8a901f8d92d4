#!/usr/bin/env python3
"""A multimodal checkpoint's parameters as transformers builds it from config.json, on the meta device.

Usage: python count_params_hf.py CONFIG.json   (transformers >= 5.5 for Gemma-4; vLLM 0.33's venv has 5.20)
Prints the total, the vision part (tower and projector), the routed experts and, for MoE models, the
active count: the language model with top-k of the routed experts per layer. The Qwen3.5, Gemma-4,
Kimi-K2.5 and Nemotron-3 Super/Ultra presets quote its output. A quantization_config is dropped: packing does not change the counts.
"""
import json
import re
import sys

import torch
import transformers

config = json.load(open(sys.argv[1]))
config.pop("quantization_config", None)
config.get("text_config", {}).pop("quantization_config", None)
hf_config = transformers.AutoConfig.for_model(**config)
# A text-only config (Nemotron-H) is a causal LM; the multimodal ones nest their language model.
auto = transformers.AutoModelForImageTextToText if "text_config" in config else transformers.AutoModelForCausalLM
with torch.device("meta"):
    model = auto.from_config(hf_config)
text = hf_config.get_text_config()
experts = getattr(text, "num_experts", None) or getattr(text, "n_routed_experts", None)
top_k = getattr(text, "num_experts_per_tok", None) or getattr(text, "top_k_experts", None)
total = vision = routed = 0
for name, p in model.named_parameters():
    total += p.numel()
    if re.search(r"visual|vision|embed_vision|mm_projector|multi_modal", name):
        vision += p.numel()
    elif re.search(r"\.experts\.", name) and "shared" not in name:
        routed += p.numel()
print(type(model).__name__, "total", total, "vision", vision, "language model", total - vision,
      "routed experts", routed)
if experts:
    assert routed % experts == 0
    print("active", total - vision - routed + routed // experts * top_k)

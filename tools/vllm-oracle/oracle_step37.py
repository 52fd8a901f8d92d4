#!/usr/bin/env python3
"""Oracle: vLLM 0.33.0's KV-cache planning for Step-3.7-Flash's language model
(model_executor/models/step3p5.py: every layer an Attention of num_attention_groups
K/V heads of head_dim, sliding_attention layers with per_layer_sliding_window),
CPU only. Geometry from tests/data/configs/step-3.7-flash/config.json: 45 layers,
layer_types full on layers 0, 4, ..., 44 (12) and sliding elsewhere (33), 8 K/V
heads of 128, sliding_window 512. At TP 8 each rank holds 1 K/V head
(Step3p5Attention: max(1, 8 // 8)). FLASH_ATTN on Hopper: block 16, bf16.
"""

import importlib.util
import json
import os

spec_ = importlib.util.spec_from_file_location(
    "oracle_base", os.path.join(os.path.dirname(__file__), "oracle.py"))
base = importlib.util.module_from_spec(spec_)
spec_.loader.exec_module(base)

HERE = os.path.dirname(__file__)
CONFIG = os.path.join(HERE, "..", "..", "tests", "data", "configs",
                      "step-3.7-flash", "config.json")


def main():
    cfg = json.load(open(CONFIG))
    types = cfg["layer_types"][:cfg["num_hidden_layers"]]
    for tp, mml in ((8, 65536), (4, 65536)):
        heads = max(1, cfg["num_key_value_heads"] // tp)
        specs = {base.lname(i): (base.full(heads, cfg["head_dim"])
                                 if t == "full_attention" else
                                 base.swa(heads, cfg["head_dim"],
                                          cfg["sliding_window"]))
                 for i, t in enumerate(types)}
        base.run_case(f"Step-3.7-Flash TP{tp} bf16 40 GiB/GPU mml {mml} "
                      f"MNBT 8192", base.FakeVllmConfig(mml, 8192, tp=tp),
                      [specs], [40 * base.GiB])


if __name__ == "__main__":
    main()

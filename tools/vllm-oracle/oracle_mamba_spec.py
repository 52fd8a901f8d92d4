#!/usr/bin/env python3
"""Qwen3-Next with MTP speculative decoding through vLLM 0.33's planning code (oracle_mamba.py's
harness): the MTP layer (Qwen3NextMTP: a full-attention Qwen3NextDecoderLayer, named after the
hidden layers) joins the attention group, and every state layer's MambaSpec holds
num_speculative_blocks = num_speculative_tokens more blocks per request
(MambaBase.get_kv_cache_spec).

tests/core/state_layers_test.cc cites the cases below.
"""
import os
import sys
from dataclasses import replace

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import oracle  # noqa: E402
from oracle_mamba import GiB, describe, qwen3_next_case  # noqa: E402
from vllm.v1.kv_cache_interface import MambaSpec  # noqa: E402


def with_mtp(tp, mml, k, mtp_layers=1):
    cfg, attn, mamba, specs = qwen3_next_case(tp, "auto", mml)
    cfg.num_speculative_tokens = k
    specs = {name: (replace(s, num_speculative_blocks=k) if isinstance(s, MambaSpec) else s)
             for name, s in specs.items()}
    for i in range(mtp_layers):
        specs[f"model.layers.{48 + i}.self_attn.attn"] = attn
    return cfg, attn, mamba, specs


def main():
    for tp, mml, k in ((2, 32768, 1), (2, 32768, 2)):
        cfg, attn, mamba, specs = with_mtp(tp, mml, k)
        print("#" * 78)
        describe(cfg, attn, mamba, specs)
        oracle.run_case(f"S{k}. Qwen3-Next-80B-A3B H200-sized 40 GiB TP{tp} mml={mml} MTP 1 layer, k={k}", cfg,
                        [specs] * tp, [40 * GiB] * tp)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Oracle: vLLM 0.33.0's own NIXL rank mapping (nixl/tp_mapping.py:compute_tp_mapping), on CPU.

For each decode (local) rank: the prefill (remote) ranks it reads from and its head offset factor,
and the set of prefill ranks that are read at all. A hand-built TransferTopology per rank: no
model, no GPU. tests/core/disagg_test.cc cites the cases below (reads per decode rank, sending
prefill ranks); its byte counts follow from them and from fit's bytes per token per layer.
"""

from vllm.distributed.kv_transfer.kv_connector.utils import TransferTopology
from vllm.distributed.kv_transfer.kv_connector.v1.nixl.tp_mapping import compute_tp_mapping
from vllm.v1.kv_cache_interface import FullAttentionSpec

def run(label, p_tp, d_tp, heads, mla):
    print(label)
    senders = set()
    for rank in range(d_tp):
        topo = TransferTopology(tp_rank=rank, tp_size=d_tp, block_size=16, engine_id="d", is_mla=mla,
                                is_mamba=False, total_num_kv_heads=heads, attn_backends=[])
        m = compute_tp_mapping(topo, p_tp, (FullAttentionSpec,))
        src = m.source_ranks_per_group[0]
        senders |= set(src)
        print(f"  decode rank {rank}: reads from prefill ranks {list(src)}, head offset factor {m.rank_offset_factor}")
    print(f"  sending prefill ranks: {sorted(senders)}")


# deepseek-v3 (TP 8 -> 8) and deepseek-v2-lite (TP 8 -> 2); llama-3.1-70b, 8 K/V heads.
run("MLA P8 -> D8", 8, 8, 1, True)
run("MLA P8 -> D2", 8, 2, 1, True)
run("GQA 8 heads P2 -> D8", 2, 8, 8, False)
run("GQA 8 heads P8 -> D2", 8, 2, 8, False)
run("GQA 8 heads P2 -> D16", 2, 16, 8, False)

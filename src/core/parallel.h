// How a model is split over GPUs: tensor parallelism (TP) shards heads and weights, pipeline
// parallelism (PP) gives each stage a contiguous run of layers, data parallelism (DP) makes
// independent replicas, decode context parallelism (DCP) spreads every request's cached tokens
// over groups of TP ranks. The rules are vLLM's (docs/engines.md).
#pragma once

#include <cstdint>
#include <vector>

#include "core/model_shape.h"

namespace kvplan {

struct Parallelism {
  std::uint32_t tp = 1;
  std::uint32_t pp = 1;
  std::uint32_t dp = 1;
  // vLLM's --enable-expert-parallel: each rank holds whole experts instead of a slice of every
  // expert. The bytes per rank are the same either way; the flag is the user's choice, emitted.
  bool expert_parallel = false;
  // The DP ranks one MoE layer spans. vLLM (fused_moe/config.py:FusedMoEParallelConfig.make)
  // flattens TP across DP for MoE layers, so with --data-parallel-size D the routed experts are
  // split over TP x D ranks while attention and the dense parts stay per TP group: expert_dp = dp
  // (set_engine_expert_span). SGLang's and TensorRT-LLM's DP replicas each hold every expert: 1.
  // The fleet search runs several vLLM deployments, each of expert_dp DP ranks.
  std::uint32_t expert_dp = 1;
  // vLLM's --decode-context-parallel-size: groups of `dcp` TP ranks each cache 1/dcp of every
  // request's tokens. It reuses the TP ranks, so it adds no GPU.
  std::uint32_t dcp = 1;
  // vLLM's EPLB (--enable-eplb): its state and a buffer of one MoE layer's experts on every rank,
  // and eplb_config.num_redundant_experts physical experts beyond the logical ones, spread over the
  // expert-parallel ranks with them.
  bool eplb = false;
  std::uint32_t redundant_experts = 0;
  std::uint32_t gpus() const { return tp * pp * dp; }
  // Ranks the routed experts of one stage are split over.
  std::uint32_t expert_ranks() const { return tp * expert_dp; }
};

// Throws kvplan::Error (exit 2) when TP does not divide the query heads, or when neither the
// KV heads divide over TP nor TP over the KV heads (vLLM's QKV sharding needs one of the two).
void check_tensor_parallel(const ModelShape& shape, std::uint32_t tp);

// vLLM 0.33's checks of --decode-context-parallel-size (ParallelConfig's validator and
// ModelConfig.verify_with_parallel_config): DCP divides TP; for a GQA/MQA cache (not MLA) TP
// exceeds the K/V heads, DCP is at most TP / K/V heads, and it divides the query heads per K/V
// head. Throws kvplan::Error (exit 2) naming the rule that fails.
void check_decode_context_parallel(std::uint32_t query_heads, std::uint32_t kv_heads, bool mla, std::uint32_t tp,
                                   std::uint32_t dcp);

// K/V heads each TP rank caches: max(1, H_kv / TP). With H_kv < TP heads are replicated, so the
// cache per rank stops shrinking. MLA caches one latent per token on every rank (vLLM: 1 head).
std::uint32_t kv_heads_per_rank(const ModelShape& shape, bool mla, std::uint32_t tp);

// Layers per PP stage, as vLLM's get_pp_indices: L / PP each, the remainder added one each to
// stages -2, -3, ... (never the last). 61 layers on 4 stages: 15, 15, 16, 15.
std::vector<std::uint32_t> pp_stage_layers(std::uint32_t layers, std::uint32_t pp);

}  // namespace kvplan

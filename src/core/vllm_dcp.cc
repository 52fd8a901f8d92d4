#include "core/vllm_dcp.h"

#include "core/error.h"

namespace kvplan::detail {

void check_vllm_dcp(const VllmRules& rules, const ModelShape& shape, const FitRequest& request) {
  if (request.parallel.dcp == 1) return;
  const std::string flag = "--dcp " + std::to_string(request.parallel.dcp);
  if (!rules.decode_context_parallel) {
    throw Error(flag + ": kvplan models vLLM's decode context parallelism in vLLM 0.33 only (vLLM " +
                std::string(rules.version) + " is older); use --engine vllm");
  }
  // SlidingWindowSpec.max_memory_usage_bytes asserts "DCP not support sliding window" while the
  // one-request check runs, so vLLM does not start.
  if (shape.sliding_layer_count() > 0) {
    throw Error(flag + ": vLLM 0.33 does not start decode context parallelism for a model with sliding-window "
                "layers ('DCP not support sliding window'); drop --dcp");
  }
  if (shape.layer_count(LayerAttention::chunked) > 0) {
    throw Error(flag + ": kvplan does not plan decode context parallelism with chunked local attention (Llama-4); "
                "drop --dcp");
  }
  if (shape.layer_count(LayerAttention::state) > 0) {
    throw Error(flag + ": kvplan does not plan decode context parallelism with state layers (Mamba-2, Gated "
                "DeltaNet); drop --dcp");
  }
}

std::string vllm_dcp_note(const FitRequest& request, const FitResult& result) {
  const Parallelism& parallel = request.parallel;
  const std::string dcp = std::to_string(parallel.dcp);
  const std::uint64_t len = request.max_model_len.value;
  const bool mla = request.variant.kind == VariantKind::mla;
  const std::string what =
      mla ? "MLA's latent, which TP alone replicates whole on every rank, is split too"
          : "each rank keeps its " + std::to_string(result.kv_heads_per_rank) + " K/V head" +
                (result.kv_heads_per_rank == 1 ? "" : "s") + ", replicated over " +
                std::to_string(parallel.tp / request.variant.kv_heads) + " ranks without DCP";
  return "decode context parallel " + dcp + ": the " + std::to_string(parallel.tp) + " TP ranks form " +
         std::to_string(parallel.tp / parallel.dcp) + " DCP group" + (parallel.tp / parallel.dcp == 1 ? "" : "s") +
         " of " + dcp + "; token i of a request is cached on rank i mod " + dcp +
         " of its group (cp_kv_cache_interleave_size 1), so a rank holds ceil(" + std::to_string(len) + " / " + dcp +
         ") of each request's tokens; " + what + ". Weights and the block count per rank do not change; blocks per "
         "request, concurrency and vLLM's 'GPU KV cache size' (int(concurrency x max_model_len)) grow about " + dcp + "x";
}

}  // namespace kvplan::detail

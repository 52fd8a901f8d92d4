#include "core/parallel.h"

#include <algorithm>
#include <string>

#include "core/error.h"

namespace kvplan {

void check_tensor_parallel(const ModelShape& shape, std::uint32_t tp) {
  if (tp == 0) throw Error("--tp must be at least 1");
  if (shape.num_attention_heads % tp != 0) {
    throw Error("--tp " + std::to_string(tp) + " does not divide num_attention_heads (" +
                std::to_string(shape.num_attention_heads) + "); vLLM requires it. Use a TP that divides it");
  }
  const std::uint32_t kv = shape.num_key_value_heads;
  if (!shape.mla && kv % tp != 0 && tp % kv != 0) {
    throw Error("--tp " + std::to_string(tp) + " and num_key_value_heads (" + std::to_string(kv) +
                ") do not divide one another, so the K/V heads cannot be sharded or replicated evenly");
  }
}

void check_decode_context_parallel(std::uint32_t query_heads, std::uint32_t kv_heads, bool mla, std::uint32_t tp,
                                   std::uint32_t dcp) {
  const std::string flag = "--dcp " + std::to_string(dcp);
  if (dcp == 0) throw Error("--dcp must be at least 1");
  // DCP groups are made of TP ranks (without prefill context parallelism, which kvplan does not plan).
  if (tp % dcp != 0) {
    throw Error(flag + " does not divide --tp " + std::to_string(tp) + "; vLLM requires tp_size divisible by dcp_size");
  }
  if (dcp == 1 || mla) return;
  // A GQA rank holds one K/V head when TP exceeds the heads; DCP splits the ranks that replicate a
  // head, so it needs replicas to split, and whole query heads per K/V head on each of them.
  if (tp <= kv_heads) {
    throw Error(flag + ": vLLM needs --tp (" + std::to_string(tp) + ") greater than the " + std::to_string(kv_heads) +
                " K/V heads for decode context parallelism with GQA/MQA; raise --tp or drop --dcp");
  }
  if (dcp > tp / kv_heads) {
    throw Error(flag + " exceeds vLLM's maximum of TP / K/V heads = " + std::to_string(tp) + " / " +
                std::to_string(kv_heads) + " = " + std::to_string(tp / kv_heads));
  }
  if ((query_heads / kv_heads) % dcp != 0) {
    throw Error(flag + " does not divide the " + std::to_string(query_heads / kv_heads) +
                " query heads per K/V head, as vLLM requires for GQA/MQA");
  }
}

std::uint32_t kv_heads_per_rank(const ModelShape& shape, bool mla, std::uint32_t tp) {
  if (mla) return 1;
  return std::max<std::uint32_t>(1, shape.num_key_value_heads / tp);
}

std::vector<std::uint32_t> pp_stage_layers(std::uint32_t layers, std::uint32_t pp) {
  if (pp == 0 || pp > layers) {
    throw Error("--pp " + std::to_string(pp) + " must be between 1 and the number of layers (" +
                std::to_string(layers) + ")");
  }
  std::vector<std::uint32_t> stages(pp, layers / pp);
  std::uint32_t remainder = layers % pp;
  for (std::uint32_t i = 2; i < remainder + 2; ++i) stages[pp - i] += 1;
  return stages;
}

}  // namespace kvplan

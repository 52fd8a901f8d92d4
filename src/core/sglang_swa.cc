#include "core/sglang_swa.h"

#include <algorithm>

#include "core/checked.h"
#include "core/error.h"
#include "core/kv_bytes.h"
#include "core/sglang_state.h"

namespace kvplan::detail {
namespace {

// --swa-full-tokens-ratio, 0.8 by default (arg_groups/fields/schedule.py).
constexpr double kSwaFullTokensRatio = 0.8;

}  // namespace

bool sglang_llama4_hybrid(const ModelShape& shape) {
  return (shape.model_type == "llama4_text" || shape.model_type == "llama4") && shape.multimodal &&
         shape.multimodal->architecture == "Llama4ForConditionalGeneration";
}

bool hybrid_swa_architecture(const ModelShape& shape) {
  const std::string& type = shape.model_type;
  return type == "gpt_oss" || type == "step3p5" || type == "step3p7" || type == "mimo_v2_flash" ||
         type == "gemma4_text" || sglang_llama4_hybrid(shape);
}

LayerAttention sglang_layer_pool(const ModelShape& shape, std::uint32_t layer) {
  // get_hybrid_layer_ids: Llama-4's every 4th layer is full, whatever no_rope_layers says.
  if (sglang_llama4_hybrid(shape)) return (layer + 1) % 4 != 0 ? LayerAttention::sliding : LayerAttention::full;
  // Gemma-4's layers that read an earlier layer's cache still get rows, split by layer_types.
  const std::size_t first_shared = shape.num_hidden_layers - shape.kv_shared_layer_kinds.size();
  const LayerAttention kind =
      layer >= first_shared ? shape.kv_shared_layer_kinds[layer - first_shared] : shape.layer_attention[layer];
  // Outside the hybrid pool a chunked layer has full-length slots, as every layer does.
  if (kind == LayerAttention::chunked) return LayerAttention::full;
  if (kind == LayerAttention::sliding && !hybrid_swa_architecture(shape)) return LayerAttention::full;
  return kind;
}

std::uint32_t sglang_swa_layer_count(const ModelShape& shape) {
  std::uint32_t count = 0;
  for (std::uint32_t layer = 0; layer < shape.num_hidden_layers; ++layer) {
    count += sglang_layer_pool(shape, layer) == LayerAttention::sliding ? 1 : 0;
  }
  return count;
}

bool uses_hybrid_swa_pool(const ModelShape& shape) {
  return hybrid_swa_architecture(shape) && sglang_swa_layer_count(shape) > 0;
}

std::uint64_t sglang_swa_window(const ModelShape& shape) {
  if (sglang_llama4_hybrid(shape)) return shape.attention_chunk_size.value_or(0);
  return shape.sliding_window.value_or(0);
}

std::uint64_t sglang_runner_window(const ModelShape& shape) {
  const std::uint64_t window = sglang_swa_window(shape);
  const bool exclusive = shape.model_type == "gpt_oss" || shape.model_type == "gemma4_text";
  return exclusive && window > 0 ? window - 1 : window;
}

SwaCell sglang_swa_cell(const ModelShape& shape, const FitRequest& attention, FitResult& result) {
  SwaCell cell{result.token_layer_per_rank.total(), result.token_layer_per_rank.total()};
  if (shape.full_layer_kv) {
    set_full_layer_cache(shape, attention, result);
    cell.full = result.full_token_layer_per_rank->total();
  }
  // K and V rows of one token on one rank, at each kind's heads per rank and widths.
  const Variant full = full_layer_variant(attention.variant, true, shape);
  if (full.v_head_dim != 0 || attention.variant.v_head_dim != 0) {
    const std::uint64_t full_heads = shape.full_layer_kv ? result.full_kv_heads_per_rank : result.kv_heads_per_rank;
    const std::uint64_t sliding_heads = result.kv_heads_per_rank;
    cell.full_k = full_heads * vector_bytes(attention.kv_dtype, full.head_dim);
    cell.full_v = full_heads * vector_bytes(attention.kv_dtype, full.value_dim());
    cell.sliding_k = sliding_heads * vector_bytes(attention.kv_dtype, attention.variant.head_dim);
    cell.sliding_v = sliding_heads * vector_bytes(attention.kv_dtype, attention.variant.value_dim());
  }
  return cell;
}

std::uint64_t sglang_swa_stage_tokens(Bytes budget, const SwaCell& cell, const StageLayers& layers) {
  const double bytes = static_cast<double>(checked_mul(cell.full, layers.full + layers.mtp, "cell size")) +
                       kSwaFullTokensRatio * static_cast<double>(checked_mul(cell.sliding, layers.sliding, "cell size"));
  return static_cast<std::uint64_t>(python_floordiv(static_cast<double>(budget.value), bytes));
}

void set_sglang_swa_pools(const ModelShape& shape, const SwaCell& cell, const StageLayers& binding, std::uint64_t tokens,
                          std::uint64_t page, std::uint64_t max_model_len, std::uint64_t request_slots,
                          const std::string& dtype, FitResult& result) {
  const std::uint32_t full_layers = binding.full + binding.mtp;
  const std::uint64_t swa_tokens = static_cast<std::uint64_t>(static_cast<double>(tokens) * kSwaFullTokensRatio) / page * page;
  const std::uint64_t window = sglang_swa_window(shape);
  // pool_configurator.py:validate_swa_pool_size: SGLang refuses to start otherwise.
  const std::uint64_t floor_window = sglang_runner_window(shape);
  if (floor_window + page >= swa_tokens) {
    throw Error("SWA pool (" + std::to_string(swa_tokens) + " tokens) cannot hold even one request: the prefill "
                "admission floor is sliding_window_size (" + std::to_string(floor_window) + ") + page_size (" +
                std::to_string(page) + "); SGLang refuses to start. Give it more memory");
  }
  result.token_pools = {{"Full", tokens, full_layers, dtype, cell.full_k, cell.full_v},
                        {"SWA", swa_tokens, binding.sliding, dtype, cell.sliding_k, cell.sliding_v}};
  const LayerAttention swa_kind = sglang_llama4_hybrid(shape) ? LayerAttention::chunked : LayerAttention::sliding;
  result.groups = {{LayerAttention::full, full_layers, result.blocks_per_request},
                   {swa_kind, binding.sliding, ceil_div(std::min(max_model_len, window), page)}};
  // KV one full-length request holds on a rank: whole pages of every full layer, the window of
  // every sliding layer.
  result.bytes_per_request_per_rank = Bytes{checked_add(
      checked_mul(cell.full, checked_mul(full_layers, request_slots, "request slots"), "bytes per request"),
      checked_mul(cell.sliding, std::uint64_t{binding.sliding} * std::min(request_slots, window), "bytes per request"),
      "bytes per request")};
  result.group_size = full_layers;
  result.notes.push_back("SGLang's hybrid SWA pool: full layers get " + std::to_string(tokens) +
                         " tokens, sliding layers 0.8 x as many (" + std::to_string(swa_tokens) + ")" +
                         (cell.full != cell.sliding ? ", at " + std::to_string(cell.full) + " and " +
                                                          std::to_string(cell.sliding) + " B per token per layer"
                                                    : std::string()));
}

}  // namespace kvplan::detail

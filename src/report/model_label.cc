#include "report/model_label.h"

#include <fmt/format.h>

namespace kvplan::report {

std::string describe_shape(const ModelShape& shape) {
  std::string text = fmt::format("{} layers, {} query heads, ", shape.num_hidden_layers,
                                 shape.num_attention_heads);
  if (const auto& compressed = shape.compressed_mla) {
    std::uint32_t window_only = 0, csa = 0, hca = 0;
    for (std::uint32_t ratio : compressed->compress_ratio) {
      window_only += ratio == 1;
      csa += ratio == 4;
      hca += ratio == 128;
    }
    text += fmt::format("one compressed latent of {}: a window of {} on every layer, {} CSA (4x) and {} HCA (128x) "
                        "layers, {} window-only", compressed->head_dim, compressed->sliding_window, csa, hca, window_only);
  } else if (shape.mla) {
    text += fmt::format("MLA d_c={} d_R={}", shape.mla->kv_lora_rank, shape.mla->qk_rope_head_dim);
  } else {
    text += fmt::format("{} KV head{} of {}", shape.num_key_value_heads, shape.num_key_value_heads == 1 ? "" : "s",
                        head_widths(shape.head_dim, shape.v_head_dim));
    if (const auto& full = shape.full_layer_kv) {
      text += fmt::format(" ({} of {} on full layers)", full->num_key_value_heads, head_widths(full->head_dim, full->v_head_dim));
    }
  }
  if (std::uint32_t sliding = shape.sliding_layer_count()) {
    text += fmt::format(", sliding window {} on {} of {} layers", *shape.sliding_window, sliding,
                        shape.num_hidden_layers);
  }
  if (std::uint32_t chunked = shape.layer_count(LayerAttention::chunked)) {
    text += fmt::format(", chunks of {} on {} of {} layers", *shape.attention_chunk_size, chunked, shape.num_hidden_layers);
  }
  if (std::uint32_t state = shape.layer_count(LayerAttention::state)) {
    text += fmt::format(", {} {} state layers", state,
                        state_field_names(shape.state->mixer).mixer);
  }
  if (std::uint32_t uncached = shape.layer_count(LayerAttention::none)) {
    text += fmt::format(", {} layers without a cache", uncached);
  }
  if (const std::optional<IndexerDims>& indexer = shape.indexer) {
    text += indexer->on_every_layer()
                ? fmt::format(", sparse (indexer keys of {})", indexer->index_head_dim)
                : fmt::format(", sparse (indexer keys of {} on {} layers)", indexer->index_head_dim,
                              indexer->key_layers(shape.num_hidden_layers, 0));
  }
  if (shape.num_nextn_predict_layers > 0) {
    text += fmt::format(", {} MTP layer{}", shape.num_nextn_predict_layers,
                        shape.num_nextn_predict_layers == 1 ? "" : "s");
  }
  return text;
}

void add_model_notes(Document& document, const WeightsDtype& weights, const ModelShape& shape) {
  document.notes.push_back("weights: " + weights.name + " from " + weights.why);
  for (const std::string& assumption : shape.assumptions) document.notes.push_back("assumed: " + assumption);
}

}  // namespace kvplan::report

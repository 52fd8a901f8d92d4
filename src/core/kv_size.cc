#include "core/kv_size.h"

#include <algorithm>

#include "core/checked.h"
#include "core/error.h"
#include "core/state_bytes.h"

namespace kvplan {

std::vector<LayerGroup> layer_groups(const ModelShape& shape, Tokens ctx, bool include_mtp,
                                     const std::string& ssm_cache_dtype) {
  std::vector<LayerGroup> groups;
  const std::uint32_t sliding = shape.layer_count(LayerAttention::sliding);
  const std::uint32_t chunked = shape.layer_count(LayerAttention::chunked);
  const std::uint32_t full = shape.attention_layer_count() - sliding - chunked;
  if (full > 0) groups.push_back({LayerAttention::full, false, full, ctx, {}, {}});
  if (sliding > 0) {
    Tokens held{std::min(ctx.value, *shape.sliding_window)};
    groups.push_back({LayerAttention::sliding, false, sliding, held, {}, {}});
  }
  if (chunked > 0) {
    // A chunked layer attends within the current chunk, so it holds at most one chunk.
    Tokens held{std::min(ctx.value, *shape.attention_chunk_size)};
    groups.push_back({LayerAttention::chunked, false, chunked, held, {}, {}});
  }
  if (const std::uint32_t state = shape.layer_count(LayerAttention::state); state > 0) {
    // A state layer keeps one state per sequence whatever the context length.
    Bytes per_sequence{state_bytes_per_rank(*shape.state, shape.torch_dtype, 1, ssm_cache_dtype).total()};
    groups.push_back({LayerAttention::state, false, state, Tokens{0}, per_sequence, {}});
  }
  if (include_mtp && shape.num_nextn_predict_layers > 0) {
    // An MTP module is one more decoder layer with the model's own attention over the context.
    groups.push_back({LayerAttention::full, true, shape.num_nextn_predict_layers, ctx, {}, {}});
  }
  return groups;
}

namespace {

// A sparse model's indexer keys are priced for every variant: the variants change how attention
// caches K and V, not how it picks the tokens it reads. With a key on every layer it is part of each
// layer's bytes; otherwise it is added for the hidden layers that have one (and is in every MTP layer).
VariantSize size_variant(const ResolvedVariant& resolved, const Variant& full_layers, const std::vector<LayerGroup>& groups,
                         const SizeRequest& request, KvDtype dtype, KvScales scales, const ModelShape& shape) {
  const std::uint64_t key_bytes = shape.indexer ? shape.indexer->bytes_per_token() : 0;
  const bool key_on_every_layer = shape.indexer && shape.indexer->on_every_layer();
  VariantSize size;
  size.variant = resolved;
  size.dtype = dtype;
  size.token_layer = bytes_per_token_per_layer(resolved.variant, dtype, scales);
  if (key_on_every_layer) size.token_layer.indexer_bytes = key_bytes;
  if (full_layers.name() != resolved.variant.name() || full_layers.head_dim != resolved.variant.head_dim ||
      full_layers.v_head_dim != resolved.variant.v_head_dim) {
    size.full_token_layer = bytes_per_token_per_layer(full_layers, dtype, scales);
    if (key_on_every_layer) size.full_token_layer->indexer_bytes = key_bytes;
  }
  size.groups = groups;
  std::uint64_t per_sequence = 0;
  std::uint64_t per_token = 0;
  for (LayerGroup& group : size.groups) {
    if (group.attention != LayerAttention::state) {
      // The variants change the attention layers; a state layer's bytes stay as layer_groups set them.
      group.token_layer = group.attention == LayerAttention::full && size.full_token_layer ? *size.full_token_layer
                                                                                           : size.token_layer;
      if (group.mtp) group.token_layer.indexer_bytes = key_bytes;
      size.cached_layers += group.layers;
      per_token = checked_add(per_token, checked_mul(group.token_layer.total(), group.layers, "bytes per token"),
                              "bytes per token");
      group.per_layer_per_sequence.value =
          checked_mul(group.token_layer.total(), group.tokens_held.value, "bytes per layer per sequence");
    }
    per_sequence = checked_add(
        per_sequence, checked_mul(group.per_layer_per_sequence.value, group.layers, "bytes per sequence"),
        "bytes per sequence");
  }
  if (shape.indexer && !key_on_every_layer) {
    // Sparse MLA caches every token in every layer, so each key holds the whole context.
    const std::uint64_t keys = shape.indexer->key_layers(shape.num_hidden_layers, 0);
    const std::uint64_t key_token = checked_mul(key_bytes, keys, "bytes per token");
    per_token = checked_add(per_token, key_token, "bytes per token");
    per_sequence = checked_add(per_sequence, checked_mul(key_token, request.ctx.value, "bytes per sequence"),
                               "bytes per sequence");
  }
  size.per_token.value = per_token;
  size.per_sequence.value = per_sequence;
  size.per_batch.value = checked_mul(per_sequence, request.batch, "bytes per batch (per sequence x --batch)");
  return size;
}

}  // namespace

SizeReport compute_kv_size(const ModelShape& shape, const std::vector<ResolvedVariant>& variants,
                           const SizeRequest& request) {
  if (shape.compressed_mla) {
    throw Error("DeepSeek-V4's compressed caches are not per-token K/V of one attention variant; 'kvplan size' "
                "lists them cache by cache");
  }
  SizeReport report;
  report.request = request;
  const std::vector<LayerGroup> groups =
      layer_groups(shape, request.ctx, request.include_mtp, request.mamba_ssm_cache_dtype);

  report.mha_dtype = request.dtype == KvDtype::fp8_ds_mla ? KvDtype::fp8_e4m3 : request.dtype;
  KvScales mha_scales = request.dtype == KvDtype::fp8_ds_mla ? KvScales::per_tensor : request.scales;
  ResolvedVariant mha{Variant{VariantKind::mha, shape.num_attention_heads, shape.head_dim, 0, 0, shape.v_head_dim},
                      false, ""};
  report.mha_per_sequence =
      size_variant(mha, full_layer_variant(mha.variant, false, shape), groups, request, report.mha_dtype, mha_scales, shape)
          .per_sequence;

  std::string priced_in_fp8;
  for (const ResolvedVariant& resolved : variants) {
    // fp8_ds_mla is the layout of an MLA latent; the other variants are priced in plain fp8, as
    // an engine would cache them, instead of refusing the whole comparison.
    const bool fp8_instead = request.dtype == KvDtype::fp8_ds_mla && resolved.variant.kind != VariantKind::mla;
    if (fp8_instead && variants.size() > 1) {
      priced_in_fp8 += (priced_in_fp8.empty() ? "" : ", ") + resolved.variant.name();
    }
    VariantSize size = size_variant(resolved, full_layer_variant(resolved.variant, resolved.native, shape), groups, request, fp8_instead && variants.size() > 1 ? report.mha_dtype : request.dtype,
                                    fp8_instead && variants.size() > 1 ? mha_scales : request.scales, shape);
    size.mha_ratio = static_cast<double>(report.mha_per_sequence.value) /
                     static_cast<double>(size.per_sequence.value);
    report.variants.push_back(std::move(size));
  }

  if (!priced_in_fp8.empty()) {
    report.notes.push_back("fp8_ds_mla is the layout of an MLA latent: " + priced_in_fp8 +
                           " are priced in fp8 (e4m3, per-tensor scales), as is the MHA baseline");
  }
  if (const std::optional<IndexerDims>& indexer = shape.indexer) {
    const std::string key = std::to_string(indexer->index_head_dim) + " fp8 values + " +
                            std::to_string(indexer->index_head_dim / 128) + " fp32 scale(s) = " +
                            std::to_string(indexer->bytes_per_token()) + " B per token per layer in any --kv-dtype";
    if (indexer->on_every_layer()) {
      report.notes.push_back("sparse MLA: every layer also caches the lightning indexer's key, " + key +
                             ", included in every row");
    } else {
      report.notes.push_back(
          "sparse MLA: " + std::to_string(indexer->key_layers(shape.num_hidden_layers, 0)) + " of the " +
          std::to_string(shape.num_hidden_layers) + " layers also cache the lightning indexer's key, " + key +
          " (index_topk_freq / index_topk_pattern: the others reuse an earlier layer's top-k); included in every row "
          "from 'per token' on, not in 'per token per layer'" +
          (request.include_mtp ? " (an MTP layer always has one: in its per-layer bytes)" : ""));
    }
  }
  if (const auto& full = shape.full_layer_kv) {
    report.notes.push_back("full-attention layers cache " + std::to_string(full->num_key_value_heads) + " K/V heads of " +
                           head_widths(full->head_dim, full->v_head_dim) + " (" + full->heads_field + ", " +
                           full->head_dim_field + "), the sliding layers " + std::to_string(shape.num_key_value_heads) +
                           " of " + head_widths(shape.head_dim, shape.v_head_dim) +
                           ": 'per token per full layer' is theirs");
  }
  if (shape.max_position_embeddings > 0 && request.ctx.value > shape.max_position_embeddings) {
    report.notes.push_back("ctx " + std::to_string(request.ctx.value) +
                           " exceeds the model's max_position_embeddings (" +
                           std::to_string(shape.max_position_embeddings) +
                           "); engines refuse such a max-model-len by default");
  }
  if (!request.include_mtp && shape.num_nextn_predict_layers > 0) {
    report.notes.push_back("the model has " + std::to_string(shape.num_nextn_predict_layers) +
                           " MTP layer(s) (num_nextn_predict_layers), not counted; --mtp adds them "
                           "(cached when serving with MTP speculative decoding)");
  }
  return report;
}

}  // namespace kvplan

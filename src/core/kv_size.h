// KV cache size of one model for each requested variant: per token per layer, per token, per
// layer for one sequence, per sequence and per batch. Sliding-window layers hold
// min(ctx, window) tokens; MTP layers are counted only when asked (--mtp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/kv_bytes.h"
#include "core/model_shape.h"
#include "core/units.h"
#include "core/variant.h"

namespace kvplan {

struct SizeRequest {
  Tokens ctx;
  std::uint64_t batch = 1;
  KvDtype dtype = KvDtype::bf16;
  KvScales scales = KvScales::per_tensor;
  bool include_mtp = false;
  std::string mamba_ssm_cache_dtype;  // --mamba-ssm-cache-dtype; "" = the config's or the model's
};

// Layers that hold the same number of tokens of one sequence, or (state layers) the same state.
struct LayerGroup {
  LayerAttention attention = LayerAttention::full;
  bool mtp = false;                 // multi-token-prediction layers (num_nextn_predict_layers)
  std::uint32_t layers = 0;
  Tokens tokens_held;               // ctx, or min(ctx, sliding_window); 0 for state layers
  Bytes per_layer_per_sequence;     // bytes_per_token_per_layer × tokens_held, or the state's bytes
  TokenLayerBytes token_layer;      // bytes per token per layer of these layers (none for state layers)
};

struct VariantSize {
  ResolvedVariant variant;
  KvDtype dtype = KvDtype::bf16;    // the request's, or fp8 for non-MLA rows of an fp8_ds_mla request
  TokenLayerBytes token_layer;      // bytes per token per layer
  // The full-attention layers' bytes when they cache other K/V heads (Gemma-4); else token_layer.
  std::optional<TokenLayerBytes> full_token_layer;
  std::uint32_t cached_layers = 0;  // layers with a per-token cache (+ MTP layers with --mtp)
  Bytes per_token;                  // a token held by every cached layer (sum over groups)
  std::vector<LayerGroup> groups;
  Bytes per_sequence;               // sum over groups of layers × per_layer_per_sequence
  Bytes per_batch;                  // per_sequence × batch
  double mha_ratio = 1.0;           // MHA's per_sequence / this per_sequence (same dtype)
};

struct SizeReport {
  SizeRequest request;
  // MHA is priced in the request's dtype, except fp8_ds_mla (MLA-only), where MHA uses fp8.
  KvDtype mha_dtype = KvDtype::bf16;
  Bytes mha_per_sequence;
  std::vector<VariantSize> variants;
  std::vector<std::string> notes;   // conditions a reader should know (ctx beyond the model's)
};

SizeReport compute_kv_size(const ModelShape& shape, const std::vector<ResolvedVariant>& variants,
                           const SizeRequest& request);

// The groups of layers for a model and context. A state group's bytes are one sequence's state
// on one rank (TP 1), with `ssm_cache_dtype` overriding the recurrent state's dtype when set.
std::vector<LayerGroup> layer_groups(const ModelShape& shape, Tokens ctx, bool include_mtp,
                                     const std::string& ssm_cache_dtype = "");

}  // namespace kvplan

// Attention variants: what the cache stores per token per layer. `native` is the model's own;
// the others are counterfactuals on the same model (same layers, query heads and head dim d_h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/model_shape.h"

namespace kvplan {

enum class VariantKind { mha, mqa, gqa, mla };

struct Variant {
  VariantKind kind = VariantKind::mha;
  std::uint32_t kv_heads = 0;          // cached K/V heads: n_h (MHA), 1 (MQA), G (GQA); 0 for MLA
  std::uint32_t head_dim = 0;          // d_h of each cached K and V head; 0 for MLA
  std::uint32_t kv_lora_rank = 0;      // MLA d_c
  std::uint32_t qk_rope_head_dim = 0;  // MLA d_R
  // d_v of each cached V head where values are narrower than keys (MiMo-V2-Flash: K 192, V 128;
  // vLLM's AttentionSpec.head_size_v); 0 when V has K's width d_h.
  std::uint32_t v_head_dim = 0;

  std::uint32_t value_dim() const { return v_head_dim != 0 ? v_head_dim : head_dim; }
  // "mha", "mqa", "gqa:8", "mla:512:64".
  std::string name() const;
};

// A variant as the user asked for it, before it meets a model.
struct VariantRequest {
  enum class Kind { native, mha, mqa, gqa, mla } kind = Kind::native;
  std::uint32_t groups = 0;            // gqa:G; 0 = choose
  std::uint32_t kv_lora_rank = 0;      // mla:d_c; 0 = model's or 512
  std::uint32_t qk_rope_head_dim = 0;  // mla:d_c:d_R; 0 = model's or 64
  bool from_all = false;               // part of `all`: skipped, not an error, when it cannot apply
};

// "native", "mha", "mqa", "gqa", "gqa:8", "mla", "mla:512", "mla:512:64", "all", or a
// comma-separated list of these. `all` expands to mha, gqa, mqa, mla.
std::vector<VariantRequest> parse_variants(std::string_view text);

struct ResolvedVariant {
  Variant variant;
  bool native = false;  // the model's own attention
  std::string rule;     // how its dims were chosen, for --explain
};

// The model's own attention: MLA if it has kv_lora_rank, else GQA with its KV heads
// (MHA when every query head has its own K/V, MQA with one).
Variant native_variant(const ModelShape& shape);

// What a variant caches on the model's full-attention layers: the variant itself, except where
// those layers have their own K/V heads (Gemma-4's full_layer_kv): there the native variant takes
// their head count and head dim, and MHA, GQA and MQA keep their head count at their head dim.
// MLA's latent is the same on every layer.
Variant full_layer_variant(const Variant& variant, bool native, const ModelShape& shape);

// Applies each request to the model. Errors (exit 2) for G that does not divide n_h, MLA dims
// that cache more than MHA, and similar shapes that make no sense; members of `all` that cannot
// apply are skipped instead, with the reason added to `skipped`. Duplicates are dropped.
std::vector<ResolvedVariant> resolve_variants(const std::vector<VariantRequest>& requests,
                                              const ModelShape& shape, std::vector<std::string>* skipped = nullptr);

// For tables over many models (sweep, report): every request that cannot apply to this model is
// skipped, with the reason added to `skipped`.
std::vector<ResolvedVariant> resolve_variants_skipping(std::vector<VariantRequest> requests, const ModelShape& shape,
                                                       std::vector<std::string>& skipped);

}  // namespace kvplan

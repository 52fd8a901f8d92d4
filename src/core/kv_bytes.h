// The unified per-token, per-layer cache formula (docs/model.md):
//   MHA 2·n_h·d_h   MQA 2·d_h   GQA 2·G·d_h   MLA d_c + d_R   scalars,
// then bytes for the cache dtype, plus per-token-head scales when asked.
#pragma once

#include <cstdint>

#include "core/dtype.h"
#include "core/variant.h"

namespace kvplan {

struct TokenLayerBytes {
  std::uint64_t scalars = 0;       // cached scalars per token per layer
  std::uint64_t vectors = 0;       // cached vectors: 2·H_kv (a K and a V per head) or 1 (MLA latent)
  std::uint64_t value_bytes = 0;   // the scalars in the cache dtype, incl. in-layout scales
  std::uint64_t scale_bytes = 0;   // --kv-scales per-token-head: one fp32 per cached vector
  std::uint64_t indexer_bytes = 0; // sparse MLA: the indexer's key (fp8 values + fp32 scales), any cache dtype
  std::uint64_t total() const { return value_bytes + scale_bytes + indexer_bytes; }
};

std::uint64_t scalars_per_token_per_layer(const Variant& variant);

// Throws kvplan::Error (exit 2) for combinations no engine supports: fp8_ds_mla on a non-MLA
// variant, per-token-head scales on an unquantized dtype or on a layout with its own scales.
TokenLayerBytes bytes_per_token_per_layer(const Variant& variant, KvDtype dtype, KvScales scales);

}  // namespace kvplan

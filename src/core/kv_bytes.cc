#include "core/kv_bytes.h"

#include <string>

#include "core/checked.h"
#include "core/error.h"

namespace kvplan {

std::uint64_t scalars_per_token_per_layer(const Variant& variant) {
  if (variant.kind == VariantKind::mla) {
    // Latent plus the decoupled RoPE key; neither is per head, so no n_h and no factor 2.
    return std::uint64_t{variant.kv_lora_rank} + variant.qk_rope_head_dim;
  }
  // A K vector of d_h and a V vector of d_v (d_h unless values are narrower) for each cached head.
  return std::uint64_t{variant.kv_heads} * (std::uint64_t{variant.head_dim} + variant.value_dim());
}

TokenLayerBytes bytes_per_token_per_layer(const Variant& variant, KvDtype dtype, KvScales scales) {
  const bool is_mla = variant.kind == VariantKind::mla;
  TokenLayerBytes bytes;
  bytes.scalars = scalars_per_token_per_layer(variant);
  bytes.vectors = is_mla ? 1 : 2ull * variant.kv_heads;

  if (dtype == KvDtype::fp8_ds_mla) {
    if (!is_mla) {
      throw Error("--kv-dtype fp8_ds_mla is FlashMLA's layout for an MLA latent; variant " +
                  variant.name() + " is not MLA (use fp8 for MHA/GQA/MQA)");
    }
    // 512 fp8 latent values, one fp32 scale per 128 of them, and the RoPE part kept in bf16:
    // 512 + 4·4 + 64·2 = 656 B for DeepSeek's shape.
    bytes.value_bytes = variant.kv_lora_rank +
                        kScaleBytes * ceil_div(variant.kv_lora_rank, kDsMlaTileSize) +
                        2ull * variant.qk_rope_head_dim;
  } else if (is_mla) {
    bytes.value_bytes = vector_bytes(dtype, bytes.scalars);
  } else {
    // Each head's K and V vectors, each with its own in-layout scales (nvfp4).
    const std::uint64_t head = checked_add(vector_bytes(dtype, variant.head_dim), vector_bytes(dtype, variant.value_dim()),
                                           "bytes per token per layer");
    bytes.value_bytes = checked_mul(variant.kv_heads, head, "bytes per token per layer");
  }

  if (scales == KvScales::per_token_head) {
    if (!is_quantized(dtype)) {
      throw Error("--kv-scales per-token-head applies to a quantized cache (fp8, int8); --kv-dtype " +
                  std::string(to_string(dtype)) + " stores values unscaled");
    }
    if (dtype == KvDtype::fp8_ds_mla || dtype == KvDtype::nvfp4) {
      throw Error("--kv-scales per-token-head: --kv-dtype " + std::string(to_string(dtype)) +
                  " already carries its own block scales; drop --kv-scales");
    }
    bytes.scale_bytes = kScaleBytes * bytes.vectors;
  }
  return bytes;
}

}  // namespace kvplan

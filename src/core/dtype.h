// KV-cache element formats and what one cached vector costs in each. The byte layouts follow the
// serving engines: vLLM's `--kv-cache-dtype` values, FlashMLA's fp8_ds_mla, NVIDIA's NVFP4.
#pragma once

#include <cstdint>
#include <string_view>

namespace kvplan {

enum class KvDtype { fp32, bf16, fp16, fp8_e4m3, fp8_e5m2, int8, fp8_ds_mla, nvfp4 };

// Where quantization scales live. Per-tensor scales are a handful of floats per layer, so they
// are not counted; per-token-head scales add one fp32 per cached vector per token.
enum class KvScales { per_tensor, per_token_head };

// Accepts the spellings vLLM accepts: "fp8" means e4m3, as in vLLM.
KvDtype parse_kv_dtype(std::string_view text);
KvScales parse_kv_scales(std::string_view text);

std::string_view to_string(KvDtype dtype);
std::string_view to_string(KvScales scales);

// Human description of the element layout, for --explain ("2 B per scalar", ...).
std::string_view layout_description(KvDtype dtype);

// True for formats that store quantized values plus scales (fp8, int8, nvfp4, fp8_ds_mla).
bool is_quantized(KvDtype dtype);

// Bytes of one cached vector of `dim` scalars, excluding per-token-head scales. Not defined for
// fp8_ds_mla, whose layout splits the MLA latent and RoPE parts (see kv_bytes.h).
std::uint64_t vector_bytes(KvDtype dtype, std::uint64_t dim);

inline constexpr std::uint64_t kScaleBytes = 4;         // one fp32 scale
inline constexpr std::uint64_t kNvfp4BlockSize = 16;    // values sharing one fp8 (E4M3) scale
inline constexpr std::uint64_t kDsMlaTileSize = 128;    // latent values sharing one fp32 scale

}  // namespace kvplan

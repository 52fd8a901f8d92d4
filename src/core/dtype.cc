#include "core/dtype.h"

#include <string>

#include "core/checked.h"
#include "core/error.h"

namespace kvplan {

KvDtype parse_kv_dtype(std::string_view text) {
  if (text == "fp32" || text == "float32") return KvDtype::fp32;
  if (text == "bf16" || text == "bfloat16") return KvDtype::bf16;
  if (text == "fp16" || text == "float16" || text == "half") return KvDtype::fp16;
  if (text == "fp8" || text == "fp8_e4m3") return KvDtype::fp8_e4m3;
  if (text == "fp8_e5m2") return KvDtype::fp8_e5m2;
  if (text == "int8") return KvDtype::int8;
  if (text == "fp8_ds_mla") return KvDtype::fp8_ds_mla;
  if (text == "nvfp4") return KvDtype::nvfp4;
  throw Error("--kv-dtype: unknown cache dtype '" + std::string(text) +
              "'; expected one of bf16, fp16, fp32, fp8 (= fp8_e4m3), fp8_e5m2, int8, "
              "fp8_ds_mla, nvfp4");
}

KvScales parse_kv_scales(std::string_view text) {
  if (text == "per-tensor") return KvScales::per_tensor;
  if (text == "per-token-head") return KvScales::per_token_head;
  throw Error("--kv-scales: expected per-tensor or per-token-head, got '" + std::string(text) +
              "'");
}

std::string_view to_string(KvDtype dtype) {
  switch (dtype) {
    case KvDtype::fp32: return "fp32";
    case KvDtype::bf16: return "bf16";
    case KvDtype::fp16: return "fp16";
    case KvDtype::fp8_e4m3: return "fp8_e4m3";
    case KvDtype::fp8_e5m2: return "fp8_e5m2";
    case KvDtype::int8: return "int8";
    case KvDtype::fp8_ds_mla: return "fp8_ds_mla";
    case KvDtype::nvfp4: return "nvfp4";
  }
  return "?";
}

std::string_view to_string(KvScales scales) {
  return scales == KvScales::per_tensor ? "per-tensor" : "per-token-head";
}

std::string_view layout_description(KvDtype dtype) {
  switch (dtype) {
    case KvDtype::fp32: return "4 B per scalar";
    case KvDtype::bf16:
    case KvDtype::fp16: return "2 B per scalar";
    case KvDtype::fp8_e4m3:
    case KvDtype::fp8_e5m2:
    case KvDtype::int8: return "1 B per scalar";
    case KvDtype::fp8_ds_mla:
      return "per token: d_c fp8 latent values + one fp32 scale per 128 latent values + d_R bf16 "
             "RoPE values (FlashMLA layout)";
    case KvDtype::nvfp4:
      return "per vector: 4-bit values (dim/2 B) + one fp8 scale per 16 values (dim/16 B), "
             "0.5625 B per scalar";
  }
  return "?";
}

bool is_quantized(KvDtype dtype) {
  switch (dtype) {
    case KvDtype::fp32:
    case KvDtype::bf16:
    case KvDtype::fp16: return false;
    default: return true;
  }
}

std::uint64_t vector_bytes(KvDtype dtype, std::uint64_t dim) {
  switch (dtype) {
    case KvDtype::fp32: return checked_mul(dim, 4, "vector bytes");
    case KvDtype::bf16:
    case KvDtype::fp16: return checked_mul(dim, 2, "vector bytes");
    case KvDtype::fp8_e4m3:
    case KvDtype::fp8_e5m2:
    case KvDtype::int8: return dim;
    case KvDtype::nvfp4:
      // Two 4-bit values per byte, plus one fp8 scale per block of 16 along the vector.
      return ceil_div(dim, 2) + ceil_div(dim, kNvfp4BlockSize);
    case KvDtype::fp8_ds_mla: break;
  }
  throw Error("fp8_ds_mla has no per-vector size: it is defined for the MLA latent only",
              ExitCode::internal);
}

}  // namespace kvplan

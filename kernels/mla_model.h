// Pieces of the MLA host models (kernels/mla_model.cc, kernels/mla_naive_model.cc) that both use.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/mla.h"
#include "kernels/numeric.h"

namespace kvplan::kernels {

void mla_absorbed_model(const MlaParams& params, int num_sms, MlaFault fault);
void mla_naive_model(const MlaParams& params, int num_sms, MlaFault fault);

// A cuBLAS output element: the n products summed in fp32 and rounded to bf16. cuBLAS's order is its
// own (the GPU tests allow for the difference); here kGemmLanes interleaved partial sums of fp32
// products, then a pairwise tree, which a host compiler can vectorise.
inline constexpr int kGemmLanes = 16;
float cublas_dot_bf16(const float* a, const float* b, int n);

inline void store_bf16(void* base, std::size_t index, float value) {
  const std::uint16_t bits = float_to_bf16(value);
  std::memcpy(static_cast<std::uint8_t*>(base) + 2 * index, &bits, 2);
}

}  // namespace kvplan::kernels

// A lower bound on the time to prefill a prompt: every FLOP of the weights' matmuls and of causal
// attention at the GPU's datasheet bf16 dense peak x TP. Memory traffic, communication and
// kernel efficiency only add time. `fit --offload` uses it for the recompute time, `disagg` for
// the prefill time per request.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/gpu_spec.h"
#include "core/model_shape.h"
#include "core/variant.h"

namespace kvplan {

struct PrefillBound {
  std::uint64_t tokens = 0;                 // L, prompt tokens
  std::uint32_t tp = 1;
  std::uint64_t active_params = 0;
  // Embedding and output head: a lookup, and a head the engines run on the last token only, so
  // they are left out of the per-token matmuls to keep the bound below the real count.
  std::uint64_t embedding_params = 0;       // vocab x hidden x (tied ? 1 : 2)
  std::uint64_t matmul_params = 0;          // N = active - embedding
  double attention_flops_per_token2 = 0;    // a: causal attention FLOPs / L^2, all layers
  double attention_flops = 0;               // a x L^2
  double flops = 0;                         // 2 x N x L + attention
  double peak_flops_per_s = 0;              // bf16 dense peak x TP
  double seconds = 0;                       // FLOPs / peak: a lower bound
};

// Throws kvplan::Error (exit 2), its message starting with `what`, for a model without a
// parameter count and for an embedding count that overflows.
PrefillBound prefill_bound(const ModelShape& shape, const Variant& variant, const GpuSpec& gpu, std::uint64_t tokens,
                           std::uint32_t tp, std::string_view what);

}  // namespace kvplan

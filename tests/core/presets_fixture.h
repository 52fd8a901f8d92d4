// The embedded presets, for core tests whose subject is a real model on a real GPU, and the
// request those tests start from.
#pragma once

#include <cstdint>

#include "core/capacity.h"
#include "io/preset_registry.h"

namespace kvplan::testing {

inline constexpr std::uint64_t GiB = 1ull << 30;

inline const io::PresetRegistry& registry() {
  static const io::PresetRegistry instance;
  return instance;
}
inline const ModelShape& model(const char* name) { return registry().model(name).shape; }
inline const GpuSpec& gpu(const char* name) { return registry().gpu(name).spec; }

// The model's own attention at `ctx` tokens, bf16 weights, on `engine`'s rules.
inline FitRequest request_for(const ModelShape& shape, std::uint64_t ctx, Parallelism parallel = {},
                              Engine engine = Engine::vllm) {
  FitRequest request;
  request.variant = native_variant(shape);
  request.max_model_len = Tokens{ctx};
  request.parallel = parallel;
  request.weights_dtype = "bf16";
  request.weight_bytes_per_param = 2;
  request.options.engine = engine;
  return request;
}

}  // namespace kvplan::testing

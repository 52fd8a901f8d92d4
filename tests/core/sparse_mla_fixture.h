// The request the sparse-MLA tests (DeepSeek-V3.2, GLM-5) cross-checked against vLLM 0.33's own
// planning code: the setting those runs used.
#pragma once

#include <cstdint>

#include "presets_fixture.h"

namespace kvplan::testing {

// Preset `name` at `ctx` tokens on TP 8 x `pp`, fp8 weights, a `dtype` cache and 40 GiB of KV memory
// per GPU (vLLM's kv_cache_memory_bytes).
inline FitRequest sparse_request(const char* name, std::uint64_t ctx, KvDtype dtype, std::uint32_t pp = 1) {
  FitRequest request = request_for(model(name), ctx, Parallelism{8, pp, 1});
  request.weight_bytes_per_param = 1;
  request.weights_dtype = "fp8";
  request.kv_dtype = dtype;
  request.options.kv_cache_memory = Bytes{40 * GiB};
  return request;
}

}  // namespace kvplan::testing

// Checks of a fit request that hold whatever the engine: user-given memory figures against the
// GPU they are meant for. kvplan::fit runs them before any engine's own rules, so no engine path
// can skip them.
#pragma once

#include "core/capacity.h"

namespace kvplan::detail {

// Throws kvplan::Error (exit 2) naming the flag when --kv-cache-memory or --reserve exceed the
// GPU, when the weights do not fit beside --kv-cache-memory, when both are given, or when
// --max-num-batched-tokens is beyond kMaxTokens.
void check_memory_options(const ModelShape& shape, const GpuSpec& gpu, const FitRequest& request);

}  // namespace kvplan::detail

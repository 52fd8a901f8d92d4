// Checks of a fit request that hold whatever the engine's release: user-given memory figures against
// the GPU they are meant for, and the layer kinds each engine is planned for. kvplan::fit runs them before any engine's own rules, so no engine path
// can skip them.
#pragma once

#include "core/capacity.h"

namespace kvplan::detail {

// Throws kvplan::Error (exit 2) naming the flag when --kv-cache-memory or --reserve exceed the
// GPU, when the weights do not fit beside --kv-cache-memory, when both are given, or when
// --max-num-batched-tokens is beyond kMaxTokens.
void check_memory_options(const ModelShape& shape, const GpuSpec& gpu, const FitRequest& request);

// Throws kvplan::Error (exit 2) for a counterfactual variant of a model with per-kind K/V heads, and
// for layer kinds kvplan plans with some engines' rules only: chunked
// local attention, sparse MLA, compressed sparse attention and per-kind K/V heads with vLLM's (and
// MiMo-V2-Flash with SGLang's), state layers with vLLM's and SGLang's (SGLang's for Qwen3-Next and
// Nemotron-H).
void check_engine_layer_kinds(const ModelShape& shape, const FitRequest& request);

}  // namespace kvplan::detail

// The embedded presets and the config.json copies in tests/data/configs, for core tests whose
// subject is a real model on a real GPU, and the request those tests start from.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/capacity.h"
#include "core/hf_config.h"
#include "core/weights.h"
#include "io/json_reader.h"
#include "io/preset_registry.h"

namespace kvplan::testing {

inline constexpr std::uint64_t GiB = 1ull << 30;

inline const io::PresetRegistry& registry() {
  static const io::PresetRegistry instance;
  return instance;
}
inline const ModelShape& model(const char* name) { return registry().model(name).shape; }
inline const GpuSpec& gpu(const char* name) { return registry().gpu(name).spec; }

// The shape of tests/data/configs/<folder>/config.json, read as `--config` reads the file (without
// the parameter estimate --config adds; the tests that need one make it).
inline ModelShape config_shape(const std::string& folder) {
  const std::string path = KVPLAN_SOURCE_DIR "/tests/data/configs/" + folder + "/config.json";
  return shape_from_hf_config(io::read_json(io::read_text_file(path, "--config"), path));
}

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

// request_for with the weights sized as `kvplan fit --weights-dtype` sizes them ("auto": the
// checkpoint's own format).
inline FitRequest request_with_weights(const ModelShape& shape, std::uint64_t ctx, Parallelism parallel,
                                       std::string_view weights_dtype = "auto", Engine engine = Engine::vllm) {
  FitRequest request = request_for(shape, ctx, parallel, engine);
  set_request_weights(request, resolve_weights_dtype(weights_dtype, shape));
  return request;
}

// SGLang at TP `tp` with --kv-cache-memory (40 GiB unless given) and a 128k context: the cases that
// pin its pools against SGLang's own configurators at a fixed byte budget.
inline FitRequest sglang_pool_request(const ModelShape& shape, std::uint32_t tp, KvDtype dtype = KvDtype::bf16,
                                      std::uint64_t pool_bytes = 40 * GiB) {
  FitRequest request = request_for(shape, 131072, Parallelism{tp, 1, 1}, Engine::sglang);
  request.kv_dtype = dtype;
  request.options.kv_cache_memory = Bytes{pool_bytes};
  return request;
}

// Whether one of fit's notes contains `text` (the backend SGLang or vLLM was taken to choose, ...).
inline bool has_note(const FitResult& result, std::string_view text) {
  for (const std::string& note : result.notes) {
    if (note.find(text) != std::string::npos) return true;
  }
  return false;
}

}  // namespace kvplan::testing

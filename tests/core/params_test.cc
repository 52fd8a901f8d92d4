// Parameter estimates from config shapes against published counts.
#include "core/params.h"

#include <doctest/doctest.h>

#include "io/preset_registry.h"

using namespace kvplan;

namespace {
const io::PresetRegistry& registry() {
  static const io::PresetRegistry instance;
  return instance;
}
ParamEstimate estimate(const char* name) {
  const ModelShape& shape = registry().model(name).shape;
  return estimate_params(shape, shape.tie_word_embeddings);
}
}  // namespace

TEST_CASE("Llama-3-8B: every weight counted, exactly") {
  // Embeddings and head: 2 * 128256 * 4096; per layer: q 4096^2, k and v 4096 * 1024 each,
  // o 4096^2, gated MLP 3 * 4096 * 14336, two norms 2 * 4096; a final norm 4096.
  const std::uint64_t per_layer = 4096ull * 4096 * 2 + 4096ull * 1024 * 2 + 3ull * 4096 * 14336 + 2 * 4096;
  const std::uint64_t expected = 2ull * 128256 * 4096 + 32 * per_layer + 4096;
  CHECK(expected == 8'030'261'248ull);  // the count on the model page
  CHECK(estimate("llama-3-8b").total == expected);
  CHECK(estimate("llama-3-8b").active == expected);
}

TEST_CASE("published totals are matched within 1%") {
  // Mixtral-8x7B: 46.7B total, 12.9B active (model card); Llama-3.1-405B: 405.9B;
  // DeepSeek-V2: 236B / 21B; DeepSeek-V3: 671B / 37B (README); Gemma-2-27B: 27.2B.
  struct Published {
    const char* name;
    double total, active;
  };
  for (const Published& p : {Published{"mixtral-8x7b", 46.7e9, 12.9e9}, Published{"llama-3.1-405b", 405.9e9, 405.9e9},
                             Published{"deepseek-v2", 236e9, 21e9}, Published{"deepseek-v3", 671e9, 37e9},
                             Published{"gemma-2-27b", 27.2e9, 27.2e9}, Published{"qwen2.5-72b", 72.7e9, 72.7e9}}) {
    CAPTURE(p.name);
    ParamEstimate e = estimate(p.name);
    CHECK(static_cast<double>(e.total) == doctest::Approx(p.total).epsilon(0.01));
    CHECK(static_cast<double>(e.active) == doctest::Approx(p.active).epsilon(0.03));
  }
}

TEST_CASE("Gemma-3-27B: the SigLIP tower and projector count beside the language model") {
  // SigLIP (vision_config): patch conv 3 x 14 x 14 x 1152 + 1152; one position per patch,
  // (896 / 14)^2 = 4096, x 1152; per layer q/k/v/out 4 x (1152^2 + 1152), fc1 1152 x 4304 + 4304,
  // fc2 4304 x 1152 + 1152, two LayerNorms 2 x 2 x 1152; 27 layers; a final LayerNorm 2 x 1152.
  const std::uint64_t siglip_layer = 4 * (1152ull * 1152 + 1152) + (1152ull * 4304 + 4304) + (4304ull * 1152 + 1152) +
                                     2 * 2 * 1152;
  const std::uint64_t tower = (3ull * 14 * 14 * 1152 + 1152) + 4096ull * 1152 + 27 * siglip_layer + 2 * 1152;
  const std::uint64_t projector = 1152ull * 5376 + 1152;  // mm_input_projection_weight, mm_soft_emb_norm
  CHECK(tower == 416'866'032ull);
  const ModelShape& shape = registry().model("gemma-3-27b").shape;
  CHECK(shape.vision_params == tower + projector);
  // The text estimate: tied embedding 262208 x 5376 + a final norm 5376; per layer q and o
  // 2 x 5376 x 4096, k and v 2 x 5376 x 2048, MLP 3 x 5376 x 21504, two norms 2 x 5376.
  const std::uint64_t layer = 2 * 5376ull * 4096 + 2 * 5376ull * 2048 + 3 * 5376ull * 21504 + 2 * 5376;
  const std::uint64_t text = 262208ull * 5376 + 5376 + 62 * layer;
  CHECK(estimate("gemma-3-27b").total == text + tower + projector);
  CHECK(estimate("gemma-3-27b").active == text);
  // The safetensors count is 62 x (2 x 5376 + 2 x 128) more: Gemma's post-attention and
  // post-MLP norms and its q/k norms, which the estimate leaves out.
  CHECK(*shape.params_total == text + tower + projector + 62 * (2 * 5376 + 2 * 128));
}

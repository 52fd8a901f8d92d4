// vLLM's 16-bit copies of a quantized MLA kv_b_proj (MLAAttention.process_weights_after_loading, 0.19 and
// 0.33: W_UK_T and W_UV are views of the weight get_and_maybe_dequant_weights returns in the model
// dtype, a new tensor when the checkpoint is quantized). Each expected number is arithmetic written
// out here.
#include <doctest/doctest.h>

#include "core/capacity.h"
#include "presets_fixture.h"

using namespace kvplan;
using namespace kvplan::testing;

namespace {

FitResult planned(const char* name, std::uint32_t tp, const char* weights_dtype) {
  FitRequest request = request_with_weights(model(name), 32768, Parallelism{tp, 1, 1}, weights_dtype);
  request.options.kv_cache_memory = Bytes{20 * GiB};
  return fit(model(name), gpu("h200"), request);
}

}  // namespace

TEST_CASE("vLLM keeps a 16-bit copy of a quantized MLA kv_b_proj per layer") {
  // DeepSeek-V3's fp8 checkpoint at TP 8: 61 layers x kv_lora_rank 512 x 128 / 8 = 16 heads x
  // (qk_nope_head_dim 128 + v_head_dim 128) x 2 B = 255852544 B (244 MiB) per rank.
  CHECK(planned("deepseek-v3", 8, "auto").stages.front().mla_copies.value == 61ull * 512 * 16 * 256 * 2);
  // DeepSeek-V2-Lite quantized to fp8 by vLLM at TP 1: 27 x 512 x 16 x 256 x 2 B = 113246208 B.
  CHECK(planned("deepseek-v2-lite", 1, "fp8").stages.front().mla_copies.value == 27ull * 512 * 16 * 256 * 2);
  // In bf16 the views share the loaded weight: no copy.
  CHECK(planned("deepseek-v2-lite", 1, "auto").stages.front().mla_copies.value == 0);
  // GQA models have no kv_b_proj.
  CHECK(planned("llama-3.1-70b", 4, "fp8").stages.front().mla_copies.value == 0);
}

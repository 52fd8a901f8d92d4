// --engine sglang@X: SGLang's mem_fraction_static default by release (docs/engines-sglang.md,
// "14. Older releases"). G is nvidia-smi's total in MiB (H100 81559, H200 143771, RTX 4090 24564).
//
// Cross-checked: the values marked [run] are what each release's own code returned when its
// fraction-setting statements (server_args.py:_handle_gpu_memory_settings, or __post_init__ before
// 0.5.3; arg_groups/memory_hook.py from 0.5.19), taken from the release's wheel, were run with their
// imports stubbed and G passed in, the prefill-graph backend set as that release's compatibility
// rules resolve it (tools/sglang-oracle). The others are the same releases' arithmetic written out here.
#include <doctest/doctest.h>

#include "core/capacity.h"
#include "core/error.h"
#include "core/sglang_rules.h"
#include "presets_fixture.h"

using namespace kvplan;
using namespace kvplan::testing;

namespace {

double fraction(const char* model_name, const char* gpu_name, const char* version, Parallelism parallel = {},
                bool dp_attention = false) {
  FitRequest request = request_for(model(model_name), 8192, parallel, Engine::sglang);
  request.options.engine_version = version;
  request.options.dp_attention = dp_attention;
  if (dp_attention) request.attention_weight_bytes = 1e10;  // any split of the weights: the fraction ignores it
  request.options.kv_cache_memory = Bytes{10 * GiB};  // the fraction is resolved all the same
  request.weight_bytes_per_param = 1;
  return fit(model(model_name), gpu(gpu_name), request).mem_util;
}

}  // namespace

TEST_CASE("SGLang releases: a row per run of releases, release candidates with their release") {
  CHECK(sglang_rules("").current);
  CHECK(sglang_rules("0.5.23").current);
  CHECK(sglang_rules("0.5.2rc2").first == "0.4.7.post1");
  CHECK(sglang_rules("0.4.7.post1").last == "0.5.2");
  CHECK(sglang_rules("0.5.10.post1").first == "0.5.10");
  CHECK(sglang_rules("0.5.14").first == "0.5.13");  // its log line has the dtype, 0.5.12's not
  CHECK(sglang_rules("0.5.21").first == "0.5.20");
  CHECK(sglang_rules("0.5.4.post3").first == "0.5.3");  // a post-release of a row's last release
  CHECK(sglang_rules("0.5.1.post3").first == "0.4.7.post1");
  // Before 0.4.7.post1 the fraction came from a TP table that changed from post-release to
  // post-release; kvplan has not modelled it. Nor a release after 0.5.23, or a partial number.
  for (const char* unknown : {"0.4.7", "0.4.6.post5", "0.5.24", "0.5", "0.5.x", "latest", "0.5.3.dev1"}) {
    CHECK_THROWS_WITH_AS(sglang_rules(unknown), doctest::Contains("kvplan knows the rules of SGLang 0.5.23 (default), "
                                                                  "0.4.7.post1 to 0.5.22"),
                         Error);
  }
}

TEST_CASE("SGLang 0.5.2rc2 on 8 H100s: 0.831, as a real start-up log printed it") {
  // Grok-2 served with lmsysorg/sglang:v0.5.2rc2-cu126, "--tp 8 --quantization fp8" and no
  // --mem-fraction-static; the log's server_args: mem_fraction_static=0.831 (the blog post "Grok2
  // OnPrem Deployment via sglang", Sept 2025). 0.4.7.post1-0.5.2 reserve by G only:
  // R = (9.5 + TP 8 x PP 1 / 2) x 1024 = 13824; round((81559 - 13824) / 81559, 3) = round(0.83050) = 0.831.
  // The rule reads G, TP and PP alone, so any model at TP 8 shows it.
  CHECK(fraction("llama-3-70b", "h100-sxm", "0.5.2rc2", {8, 1, 1}) == doctest::Approx(0.831));
}

TEST_CASE("SGLang 0.5.8 on one H100: 0.835, as its documentation build printed it") {
  // SGLang's executed "Offline Engine API" notebook of 2026-02-05 (docs.sglang.ai; main between the
  // 0.5.8 and 0.5.9 wheels of 2026-01-23 and 2026-02-23): sgl.Engine(model_path="qwen/qwen2.5-0.5b-
  // instruct") on an H100 ("Use fa3 backend by default", TP 1) logs server_args mem_fraction_static=0.835.
  // sglang.test.doc_patch sets cuda_graph_max_bs = 4 only after __post_init__ has resolved the
  // fraction with the default 256: R = 512 + 1.5 x 8192 + 1 / 8 x 1024 + 2 x 256 = 13440, the
  // piecewise prefill graph still opt-in (enable_piecewise_cuda_graph=False in the same line);
  // round((81559 - 13440) / 81559, 3) = 0.835. The rule reads G and TP alone, so any model shows it.
  CHECK(fraction("llama-3.1-8b", "h100-sxm", "0.5.8") == doctest::Approx(0.835));
}

TEST_CASE("SGLang 0.5.10 on one H100: 0.830 with the piecewise prefill graph, as its documentation build printed it") {
  // The same notebook built on 2026-03-05 (main between the 0.5.9 and 0.5.10 wheels, already with
  // the piecewise prefill graph on by default, as 0.5.10 shipped it: disable_piecewise_cuda_graph=False,
  // 58 piecewise_cuda_graph_tokens, "Compiling num tokens ... 0/58"), one H100, TP 1: mem_fraction_static=0.83.
  // R = 13440 + 8 x 58 = 13904; round((81559 - 13904) / 81559, 3) = 0.830.
  CHECK(fraction("llama-3.1-8b", "h100-sxm", "0.5.10") == doctest::Approx(0.830));
  CHECK(fraction("llama-3.1-8b", "h100-sxm", "0.5.9") == doctest::Approx(0.835));  // a month earlier
}

TEST_CASE("SGLang's default fraction by release: Llama-3.1-8B on one H100, Llama-3.1-70B at TP 4, DeepSeek-V3 at TP 8 on H200s") {
  // 0.4.7.post1-0.5.2: R = (9.5 + TP / 2) x 1024 below 90 GiB, (12 + TP / 2) x 1024 below 160 GiB.
  // 8B: 10240 -> round(71319 / 81559, 3) = 0.874; 70B: 11776 -> 0.856; DSV3: 16384 -> 0.886.
  CHECK(fraction("llama-3.1-8b", "h100-sxm", "0.5.1") == doctest::Approx(0.874));                     // [run]
  CHECK(fraction("llama-3.1-70b", "h100-sxm", "0.4.10.post2", {4, 1, 1}) == doctest::Approx(0.856));  // [run]
  CHECK(fraction("deepseek-v3", "h200", "0.5.2", {8, 1, 1}) == doctest::Approx(0.886));               // [run]
  // 0.5.3-0.5.9: R = 512 + 1.5 x 8192 + TP / 8 x 1024 + 2 x max_bs (256 at TP < 4, 512 at TP >= 4):
  // 8B 13440 -> 0.835; 70B 14336 -> 0.824; DSV3 14848 -> round(128923 / 143771, 3) = 0.897.
  CHECK(fraction("llama-3.1-8b", "h100-sxm", "0.5.4") == doctest::Approx(0.835));                  // [run]
  CHECK(fraction("llama-3.1-70b", "h100-sxm", "0.5.6", {4, 1, 1}) == doctest::Approx(0.824));      // [run]
  CHECK(fraction("deepseek-v3", "h200", "0.5.6", {8, 1, 1}) == doctest::Approx(0.897));            // [run]
  // 0.5.10 on: the prefill graph's reserve, 8 x 58 sizes for MHA (464) or 1536 for MLA:
  // 8B 13904 -> 0.830; 70B 14800 -> 0.819; DSV3 16384 -> 0.886.
  CHECK(fraction("llama-3.1-8b", "h100-sxm", "0.5.10") == doctest::Approx(0.830));                 // [run]
  CHECK(fraction("llama-3.1-70b", "h100-sxm", "0.5.16", {4, 1, 1}) == doctest::Approx(0.819));     // [run]
  CHECK(fraction("deepseek-v3", "h200", "0.5.10", {8, 1, 1}) == doctest::Approx(0.886));           // [run]
  // 0.5.15-0.5.17 turn the breakable prefill graph off for MLA: DSV3 back to 14848, 0.897.
  CHECK(fraction("deepseek-v3", "h200", "0.5.16", {8, 1, 1}) == doctest::Approx(0.897));           // [run]
  CHECK(fraction("deepseek-v3", "h200", "0.5.17", {8, 1, 1}) == doctest::Approx(0.897));
  CHECK(fraction("deepseek-v3", "h200", "0.5.20", {8, 1, 1}) == doctest::Approx(0.886));           // [run]
}

TEST_CASE("SGLang releases: the prefill graph under PP and DP attention") {
  // Llama-3.1-70B at TP 4 x PP 2 on H100s: R = 512 + 12288 + 4 x 2 / 8 x 1024 + 2 x 512 = 14848
  // without the prefill graph (round(66711 / 81559, 3) = 0.818), 15312 with it (0.812).
  // 0.5.10-0.5.14 turn the piecewise graph off with PP (server_args.py:_handle_piecewise_cuda_graph,
  // _disable_tc_piecewise_cudagraph_if_incompatible); 0.5.15-0.5.18's breakable graph stays on;
  // 0.5.19 turns it off by default with PP (cuda_graph_hook.py:apply_cuda_graph_compatibility).
  CHECK(fraction("llama-3.1-70b", "h100-sxm", "0.5.12", {4, 2, 1}) == doctest::Approx(0.818));
  CHECK(fraction("llama-3.1-70b", "h100-sxm", "0.5.16", {4, 2, 1}) == doctest::Approx(0.812));
  CHECK(fraction("llama-3.1-70b", "h100-sxm", "0.5.18", {4, 2, 1}) == doctest::Approx(0.812));
  CHECK(fraction("llama-3.1-70b", "h100-sxm", "0.5.19", {4, 2, 1}) == doctest::Approx(0.818));
  // DeepSeek-V3, DP attention 8 on H200s. 0.4.7.post1-0.5.2 add a flat 4096: 16384 + 4096 = 20480,
  // round(123291 / 143771, 3) = 0.858. From 0.5.3: max_bs 512 x attn_dp 8 x 4.5 = 18432 on
  // 512 + 12288 + 1024 + 1024 = 14848: 33280 -> round(110491 / 143771, 3) = 0.769, with the MLA
  // prefill graph's 1536 where it is on: 34816 -> 0.758. 0.5.10-0.5.16 turn it off for DP attention,
  // 0.5.17 for MLA, 0.5.18 for neither.
  CHECK(fraction("deepseek-v3", "h200", "0.5.2", {8, 1, 1}, true) == doctest::Approx(0.858));
  CHECK(fraction("deepseek-v3", "h200", "0.5.9", {8, 1, 1}, true) == doctest::Approx(0.769));
  CHECK(fraction("deepseek-v3", "h200", "0.5.13", {8, 1, 1}, true) == doctest::Approx(0.769));
  CHECK(fraction("deepseek-v3", "h200", "0.5.17", {8, 1, 1}, true) == doctest::Approx(0.769));
  CHECK(fraction("deepseek-v3", "h200", "0.5.18", {8, 1, 1}, true) == doctest::Approx(0.758));
}

TEST_CASE("SGLang releases: the 20-35 GiB bucket (RTX 4090) changed in 0.5.5 and 0.5.20") {
  // Llama-3.1-8B on one RTX 4090 (G 24564), no 10240 floor below 60 GiB.
  // 0.4.7.post1-0.5.2: (2.8 + 1 / 10) x 1024 = 2969.6 -> round(21594.4 / 24564, 3) = 0.879.
  CHECK(fraction("llama-3.1-8b", "rtx-4090", "0.5.2") == doctest::Approx(0.879));
  // 0.5.3-0.5.4: chunk 2048, max_bs 16: 512 + 3072 + 128 + 32 = 3744 -> round(20820 / 24564, 3) = 0.848.
  CHECK(fraction("llama-3.1-8b", "rtx-4090", "0.5.4") == doctest::Approx(0.848));
  // 0.5.5-0.5.9: max_bs 24: 3760 -> 0.847.
  CHECK(fraction("llama-3.1-8b", "rtx-4090", "0.5.5") == doctest::Approx(0.847));
  // 0.5.10-0.5.19: + the prefill graph's sizes up to 2048 (8 + 14 + 8 + 8 + 4 = 42): 3760 + 336 = 4096 -> 0.833.
  CHECK(fraction("llama-3.1-8b", "rtx-4090", "0.5.19") == doctest::Approx(0.833));
  // 0.5.20 on: chunk 4096, max_bs 48, 50 sizes: 512 + 6144 + 128 + 96 + 400 = 7280 -> 0.704.
  CHECK(fraction("llama-3.1-8b", "rtx-4090", "0.5.20") == doctest::Approx(0.704));
}

TEST_CASE("Older SGLang releases plan plain full-attention pools and refuse the rest by name") {
  auto refused = [](const char* model_name, const char* gpu_name, FitRequest request, const char* message) {
    request.options.engine_version = "0.5.10";
    CHECK_THROWS_WITH_AS(fit(model(model_name), gpu(gpu_name), request), doctest::Contains(message), Error);
  };
  refused("gpt-oss-20b", "h100-sxm", request_for(model("gpt-oss-20b"), 8192, {}, Engine::sglang),
          "not their sliding-window layers");
  refused("llama-3.1-8b", "b200", request_for(model("llama-3.1-8b"), 8192, {}, Engine::sglang),
          "on NVIDIA Ampere, Ada and Hopper GPUs only");
  refused("mistral-small-3.1-24b", "h100-sxm", request_for(model("mistral-small-3.1-24b"), 8192, {2, 1, 1}, Engine::sglang),
          "not their multimodal defaults");
  FitRequest mtp = request_for(model("deepseek-v3"), 8192, {8, 1, 1}, Engine::sglang);
  mtp.include_mtp = true;
  refused("deepseek-v3", "h200", mtp, "not their speculative decoding");
  // SGLang before 0.5.1 asserts pp_size == 1 for MLA.
  FitRequest pp = request_for(model("deepseek-v3"), 8192, {8, 2, 1}, Engine::sglang);
  pp.options.engine_version = "0.4.10";
  pp.weight_bytes_per_param = 1;
  CHECK_THROWS_WITH_AS(fit(model("deepseek-v3"), gpu("h200"), pp), doctest::Contains("asserts pp_size == 1"), Error);
}

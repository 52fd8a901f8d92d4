// fit_start.h promises that fit_at(start_fit(...), ctx) is fit(...) at ctx: the same numbers, or
// the same refusal. Checked against fit itself over every model preset on GPUs of each vendor and
// generation, with and without TP/PP, for each engine and a V0 release of vLLM (whose default batch
// size depends on the context, so its start is not shared).
#include "core/fit_start.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "core/error.h"
#include "presets_fixture.h"

using namespace kvplan;
using kvplan::testing::registry;

namespace {

// fit's answer as text: its numbers and explanations, or its error's message.
std::string answer(const std::optional<FitResult>& result, const std::string& refusal) {
  if (!result) return "refused: " + refusal;
  std::string text = std::to_string(result->kv_budget.value) + " " + std::to_string(result->num_blocks) + " " +
                     std::to_string(result->blocks_per_request) + " " + std::to_string(result->kv_tokens) + " " +
                     std::to_string(result->max_concurrency) + " " + std::to_string(result->fleet_requests) + " " +
                     result->attention_backend + " " + std::to_string(result->block_size) + " " +
                     std::to_string(result->binding_stage) + " " + std::to_string(result->bytes_per_request_per_rank.value);
  for (const BudgetLine& line : result->budget) text += "\n" + line.item + ": " + std::to_string(line.bytes.value) + " " + line.rule;
  for (const std::string& note : result->notes) text += "\nnote: " + note;
  return text;
}

std::string answer_of_fit(const ModelShape& shape, const GpuSpec& gpu, const FitRequest& request) {
  try {
    return answer(fit(shape, gpu, request), "");
  } catch (const Error& e) {
    return answer(std::nullopt, e.what());
  }
}

}  // namespace

TEST_CASE("fit_at gives what fit gives, at every context, for every engine") {
  const std::vector<Tokens> contexts = {Tokens{0}, Tokens{1}, Tokens{4096}, Tokens{131072}, Tokens{1048576}};
  const std::vector<Parallelism> fleets = {{1, 1, 1}, {8, 1, 1}, {4, 2, 1}};
  std::uint64_t refusals = 0, results = 0;
  for (const char* engine : {"vllm", "vllm@0.6", "vllm@0.19", "sglang", "trtllm"}) {
    for (const io::ModelPreset* model : registry().models()) {
      for (const char* gpu_name : {"h100-sxm", "a100-80gb", "b200", "mi300x"}) {
        const GpuSpec& gpu = registry().gpu(gpu_name).spec;
        for (const Parallelism& parallel : fleets) {
          for (KvDtype dtype : {KvDtype::bf16, KvDtype::nvfp4}) {
            for (bool explanations : {true, false}) {
              FitRequest request = kvplan::testing::request_for(model->shape, 1, parallel);
              const EngineRelease release = parse_engine_release(engine);
              request.options.engine = release.engine;
              request.options.engine_version = release.version;
              request.kv_dtype = dtype;
              request.explanations = explanations;
              const FitStart start = start_fit(model->shape, gpu, request);
              for (Tokens ctx : contexts) {
                request.max_model_len = ctx;
                const FitOutcome outcome = fit_at(start, ctx);
                CAPTURE(engine);
                CAPTURE(model->info.name);
                CAPTURE(gpu_name);
                CAPTURE(parallel.tp);
                CAPTURE(parallel.pp);
                CAPTURE(ctx.value);
                CHECK(answer(outcome.result, outcome.refusal) == answer_of_fit(model->shape, gpu, request));
                ++(outcome.result ? results : refusals);
              }
            }
          }
        }
      }
    }
  }
  // Both kinds of answer were compared, not only one.
  CHECK(results > 1000);
  CHECK(refusals > 1000);
}

TEST_CASE("without explanations fit gives the same numbers and no budget lines or notes") {
  const ModelShape& shape = kvplan::testing::model("gemma-2-27b");  // hybrid: fit adds a note on its groups
  FitRequest request = kvplan::testing::request_for(shape, 32768, {2, 1, 1});
  const FitResult full = fit(shape, kvplan::testing::gpu("h100-sxm"), request);
  request.explanations = false;
  const FitResult lean = fit(shape, kvplan::testing::gpu("h100-sxm"), request);
  CHECK_FALSE(full.budget.empty());
  CHECK_FALSE(full.notes.empty());
  CHECK(lean.budget.empty());
  CHECK(lean.notes.empty());
  CHECK(lean.kv_tokens == full.kv_tokens);
  CHECK(lean.num_blocks == full.num_blocks);
  CHECK(lean.max_concurrency == full.max_concurrency);
  CHECK(lean.fleet_requests == full.fleet_requests);
}

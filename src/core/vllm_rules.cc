#include "core/vllm_rules.h"

#include <array>

#include "core/error.h"
#include "core/units.h"

namespace kvplan {
namespace {

// Newest first; the first row is what `--engine vllm` means. A row follows the last patch
// release of its minor version (0.10 = 0.10.2, 0.6 = 0.6.6.post1). docs/engines.md cites each
// value in the release's own code.
constexpr std::array<VllmRules, 4> kReleases{{
    {.version = "0.33",
     .gpu_memory_utilization = 0.92,
     .log_format = VllmLogFormat::one_line,
     .async_scheduling = true,
     .v2_model_runner = true,
     .grouping = VllmGrouping::strided,
     .chunked_hybrid = true,
     .sliding_in_flight = true,
     .fit_check = VllmFitCheck::group_blocks_null,
     .mla_blocks = VllmMlaBlockRule::backend_priorities,
     .mla_as_mha_head_size = 0,
     .state_layers = true,
     .sparse_mla = true,
     .kind_kv_heads = true,
     .decode_context_parallel = true,
     .batch = {.large_tier_min_gib = 160, .large = 16384, .serve_high = 8192, .offline_high = 16384,
               .serve_low = 2048, .offline_low = 8192},
     .profile = VllmProfileModel::rough,
     .cuda_graph_memory_subtracted = true,
     .non_torch = {},
     .mxfp4 = {.ampere = {.modelled = true, .backend = "MARLIN", .intermediate_align = 128, .hidden_align = 256, .bias_bytes = 2},
               .hopper = {.modelled = true, .backend = "TRITON", .intermediate_align = 64, .triton_layouts = true,
                          .value_pad = 1, .scale_group_align = 4},
               .blackwell = {.modelled = true, .backend = "FLASHINFER_TRTLLM_MXFP4_BF16", .intermediate_align = 128,
                             .hidden_align = 256}}},
    {.version = "0.19",
     .gpu_memory_utilization = 0.9,
     .log_format = VllmLogFormat::two_lines,
     .async_scheduling = true,
     .v2_model_runner = false,
     .grouping = VllmGrouping::strided,
     .chunked_hybrid = true,
     .sliding_in_flight = false,
     .fit_check = VllmFitCheck::group_blocks,
     .mla_blocks = VllmMlaBlockRule::backend_priorities,
     .mla_as_mha_head_size = 0,
     .state_layers = false,
     .sparse_mla = false,
     .decode_context_parallel = false,
     .batch = {.serve_high = 8192, .offline_high = 16384, .serve_low = 2048, .offline_low = 8192},
     .profile = VllmProfileModel::sampler_profile,
     .non_torch = {.single_gpu = kGiB / 4, .tensor_parallel = 21 * kGiB / 10, .pipeline_only = 7 * kGiB / 100,
                   .source = "vLLM 0.19.0 start-up logs on H100 (llm-d-planner accuracy runs: 0.24-0.27 GiB on one "
                             "GPU, 2.06-2.21 GiB at TP 2 and 4, 0.07 GiB at PP 2 and 4)"},
     .mxfp4 = {.ampere = {.modelled = true, .backend = "MARLIN", .intermediate_align = 128, .hidden_align = 256, .bias_bytes = 2},
               .hopper = {.modelled = true, .backend = "TRITON", .intermediate_align = 64, .triton_layouts = true,
                          .value_pad = 64, .scale_group_align = 2, .keeps_original_scales = true},
               .blackwell = {.modelled = true, .backend = "FLASHINFER_TRTLLM_MXFP4_BF16", .intermediate_align = 256,
                             .hidden_align = 256}}},
    {.version = "0.10",
     .gpu_memory_utilization = 0.9,
     .log_format = VllmLogFormat::two_lines,
     .async_scheduling = false,
     .v2_model_runner = false,
     .grouping = VllmGrouping::fewest_in_runs,
     .chunked_hybrid = false,
     .sliding_in_flight = false,
     .fit_check = VllmFitCheck::layer_sum,
     .mla_blocks = VllmMlaBlockRule::flashmla_or_cutlass,
     .mla_as_mha_head_size = 0,
     .state_layers = false,
     .sparse_mla = false,
     .decode_context_parallel = false,
     .batch = {.serve_high = 8192, .offline_high = 16384, .serve_low = 2048, .offline_low = 8192},
     .profile = VllmProfileModel::rough,
     .non_torch = {}},
    {.version = "0.6",
     .gpu_memory_utilization = 0.9,
     .log_format = VllmLogFormat::gpu_blocks,
     .async_scheduling = false,
     .v2_model_runner = false,
     .grouping = VllmGrouping::none,
     .chunked_hybrid = false,
     .sliding_in_flight = false,
     .fit_check = VllmFitCheck::gpu_blocks,
     .mla_blocks = VllmMlaBlockRule::flashmla_or_cutlass,
     .mla_as_mha_head_size = 256,
     .state_layers = false,
     .sparse_mla = false,
     .decode_context_parallel = false,
     .batch = {.seqs_high = 256, .v0_chunked_prefill = true},
     .profile = VllmProfileModel::rough,
     .non_torch = {}},
}};

}  // namespace

const VllmRules& vllm_rules(std::string_view version) {
  if (version.empty()) return kReleases.front();
  for (const VllmRules& rules : kReleases) {
    // "0.19.1" follows the 0.19 row: kvplan keeps one row per minor release.
    if (version == rules.version ||
        (version.size() > rules.version.size() && version.substr(0, rules.version.size()) == rules.version &&
         version[rules.version.size()] == '.')) {
      return rules;
    }
  }
  throw Error("--engine vllm@" + std::string(version) + ": kvplan knows the rules of vLLM " + known_vllm_versions() +
              "; pick the release whose rules yours shares (docs/engines.md lists what changed when)");
}

bool newest_vllm_release(std::string_view version) { return &vllm_rules(version) == &kReleases.front(); }

std::string known_vllm_versions() {
  std::string text;
  for (const VllmRules& rules : kReleases) {
    if (!text.empty()) text += ", ";
    text += rules.version;
    if (&rules == &kReleases.front()) text += " (default)";
  }
  return text;
}

}  // namespace kvplan

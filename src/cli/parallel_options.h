// fit's parallel layout: --gpus, --tp, --pp, --dp, --dcp and expert parallelism (--enable-expert-parallel,
// --ep), parsed into a Parallelism with the engine's expert span.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "cli/context.h"
#include "core/capacity.h"

namespace kvplan::cli {

struct ParallelOptions {
  std::string gpus, tp, pp, dp, dcp;
  bool expert_parallel = false;
  std::string ep;
  bool enable_eplb = false;       // --enable-eplb (vLLM)
  std::string redundant_experts;  // --num-redundant-experts (vLLM's eplb_config.num_redundant_experts)
};

void add_parallel_options(CLI::App& command, ParallelOptions& options);

// A count of ranks or tokens per block: 1 to 4096, else kvplan::Error naming `flag`.
std::uint32_t parse_small_count(const std::string& text, std::string_view flag);

// TP, PP, DP and DCP from the flags; --gpus alone is one replica over all of them. Throws
// kvplan::Error when --gpus disagrees with TP x PP x DP.
Parallelism resolve_parallelism(const ParallelOptions& options);

// --enable-expert-parallel / --ep N, and the experts' span over DP ranks that the engine implies.
// Throws kvplan::Error for a dense model, an EP size the engine would not take, or TensorRT-LLM.
void apply_expert_parallel(const ParallelOptions& options, const SelectedModel& model, FitRequest& request);

}  // namespace kvplan::cli

// `fit --offload cpu:SIZE --offload-backend native --link L`: the options and their plan.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "core/kv_offload.h"

namespace kvplan::cli {

struct OffloadOptions {
  std::string tiers;
  std::string backend;
  std::string link;
};

void add_offload_options(CLI::App& command, OffloadOptions& options);

// The plan when --offload is given; nullopt otherwise. Throws kvplan::Error (exit 2) for
// --link or --offload-backend without --offload, --offload without --link, and what
// plan_offload refuses.
std::optional<OffloadPlan> plan_offload_option(const OffloadOptions& options, const ModelShape& shape,
                                               const GpuSpec& gpu, const FitRequest& request, const FitResult& result);

}  // namespace kvplan::cli

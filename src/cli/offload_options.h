// `fit --offload cpu:SIZE[,disk:SIZE] --offload-backend native --link L [--disk-read BW --disk-dir D]`:
// the options and their plan.
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
  std::string disk_read;
  std::string disk_dir;
};

void add_offload_options(CLI::App& command, OffloadOptions& options);

// The plan when --offload is given; nullopt otherwise. Throws kvplan::Error (exit 2) for
// --link, --offload-backend, --disk-read or --disk-dir without --offload, --offload without --link,
// a disk tier without --disk-read, --disk-read or --disk-dir without a disk tier, and what
// plan_offload refuses.
std::optional<OffloadPlan> plan_offload_option(const OffloadOptions& options, const ModelShape& shape,
                                               const GpuSpec& gpu, const FitRequest& request, const FitResult& result);

}  // namespace kvplan::cli

#include "cli/offload_options.h"

#include "core/error.h"

namespace kvplan::cli {

void add_offload_options(CLI::App& command, OffloadOptions& options) {
  command.add_option("--offload", options.tiers,
                     "vLLM 0.33 native KV offloading to CPU: cpu:SIZE, the total over the TP ranks (vLLM's "
                     "--kv-offloading-size); prints the tokens it holds, reload vs recompute and the break-even context");
  command.add_option("--offload-backend", options.backend, "native (OffloadingConnector; lmcache is refused)");
  command.add_option("--link", options.link,
                     "Host link for --offload: pcie4 (32 GB/s), pcie5 (64 GB/s), c2c (450 GB/s), datasheet per "
                     "direction, or <N>GBps");
}

std::optional<OffloadPlan> plan_offload_option(const OffloadOptions& options, const ModelShape& shape,
                                               const GpuSpec& gpu, const FitRequest& request, const FitResult& result) {
  if (options.tiers.empty()) {
    if (!options.link.empty() || !options.backend.empty()) {
      throw Error("--link and --offload-backend describe --offload; give --offload cpu:SIZE too");
    }
    return std::nullopt;
  }
  OffloadRequest offload;
  offload.cpu = parse_offload_tiers(options.tiers);
  check_offload_backend(options.backend.empty() ? "native" : options.backend);
  if (options.link.empty()) throw Error("--offload needs --link (pcie4, pcie5, c2c or <N>GBps) for the reload time");
  offload.link = parse_link(options.link, LinkUse::host);
  return plan_offload(offload, shape, gpu, request, result);
}

}  // namespace kvplan::cli

#include "cli/offload_options.h"

#include "core/error.h"

namespace kvplan::cli {

void add_offload_options(CLI::App& command, OffloadOptions& options) {
  command.add_option("--offload", options.tiers,
                     "vLLM 0.33 KV offloading: cpu:SIZE, the total over the TP ranks (vLLM's --kv-offloading-size; "
                     "with --offload-backend lmcache the LMCache server's --l1-size-gb), and optionally disk:SIZE, the "
                     "space given to native offloading's file-system tier (TieringOffloadingSpec); prints the tokens "
                     "each holds, reload vs recompute and the break-even context");
  command.add_option("--offload-backend", options.backend,
                     "native (OffloadingConnector, the default) or lmcache (LMCacheMPConnector and an LMCache 0.5.6 "
                     "server whose CPU store, --l1-size-gb, is the cpu:SIZE of --offload)");
  command.add_option("--link", options.link,
                     "Host link for --offload: pcie4 (32 GB/s), pcie5 (64 GB/s), c2c (450 GB/s), datasheet per "
                     "direction, or <N>GBps");
  command.add_option("--disk-read", options.disk_read,
                     "Read bandwidth of the disk tier's drive, <N>GBps (no default: take it from the drive's datasheet "
                     "or a measurement)");
  command.add_option("--disk-dir", options.disk_dir, "The disk tier's root_dir, for --emit vllm");
}

std::optional<OffloadPlan> plan_offload_option(const OffloadOptions& options, const ModelShape& shape,
                                               const GpuSpec& gpu, const FitRequest& request, const FitResult& result) {
  if (options.tiers.empty()) {
    if (!options.link.empty() || !options.backend.empty() || !options.disk_read.empty() || !options.disk_dir.empty()) {
      throw Error("--link, --offload-backend, --disk-read and --disk-dir describe --offload; give --offload cpu:SIZE too");
    }
    return std::nullopt;
  }
  OffloadRequest offload;
  const OffloadTiers tiers = parse_offload_tiers(options.tiers);
  offload.cpu = tiers.cpu;
  offload.disk = tiers.disk;
  if (tiers.disk) {
    if (options.disk_read.empty()) {
      throw Error("--offload disk needs --disk-read <N>GBps, the drive's read bandwidth, for the reload time");
    }
    offload.disk_read = parse_bandwidth(options.disk_read, "--disk-read");
  } else if (!options.disk_read.empty() || !options.disk_dir.empty()) {
    throw Error("--disk-read and --disk-dir describe a disk tier; give --offload cpu:SIZE,disk:SIZE");
  }
  offload.backend = parse_offload_backend(options.backend.empty() ? "native" : options.backend);
  if (options.link.empty()) throw Error("--offload needs --link (pcie4, pcie5, c2c or <N>GBps) for the reload time");
  offload.link = parse_link(options.link, LinkUse::host);
  return plan_offload(offload, shape, gpu, request, result);
}

}  // namespace kvplan::cli

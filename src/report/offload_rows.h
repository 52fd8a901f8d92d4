// `fit --offload`: the CPU (and disk) tier's tokens, the time to reload one request's KV over the host link
// beside the bound on recomputing it, and the break-even context, as rows of the fit table.
#pragma once

#include <string>

#include "core/kv_offload.h"
#include "report/document.h"

namespace kvplan::report {

void add_offload_rows(Document& document, const OffloadPlan& plan, UnitSystem units);

// " --kv-offloading-size GiB --kv-offloading-backend native" for `--emit vllm`: vLLM takes the size in
// GiB as a float (cache.py) and multiplies it by 2^30, so the shortest exact decimal is printed.
// With a disk tier: " --kv-transfer-config '{...}'", TieringOffloadingSpec with one fs tier rooted
// at disk_dir, cpu_bytes_to_use in bytes.
std::string offload_launch_flags(const OffloadPlan& plan, const std::string& disk_dir);
// The LMCache server to start before vLLM (--offload-backend lmcache), or "".
std::string offload_server_command(const OffloadPlan& plan);

}  // namespace kvplan::report

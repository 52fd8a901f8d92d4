// Comma-separated list options and fleet specs, shared by sweep and report.
#include <optional>

#include "cli/context.h"
#include "core/error.h"

namespace kvplan::cli {

std::vector<std::string> split_list(const std::string& text, std::string_view flag) {
  std::vector<std::string> items;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    std::string item = text.substr(start, end - start);
    if (item.empty()) throw Error(std::string(flag) + ": empty item in '" + text + "'");
    items.push_back(item);
    start = end + 1;
  }
  return items;
}

SweepFleet parse_fleet(const std::string& text, Context& context, std::string_view option) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    std::size_t end = text.find(':', start);
    parts.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  const std::string flag = std::string(option) + " '" + text + "'";
  // Each count is bounded as fit's --gpus/--tp/--pp are, so TP x PP x DP cannot wrap.
  auto count = [&](const std::string& digits, const std::string& field) {
    std::uint64_t value = parse_count(digits, flag + " " + field);
    if (value > kMaxFleetGpus) {
      throw Error(flag + ": " + field + " " + digits + " is more than kvplan plans for (" + std::to_string(kMaxFleetGpus) + ")");
    }
    return value;
  };
  SweepFleet fleet;
  fleet.label = text;
  const io::GpuPreset& gpu = context.registry().gpu(parts[0]);
  fleet.gpu_name = gpu.info.name;
  fleet.gpu = &gpu.spec;
  std::uint64_t gpus = parts.size() > 1 ? count(parts[1], "GPU count") : 1;
  std::optional<std::uint64_t> tp, pp, dcp, dp, ep;
  const std::string expected = "expected GPU[:N[:tpT][:ppP][:dpD][:dcpC][:epE]], e.g. h100-sxm:8, h100-sxm:16:tp8:pp2, "
                               "h200:8:tp8:dcp8 or h200:8:dp8:ep8";
  for (std::size_t i = 2; i < parts.size(); ++i) {
    const std::string field = parts[i].rfind("dcp", 0) == 0 ? "dcp" : parts[i].substr(0, 2);
    std::optional<std::uint64_t>* slot = field == "tp"    ? &tp
                                         : field == "pp"  ? &pp
                                         : field == "dcp" ? &dcp
                                         : field == "dp"  ? &dp
                                         : field == "ep"  ? &ep
                                                          : nullptr;
    if (slot == nullptr) throw Error(flag + ": " + expected);
    if (*slot) throw Error(flag + ": " + field + " is given twice; give each of tp, pp, dp, dcp and ep once");
    *slot = count(parts[i].substr(field.size()), field);
  }
  const std::uint64_t stages = pp.value_or(1);
  if (dp && tp && gpus != *tp * stages * *dp) {
    throw Error(flag + ": " + std::to_string(gpus) + " GPUs are not TP x PP x DP = " +
                std::to_string(*tp * stages * *dp));
  }
  const std::uint64_t ranks = tp ? *tp : dp ? gpus / (stages * *dp) : gpus / stages;
  if (ranks == 0 || gpus % (ranks * stages) != 0) {
    throw Error(flag + ": " + std::to_string(gpus) + " GPUs are not a multiple of TP x PP");
  }
  fleet.parallel = Parallelism{static_cast<std::uint32_t>(ranks), static_cast<std::uint32_t>(stages),
                               static_cast<std::uint32_t>(gpus / (ranks * stages))};
  // DCP groups TP ranks: it adds no GPU, and the fit checks that it divides TP.
  fleet.parallel.dcp = static_cast<std::uint32_t>(dcp.value_or(1));
  if (ep) {
    // vLLM's expert-parallel group is every TP rank of every DP rank (fused_moe/config.py).
    const std::uint64_t expert_ranks = ranks * fleet.parallel.dp;
    if (*ep != expert_ranks) {
      throw Error(flag + ": ep" + std::to_string(*ep) + " is not TP x DP = " + std::to_string(expert_ranks) +
                  ", vLLM's expert-parallel size; write ep" + std::to_string(expert_ranks));
    }
    fleet.parallel.expert_parallel = true;
  }
  return fleet;
}

}  // namespace kvplan::cli

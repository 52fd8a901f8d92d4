// Comma-separated list options and fleet specs, shared by sweep and report.
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

SweepFleet parse_fleet(const std::string& text, Context& context) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    std::size_t end = text.find(':', start);
    parts.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  SweepFleet fleet;
  fleet.label = text;
  const io::GpuPreset& gpu = context.registry().gpu(parts[0]);
  fleet.gpu_name = gpu.info.name;
  fleet.gpu = &gpu.spec;
  std::uint64_t gpus = parts.size() > 1 ? parse_count(parts[1], "--gpus " + text) : 1;
  std::uint64_t tp = 0, pp = 1;
  for (std::size_t i = 2; i < parts.size(); ++i) {
    if (parts[i].rfind("tp", 0) == 0) tp = parse_count(parts[i].substr(2), "--gpus " + text + " tp");
    else if (parts[i].rfind("pp", 0) == 0) pp = parse_count(parts[i].substr(2), "--gpus " + text + " pp");
    else throw Error("--gpus: '" + text + "': expected GPU[:N[:tpT][:ppP]], e.g. h100-sxm:8 or h100-sxm:16:tp8:pp2");
  }
  if (tp == 0) tp = gpus / pp;
  if (tp == 0 || gpus > 4096 || gpus % (tp * pp) != 0) {
    throw Error("--gpus: '" + text + "': " + std::to_string(gpus) + " GPUs are not a multiple of TP x PP");
  }
  fleet.parallel = Parallelism{static_cast<std::uint32_t>(tp), static_cast<std::uint32_t>(pp),
                               static_cast<std::uint32_t>(gpus / (tp * pp))};
  return fleet;
}

}  // namespace kvplan::cli

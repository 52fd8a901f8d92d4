#include "core/links.h"

#include <array>
#include <cmath>
#include <exception>
#include <optional>

#include "core/error.h"

namespace kvplan {
namespace {

// Datasheet bandwidths per direction, not measurements:
// - PCIe 4.0 x16 is 16 GT/s x 16 lanes with 128b/130b coding, ~32 GB/s per direction; PCIe 5.0
//   x16 doubles it, ~64 GB/s; NVLink-C2C on GH200 is 900 GB/s total, 450 GB/s per direction.
// - NVLink 4 (H100/H200 SXM) is 900 GB/s total per GPU, 450 GB/s per direction.
// - Network links are line rates in bits: 400 Gb/s / 8 = 50 GB/s (InfiniBand NDR, one ConnectX-7
//   port), 200 Gb/s / 8 = 25 GB/s (RoCE 200GbE); protocol overhead only lowers them.
struct LinkPreset {
  std::string_view name;
  LinkUse use;
  double gb_per_s;
  std::string_view source;
};
constexpr std::array<LinkPreset, 6> kLinks{{
    {"pcie4", LinkUse::host, 32, "PCIe 4.0 x16, theoretical per direction (datasheet)"},
    {"pcie5", LinkUse::host, 64, "PCIe 5.0 x16, theoretical per direction (datasheet)"},
    {"c2c", LinkUse::host, 450, "NVLink-C2C on GH200, per direction (NVIDIA datasheet: 900 GB/s total)"},
    {"nvlink", LinkUse::network, 450, "NVLink 4 (H100/H200 SXM), per direction (NVIDIA datasheet: 900 GB/s total)"},
    {"ib-400g", LinkUse::network, 50, "InfiniBand NDR 400 Gb/s line rate = 50 GB/s per direction (datasheet)"},
    {"roce-200g", LinkUse::network, 25, "RoCE 200 Gb/s line rate = 25 GB/s per direction (datasheet)"},
}};

std::string preset_names(LinkUse use) {
  std::string names;
  for (const LinkPreset& preset : kLinks) {
    if (preset.use == use) names += std::string(preset.name) + ", ";  // "pcie4, pcie5, c2c, "
  }
  return names;
}

// <N>GBps: decimal GB/s per direction, 0 < N <= 10^6.
std::optional<Link> given_bandwidth(std::string_view text, std::string_view flag) {
  constexpr std::string_view suffix = "GBps";
  if (text.size() > suffix.size() && text.substr(text.size() - suffix.size()) == suffix) {
    const std::string number(text.substr(0, text.size() - suffix.size()));
    std::size_t used = 0;
    double gb = 0;
    try {
      gb = std::stod(number, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == number.size() && std::isfinite(gb) && gb > 0 && gb <= 1e6) {
      return Link{std::string(text), gb * 1e9, "given (" + std::string(flag) + ")"};
    }
  }
  return std::nullopt;
}

}  // namespace

Link parse_link(std::string_view text, LinkUse use, std::string_view flag) {
  for (const LinkPreset& preset : kLinks) {
    if (preset.use == use && text == preset.name) {
      return {std::string(preset.name), preset.gb_per_s * 1e9, std::string(preset.source)};
    }
  }
  if (std::optional<Link> given = given_bandwidth(text, flag)) return *given;
  throw Error(std::string(flag) + ": expected " + preset_names(use) + "or a bandwidth such as 100GBps (GB/s per direction), got '" +
              std::string(text) + "'");
}

Link parse_bandwidth(std::string_view text, std::string_view flag) {
  if (std::optional<Link> given = given_bandwidth(text, flag)) return *given;
  throw Error(std::string(flag) + ": expected a bandwidth such as 7GBps (GB/s), got '" + std::string(text) + "'");
}

}  // namespace kvplan

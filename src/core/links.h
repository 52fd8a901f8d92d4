// The links KV moves over, by their datasheet line rate per direction (not measured): host links
// for `fit --offload` (GPU <-> CPU memory) and GPU-to-GPU links for `disagg` (prefill -> decode).
// One table, so a figure is stated once.
#pragma once

#include <string>
#include <string_view>

namespace kvplan {

struct Link {
  std::string name;            // "pcie5", "ib-400g", or "<N>GBps" as given
  double bytes_per_s = 0;      // per direction
  std::string source;          // where the figure comes from
};

enum class LinkUse {
  host,     // GPU <-> CPU memory: pcie4, pcie5, c2c
  network,  // GPU <-> GPU between engine instances: nvlink, ib-400g, roce-200g
};

// A preset of `use`, or <N>GBps (decimal GB/s per direction, 0 < N <= 10^6). Throws kvplan::Error
// (exit 2) naming `flag` and the presets of `use`.
Link parse_link(std::string_view text, LinkUse use, std::string_view flag = "--link");

// <N>GBps only, for a device with no preset (a disk: drives differ tenfold). Throws kvplan::Error
// naming `flag`.
Link parse_bandwidth(std::string_view text, std::string_view flag);

}  // namespace kvplan

// libFuzzer target: any text as a fleet spec (`--gpus h100-sxm:16:tp8:pp2`, `h200:8:tp8:dcp8`). kvplan::Error is the
// expected answer to bad input; an accepted fleet must describe exactly its GPUs, within the
// limits, or the parser let a wrapped number through.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>

#include "cli/context.h"
#include "core/error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  // One context for the whole run: its registry parses each GPU preset once, as one kvplan
  // command does, instead of once per input.
  static std::ostringstream out, err;
  static kvplan::cli::Context context(out, err);
  try {
    kvplan::SweepFleet fleet = kvplan::cli::parse_fleet(text, context);
    const std::uint64_t tp = fleet.parallel.tp, pp = fleet.parallel.pp, dp = fleet.parallel.dp;
    if (tp == 0 || pp == 0 || dp == 0 || tp * pp * dp > kvplan::cli::kMaxFleetGpus) std::abort();
    // dcpN groups TP ranks: at least 1 and within the limits (the fit checks it divides TP).
    if (fleet.parallel.dcp == 0 || fleet.parallel.dcp > kvplan::cli::kMaxFleetGpus) std::abort();
  } catch (const kvplan::Error&) {
  }
  return 0;
}

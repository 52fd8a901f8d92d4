// A disaggregated prefill/decode plan at one ISL and over a sweep of ISLs, for one model on two
// pools: each pool fitted with vLLM's rules at ctx = ISL + OSL, then plan_disagg. Shared by
// `kvplan disagg` and the P:D section of `kvplan report`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/disagg.h"
#include "core/sweep.h"
#include "core/weights.h"

namespace kvplan {

struct DisaggSetup {
  const SweepFleet* prefill = nullptr;
  const SweepFleet* decode = nullptr;
  Link link;
  KvDtype kv_dtype = KvDtype::bf16;
  WeightsDtype weights;
  std::string prefill_flag = "--prefill";  // how errors name each pool
  std::string decode_flag = "--decode";
};

// The plan at `isl` prompt and `osl` output tokens. Throws kvplan::Error naming the pool
// ("--prefill h200:8: ...", with the setup's flags) when a pool cannot hold one request.
DisaggPlan plan_disagg_at(const ModelShape& shape, std::uint64_t isl, std::uint64_t osl, const DisaggSetup& setup);

// The ISLs of a sweep when none are given: 1k, 2k, 4k, ... 128k, those that leave room for
// `osl` output tokens in the model's context.
std::vector<std::uint64_t> default_disagg_isls(std::uint64_t osl, const ModelShape& shape);

struct DisaggSweep {
  std::vector<DisaggPlan> plans;     // in ISL order
  std::vector<std::string> skipped;  // "ISL 131072 left out: ..." for each ISL that does not fit
};

// Plans at each ISL (sorted, duplicates dropped). A longer ISL may not fit where a shorter one
// does: it is left out with the reason, and the sweep goes on.
DisaggSweep sweep_disagg(const ModelShape& shape, std::vector<std::uint64_t> isls, std::uint64_t osl,
                         const DisaggSetup& setup);

}  // namespace kvplan

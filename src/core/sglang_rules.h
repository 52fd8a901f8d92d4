// SGLang's KV-pool defaults by release, for --engine sglang@X. Each row covers a run of releases
// whose rules kvplan plans alike; docs/engines-sglang.md ("14. Older releases") cites each value in
// the releases' own code. Nothing else in the code checks an SGLang version.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/capacity.h"

namespace kvplan {

// How the default mem_fraction_static is found.
enum class SglangFraction {
  reserve_by_gpu,   // 0.4.7.post1-0.5.2: a flat reserve per GPU-size bucket, (9.5 + TP x PP / 2) GiB on an H100
  reserve_formula,  // 0.5.3 on: 512 + 1.5 x chunked prefill + TP x PP / 8 GiB + 2 x decode max_bs (+ graphs)
};

struct SglangRules {
  std::string_view first;  // the first and last release the row holds for
  std::string_view last;
  SglangFraction fraction;
  // The 20-35 GiB bucket of the memory table (0.5.3 on): chunked prefill, decode max_bs at TP < 4 / >= 4.
  std::uint64_t mid_chunk = 2048;
  std::uint32_t mid_max_bs_small_tp = 16;
  std::uint32_t mid_max_bs_large_tp = 80;
  // The prefill CUDA graph, on by default from 0.5.10, and what turns it off before the reserve.
  bool prefill_graph = false;
  bool prefill_graph_off_with_pp = false;
  bool prefill_graph_off_with_dp_attention = false;
  bool prefill_graph_off_with_mla = false;
  // "KV Cache is allocated. dtype: torch.bfloat16, #tokens: ..." (0.5.13 on); "#tokens: ..." before.
  bool log_dtype = true;
  // The newest row: the one whose every feature kvplan plans (multimodal models, state pools, drafts,
  // DCP, hybrid SWA pools, other GPUs than NVIDIA's Ampere, Ada and Hopper). Older rows plan plain
  // full-attention pools only and refuse the rest by name.
  bool current = false;
};

// The rules of `version` ("" = the newest kvplan knows); accepts 0.5.20, 0.5.10.post1, 0.5.2rc2.
// Throws kvplan::Error naming --engine for a release kvplan has not read.
const SglangRules& sglang_rules(std::string_view version);

// "0.5.23 (default), 0.4.7.post1 to 0.5.22": what --help and errors list.
std::string known_sglang_versions();

// Throws kvplan::Error (exit 2) for what an older row does not plan.
void check_sglang_release(const SglangRules& rules, std::string_view version, const ModelShape& shape,
                          const GpuSpec& gpu, const FitRequest& request);

}  // namespace kvplan

// SGLang's side of `kvplan fit`'s report: the lines its pools log at start-up and how the pool's
// token count follows from the KV memory.
#pragma once

#include <string>
#include <vector>

#include "core/capacity.h"

namespace kvplan::report {

// memory_pool.py:KVCache._finalize_allocation_log, one line per pool (and the state pool's first).
std::vector<std::string> sglang_log_lines(const FitRequest& request, const FitResult& result);

// The KV tokens' rule for --explain: the pool memory over the cell, to whole pages
// (pool_configurator.py), or the rows x dcp SGLang counts under decode context parallelism.
std::string sglang_tokens_rule(const FitRequest& request, const FitResult& result);

}  // namespace kvplan::report

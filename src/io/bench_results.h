// Reads the JSON that `kvplan bench --out` and bench/compare_torch.py write.
#pragma once

#include <string>

#include "core/bench_results.h"

namespace kvplan::io {

// Throws kvplan::Error naming the file and the field for unreadable or malformed files.
BenchResults read_bench_results(const std::string& path);

}  // namespace kvplan::io

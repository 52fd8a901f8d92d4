// The sequence lengths `kvplan bench --lengths` gives a decode batch. uniform: every sequence holds
// --ctx tokens. ragged: sequence b holds 1 + mix64(seed, b) mod ctx tokens (kernels/random_values.h's
// splitmix64 finaliser), uniform on [1, ctx] with a mean of about ctx / 2, the same for a seed on
// every machine: a batch whose sequences differ by up to --ctx, as a serving engine's do.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace kvplan::kernels {

enum class BenchLengths { uniform, ragged };

std::string_view to_string(BenchLengths lengths);

// `batch` lengths, each in [1, ctx] (ctx >= 1).
std::vector<std::int32_t> bench_lengths(BenchLengths lengths, int batch, int ctx, std::uint64_t seed);

}  // namespace kvplan::kernels

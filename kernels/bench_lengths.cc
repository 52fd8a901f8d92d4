#include "kernels/bench_lengths.h"

#include "kernels/random_values.h"

namespace kvplan::kernels {

std::string_view to_string(BenchLengths lengths) { return lengths == BenchLengths::uniform ? "uniform" : "ragged"; }

std::vector<std::int32_t> bench_lengths(BenchLengths lengths, int batch, int ctx, std::uint64_t seed) {
  std::vector<std::int32_t> out(static_cast<std::size_t>(batch), ctx);
  if (lengths == BenchLengths::ragged) {
    for (int b = 0; b < batch; ++b) {
      out[static_cast<std::size_t>(b)] = static_cast<std::int32_t>(1 + mix64(seed, static_cast<std::uint64_t>(b)) % static_cast<std::uint64_t>(ctx));
    }
  }
  return out;
}

}  // namespace kvplan::kernels

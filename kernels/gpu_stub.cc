// The GPU entry points in a build without CUDA: every one says so and exits 3.
#include "core/error.h"
#include "kernels/gpu.h"
#include "kernels/layer.h"

namespace kvplan::kernels {
namespace {

[[noreturn]] void no_cuda() {
  throw Error(
      "this kvplan was built without CUDA, so it cannot run kernels (rebuild with nvcc on PATH, "
      "-DKVPLAN_CUDA=ON; 'kvplan bench --dry-run --gpu G' prints the expected cost without a GPU)",
      ExitCode::cannot_run);
}

}  // namespace

bool built_with_cuda() { return false; }
GpuInfo open_gpu() { no_cuda(); }
GpuCeilings measure_ceilings(const GpuInfo&, int, const Progress&) { no_cuda(); }
DecodeBenchResult bench_decode(const GpuInfo&, const DecodeShape&, int, std::uint64_t, const Progress&) { no_cuda(); }
PhaseBenchResult bench_prefill(const GpuInfo&, const PrefillShape&, int, std::uint64_t, const Progress&) { no_cuda(); }
PhaseBenchResult bench_layer(const GpuInfo&, const LayerBenchShape&, int, std::uint64_t, const Progress&) { no_cuda(); }
MlaBenchResult bench_mla(const GpuInfo&, const MlaShape&, MlaPath, int, std::uint64_t, const Progress&) { no_cuda(); }

}  // namespace kvplan::kernels

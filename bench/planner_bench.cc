// How fast the planner answers. `kvplan size` must run as a whole process in well under 10 ms;
// these isolate the parts: the arithmetic, reading one embedded preset, and the whole command
// in-process (hyperfine times the process itself; see README.md).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <sstream>

#include "cli/run.h"
#include "core/kv_size.h"
#include "core/variant.h"
#include "io/preset_registry.h"

namespace {

void BM_SizeAllVariants(benchmark::State& state) {
  kvplan::io::PresetRegistry registry;
  const kvplan::ModelShape& shape = registry.model("deepseek-v2").shape;
  kvplan::SizeRequest request;
  request.ctx = kvplan::Tokens{131072};
  for (auto _ : state) {
    auto variants = kvplan::resolve_variants(kvplan::parse_variants("all"), shape);
    benchmark::DoNotOptimize(kvplan::compute_kv_size(shape, variants, request));
  }
}
BENCHMARK(BM_SizeAllVariants);

void BM_LoadOneEmbeddedPreset(benchmark::State& state) {
  for (auto _ : state) {
    kvplan::io::PresetRegistry registry;
    benchmark::DoNotOptimize(registry.model("deepseek-v2").shape.num_hidden_layers);
  }
}
BENCHMARK(BM_LoadOneEmbeddedPreset)->Unit(benchmark::kMicrosecond);

void BM_LoadAllEmbeddedPresets(benchmark::State& state) {
  for (auto _ : state) {
    kvplan::io::PresetRegistry registry;
    benchmark::DoNotOptimize(registry.models().size() + registry.gpus().size());
  }
}
BENCHMARK(BM_LoadAllEmbeddedPresets)->Unit(benchmark::kMicrosecond);

void BM_SizeCommandInProcess(benchmark::State& state) {
  const char* argv[] = {"kvplan", "size", "--model", "deepseek-v2", "--ctx", "128k"};
  for (auto _ : state) {
    std::ostringstream out, err;
    benchmark::DoNotOptimize(kvplan::cli::run(6, argv, out, err));
  }
}
BENCHMARK(BM_SizeCommandInProcess)->Unit(benchmark::kMicrosecond);

// The planner's speed target: a sweep of 10^4 rows in well under a second (< 0.3 s on 2 cores), here the
// whole command with CSV output: 17 models x 4 variants x 3 dtypes x 8 contexts x 9 fleets.
void BM_SweepCommand14688Rows(benchmark::State& state) {
  const char* argv[] = {"kvplan", "sweep", "--variants", "all", "--kv-dtypes", "bf16,fp8,nvfp4", "--ctx",
                        "2k,4k,8k,16k,32k,64k,128k,256k", "--gpus",
                        "h100-sxm:8,h200:8,b200:8,a100-80gb:8,h100-sxm:4,h200:4,mi300x:8,l40s:8,h100-sxm:8:tp4",
                        "--format", "csv"};
  for (auto _ : state) {
    std::ostringstream out, err;
    if (kvplan::cli::run(static_cast<int>(std::size(argv)), argv, out, err) != 0) state.SkipWithError(err.str().c_str());
    const std::string csv = out.str();
    state.counters["rows"] = static_cast<double>(std::count(csv.begin(), csv.end(), '\n') - 1);
  }
}
BENCHMARK(BM_SweepCommand14688Rows)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();

// How fast the planner answers. `kvplan size` must run as a whole process in well under 10 ms;
// these isolate the parts: the arithmetic, reading one embedded preset, and the whole command
// in-process (hyperfine times the process itself; see README.md).
#include <benchmark/benchmark.h>

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

}  // namespace

BENCHMARK_MAIN();

// How fast the planner answers. `kvplan size` must run as a whole process in well under 10 ms;
// these isolate the parts: the arithmetic, reading one embedded preset, and the whole command
// in-process (hyperfine times the process itself; see README.md).
#include <benchmark/benchmark.h>

#include <sys/resource.h>

#include <algorithm>
#include <cstdint>
#include <sstream>
#include <streambuf>
#include <string>

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

// Counts the lines written to it and keeps nothing, like stdout sent to a file.
class LineCounter : public std::streambuf {
 public:
  std::uint64_t lines = 0;

 protected:
  int_type overflow(int_type c) override {
    lines += c == '\n';
    return c;
  }
  std::streamsize xsputn(const char* text, std::streamsize size) override {
    lines += static_cast<std::uint64_t>(std::count(text, text + size, '\n'));
    return size;
  }
};

// Issue 13: a sweep of 10^6 rows streams them, in at most 3 s and 100 MB resident. All models
// (36 today) x 4 variants x 3 dtypes x 69 contexts x 72 fleets = 2146176 rows of CSV; --max-rows leaves
// room for more presets. The peak resident size of the whole process is checked after the run; over
// 100 MB fails the benchmark.
void BM_SweepMillionRowsStreamed(benchmark::State& state) {
  std::string contexts, fleets;
  for (int k = 1; k <= 69; ++k) contexts += (k > 1 ? "," : "") + std::to_string(k) + "k";
  for (const char* gpu : {"h100-sxm", "h200", "b200", "a100-80gb", "mi300x", "l40s", "h100-pcie", "a100-40gb", "rtx-4090"}) {
    for (const char* shape : {":1", ":2", ":4", ":8", ":8:tp4", ":8:tp2", ":16:tp8:pp2", ":4:tp2"}) {
      fleets += (fleets.empty() ? "" : ",") + std::string(gpu) + shape;
    }
  }
  const char* argv[] = {"kvplan", "sweep", "--variants", "all", "--kv-dtypes", "bf16,fp8,nvfp4", "--ctx", contexts.c_str(),
                        "--gpus", fleets.c_str(), "--format", "csv", "--max-rows", "4000000"};
  for (auto _ : state) {
    LineCounter counter;
    std::ostream out(&counter);
    std::ostringstream err;
    if (kvplan::cli::run(static_cast<int>(std::size(argv)), argv, out, err) != 0) state.SkipWithError(err.str().c_str());
    state.counters["rows"] = static_cast<double>(counter.lines - 1);
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const double peak_mb = static_cast<double>(usage.ru_maxrss) / 1024;  // ru_maxrss is in KiB on Linux
  state.counters["peak_rss_MB"] = peak_mb;
  if (peak_mb > 100) state.SkipWithError("peak resident memory over 100 MB");
}
BENCHMARK(BM_SweepMillionRowsStreamed)->Unit(benchmark::kSecond)->Iterations(1);

}  // namespace

BENCHMARK_MAIN();

// The decode and MLA decode kernels under Google Benchmark, for people who compare runs with its
// tools. Same kernels, problems and timing as `kvplan bench` (CUDA events, L2 flushed before each run,
// manual time), checked against the CPU reference before the first timed run. Counters: bytes
// and FLOPs per run (as kvplan bench counts them), so the report shows GB/s and FLOP/s.
// Needs a GPU; exits 77 without one.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>

#include "core/attention_cost.h"
#include "core/error.h"
#include "kernels/gpu.h"

namespace {

using kvplan::kernels::DecodeShape;
using kvplan::kernels::KvType;

kvplan::KvDtype planner_dtype(KvType type) {
  return type == KvType::fp16 ? kvplan::KvDtype::fp16
         : type == KvType::fp8_e4m3 ? kvplan::KvDtype::fp8_e4m3 : kvplan::KvDtype::bf16;
}

void BM_Decode(benchmark::State& state, const kvplan::kernels::GpuInfo& gpu, DecodeShape shape) {
  kvplan::kernels::DeviceDecodeProblem problem(gpu, shape, 1);
  kvplan::kernels::DeviceDecodeProblem::Check check = problem.check();
  if (!(check.rel_l2_error < kvplan::kernels::decode_error_threshold(shape.kv_type))) {
    state.SkipWithError("kernel failed its check against the CPU reference; not timed");
    return;
  }
  for (int i = 0; i < 3; ++i) problem.time_once();
  for (auto _ : state) state.SetIterationTime(problem.time_once());
  const kvplan::Variant variant{shape.n_kv_heads == shape.n_q_heads ? kvplan::VariantKind::mha
                                : shape.n_kv_heads == 1           ? kvplan::VariantKind::mqa
                                                                  : kvplan::VariantKind::gqa,
                                static_cast<std::uint32_t>(shape.n_kv_heads), static_cast<std::uint32_t>(shape.head_dim), 0, 0};
  kvplan::AttentionCost cost = kvplan::decode_attention_cost(
      {variant, static_cast<std::uint32_t>(shape.n_q_heads), static_cast<std::uint64_t>(shape.batch),
       kvplan::Tokens{static_cast<std::uint64_t>(shape.seq_lens[0])}, planner_dtype(shape.kv_type),
       static_cast<std::uint32_t>(shape.page_size)});
  state.counters["bytes"] = benchmark::Counter(static_cast<double>(cost.total.value), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["FLOP"] = benchmark::Counter(cost.flops, benchmark::Counter::kIsIterationInvariantRate);
  // The most pieces the schedule cut one sequence into.
  state.counters["splits"] = kvplan::kernels::schedule_balance(problem.plan().schedule).max_pieces_per_sequence;
  state.counters["rel_l2_error"] = check.rel_l2_error;
}

void BM_Mla(benchmark::State& state, const kvplan::kernels::GpuInfo& gpu, kvplan::kernels::MlaShape shape,
            kvplan::kernels::MlaPath path) {
  kvplan::kernels::DeviceMlaProblem problem(gpu, shape, path, 1);
  const kvplan::kernels::KernelCheck check = problem.check();
  if (!(check.rel_l2_error < kvplan::kernels::mla_error_threshold(shape.cache))) {
    state.SkipWithError("MLA path failed its check against the CPU reference; not timed");
    return;
  }
  for (int i = 0; i < 3; ++i) problem.time_once();
  for (auto _ : state) state.SetIterationTime(problem.time_once());
  kvplan::DecodeAttentionShape cost_shape{kvplan::Variant{kvplan::VariantKind::mla, 0, 0, 512, 64},
                                          static_cast<std::uint32_t>(shape.n_heads), static_cast<std::uint64_t>(shape.batch),
                                          kvplan::Tokens{static_cast<std::uint64_t>(shape.seq_lens[0])},
                                          shape.cache == kvplan::kernels::MlaCache::bf16 ? kvplan::KvDtype::bf16 : kvplan::KvDtype::fp8_ds_mla,
                                          static_cast<std::uint32_t>(shape.page_size), 128, 128};
  kvplan::AttentionCost cost = kvplan::mla_decode_cost(
      cost_shape, path == kvplan::kernels::MlaPath::naive ? kvplan::MlaDecodePath::naive : kvplan::MlaDecodePath::absorbed);
  state.counters["bytes"] = benchmark::Counter(static_cast<double>(cost.total.value), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["FLOP"] = benchmark::Counter(cost.flops, benchmark::Counter::kIsIterationInvariantRate);
  int most_pieces = 0;  // of one sequence, over the chunks' schedules
  for (const kvplan::kernels::SplitSchedule& schedule : problem.plan().schedules) {
    most_pieces = std::max(most_pieces, kvplan::kernels::schedule_balance(schedule).max_pieces_per_sequence);
  }
  state.counters["splits"] = most_pieces;
  state.counters["rel_l2_error"] = check.rel_l2_error;
}

}  // namespace

int main(int argc, char** argv) {
  kvplan::kernels::GpuInfo gpu;
  try {
    gpu = kvplan::kernels::open_gpu();
  } catch (const kvplan::Error& e) {
    std::printf("%s\n", e.what());
    return 77;
  }
  // Llama-3-8B's attention (32 query heads of 128) as MHA, GQA-8 and MQA, in each cache type, at
  // batch 1 x 128k (one sequence must fill the GPU through splits) and batch 64 x 4k.
  const std::pair<const char*, int> variants[] = {{"mha", 32}, {"gqa8", 8}, {"mqa", 1}};
  const std::pair<const char*, KvType> types[] = {{"bf16", KvType::bf16}, {"fp8", KvType::fp8_e4m3}};
  const std::pair<int, int> batches[] = {{1, 131072}, {64, 4096}};
  for (auto [variant, kv_heads] : variants) {
    for (auto [type_name, type] : types) {
      for (auto [batch, ctx] : batches) {
        DecodeShape shape{batch, 32, kv_heads, 128, type, 16, std::vector<int>(static_cast<std::size_t>(batch), ctx)};
        std::string name = std::string("decode/") + variant + "/" + type_name + "/b" + std::to_string(batch) + "/ctx" +
                           std::to_string(ctx);
        benchmark::RegisterBenchmark(name.c_str(), BM_Decode, gpu, shape)->UseManualTime()->Unit(benchmark::kMicrosecond)
            ->Iterations(50);
      }
    }
  }
  // DeepSeek-V3's MLA (128 heads): absorbed at batch 32 x 4k and 32k in both caches, and both paths
  // at batch 1 x 32k (the absorbed-vs-naive comparison).
  using kvplan::kernels::MlaCache;
  using kvplan::kernels::MlaPath;
  for (auto [cache_name, cache] : {std::pair{"bf16", MlaCache::bf16}, std::pair{"fp8_ds_mla", MlaCache::fp8_ds_mla}}) {
    for (auto [batch, ctx] : {std::pair{32, 4096}, std::pair{32, 32768}, std::pair{1, 32768}}) {
      for (MlaPath path : {MlaPath::absorbed, MlaPath::naive}) {
        if (path == MlaPath::naive && batch != 1) continue;
        kvplan::kernels::MlaShape shape{batch, 128, cache, 64, std::vector<int>(static_cast<std::size_t>(batch), ctx)};
        std::string name = std::string("mla/") + std::string(to_string(path)) + "/" + cache_name + "/b" + std::to_string(batch) +
                           "/ctx" + std::to_string(ctx);
        benchmark::RegisterBenchmark(name.c_str(), BM_Mla, gpu, shape, path)->UseManualTime()->Unit(benchmark::kMicrosecond)
            ->Iterations(20);
      }
    }
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

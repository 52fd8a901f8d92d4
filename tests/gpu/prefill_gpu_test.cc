// The CUDA prefill kernels and the layer on a real GPU, through the bench entry points, which check
// sampled rows against the double reference and the cache bit for bit before they time anything.
// Part of kvplan_gpu_tests (main in decode_gpu_test.cc: exit 77 without a device).
#include <doctest/doctest.h>

#include "kernels/gpu.h"
#include "kernels/layer.h"
#include "kernels/prefill_tiling.h"

using namespace kvplan::kernels;

namespace {

// Whether this GPU's shared memory holds the prefill tiles of a head-dim pair (99 KiB parts take
// 64/64 only; the launcher refuses the others).
bool fits(const GpuInfo& gpu, int d_qk, int d_v) { return prefill::smem_bytes(d_qk, d_v) <= gpu.smem_per_block_optin; }

void check(const PhaseBenchResult& result) {
  CHECK(result.correct);
  CHECK(result.rel_l2_error < result.threshold);
  CHECK(result.cache_mismatches == 0);
  CHECK(result.times_s.size() == 20);
}

}  // namespace

TEST_CASE("GPU prefill: ragged prompts off the tile edges, every head-dim pair and cache type") {
  GpuInfo gpu = open_gpu();
  const auto none = [](const std::string&) {};
  // MQA, 64, fp8 cache, contiguous.
  check(bench_prefill(gpu, {{777, 64}, 8, 1, 64, 64, KvType::fp8_e4m3, true, 0, false, 0}, 20, 2, none));
  if (fits(gpu, 128, 128)) {
    // GQA-4, 128: three prompts (129, 1, 1000 tokens), paged bf16 cache.
    check(bench_prefill(gpu, {{129, 1, 1000}, 8, 2, 128, 128, KvType::bf16, true, 16, false, 0}, 20, 1, none));
    // MHA, 128, fp16.
    check(bench_prefill(gpu, {{300}, 4, 4, 128, 128, KvType::fp16, true, 16, false, 0}, 20, 3, none));
  }
  if (fits(gpu, 192, 128)) {
    // MLA on decompressed heads with the 576-wide latent written in blocks of 64: bf16, and fp8,
    // whose latent rows are fp8_ds_mla (compared byte for byte with the host encoder).
    check(bench_prefill(gpu, {{513, 70}, 16, 16, 192, 128, KvType::bf16, false, 64, false, 576}, 20, 4, none));
    check(bench_prefill(gpu, {{513, 70}, 16, 16, 192, 128, KvType::fp8_e4m3, false, 64, false, 576}, 20, 7, none));
  }
}

TEST_CASE("GPU layer: GQA and MLA, each stage checked") {
  GpuInfo gpu = open_gpu();
  const auto none = [](const std::string&) {};
  LayerBenchShape gqa{{{1000}, 16, 4, 128, 128, KvType::bf16, true, 16, false, 0}, 2048, false, 0, 0};
  if (fits(gpu, 128, 128)) check(bench_layer(gpu, gqa, 20, 5, none));
  LayerBenchShape mla{{{700, 300}, 16, 16, 192, 128, KvType::bf16, false, 64, false, 576}, 2048, true, 512, 64};
  if (fits(gpu, 192, 128)) check(bench_layer(gpu, mla, 20, 6, none));
}

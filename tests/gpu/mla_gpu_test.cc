// The MLA decode paths on a real GPU, against the double reference and the host models, on random
// shapes with ragged lengths, poisoned spare rows and a NaN-poisoned output; and the bench harness
// at DeepSeek's shape. Runs in kvplan_gpu_tests, which exits 77 (skipped) without a device.
#include <cuda_runtime.h>
#include <doctest/doctest.h>

#include <random>

#include "kernels/gpu.h"
#include "kernels/kernels.h"
#include "kernels/mla_tiling.h"
#include "kernels/random_shapes.h"

using namespace kvplan::kernels;

namespace {

void check_cuda(cudaError_t status) { REQUIRE_MESSAGE(status == cudaSuccess, cudaGetErrorString(status)); }

struct Buffer {
  void* ptr = nullptr;
  Buffer(const void* host, std::size_t bytes) {
    check_cuda(cudaMalloc(&ptr, std::max<std::size_t>(bytes, 1)));
    if (host) check_cuda(cudaMemcpy(ptr, host, bytes, cudaMemcpyHostToDevice));
  }
  ~Buffer() { cudaFree(ptr); }
};

// This device's opt-in shared memory per block: the absorbed plan (and the host model, to take the
// same plan) must size its CTAs by it.
int device_smem() {
  int device = 0, bytes = 0;
  check_cuda(cudaGetDevice(&device));
  check_cuda(cudaDeviceGetAttribute(&bytes, cudaDevAttrMaxSharedMemoryPerBlockOptin, device));
  return bytes;
}

// Whether the absorbed kernel has a configuration for `shape` on this device (not on 99 KiB parts).
bool absorbed_fits(const MlaShape& shape) {
  return mla::heads_per_cta_for(shape.n_heads, shape.cache == MlaCache::fp8_ds_mla, device_smem()) > 0;
}

// Runs `path` on the problem's inputs; returns the output widened to double.
std::vector<double> run_on_gpu(HostMlaProblem& problem, MlaPath path, int num_sms, int naive_chunk) {
  const MlaLayout& layout = problem.layout();
  MlaParams host = problem.params();
  host.naive_chunk = naive_chunk;
  host.max_smem_per_cta = device_smem();
  Buffer q(host.q, layout.q_elements() * 2), w(host.w_kv_b, layout.w_elements() * 2), cache(host.kv_cache, layout.cache_bytes()),
      out(nullptr, layout.out_elements() * 2), table(layout.block_table.data(), layout.block_table.size() * 4),
      lens(host.seq_lens, layout.shape.seq_lens.size() * 4);
  const MlaPlan plan = plan_mla(host, host.seq_lens, path, num_sms);
  const std::vector<std::int32_t> schedules = plan.packed_schedules();
  Buffer workspace(nullptr, mla_workspace_bytes(host, path, plan)), schedule(schedules.data(), schedules.size() * 4);
  check_cuda(cudaMemset(out.ptr, 0xff, layout.out_elements() * 2));  // NaN
  MlaParams device = host;
  device.q = q.ptr;
  device.w_kv_b = w.ptr;
  device.kv_cache = cache.ptr;
  device.block_table = layout.block_table.empty() ? nullptr : static_cast<const std::int32_t*>(table.ptr);
  device.seq_lens = static_cast<const std::int32_t*>(lens.ptr);
  device.out = out.ptr;
  device.workspace = workspace.ptr;
  device.schedule = static_cast<const std::int32_t*>(schedule.ptr);
  launch_mla(device, path, plan, nullptr);
  check_cuda(cudaDeviceSynchronize());
  check_cuda(cudaMemcpy(host.out, out.ptr, layout.out_elements() * 2, cudaMemcpyDeviceToHost));
  return problem.output();
}

}  // namespace

TEST_CASE("GPU MLA paths match the reference and the host models on random shapes") {
  std::mt19937 rng(777);
  for (int round = 0; round < 24; ++round) {
    const MlaCache cache = round % 2 ? MlaCache::fp8_ds_mla : MlaCache::bf16;
    const MlaPath path = round % 4 < 2 ? MlaPath::absorbed : MlaPath::naive;
    MlaShape shape = kvplan::testing::random_mla_shape(rng, cache, path == MlaPath::absorbed ? 400000 : 20000);
    const int num_sms = round % 3 ? 132 : 8;
    const int naive_chunk = round % 5 == 0 ? 1 : 0;
    CAPTURE(round);
    CAPTURE(to_string(path));
    CAPTURE(to_string(shape.cache));
    CAPTURE(shape.n_heads);
    CAPTURE(shape.batch);
    CAPTURE(shape.page_size);
    HostMlaProblem problem(make_mla_layout(shape, rng(), 2));
    if (path == MlaPath::absorbed && !absorbed_fits(shape)) {
      MESSAGE("absorbed path skipped: this GPU's shared memory holds no configuration of it");
      continue;
    }
    const std::vector<double> gpu = run_on_gpu(problem, path, num_sms, naive_chunk);
    MlaParams host = problem.params();
    host.naive_chunk = naive_chunk;
    host.max_smem_per_cta = device_smem();
    const std::vector<double> want = mla_reference(host, {});
    mla_host_model(host, path, num_sms);
    const std::vector<double> model = problem.output();
    CHECK(relative_l2_error(gpu, want) < mla_error_threshold(shape.cache));
    // Same algorithm: exp2 and cuBLAS's summation order differ, which moves a few bf16 roundings
    // of the intermediates by one unit (2^-8 relative) and the output by well under 5e-3.
    CHECK(relative_l2_error(gpu, model) < 5e-3);
  }
}

TEST_CASE("bench_mla checks DeepSeek's shape at 32k before it times both paths") {
  GpuInfo gpu = open_gpu();
  for (MlaPath path : {MlaPath::absorbed, MlaPath::naive}) {
    for (MlaCache cache : {MlaCache::bf16, MlaCache::fp8_ds_mla}) {
      CAPTURE(to_string(path));
      CAPTURE(to_string(cache));
      const MlaShape shape{path == MlaPath::absorbed ? 32 : 1, 128, cache, 64,
                           std::vector<int>(path == MlaPath::absorbed ? 32 : 1, 32768)};
      if (path == MlaPath::absorbed && !absorbed_fits(shape)) continue;  // refused on this GPU (exit 3)
      MlaBenchResult result = bench_mla(gpu, shape, path, 20, 3, [](const std::string&) {});
      CHECK(result.correct);
      CHECK(result.times_s.size() == 20);
      CHECK(result.median_s > 0);
    }
  }
}

TEST_CASE("GPU naive path: a last, shorter chunk that splits more ways than the others") {
  // 16 heads on "4 SMs": chunks of 2 sequences need no split, the last sequence alone splits in 2.
  HostMlaProblem problem(make_mla_layout({3, 16, MlaCache::fp8_ds_mla, 64, {512, 10, 512}}, 5, 1));
  const std::vector<double> gpu = run_on_gpu(problem, MlaPath::naive, 4, 2);
  MlaParams host = problem.params();
  CHECK(relative_l2_error(gpu, mla_reference(host, {})) < mla_error_threshold(MlaCache::fp8_ds_mla));
}

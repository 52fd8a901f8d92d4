// The CUDA decode kernel on a real GPU, against the double reference and the host model, on
// random shapes with ragged lengths, poisoned spare pages and a NaN-poisoned output. Exits 77
// (ctest: skipped) on a machine without a CUDA device.
#define DOCTEST_CONFIG_IMPLEMENT
#include <cuda_runtime.h>
#include <doctest/doctest.h>

#include <cstdio>
#include <cstring>
#include <random>

#include "kernels/decode_problem.h"
#include "kernels/gpu.h"
#include "kernels/kernels.h"
#include "kernels/random_shapes.h"

using namespace kvplan::kernels;

namespace {

void check_cuda(cudaError_t status) { REQUIRE_MESSAGE(status == cudaSuccess, cudaGetErrorString(status)); }

struct Device {
  void* ptr = nullptr;
  explicit Device(std::size_t bytes) { check_cuda(cudaMalloc(&ptr, std::max<std::size_t>(bytes, 1))); }
  ~Device() { cudaFree(ptr); }
};

std::size_t bytes_of(std::size_t elements, KvType type) { return elements * static_cast<std::size_t>(element_bytes(type)); }

// Runs the kernel on the problem's inputs; returns the output widened to double.
std::vector<double> run_on_gpu(HostDecodeProblem& problem, int num_sms) {
  const DecodeLayout& layout = problem.layout();
  DecodeParams host = problem.params();
  const KvType kv = layout.shape.kv_type;
  Device q(bytes_of(layout.q_elements(), query_type(kv))), k(bytes_of(layout.cache_elements(), kv)),
      v(bytes_of(layout.cache_elements(), kv)), out(bytes_of(layout.q_elements(), query_type(kv))),
      table(layout.block_table.size() * 4), lens(layout.shape.seq_lens.size() * 4);
  const DecodePlan plan = plan_decode(host, host.seq_lens, num_sms);
  Device workspace(decode_workspace_bytes(host, plan)), schedule(plan.schedule.bytes());
  check_cuda(cudaMemcpy(schedule.ptr, plan.schedule.words.data(), plan.schedule.bytes(), cudaMemcpyHostToDevice));
  check_cuda(cudaMemcpy(q.ptr, host.q, bytes_of(layout.q_elements(), query_type(kv)), cudaMemcpyHostToDevice));
  check_cuda(cudaMemcpy(k.ptr, host.k_cache, bytes_of(layout.cache_elements(), kv), cudaMemcpyHostToDevice));
  check_cuda(cudaMemcpy(v.ptr, host.v_cache, bytes_of(layout.cache_elements(), kv), cudaMemcpyHostToDevice));
  check_cuda(cudaMemcpy(table.ptr, layout.block_table.data(), layout.block_table.size() * 4, cudaMemcpyHostToDevice));
  check_cuda(cudaMemcpy(lens.ptr, host.seq_lens, layout.shape.seq_lens.size() * 4, cudaMemcpyHostToDevice));
  check_cuda(cudaMemset(out.ptr, 0xff, bytes_of(layout.q_elements(), query_type(kv))));  // NaN
  DecodeParams device = host;
  device.q = q.ptr;
  device.k_cache = k.ptr;
  device.v_cache = v.ptr;
  device.block_table = layout.block_table.empty() ? nullptr : static_cast<const std::int32_t*>(table.ptr);
  device.seq_lens = static_cast<const std::int32_t*>(lens.ptr);
  device.out = out.ptr;
  device.workspace = static_cast<float*>(workspace.ptr);
  device.schedule = static_cast<const std::int32_t*>(schedule.ptr);
  launch_decode(device, plan, nullptr);
  check_cuda(cudaDeviceSynchronize());
  check_cuda(cudaMemcpy(host.out, out.ptr, bytes_of(layout.q_elements(), query_type(kv)), cudaMemcpyDeviceToHost));
  return problem.output();
}

}  // namespace

TEST_CASE("GPU decode kernel matches the reference and the host model on random shapes") {
  std::mt19937 rng(424242);
  const KvType types[] = {KvType::bf16, KvType::fp16, KvType::fp8_e4m3};
  for (int round = 0; round < 30; ++round) {
    DecodeShape shape = kvplan::testing::random_decode_shape(rng, types[round % 3], 3000);
    const int num_sms = round % 2 ? 132 : 8;
    CAPTURE(round);
    CAPTURE(to_string(shape.kv_type));
    CAPTURE(shape.head_dim);
    CAPTURE(shape.n_q_heads);
    CAPTURE(shape.n_kv_heads);
    CAPTURE(shape.page_size);
    HostDecodeProblem problem(make_decode_layout(shape, rng(), 2));
    std::vector<double> gpu = run_on_gpu(problem, num_sms);
    DecodeParams host = problem.params();
    std::vector<double> want = decode_reference(host, {});
    decode_host_model(host, num_sms);
    std::vector<double> model = problem.output();
    CHECK(relative_l2_error(gpu, want) < decode_error_threshold(shape.kv_type));
    // Same algorithm and order: only exp2 and rounding differ, far below the dtype's threshold.
    CHECK(relative_l2_error(gpu, model) < 1e-3);
  }
}

TEST_CASE("bench_decode checks a long context before it times it") {
  GpuInfo gpu = open_gpu();
  DecodeShape shape{1, 32, 8, 128, KvType::bf16, 16, {131072}};
  DecodeBenchResult result = bench_decode(gpu, shape, 20, 3, [](const std::string&) {});
  CHECK(result.correct);
  CHECK(schedule_balance(result.plan.schedule).max_pieces_per_sequence > 1);
  CHECK(result.times_s.size() == 20);
  CHECK(result.median_s > 0);
}

int main(int argc, char** argv) {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    std::puts("no CUDA device: GPU tests skipped");
    return 77;
  }
  doctest::Context context(argc, argv);
  return context.run();
}

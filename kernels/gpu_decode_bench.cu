// `kvplan bench --phase decode` on the device: fill a cache in place, check the kernel against the
// CPU reference on this very shape, and time it only if it is right.
#include <cuda_runtime.h>

#include <algorithm>
#include <string>

#include "core/error.h"
#include "kernels/cuda_util.cuh"
#include "kernels/gpu.h"
#include "kernels/numeric.h"

namespace kvplan::kernels {
namespace {

// Every (sequence, KV head) for small problems; for large ones the first and last sequence and
// the first and last KV head, each with all of its query heads.
std::vector<std::pair<int, int>> checked_slices(const DecodeShape& shape) {
  std::vector<std::pair<int, int>> slices;
  if (static_cast<long long>(shape.batch) * shape.n_kv_heads <= 16) {
    for (int b = 0; b < shape.batch; ++b) {
      for (int h = 0; h < shape.n_kv_heads; ++h) slices.emplace_back(b, h);
    }
    return slices;
  }
  for (int b : {0, shape.batch - 1}) {
    for (int h : {0, shape.n_kv_heads - 1}) {
      if (std::find(slices.begin(), slices.end(), std::make_pair(b, h)) == slices.end()) slices.emplace_back(b, h);
    }
  }
  return slices;
}

std::size_t device_bytes_needed(const DecodeLayout& layout, const DecodeParams& params, const DecodePlan& plan,
                                const GpuInfo& gpu) {
  const std::size_t cache = layout.cache_elements() * static_cast<std::size_t>(element_bytes(layout.shape.kv_type));
  return 2 * cache + 4 * layout.q_elements() + decode_workspace_bytes(params, plan) + 4 * layout.block_table.size() +
         plan.schedule.bytes() + 2 * gpu.l2_bytes;
}

}  // namespace

struct DeviceDecodeProblem::Impl {
  Impl(const GpuInfo& gpu_info, DecodeLayout decode_layout, DecodePlan decode_plan)
      : gpu(gpu_info),
        layout(std::move(decode_layout)),
        params(decode_params_for(layout)),
        plan(std::move(decode_plan)),
        cache_bytes(layout.cache_elements() * static_cast<std::size_t>(element_bytes(layout.shape.kv_type))),
        q(layout.q_elements() * 2),
        k(cache_bytes),
        v(cache_bytes),
        out(layout.q_elements() * 2),
        workspace(decode_workspace_bytes(params, plan)),
        table(layout.block_table.size() * sizeof(std::int32_t)),
        lens(layout.shape.seq_lens.size() * sizeof(std::int32_t)),
        schedule(plan.schedule.bytes()),
        timer(gpu.l2_bytes) {}

  GpuInfo gpu;
  DecodeLayout layout;
  DecodeParams params;
  DecodePlan plan;
  std::size_t cache_bytes;
  DeviceBuffer q, k, v, out, workspace, table, lens, schedule;
  EventTimer timer;
};

DeviceDecodeProblem::DeviceDecodeProblem(const GpuInfo& gpu, const DecodeShape& shape, std::uint64_t seed) {
  DecodeLayout layout = make_decode_layout(shape, seed);
  std::size_t free_bytes = 0, total_bytes = 0;
  cuda_check(cudaMemGetInfo(&free_bytes, &total_bytes), "cudaMemGetInfo");
  const DecodeParams sizes = decode_params_for(layout);
  DecodePlan plan = plan_decode(sizes, shape.seq_lens.data(), gpu.sms);
  const std::size_t need = device_bytes_needed(layout, sizes, plan, gpu);
  if (need > free_bytes) {
    throw Error("this shape needs " + std::to_string(need >> 20) + " MiB on the device and " +
                    std::to_string(free_bytes >> 20) + " MiB are free; lower --batch or --ctx",
                ExitCode::cannot_run);
  }
  impl_ = std::make_unique<Impl>(gpu, std::move(layout), std::move(plan));
  Impl& m = *impl_;
  fill_random_device(m.q.get(), m.layout.q_elements(), query_type(shape.kv_type), m.layout.q_seed());
  fill_random_device(m.k.get(), m.layout.cache_elements(), shape.kv_type, m.layout.k_seed());
  fill_random_device(m.v.get(), m.layout.cache_elements(), shape.kv_type, m.layout.v_seed());
  cuda_check(cudaMemcpy(m.table.get(), m.layout.block_table.data(), m.table.bytes(), cudaMemcpyHostToDevice), "block table");
  cuda_check(cudaMemcpy(m.lens.get(), shape.seq_lens.data(), m.lens.bytes(), cudaMemcpyHostToDevice), "seq_lens");
  cuda_check(cudaMemcpy(m.schedule.get(), m.plan.schedule.words.data(), m.schedule.bytes(), cudaMemcpyHostToDevice), "schedule");
  m.params.q = m.q.get();
  m.params.k_cache = m.k.get();
  m.params.v_cache = m.v.get();
  m.params.block_table = m.layout.block_table.empty() ? nullptr : m.table.as<std::int32_t>();
  m.params.seq_lens = m.lens.as<std::int32_t>();
  m.params.out = m.out.get();
  m.params.workspace = m.workspace.as<float>();
  m.params.schedule = m.schedule.as<std::int32_t>();
  cuda_check(cudaDeviceSynchronize(), "filling the cache");
}

DeviceDecodeProblem::~DeviceDecodeProblem() = default;

const DecodePlan& DeviceDecodeProblem::plan() const { return impl_->plan; }

std::uint64_t DeviceDecodeProblem::cache_bytes() const { return impl_->cache_bytes; }

DeviceDecodeProblem::Check DeviceDecodeProblem::check() {
  Impl& m = *impl_;
  const DecodeShape& shape = m.layout.shape;
  cuda_check(cudaMemset(m.out.get(), 0xff, m.out.bytes()), "poison output");  // 0xffff: NaN in bf16 and fp16
  launch_decode(m.params, m.plan, nullptr);
  cuda_check(cudaDeviceSynchronize(), "decode kernel");
  std::vector<std::uint16_t> got(m.layout.q_elements());
  cuda_check(cudaMemcpy(got.data(), m.out.get(), m.out.bytes(), cudaMemcpyDeviceToHost), "output");

  Check result;
  std::vector<double> got_rows, want_rows;
  const int group = shape.n_q_heads / shape.n_kv_heads;
  std::vector<std::string> names;
  for (auto [b, kv_head] : checked_slices(shape)) {
    HostDecodeProblem slice = HostDecodeProblem::slice(m.layout, b, kv_head);
    std::vector<double> want = decode_reference(slice.params(), {});
    want_rows.insert(want_rows.end(), want.begin(), want.end());
    for (int h = kv_head * group; h < (kv_head + 1) * group; ++h) names.push_back("sequence " + std::to_string(b) + " head " + std::to_string(h));
    const std::size_t first = (static_cast<std::size_t>(b) * shape.n_q_heads + kv_head * group) * shape.head_dim;
    for (std::size_t i = 0; i < want.size(); ++i) {
      got_rows.push_back(shape.kv_type == KvType::fp16 ? fp16_to_float(got[first + i]) : bf16_to_float(got[first + i]));
    }
    result.rows += group;
  }
  result.rel_l2_error = relative_l2_error(got_rows, want_rows);
  check_elements(got_rows, want_rows, shape.head_dim, names, decode_element_tolerance(shape.kv_type), result.elements);
  return result;
}

double DeviceDecodeProblem::time_once() {
  Impl& m = *impl_;
  return m.timer.seconds([&] { launch_decode(m.params, m.plan, nullptr); });
}

DecodeBenchResult bench_decode(const GpuInfo& gpu, const DecodeShape& shape, int iters, std::uint64_t seed,
                               const Progress& progress) {
  progress("filling K and V on the device");
  DeviceDecodeProblem problem(gpu, shape, seed);
  DecodeBenchResult result;
  result.plan = problem.plan();
  result.threshold = decode_error_threshold(shape.kv_type);
  progress("checking against the CPU reference");
  DeviceDecodeProblem::Check check = problem.check();
  result.checked_rows = check.rows;
  result.rel_l2_error = check.rel_l2_error;
  result.elements = check.elements;
  result.correct = check.rel_l2_error < result.threshold && check.elements.mismatches == 0;  // false for NaN too
  if (!result.correct) return result;

  progress("timing " + std::to_string(iters) + " runs");
  for (int i = 0; i < 3; ++i) problem.time_once();  // warm-up
  for (int i = 0; i < iters; ++i) result.times_s.push_back(problem.time_once());
  result.median_s = median(result.times_s);
  return result;
}

}  // namespace kvplan::kernels

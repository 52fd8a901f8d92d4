// `kvplan bench --phase decode` on the device: fill a cache in place, check the kernel against the
// CPU reference on this very shape, and time it only if it is right.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstring>
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

}  // namespace

DecodeBenchResult bench_decode(const GpuInfo& gpu, const DecodeShape& shape, int iters, std::uint64_t seed,
                               const Progress& progress) {
  const DecodeLayout layout = make_decode_layout(shape, seed);
  DecodeParams params = decode_params_for(layout);
  const std::size_t cache_bytes = layout.cache_elements() * static_cast<std::size_t>(element_bytes(shape.kv_type));
  const std::size_t q_bytes = layout.q_elements() * 2;
  const std::size_t workspace_bytes = decode_workspace_bytes(params, gpu.sms);
  std::size_t free_bytes = 0, total_bytes = 0;
  cuda_check(cudaMemGetInfo(&free_bytes, &total_bytes), "cudaMemGetInfo");
  const std::size_t need = 2 * cache_bytes + 2 * q_bytes + workspace_bytes + 2 * gpu.l2_bytes;
  if (need > free_bytes) {
    throw Error("this shape needs " + std::to_string(need >> 20) + " MiB on the device and " + std::to_string(free_bytes >> 20) +
                    " MiB are free; lower --batch or --ctx",
                ExitCode::cannot_run);
  }

  progress("filling " + std::to_string(cache_bytes >> 20) + " MiB of K and of V");
  DeviceBuffer q(q_bytes), k(cache_bytes), v(cache_bytes), out(q_bytes), workspace(workspace_bytes);
  DeviceBuffer table(layout.block_table.size() * sizeof(std::int32_t)), lens(shape.seq_lens.size() * sizeof(std::int32_t));
  fill_random_device(q.get(), layout.q_elements(), query_type(shape.kv_type), layout.q_seed());
  fill_random_device(k.get(), layout.cache_elements(), shape.kv_type, layout.k_seed());
  fill_random_device(v.get(), layout.cache_elements(), shape.kv_type, layout.v_seed());
  cuda_check(cudaMemcpy(table.get(), layout.block_table.data(), table.bytes(), cudaMemcpyHostToDevice), "block table");
  cuda_check(cudaMemcpy(lens.get(), shape.seq_lens.data(), lens.bytes(), cudaMemcpyHostToDevice), "seq_lens");
  params.q = q.get();
  params.k_cache = k.get();
  params.v_cache = v.get();
  params.block_table = layout.block_table.empty() ? nullptr : table.as<std::int32_t>();
  params.seq_lens = lens.as<std::int32_t>();
  params.out = out.get();
  params.workspace = workspace.as<float>();

  DecodeBenchResult result;
  result.plan = plan_decode(params, gpu.sms);
  result.threshold = decode_error_threshold(shape.kv_type);
  cuda_check(cudaMemset(out.get(), 0xff, q_bytes), "poison output");  // 0xffff is NaN in bf16 and fp16
  launch_decode(params, gpu.sms, nullptr);
  cuda_check(cudaDeviceSynchronize(), "decode kernel");
  std::vector<std::uint16_t> got(layout.q_elements());
  cuda_check(cudaMemcpy(got.data(), out.get(), q_bytes, cudaMemcpyDeviceToHost), "output");

  progress("checking against the CPU reference");
  std::vector<double> got_rows, want_rows;
  const int group = shape.n_q_heads / shape.n_kv_heads;
  for (auto [b, kv_head] : checked_slices(shape)) {
    HostDecodeProblem slice = HostDecodeProblem::slice(layout, b, kv_head);
    std::vector<double> want = decode_reference(slice.params(), {});
    want_rows.insert(want_rows.end(), want.begin(), want.end());
    const std::size_t first = (static_cast<std::size_t>(b) * shape.n_q_heads + kv_head * group) * shape.head_dim;
    for (std::size_t i = 0; i < want.size(); ++i) {
      got_rows.push_back(shape.kv_type == KvType::fp16 ? fp16_to_float(got[first + i]) : bf16_to_float(got[first + i]));
    }
    result.checked_rows += group;
  }
  result.rel_l2_error = relative_l2_error(got_rows, want_rows);
  result.correct = result.rel_l2_error < result.threshold;  // false for NaN too
  if (!result.correct) return result;

  progress("timing " + std::to_string(iters) + " runs");
  result.times_s = time_runs([&] { launch_decode(params, gpu.sms, nullptr); }, iters, gpu.l2_bytes);
  result.median_s = median(result.times_s);
  return result;
}

}  // namespace kvplan::kernels

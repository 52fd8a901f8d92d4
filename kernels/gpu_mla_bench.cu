// `kvplan bench --variant mla` on the device: fill an MLA problem in place, check a path against the
// CPU reference on this very shape, and time it only if it is right.
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <string>

#include "core/error.h"
#include "kernels/cuda_util.cuh"
#include "kernels/gpu.h"
#include "kernels/mla_values.h"
#include "kernels/numeric.h"

namespace kvplan::kernels {
namespace {

__global__ void fill_weights_kernel(__nv_bfloat16* w, std::size_t count, std::uint64_t seed) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    w[i] = __float2bfloat16_rn(mla::w_value(seed, i));
  }
}

// One fp8_ds_mla row per thread: 512 codes, 4 scales, 64 bf16 RoPE dims.
__global__ void fill_fp8_ds_mla_kernel(std::uint8_t* cache, std::size_t rows, std::uint64_t seed) {
  for (std::size_t row = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; row < rows;
       row += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    std::uint8_t* bytes = cache + row * mla::kFp8RowBytes;
    for (int c = 0; c < mla::kLatentDim; ++c) bytes[c] = mla::fp8_code(seed, row, c);
    for (int k = 0; k < mla::kLatentDim / mla::kFp8ScaleTile; ++k) {
      reinterpret_cast<float*>(bytes + mla::kFp8ScaleOffset)[k] = mla::fp8_scale(seed, row, k);
    }
    for (int i = 0; i < mla::kRopeDim; ++i) {
      reinterpret_cast<__nv_bfloat16*>(bytes + mla::kFp8RopeOffset)[i] = __float2bfloat16_rn(mla::fp8_rope(seed, row, i));
    }
  }
}

// Every (sequence, head) of small problems; the first and last sequence x first and last head otherwise.
std::vector<MlaRow> checked_rows(const MlaShape& shape) {
  std::vector<MlaRow> rows;
  const bool all = static_cast<long long>(shape.batch) * shape.n_heads <= 64;
  for (int b = 0; b < shape.batch; ++b) {
    if (!all && b != 0 && b != shape.batch - 1) continue;
    for (int h = 0; h < shape.n_heads; ++h) {
      if (all || h == 0 || h == shape.n_heads - 1) rows.push_back({b, h});
    }
  }
  return rows;
}

}  // namespace

struct DeviceMlaProblem::Impl {
  Impl(const GpuInfo& gpu_info, MlaLayout mla_layout, MlaPath mla_path, int naive_chunk)
      : gpu(gpu_info),
        layout(std::move(mla_layout)),
        path(mla_path),
        params(params_for(gpu_info, layout, naive_chunk)),
        plan(plan_mla(params, layout.shape.seq_lens.data(), path, gpu.sms)),
        q(layout.q_elements() * 2),
        w(layout.w_elements() * 2),
        cache(layout.cache_bytes()),
        out(layout.out_elements() * 2),
        workspace(mla_workspace_bytes(params, path, plan)),
        table(layout.block_table.size() * sizeof(std::int32_t)),
        lens(layout.shape.seq_lens.size() * sizeof(std::int32_t)),
        schedule(plan.packed_schedules().size() * sizeof(std::int32_t)),
        timer(gpu.l2_bytes) {}

  static MlaParams params_for(const GpuInfo& gpu, const MlaLayout& layout, int naive_chunk) {
    MlaParams p = mla_params_for(layout);
    p.naive_chunk = naive_chunk;
    p.max_smem_per_cta = gpu.smem_per_block_optin;
    return p;
  }

  GpuInfo gpu;
  MlaLayout layout;
  MlaPath path;
  MlaParams params;
  MlaPlan plan;
  DeviceBuffer q, w, cache, out, workspace, table, lens, schedule;
  EventTimer timer;
};

DeviceMlaProblem::DeviceMlaProblem(const GpuInfo& gpu, const MlaShape& shape, MlaPath path, std::uint64_t seed) {
  MlaLayout layout = make_mla_layout(shape, seed);
  std::size_t free_bytes = 0, total_bytes = 0;
  cuda_check(cudaMemGetInfo(&free_bytes, &total_bytes), "cudaMemGetInfo");
  MlaParams params = mla_params_for(layout);
  params.max_smem_per_cta = gpu.smem_per_block_optin;
  const std::size_t inputs = layout.cache_bytes() + 2 * (layout.q_elements() + layout.w_elements() + layout.out_elements()) +
                             4 * (layout.block_table.size() + shape.seq_lens.size()) + 2 * gpu.l2_bytes;
  auto need = [&] {
    const MlaPlan plan = plan_mla(params, shape.seq_lens.data(), path, gpu.sms);
    return inputs + mla_workspace_bytes(params, path, plan) + plan.packed_schedules().size() * sizeof(std::int32_t);
  };
  if (path == MlaPath::naive) {
    // As many sequences per up-projection pass as leave a tenth of the free memory unused.
    params.naive_chunk = shape.batch;
    while (params.naive_chunk > 1 && need() > free_bytes / 10 * 9) params.naive_chunk = (params.naive_chunk + 1) / 2;
  }
  if (need() > free_bytes) {
    throw Error("the " + std::string(to_string(path)) + " MLA path needs " + std::to_string(need() >> 20) +
                    " MiB on the device for this shape and " + std::to_string(free_bytes >> 20) +
                    " MiB are free; lower --batch or --ctx",
                ExitCode::cannot_run);
  }
  impl_ = std::make_unique<Impl>(gpu, std::move(layout), path, params.naive_chunk);
  Impl& m = *impl_;
  fill_random_device(m.q.get(), m.layout.q_elements(), KvType::bf16, m.layout.q_seed());
  fill_weights_kernel<<<1024, 256>>>(m.w.as<__nv_bfloat16>(), m.layout.w_elements(), m.layout.w_seed());
  check_launch("fill_weights_kernel");
  if (shape.cache == MlaCache::bf16) {
    fill_random_device(m.cache.get(), m.layout.cache_rows() * mla::kRowDim, KvType::bf16, m.layout.cache_seed());
  } else {
    fill_fp8_ds_mla_kernel<<<1024, 256>>>(m.cache.as<std::uint8_t>(), m.layout.cache_rows(), m.layout.cache_seed());
    cuda_check(cudaGetLastError(), "fill_fp8_ds_mla_kernel");
  }
  cuda_check(cudaMemcpy(m.table.get(), m.layout.block_table.data(), m.table.bytes(), cudaMemcpyHostToDevice), "block table");
  cuda_check(cudaMemcpy(m.lens.get(), shape.seq_lens.data(), m.lens.bytes(), cudaMemcpyHostToDevice), "seq_lens");
  cuda_check(cudaMemcpy(m.schedule.get(), m.plan.packed_schedules().data(), m.schedule.bytes(), cudaMemcpyHostToDevice), "schedules");
  m.params.q = m.q.get();
  m.params.w_kv_b = m.w.get();
  m.params.kv_cache = m.cache.get();
  m.params.block_table = m.layout.block_table.empty() ? nullptr : m.table.as<std::int32_t>();
  m.params.seq_lens = m.lens.as<std::int32_t>();
  m.params.out = m.out.get();
  m.params.workspace = m.workspace.get();
  m.params.schedule = m.schedule.as<std::int32_t>();
  cuda_check(cudaDeviceSynchronize(), "filling the MLA problem");
}

DeviceMlaProblem::~DeviceMlaProblem() = default;

const MlaPlan& DeviceMlaProblem::plan() const { return impl_->plan; }

KernelCheck DeviceMlaProblem::check() {
  Impl& m = *impl_;
  const MlaShape& shape = m.layout.shape;
  cuda_check(cudaMemset(m.out.get(), 0xff, m.out.bytes()), "poison output");  // 0xffff: NaN in bf16
  launch_mla(m.params, m.path, m.plan, nullptr);
  cuda_check(cudaDeviceSynchronize(), "MLA decode");
  std::vector<std::uint16_t> got(m.layout.out_elements());
  cuda_check(cudaMemcpy(got.data(), m.out.get(), m.out.bytes(), cudaMemcpyDeviceToHost), "output");

  KernelCheck result;
  std::vector<double> got_rows, want_rows;
  std::vector<std::string> names;
  const std::vector<MlaRow> rows = checked_rows(shape);
  for (std::size_t first = 0; first < rows.size();) {
    // The rows of one sequence against a host copy of that sequence alone.
    const int b = rows[first].batch_index;
    std::size_t last = first;
    std::vector<MlaRow> slice_rows;
    while (last < rows.size() && rows[last].batch_index == b) slice_rows.push_back({0, rows[last++].head});
    HostMlaProblem slice = HostMlaProblem::slice(m.layout, b);
    const std::vector<double> want = mla_reference(slice.params(), slice_rows);
    want_rows.insert(want_rows.end(), want.begin(), want.end());
    for (const MlaRow& row : slice_rows) {
      names.push_back("sequence " + std::to_string(b) + " head " + std::to_string(row.head));
      const std::size_t offset = (static_cast<std::size_t>(b) * shape.n_heads + row.head) * mla::kVDim;
      for (int v = 0; v < mla::kVDim; ++v) got_rows.push_back(bf16_to_float(got[offset + v]));
    }
    result.rows += static_cast<int>(slice_rows.size());
    first = last;
  }
  result.rel_l2_error = relative_l2_error(got_rows, want_rows);
  check_elements(got_rows, want_rows, mla::kVDim, names, mla_element_tolerance(), result.elements);
  return result;
}

double DeviceMlaProblem::time_once() {
  Impl& m = *impl_;
  return m.timer.seconds([&] { launch_mla(m.params, m.path, m.plan, nullptr); });
}

MlaBenchResult bench_mla(const GpuInfo& gpu, const MlaShape& shape, MlaPath path, int iters, std::uint64_t seed,
                         const Progress& progress) {
  progress("filling q, kv_b_proj and the latent cache on the device");
  DeviceMlaProblem problem(gpu, shape, path, seed);
  MlaBenchResult result;
  result.plan = problem.plan();
  result.threshold = mla_error_threshold(shape.cache);
  progress("checking against the CPU reference");
  const KernelCheck check = problem.check();
  result.checked_rows = check.rows;
  result.rel_l2_error = check.rel_l2_error;
  result.elements = check.elements;
  result.correct = check.rel_l2_error < result.threshold && check.elements.mismatches == 0;  // false for NaN too
  if (!result.correct) return result;

  progress("timing " + std::to_string(iters) + " runs");
  for (int i = 0; i < 3; ++i) problem.time_once();  // warm-up: module load, cuBLAS handle and heuristics
  for (int i = 0; i < iters; ++i) result.times_s.push_back(problem.time_once());
  result.median_s = median(result.times_s);
  return result;
}

}  // namespace kvplan::kernels

// `kvplan bench --phase prefill` on the device: fill q/k/v (and MLA's latent) in place, run the
// kernels once with the output and the caches poisoned, check sampled rows against the CPU
// reference (pooled, and per element: kernels/element_check.h) and the cache rows of the first and
// last sequence and KV head against the inputs bit for bit, and time the kernels only if
// everything is right.
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <string>

#include "core/error.h"
#include "kernels/cuda_util.cuh"
#include "kernels/gpu.h"
#include "kernels/numeric.h"
#include "kernels/prefill_device.cuh"
#include "kernels/prefill_tensors.h"

namespace kvplan::kernels {
namespace {

std::vector<int> first_and_last(int count) { return count > 1 ? std::vector<int>{0, count - 1} : std::vector<int>{0}; }

// Host copies of one sequence's rows of one head, rebuilt from the random-value function.
std::vector<std::uint16_t> host_rows(KvType type, std::uint64_t seed, int first_token, int len, int heads, int head, int dim) {
  std::vector<std::uint16_t> rows(static_cast<std::size_t>(len) * dim);
  for (int t = 0; t < len; ++t) {
    const std::size_t from = (static_cast<std::size_t>(first_token + t) * heads + head) * dim;
    for (int i = 0; i < dim; ++i) rows[static_cast<std::size_t>(t) * dim + i] = random_element(type, seed, from + i);
  }
  return rows;
}

// Compares the cache rows of (sequence b, head) with the input rows they were written from,
// fetching the cache page by page.
struct CacheChecker {
  const DecodeParams view;     // block table on the host, page geometry
  const void* device_cache;
  KvType type;
  float inverse_scale;
  std::map<std::int64_t, std::vector<std::uint8_t>> pages;

  std::uint8_t* page(std::int64_t id) {
    auto [it, fresh] = pages.try_emplace(id);
    if (fresh) {
      const std::size_t bytes = static_cast<std::size_t>(view.page_size) * view.n_kv_heads * view.head_dim * element_bytes(type);
      it->second.resize(bytes);
      cuda_check(cudaMemcpy(it->second.data(), static_cast<const std::uint8_t*>(device_cache) + id * bytes, bytes,
                            cudaMemcpyDeviceToHost), "cache page");
    }
    return it->second.data();
  }

  // Returns the number of mismatching elements among len * head_dim.
  std::int64_t compare(int b, int len, int head, const std::vector<std::uint16_t>& inputs, KvType input_type) {
    std::int64_t bad = 0;
    const std::size_t page_elements = static_cast<std::size_t>(view.page_size) * view.n_kv_heads * view.head_dim;
    for (int t = 0; t < len; ++t) {
      const std::size_t at = kv_row_offset(view, b, t, head);
      const std::uint8_t* bytes = page(static_cast<std::int64_t>(at / page_elements));
      const std::size_t in_page = at % page_elements;
      for (int i = 0; i < view.head_dim; ++i) {
        const std::uint16_t input = inputs[static_cast<std::size_t>(t) * view.head_dim + i];
        if (type == KvType::fp8_e4m3) {
          bad += bytes[in_page + i] != float_to_e4m3(load_element(&input, 0, input_type) * inverse_scale);
        } else {
          std::uint16_t got;
          std::memcpy(&got, bytes + 2 * (in_page + i), 2);
          bad += got != input;
        }
      }
    }
    return bad;
  }
};

// Bytes of sequence b's latent rows that differ from encode_latent_row() of their inputs (an
// fp8_ds_mla row is compared whole: codes, scales and RoPE dims).
std::int64_t latent_mismatches(const LatentCacheParams& l, int b, int len, const std::vector<std::uint16_t>& inputs) {
  const auto row_bytes = static_cast<std::size_t>(latent_row_bytes(l));
  std::vector<std::uint8_t> want(row_bytes), got(row_bytes);
  const DecodeParams view = cache_view(l);
  std::int64_t bad = 0;
  for (int t = 0; t < len; ++t) {
    encode_latent_row(l, inputs.data() + static_cast<std::size_t>(t) * l.width, want.data());
    const std::size_t row = kv_row_offset(view, b, t, 0) / static_cast<std::size_t>(l.width);
    cuda_check(cudaMemcpy(got.data(), static_cast<const std::uint8_t*>(l.cache) + row * row_bytes, row_bytes, cudaMemcpyDeviceToHost),
               "latent cache row");
    for (std::size_t i = 0; i < row_bytes; ++i) bad += got[i] != want[i];
  }
  return bad;
}

}  // namespace

PhaseBenchResult bench_prefill(const GpuInfo& gpu, const PrefillShape& shape, int iters, std::uint64_t seed,
                               const Progress& progress) {
  progress("filling q, k and v on the device");
  DevicePrefill problem(gpu, shape, seed);
  const PrefillParams& p = problem.params();
  const KvType type = query_type(shape.kv_type);
  PhaseBenchResult result;
  result.threshold = prefill_error_threshold(shape.kv_type);

  progress("checking against the CPU reference");
  problem.poison();
  problem.run(nullptr);
  cuda_check(cudaDeviceSynchronize(), "prefill kernels");
  std::vector<double> got, want;
  std::vector<std::string> row_names;
  const std::vector<std::int32_t>& starts = problem.seq_starts();
  const int group = shape.n_q_heads / shape.n_kv_heads;
  CacheChecker k_cache{cache_view(problem.host_cache_params()), p.k_cache, shape.kv_type, 1.0f / p.k_scale, {}};
  CacheChecker v_cache{cache_view(problem.host_cache_params()), p.v_cache, shape.kv_type, 1.0f / p.v_scale, {}};
  for (int b : first_and_last(static_cast<int>(shape.seq_lens.size()))) {
    const int len = shape.seq_lens[static_cast<std::size_t>(b)], start = starts[static_cast<std::size_t>(b)];
    const std::vector<int> tokens = checked_tokens(len);
    for (int h : first_and_last(shape.n_q_heads)) {
      const int kv_head = h / group;
      std::vector<std::uint16_t> q = host_rows(type, problem.q_seed(), start, len, shape.n_q_heads, h, shape.head_dim_qk);
      std::vector<std::uint16_t> k = host_rows(type, problem.k_seed(), start, len, shape.n_kv_heads, kv_head, shape.head_dim_qk);
      std::vector<std::uint16_t> v = host_rows(type, problem.v_seed(), start, len, shape.n_kv_heads, kv_head, shape.head_dim_v);
      const std::vector<std::int32_t> one = {0, len};
      PrefillParams host = p;
      host.q = q.data();
      host.k = k.data();
      host.v = v.data();
      host.seq_starts = one.data();
      host.batch = 1;
      host.n_q_heads = host.n_kv_heads = 1;
      host.max_seq_len = len;
      host.k_cache = host.v_cache = nullptr;
      host.block_table = nullptr;
      host.set_packed_strides();
      std::vector<PrefillRow> rows;
      for (int t : tokens) rows.push_back({0, t, 0});
      std::vector<double> expected = prefill_reference(host, rows);
      want.insert(want.end(), expected.begin(), expected.end());
      std::vector<std::uint16_t> row(static_cast<std::size_t>(shape.head_dim_v));
      for (int t : tokens) {
        row_names.push_back("sequence " + std::to_string(b) + " head " + std::to_string(h) + " token " + std::to_string(t));
        const std::size_t at = (static_cast<std::size_t>(start + t) * shape.n_q_heads + h) * shape.head_dim_v;
        cuda_check(cudaMemcpy(row.data(), static_cast<const std::uint16_t*>(p.out) + at, row.size() * 2, cudaMemcpyDeviceToHost),
                   "output row");
        for (std::uint16_t bits : row) got.push_back(load_element(&bits, 0, type));
      }
      result.checked_rows += static_cast<int>(tokens.size());
      if (p.k_cache != nullptr && h % group == 0) {
        result.cache_mismatches += k_cache.compare(b, len, kv_head, k, type) + v_cache.compare(b, len, kv_head, v, type);
        result.cache_checked += 2ll * len * shape.head_dim_v;
      }
    }
    if (shape.latent_width > 0) {
      const LatentCacheParams l = problem.host_latent_params();
      std::vector<std::uint16_t> rows = host_rows(type, problem.latent_seed(), start, len, 1, 0, shape.latent_width);
      result.cache_mismatches += latent_mismatches(l, b, len, rows);
      result.cache_checked += static_cast<std::int64_t>(len) * latent_row_bytes(l);
    }
  }
  result.rel_l2_error = relative_l2_error(got, want);
  check_elements(got, want, shape.head_dim_v, row_names, prefill_element_tolerance(shape.kv_type), result.elements);
  result.correct = result.rel_l2_error < result.threshold && result.elements.mismatches == 0 &&
                   result.cache_mismatches == 0;  // false for NaN too
  if (!result.correct) return result;

  progress("timing " + std::to_string(iters) + " runs");
  EventTimer timer(gpu.l2_bytes);
  for (int i = 0; i < 3; ++i) problem.run(nullptr);  // warm-up
  for (int i = 0; i < iters; ++i) result.times_s.push_back(timer.seconds([&] { problem.run(nullptr); }));
  result.median_s = median(result.times_s);
  return result;
}

}  // namespace kvplan::kernels

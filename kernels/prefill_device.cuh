// A prefill problem on the device: packed q/k/v (and MLA's latent) filled in place with the values
// of kernels/random_values.h, so the host can rebuild any row; the paged caches with a shuffled
// block table (make_decode_layout); the parameters of both kernels pointing at them.
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "kernels/cuda_util.cuh"
#include "kernels/decode_problem.h"
#include "kernels/gpu.h"
#include "kernels/prefill_problem.h"

namespace kvplan::kernels {

class DevicePrefill {
 public:
  DevicePrefill(const GpuInfo& gpu, const PrefillShape& shape, std::uint64_t seed)
      : shape_(fits(gpu, shape)), seed_(seed), layout_(cache_layout(shape, seed)),
        q_(bytes(rows() * shape.n_q_heads * shape.head_dim_qk)),
        k_(bytes(rows() * shape.n_kv_heads * shape.head_dim_qk)),
        v_(bytes(rows() * shape.n_kv_heads * shape.head_dim_v)),
        out_(bytes(rows() * shape.n_q_heads * shape.head_dim_v)),
        latent_(bytes(rows() * static_cast<std::size_t>(shape.latent_width))),
        k_cache_(shape.write_cache ? cache_bytes() : 0),
        v_cache_(shape.write_cache ? cache_bytes() : 0),
        latent_cache_(shape.latent_width > 0 ? latent_cache_bytes() : 0),
        table_(layout_.block_table.size() * sizeof(std::int32_t)),
        starts_((shape.seq_lens.size() + 1) * sizeof(std::int32_t)) {
    starts_host_.assign(1, 0);
    for (int len : shape.seq_lens) starts_host_.push_back(starts_host_.back() + len);
    const KvType type = query_type(shape.kv_type);
    fill_random_device(q_.get(), q_.bytes() / 2, type, q_seed());
    fill_random_device(k_.get(), k_.bytes() / 2, type, k_seed());
    fill_random_device(v_.get(), v_.bytes() / 2, type, v_seed());
    if (shape.latent_width > 0) fill_random_device(latent_.get(), latent_.bytes() / 2, type, latent_seed());
    cuda_check(cudaMemcpy(table_.get(), layout_.block_table.data(), table_.bytes(), cudaMemcpyHostToDevice), "block table");
    cuda_check(cudaMemcpy(starts_.get(), starts_host_.data(), starts_.bytes(), cudaMemcpyHostToDevice), "seq_starts");
    const std::int32_t* table = layout_.block_table.empty() ? nullptr : table_.as<std::int32_t>();

    params_.q = q_.get();
    params_.k = k_.get();
    params_.v = v_.get();
    params_.out = out_.get();
    params_.seq_starts = starts_.as<std::int32_t>();
    params_.batch = static_cast<int>(shape.seq_lens.size());
    params_.n_q_heads = shape.n_q_heads;
    params_.n_kv_heads = shape.n_kv_heads;
    params_.head_dim_qk = shape.head_dim_qk;
    params_.head_dim_v = shape.head_dim_v;
    params_.max_seq_len = layout_.max_seq_len;
    params_.set_packed_strides();
    params_.kv_type = shape.kv_type;
    params_.softmax_scale = 1.0f / std::sqrt(static_cast<float>(shape.head_dim_qk));
    const float fp8_scale = shape.kv_type == KvType::fp8_e4m3 ? kPrefillFp8Scale : 1.0f;
    if (shape.write_cache) {
      params_.k_cache = k_cache_.get();
      params_.v_cache = v_cache_.get();
      params_.block_table = table;
      params_.num_pages = layout_.num_pages;
      params_.page_size = layout_.page_size;
      params_.max_pages_per_seq = layout_.max_pages_per_seq;
      params_.k_scale = params_.v_scale = fp8_scale;
    }
    if (shape.latent_width > 0) {
      latent_params_.latent = latent_.get();
      latent_params_.seq_starts = params_.seq_starts;
      latent_params_.cache = latent_cache_.get();
      latent_params_.block_table = table;
      latent_params_.batch = params_.batch;
      latent_params_.width = shape.latent_width;
      latent_params_.token_stride = shape.latent_width;
      latent_params_.max_seq_len = layout_.max_seq_len;
      latent_params_.num_pages = layout_.num_pages;
      latent_params_.page_size = layout_.page_size;
      latent_params_.max_pages_per_seq = layout_.max_pages_per_seq;
      latent_params_.kv_type = shape.kv_type;
    }
    cuda_check(cudaDeviceSynchronize(), "filling the inputs");
  }

  // The kernels of one prefill: attention (writing K/V), and for MLA the latent cache write.
  void run(void* stream) {
    launch_prefill(params_, stream);
    if (shape_.latent_width > 0) launch_latent_cache_write(latent_params_, stream);
  }

  // NaN (0xff bytes: NaN in bf16, fp16 and E4M3) in the output and every cache.
  void poison() {
    for (DeviceBuffer* buffer : {&out_, &k_cache_, &v_cache_, &latent_cache_}) {
      cuda_check(cudaMemset(buffer->get(), 0xff, buffer->bytes()), "poison");
    }
  }

  const PrefillParams& params() const { return params_; }
  const LatentCacheParams& latent_params() const { return latent_params_; }
  // Host copies with the host block table, for the checks.
  PrefillParams host_cache_params() const { return with_host_table(params_); }
  LatentCacheParams host_latent_params() const {
    LatentCacheParams p = latent_params_;
    p.block_table = layout_.block_table.empty() ? nullptr : layout_.block_table.data();
    return p;
  }
  const std::vector<std::int32_t>& seq_starts() const { return starts_host_; }
  const std::vector<std::int32_t>& block_table() const { return layout_.block_table; }
  std::uint64_t q_seed() const { return seed_; }
  std::uint64_t k_seed() const { return seed_ + 1; }
  std::uint64_t v_seed() const { return seed_ + 2; }
  std::uint64_t latent_seed() const { return seed_ + 3; }

 private:
  static const PrefillShape& fits(const GpuInfo& gpu, const PrefillShape& shape) {
    std::size_t free_bytes = 0, total_bytes = 0;
    cuda_check(cudaMemGetInfo(&free_bytes, &total_bytes), "cudaMemGetInfo");
    const std::uint64_t need = prefill_device_bytes(shape) + 2 * gpu.l2_bytes;  // + the L2 flush buffer
    if (need > free_bytes) {
      throw Error("this prefill needs " + std::to_string(need >> 20) + " MiB on the device and " +
                  std::to_string(free_bytes >> 20) + " MiB are free; lower --batch or --ctx");
    }
    return shape;
  }
  static DecodeLayout cache_layout(const PrefillShape& s, std::uint64_t seed) {
    const int width = s.latent_width > 0 ? s.latent_width : s.head_dim_v;
    const int heads = s.latent_width > 0 ? 1 : s.n_kv_heads;
    return make_decode_layout({static_cast<int>(s.seq_lens.size()), heads, heads, width, s.kv_type, s.page_size, s.seq_lens}, seed);
  }
  std::size_t rows() const { return static_cast<std::size_t>(shape_.tokens()) + 1; }
  static std::size_t bytes(std::size_t elements) { return 2 * elements; }
  std::size_t cache_bytes() const { return layout_.cache_elements() * static_cast<std::size_t>(element_bytes(shape_.kv_type)); }
  // Rows of latent_width values, each latent_row_bytes() long (656 for an fp8_ds_mla cache).
  std::size_t latent_cache_bytes() const {
    LatentCacheParams row;
    row.width = shape_.latent_width;
    row.kv_type = shape_.kv_type;
    return layout_.cache_elements() / static_cast<std::size_t>(shape_.latent_width) * static_cast<std::size_t>(latent_row_bytes(row));
  }
  PrefillParams with_host_table(PrefillParams p) const {
    p.block_table = layout_.block_table.empty() ? nullptr : layout_.block_table.data();
    return p;
  }

  PrefillShape shape_;
  std::uint64_t seed_;
  DecodeLayout layout_;
  std::vector<std::int32_t> starts_host_;
  DeviceBuffer q_, k_, v_, out_, latent_, k_cache_, v_cache_, latent_cache_, table_, starts_;
  PrefillParams params_;
  LatentCacheParams latent_params_;
};

}  // namespace kvplan::kernels

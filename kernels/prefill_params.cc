// Argument checks and the grid of the prefill family, shared by the launchers, the host model and
// the references so that all of them accept exactly the same problems.
#include <algorithm>
#include <string>

#include "core/error.h"
#include "kernels/kernels.h"
#include "kernels/mla_tiling.h"
#include "kernels/prefill_tiling.h"

namespace kvplan::kernels {
namespace {

void require(bool ok, const char* family, const std::string& what) {
  if (!ok) throw Error(std::string(family) + ": " + what);
}

std::string supported_head_dims() {
  std::string text;
  for (auto [qk, v] : kPrefillHeadDims) {
    text += (text.empty() ? "" : ", ") + (qk == v ? std::to_string(qk) : std::to_string(qk) + "/" + std::to_string(v));
  }
  return text;
}

// The paged-cache fields, as check_decode_params reads them.
void check_cache_layout(const char* family, const std::int32_t* block_table, int max_seq_len, int page_size,
                        int num_pages, int max_pages_per_seq, int batch) {
  require(page_size >= 1, family, "page_size must be at least 1");
  if (block_table) {
    require(max_pages_per_seq >= (max_seq_len + page_size - 1) / page_size, family,
            "max_pages_per_seq is too small to hold max_seq_len tokens");
    require(num_pages >= 1, family, "num_pages must be at least 1");
  } else {
    require(page_size >= max_seq_len, family, "contiguous cache: page_size must be at least max_seq_len");
    require(num_pages >= batch, family, "contiguous cache: num_pages must be at least batch");
  }
}

}  // namespace

void PrefillParams::set_packed_strides() {
  q_token_stride = static_cast<long long>(n_q_heads) * head_dim_qk;
  q_head_stride = head_dim_qk;
  k_token_stride = static_cast<long long>(n_kv_heads) * head_dim_qk;
  k_head_stride = head_dim_qk;
  v_token_stride = static_cast<long long>(n_kv_heads) * head_dim_v;
  v_head_stride = head_dim_v;
  out_token_stride = static_cast<long long>(n_q_heads) * head_dim_v;
  out_head_stride = head_dim_v;
}

std::string prefill_head_dims_text() { return supported_head_dims(); }

void check_prefill_params(const PrefillParams& p) {
  const char* family = "prefill attention";
  require(p.batch >= 1, family, "batch must be at least 1, got " + std::to_string(p.batch));
  require(p.n_q_heads >= 1 && p.n_kv_heads >= 1 && p.n_q_heads % p.n_kv_heads == 0, family,
          "n_kv_heads (" + std::to_string(p.n_kv_heads) + ") must divide n_q_heads (" + std::to_string(p.n_q_heads) + ")");
  const bool built = std::find(kPrefillHeadDims.begin(), kPrefillHeadDims.end(),
                               std::pair{p.head_dim_qk, p.head_dim_v}) != kPrefillHeadDims.end();
  require(built, family,
          "head dims " + std::to_string(p.head_dim_qk) + "/" + std::to_string(p.head_dim_v) +
              " are not built; supported: " + supported_head_dims());
  require(p.max_seq_len >= 1, family, "max_seq_len must be at least 1");
  require(p.q && p.k && p.v && p.seq_starts && p.out, family, "q, k, v, seq_starts and out must be set");
  // Every row is read as whole 16-byte vectors.
  for (long long stride : {p.q_token_stride, p.q_head_stride, p.k_token_stride, p.k_head_stride, p.v_token_stride,
                           p.v_head_stride, p.out_token_stride, p.out_head_stride}) {
    require(stride > 0 && stride % prefill::kVectorElems == 0, family,
            "strides must be positive multiples of 8 elements (16 bytes)");
  }
  require(p.softmax_scale > 0, family, "softmax_scale must be positive");
  if (p.k_cache || p.v_cache) {
    require(p.k_cache && p.v_cache, family, "k_cache and v_cache are set together");
    require(p.head_dim_qk == p.head_dim_v, family, "the K/V cache is written for MHA/GQA/MQA head dims only (d_qk = d_v)");
    check_cache_layout(family, p.block_table, p.max_seq_len, p.page_size, p.num_pages, p.max_pages_per_seq, p.batch);
  }
  require(p.kv_type == KvType::fp8_e4m3 || (p.k_scale == 1 && p.v_scale == 1), family,
          "k_scale and v_scale apply to fp8 caches only");
  require(p.k_scale > 0 && p.v_scale > 0, family, "k_scale and v_scale must be positive");
}

PrefillPlan plan_prefill(const PrefillParams& p) {
  return {prefill::query_tiles(p.max_seq_len), p.n_q_heads, p.batch};
}

void check_latent_cache_params(const LatentCacheParams& p) {
  const char* family = "latent cache write";
  require(p.batch >= 1, family, "batch must be at least 1");
  require(p.width >= 8 && p.width % 8 == 0, family, "width must be a positive multiple of 8, got " + std::to_string(p.width));
  require(p.token_stride >= p.width && p.token_stride % 8 == 0, family,
          "token_stride must be at least width and a multiple of 8 elements");
  require(p.max_seq_len >= 1, family, "max_seq_len must be at least 1");
  require(p.latent && p.seq_starts && p.cache, family, "latent, seq_starts and cache must be set");
  check_cache_layout(family, p.block_table, p.max_seq_len, p.page_size, p.num_pages, p.max_pages_per_seq, p.batch);
  require(p.kv_type != KvType::fp8_e4m3 || p.width == mla::kRowDim, family,
          "an fp8 cache is fp8_ds_mla: width must be 576 (512 latent + 64 RoPE), got " + std::to_string(p.width));
}

int latent_row_bytes(const LatentCacheParams& p) {
  return p.kv_type == KvType::fp8_e4m3 ? mla::kFp8RowBytes : 2 * p.width;
}

}  // namespace kvplan::kernels

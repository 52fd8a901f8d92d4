#include "kernels/prefill_problem.h"

#include <cmath>
#include <cstring>
#include <algorithm>

#include "kernels/host_tensors.h"
#include "kernels/numeric.h"

namespace kvplan::kernels {
namespace {

constexpr std::uint16_t kBf16Nan = 0x7fc0, kFp16Nan = 0x7e00;
constexpr std::uint8_t kE4m3Nan = 0x7f;

// `tokens` + 1 rows of `width` 16-bit values: the first `used` of each token's row random, the
// padding after them and the whole last row NaN, so that a kernel reading past a token's values or
// past the last token poisons its output.
std::vector<std::uint8_t> random_rows(KvType type, std::uint64_t seed, std::size_t tokens, std::size_t width, std::size_t used) {
  std::vector<std::uint8_t> bytes((tokens + 1) * width * 2);
  const std::uint16_t nan = type == KvType::fp16 ? kFp16Nan : kBf16Nan;
  for (std::size_t r = 0; r <= tokens; ++r) {
    for (std::size_t i = 0; i < width; ++i) {
      const std::size_t index = r * width + i;
      const std::uint16_t value = r < tokens && i < used ? random_element(type, seed, index) : nan;
      std::memcpy(&bytes[2 * index], &value, 2);
    }
  }
  return bytes;
}

void poison_bytes(std::vector<std::uint8_t>& bytes, KvType type) {
  if (type == KvType::fp8_e4m3) {
    std::fill(bytes.begin(), bytes.end(), kE4m3Nan);
    return;
  }
  const std::uint16_t nan = type == KvType::fp16 ? kFp16Nan : kBf16Nan;
  for (std::size_t i = 0; i + 1 < bytes.size(); i += 2) std::memcpy(&bytes[i], &nan, 2);
}

}  // namespace

int PrefillShape::tokens() const {
  long long sum = 0;
  for (int len : seq_lens) sum += len;
  return static_cast<int>(sum);
}

std::uint64_t PrefillShape::cache_elements() const {
  std::uint64_t pages = 0;
  for (int len : seq_lens) pages += page_size == 0 ? 1 : static_cast<std::uint64_t>((len + page_size - 1) / page_size);
  const std::uint64_t slots = page_size == 0 ? pages * static_cast<std::uint64_t>(*std::max_element(seq_lens.begin(), seq_lens.end()) + 3)
                                             : pages * static_cast<std::uint64_t>(page_size);
  const std::uint64_t row = latent_width > 0 ? static_cast<std::uint64_t>(latent_width)
                                             : static_cast<std::uint64_t>(n_kv_heads) * head_dim_v;
  return slots * row;
}

std::uint64_t prefill_device_bytes(const PrefillShape& s) {
  const std::uint64_t rows = static_cast<std::uint64_t>(s.tokens()) + 1;
  const std::uint64_t q = rows * s.n_q_heads * s.head_dim_qk, out = rows * s.n_q_heads * s.head_dim_v;
  const std::uint64_t kv = rows * s.n_kv_heads * (static_cast<std::uint64_t>(s.head_dim_qk) + s.head_dim_v);
  const std::uint64_t latent = rows * static_cast<std::uint64_t>(s.latent_width);
  const std::uint64_t caches = (s.write_cache ? 2 : 0) * s.cache_elements() + (s.latent_width > 0 ? s.cache_elements() : 0);
  std::uint64_t pages = 0;
  for (int len : s.seq_lens) pages += s.page_size == 0 ? 0 : static_cast<std::uint64_t>((len + s.page_size - 1) / s.page_size);
  return 2 * (q + out + kv + latent) + caches * static_cast<std::uint64_t>(element_bytes(s.kv_type)) +
         4 * (s.seq_lens.size() + 1 + pages);
}

HostPrefillProblem::HostPrefillProblem(const PrefillShape& shape, std::uint64_t seed) : shape_(shape) {
  seq_starts_.assign(1, 0);
  for (int len : shape.seq_lens) seq_starts_.push_back(seq_starts_.back() + len);
  const KvType type = query_type(shape.kv_type);
  const std::size_t q_width = static_cast<std::size_t>(shape.n_q_heads) * shape.head_dim_qk;
  const std::size_t k_width = static_cast<std::size_t>(shape.n_kv_heads) * shape.head_dim_qk;
  const std::size_t v_width = static_cast<std::size_t>(shape.n_kv_heads) * shape.head_dim_v;
  const auto n = static_cast<std::size_t>(tokens());
  if (shape.fused_qkv) {
    const std::size_t used = q_width + k_width + v_width;
    token_stride_ = static_cast<long long>(used + 8);  // 8 NaN columns after each token's q | k | v
    q_ = random_rows(type, seed, n, used + 8, used);
  } else {
    token_stride_ = static_cast<long long>(q_width);
    q_ = random_rows(type, seed, n, q_width, q_width);
    k_ = random_rows(type, seed + 1, n, k_width, k_width);
    v_ = random_rows(type, seed + 2, n, v_width, v_width);
  }
  out_.resize(static_cast<std::size_t>(tokens()) * shape.n_q_heads * shape.head_dim_v * 2);
  if (shape.write_cache) {
    DecodeShape cache{static_cast<int>(shape.seq_lens.size()), shape.n_q_heads, shape.n_kv_heads, shape.head_dim_v,
                      shape.kv_type, shape.page_size, shape.seq_lens};
    cache_layout_ = make_decode_layout(cache, seed, 2);
    k_cache_.resize(cache_layout_.cache_elements() * static_cast<std::size_t>(element_bytes(shape.kv_type)));
    v_cache_.resize(k_cache_.size());
  }
}

void HostPrefillProblem::poison() {
  poison_bytes(out_, query_type(shape_.kv_type));
  poison_bytes(k_cache_, shape_.kv_type);
  poison_bytes(v_cache_, shape_.kv_type);
}

PrefillParams HostPrefillProblem::params() {
  poison();
  PrefillParams p;
  p.batch = static_cast<int>(shape_.seq_lens.size());
  p.n_q_heads = shape_.n_q_heads;
  p.n_kv_heads = shape_.n_kv_heads;
  p.head_dim_qk = shape_.head_dim_qk;
  p.head_dim_v = shape_.head_dim_v;
  p.max_seq_len = *std::max_element(shape_.seq_lens.begin(), shape_.seq_lens.end());
  p.set_packed_strides();
  p.seq_starts = seq_starts_.data();
  p.out = out_.data();
  p.kv_type = shape_.kv_type;
  p.softmax_scale = 1.0f / std::sqrt(static_cast<float>(shape_.head_dim_qk));
  if (shape_.fused_qkv) {
    const auto* base = reinterpret_cast<const std::uint16_t*>(q_.data());
    const long long q_width = static_cast<long long>(shape_.n_q_heads) * shape_.head_dim_qk;
    const long long k_width = static_cast<long long>(shape_.n_kv_heads) * shape_.head_dim_qk;
    p.q = base;
    p.k = base + q_width;
    p.v = base + q_width + k_width;
    p.q_token_stride = p.k_token_stride = p.v_token_stride = token_stride_;
  } else {
    p.q = q_.data();
    p.k = k_.data();
    p.v = v_.data();
  }
  if (shape_.write_cache) {
    p.k_cache = k_cache_.data();
    p.v_cache = v_cache_.data();
    p.block_table = cache_layout_.block_table.empty() ? nullptr : cache_layout_.block_table.data();
    p.num_pages = cache_layout_.num_pages;
    p.page_size = cache_layout_.page_size;
    p.max_pages_per_seq = cache_layout_.max_pages_per_seq;
    if (shape_.kv_type == KvType::fp8_e4m3) p.k_scale = p.v_scale = kPrefillFp8Scale;
  }
  return p;
}

std::vector<double> HostPrefillProblem::output() const {
  std::vector<double> values(out_.size() / 2);
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = load_element(out_.data(), i, query_type(shape_.kv_type));
  return values;
}

DecodeParams HostPrefillProblem::cache_params() const {
  DecodeParams p = decode_params_for(cache_layout_);
  p.block_table = cache_layout_.block_table.empty() ? nullptr : cache_layout_.block_table.data();
  p.k_cache = k_cache_.data();
  p.v_cache = v_cache_.data();
  if (shape_.kv_type == KvType::fp8_e4m3) p.k_scale = p.v_scale = kPrefillFp8Scale;
  return p;
}

std::vector<int> checked_tokens(int len) {
  std::vector<int> tokens = {0, 1, 63, 64, 65, 127, 128, 129, 255, 256, len / 2, len - 2, len - 1};
  for (int i = 1; i < 8; ++i) tokens.push_back(static_cast<int>(static_cast<long long>(len) * i / 8));
  std::sort(tokens.begin(), tokens.end());
  tokens.erase(std::unique(tokens.begin(), tokens.end()), tokens.end());
  tokens.erase(std::remove_if(tokens.begin(), tokens.end(), [len](int t) { return t < 0 || t >= len; }), tokens.end());
  return tokens;
}

double prefill_error_threshold(KvType cache_type) { return cache_type == KvType::fp16 ? 5e-3 : 1e-2; }

}  // namespace kvplan::kernels

#include "kernels/decode_problem.h"

#include <cmath>
#include <cstring>

#include "kernels/host_tensors.h"
#include "kernels/numeric.h"
#include "kernels/random_values.h"

namespace kvplan::kernels {
namespace {

constexpr std::uint16_t kBf16Nan = 0x7fc0, kFp16Nan = 0x7e00;
constexpr std::uint8_t kE4m3Nan = 0x7f;

void fill_random(std::vector<std::uint8_t>& bytes, KvType type, std::uint64_t seed, std::size_t elements) {
  bytes.resize(elements * static_cast<std::size_t>(element_bytes(type)));
  for (std::size_t i = 0; i < elements; ++i) {
    std::uint16_t value = random_element(type, seed, i);
    if (type == KvType::fp8_e4m3) bytes[i] = static_cast<std::uint8_t>(value);
    else std::memcpy(&bytes[2 * i], &value, 2);
  }
}

void poison(std::vector<std::uint8_t>& bytes, KvType type, std::size_t first, std::size_t count) {
  for (std::size_t i = first; i < first + count; ++i) {
    if (type == KvType::fp8_e4m3) bytes[i] = kE4m3Nan;
    else std::memcpy(&bytes[2 * i], type == KvType::bf16 ? &kBf16Nan : &kFp16Nan, 2);
  }
}

}  // namespace

std::uint16_t random_element(KvType type, std::uint64_t seed, std::size_t index) {
  switch (type) {
    case KvType::bf16: return float_to_bf16(random_unit(seed, index));
    case KvType::fp16: return float_to_fp16(random_unit(seed, index));
    case KvType::fp8_e4m3: return random_e4m3(seed, index);
  }
  return 0;
}

DecodeLayout make_decode_layout(const DecodeShape& shape, std::uint64_t seed, int spare_pages) {
  DecodeLayout layout;
  static_cast<PagedLayout&>(layout) = make_paged_layout(shape.seq_lens, shape.page_size, seed, spare_pages);
  layout.shape = shape;
  layout.seed = seed;
  return layout;
}

DecodeParams decode_params_for(const DecodeLayout& layout) {
  const DecodeShape& s = layout.shape;
  DecodeParams p;
  p.batch = s.batch;
  p.n_q_heads = s.n_q_heads;
  p.n_kv_heads = s.n_kv_heads;
  p.head_dim = s.head_dim;
  p.num_pages = layout.num_pages;
  p.page_size = layout.page_size;
  p.max_pages_per_seq = layout.max_pages_per_seq;
  p.max_seq_len = layout.max_seq_len;
  p.kv_type = s.kv_type;
  p.softmax_scale = 1.0f / std::sqrt(static_cast<float>(s.head_dim));
  if (s.kv_type == KvType::fp8_e4m3) {
    // Codes reach 30 in magnitude; these scales bring K and V back to about [-1, 1].
    p.k_scale = 1.0f / 16;
    p.v_scale = 1.0f / 32;
  }
  return p;
}

HostDecodeProblem::HostDecodeProblem(DecodeLayout layout) : layout_(std::move(layout)) {
  const DecodeShape& s = layout_.shape;
  seq_lens_.assign(s.seq_lens.begin(), s.seq_lens.end());
  fill_random(q_, query_type(s.kv_type), layout_.q_seed(), layout_.q_elements());
  fill_random(k_, s.kv_type, layout_.k_seed(), layout_.cache_elements());
  fill_random(v_, s.kv_type, layout_.v_seed(), layout_.cache_elements());
  // Every slot no sequence owns is NaN: a kernel that reads one poisons its output.
  const std::size_t row = static_cast<std::size_t>(s.n_kv_heads) * s.head_dim;
  std::vector<bool> owned(static_cast<std::size_t>(layout_.num_pages) * layout_.page_size, false);
  DecodeParams p = decode_params_for(layout_);
  p.block_table = layout_.block_table.empty() ? nullptr : layout_.block_table.data();
  for (int b = 0; b < s.batch; ++b) {
    for (int t = 0; t < s.seq_lens[static_cast<std::size_t>(b)]; ++t) owned[kv_row_offset(p, b, t, 0) / row] = true;
  }
  for (std::size_t slot = 0; slot < owned.size(); ++slot) {
    if (!owned[slot]) {
      poison(k_, s.kv_type, slot * row, row);
      poison(v_, s.kv_type, slot * row, row);
    }
  }
  out_.resize(layout_.q_elements() * 2);
}

HostDecodeProblem HostDecodeProblem::slice(const DecodeLayout& big, int b, int kv_head) {
  const DecodeShape& s = big.shape;
  const int group = s.n_q_heads / s.n_kv_heads;
  HostDecodeProblem slice;
  slice.layout_.shape = {1, group, 1, s.head_dim, s.kv_type, 0, {s.seq_lens[static_cast<std::size_t>(b)]}};
  slice.layout_.seed = big.seed;
  slice.layout_.max_seq_len = s.seq_lens[static_cast<std::size_t>(b)];
  slice.layout_.page_size = slice.layout_.max_seq_len;
  slice.layout_.num_pages = 1;
  slice.seq_lens_ = {slice.layout_.max_seq_len};
  const KvType q_type = query_type(s.kv_type);
  const int elem = element_bytes(s.kv_type);
  DecodeParams p = decode_params_for(big);
  p.block_table = big.block_table.empty() ? nullptr : big.block_table.data();
  const std::size_t d = static_cast<std::size_t>(s.head_dim);
  auto put = [](std::vector<std::uint8_t>& bytes, std::size_t i, int size, std::uint16_t value) {
    std::memcpy(&bytes[i * static_cast<std::size_t>(size)], &value, static_cast<std::size_t>(size));
  };
  slice.q_.resize(group * d * 2);
  for (int g = 0; g < group; ++g) {
    for (std::size_t i = 0; i < d; ++i) {
      put(slice.q_, g * d + i, 2, random_element(q_type, big.q_seed(), q_row_offset(p, b, kv_head * group + g) + i));
    }
  }
  slice.k_.resize(slice.layout_.cache_elements() * elem);
  slice.v_.resize(slice.layout_.cache_elements() * elem);
  for (int t = 0; t < slice.layout_.max_seq_len; ++t) {
    const std::size_t from = kv_row_offset(p, b, t, kv_head);
    for (std::size_t i = 0; i < d; ++i) {
      put(slice.k_, t * d + i, elem, random_element(s.kv_type, big.k_seed(), from + i));
      put(slice.v_, t * d + i, elem, random_element(s.kv_type, big.v_seed(), from + i));
    }
  }
  slice.out_.resize(group * d * 2);
  return slice;
}

void HostDecodeProblem::poison_output() {
  poison(out_, query_type(layout_.shape.kv_type), 0, out_.size() / 2);
}

DecodeParams HostDecodeProblem::params() {
  poison_output();
  DecodeParams p = decode_params_for(layout_);
  p.q = q_.data();
  p.k_cache = k_.data();
  p.v_cache = v_.data();
  p.block_table = layout_.block_table.empty() ? nullptr : layout_.block_table.data();
  p.seq_lens = seq_lens_.data();
  p.out = out_.data();
  return p;
}

std::vector<double> HostDecodeProblem::output() const {
  std::vector<double> values(out_.size() / 2);
  for (std::size_t i = 0; i < values.size(); ++i) {
    values[i] = load_element(out_.data(), i, query_type(layout_.shape.kv_type));
  }
  return values;
}

double relative_l2_error(const std::vector<double>& got, const std::vector<double>& want) {
  double diff = 0, norm = 0;
  for (std::size_t i = 0; i < got.size() && i < want.size(); ++i) {
    if (std::isnan(got[i]) || std::isnan(want[i])) return NAN;
    diff += (got[i] - want[i]) * (got[i] - want[i]);
    norm += want[i] * want[i];
  }
  if (got.size() != want.size()) return NAN;
  return std::sqrt(diff / norm);
}

double decode_error_threshold(KvType type) {
  switch (type) {
    case KvType::bf16: return 1e-2;
    case KvType::fp16: return 5e-3;
    case KvType::fp8_e4m3: return 2e-2;
  }
  return 0;
}

}  // namespace kvplan::kernels

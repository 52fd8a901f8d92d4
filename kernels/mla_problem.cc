#include "kernels/mla_problem.h"

#include <cmath>
#include <cstring>

#include "kernels/mla_tensors.h"
#include "kernels/mla_values.h"
#include "kernels/numeric.h"

namespace kvplan::kernels {
namespace {

constexpr std::uint16_t kBf16Nan = 0x7fc0;
constexpr std::uint8_t kE4m3Nan = 0x7f;

void put_bf16(std::uint8_t* bytes, std::size_t index, std::uint16_t bits) { std::memcpy(bytes + 2 * index, &bits, 2); }

}  // namespace

std::size_t MlaLayout::q_elements() const {
  return static_cast<std::size_t>(shape.batch) * shape.n_heads * mla::kQDim;
}
std::size_t MlaLayout::w_elements() const {
  return static_cast<std::size_t>(shape.n_heads) * mla::kUpRows * mla::kLatentDim;
}
std::size_t MlaLayout::out_elements() const {
  return static_cast<std::size_t>(shape.batch) * shape.n_heads * mla::kVDim;
}

std::uint16_t mla_q_bits(std::uint64_t seed, std::size_t index) { return float_to_bf16(random_unit(seed, index)); }
std::uint16_t mla_w_bits(std::uint64_t seed, std::size_t index) { return float_to_bf16(mla::w_value(seed, index)); }

MlaLayout make_mla_layout(const MlaShape& shape, std::uint64_t seed, int spare_pages) {
  MlaLayout layout;
  static_cast<PagedLayout&>(layout) = make_paged_layout(shape.seq_lens, shape.page_size, seed, spare_pages);
  layout.shape = shape;
  layout.seed = seed;
  return layout;
}

MlaParams mla_params_for(const MlaLayout& layout) {
  MlaParams p;
  p.batch = layout.shape.batch;
  p.n_heads = layout.shape.n_heads;
  p.num_pages = layout.num_pages;
  p.page_size = layout.page_size;
  p.max_pages_per_seq = layout.max_pages_per_seq;
  p.max_seq_len = layout.max_seq_len;
  p.cache = layout.shape.cache;
  p.softmax_scale = 1.0f / std::sqrt(static_cast<float>(mla::kQDim));
  return p;
}

void HostMlaProblem::fill_row(std::size_t row, std::size_t values_row) {
  std::uint8_t* bytes = cache_.data() + row * static_cast<std::size_t>(mla_row_bytes(layout_.shape.cache));
  const std::uint64_t seed = layout_.cache_seed();
  if (layout_.shape.cache == MlaCache::bf16) {
    for (int c = 0; c < mla::kRowDim; ++c) {
      put_bf16(bytes, static_cast<std::size_t>(c), float_to_bf16(random_unit(seed, mla::bf16_row_index(values_row, c))));
    }
    return;
  }
  for (int c = 0; c < mla::kLatentDim; ++c) bytes[c] = mla::fp8_code(seed, values_row, c);
  for (int k = 0; k < mla::kLatentDim / mla::kFp8ScaleTile; ++k) {
    const float scale = mla::fp8_scale(seed, values_row, k);
    std::memcpy(bytes + mla::kFp8ScaleOffset + 4 * k, &scale, 4);
  }
  for (int i = 0; i < mla::kRopeDim; ++i) {
    put_bf16(bytes + mla::kFp8RopeOffset, static_cast<std::size_t>(i), float_to_bf16(mla::fp8_rope(seed, values_row, i)));
  }
}

HostMlaProblem::HostMlaProblem(MlaLayout layout) : layout_(std::move(layout)) {
  const MlaShape& s = layout_.shape;
  seq_lens_.assign(s.seq_lens.begin(), s.seq_lens.end());
  q_.resize(layout_.q_elements() * 2);
  for (std::size_t i = 0; i < layout_.q_elements(); ++i) put_bf16(q_.data(), i, mla_q_bits(layout_.q_seed(), i));
  w_.resize(layout_.w_elements() * 2);
  for (std::size_t i = 0; i < layout_.w_elements(); ++i) put_bf16(w_.data(), i, mla_w_bits(layout_.w_seed(), i));
  cache_.resize(layout_.cache_bytes());
  out_.resize(layout_.out_elements() * 2);
  // Every row no sequence owns is NaN: a kernel that reads one poisons its output.
  MlaParams p = mla_params_for(layout_);
  p.block_table = layout_.block_table.empty() ? nullptr : layout_.block_table.data();
  std::vector<bool> owned(layout_.cache_rows(), false);
  for (int b = 0; b < s.batch; ++b) {
    for (int t = 0; t < s.seq_lens[static_cast<std::size_t>(b)]; ++t) owned[mla_row_index(p, b, t)] = true;
  }
  const std::size_t row_bytes = static_cast<std::size_t>(mla_row_bytes(s.cache));
  for (std::size_t row = 0; row < owned.size(); ++row) {
    if (owned[row]) {
      fill_row(row, row);
    } else if (s.cache == MlaCache::bf16) {
      for (int c = 0; c < mla::kRowDim; ++c) put_bf16(cache_.data() + row * row_bytes, static_cast<std::size_t>(c), kBf16Nan);
    } else {
      std::uint8_t* bytes = cache_.data() + row * row_bytes;
      std::memset(bytes, kE4m3Nan, mla::kLatentDim);
      const float nan = NAN;
      for (int k = 0; k < 4; ++k) std::memcpy(bytes + mla::kFp8ScaleOffset + 4 * k, &nan, 4);
      for (int i = 0; i < mla::kRopeDim; ++i) put_bf16(bytes + mla::kFp8RopeOffset, static_cast<std::size_t>(i), kBf16Nan);
    }
  }
}

HostMlaProblem HostMlaProblem::slice(const MlaLayout& big, int b) {
  const MlaShape& s = big.shape;
  const int len = s.seq_lens[static_cast<std::size_t>(b)];
  HostMlaProblem slice;
  slice.layout_.shape = {1, s.n_heads, s.cache, 0, {len}};
  slice.layout_.seed = big.seed;
  slice.layout_.max_seq_len = len;
  slice.layout_.page_size = len;
  slice.layout_.num_pages = 1;
  slice.seq_lens_ = {len};
  const std::size_t q_row = static_cast<std::size_t>(s.n_heads) * mla::kQDim;
  slice.q_.resize(q_row * 2);
  for (std::size_t i = 0; i < q_row; ++i) put_bf16(slice.q_.data(), i, mla_q_bits(big.q_seed(), b * q_row + i));
  slice.w_.resize(big.w_elements() * 2);
  for (std::size_t i = 0; i < big.w_elements(); ++i) put_bf16(slice.w_.data(), i, mla_w_bits(big.w_seed(), i));
  slice.cache_.resize(slice.layout_.cache_bytes());
  MlaParams p = mla_params_for(big);
  p.block_table = big.block_table.empty() ? nullptr : big.block_table.data();
  for (int t = 0; t < len; ++t) slice.fill_row(static_cast<std::size_t>(t), mla_row_index(p, b, t));
  slice.out_.resize(slice.layout_.out_elements() * 2);
  return slice;
}

MlaParams HostMlaProblem::params() {
  for (std::size_t i = 0; i < out_.size() / 2; ++i) put_bf16(out_.data(), i, kBf16Nan);
  MlaParams p = mla_params_for(layout_);
  p.q = q_.data();
  p.kv_cache = cache_.data();
  p.w_kv_b = w_.data();
  p.block_table = layout_.block_table.empty() ? nullptr : layout_.block_table.data();
  p.seq_lens = seq_lens_.data();
  p.out = out_.data();
  return p;
}

std::vector<double> HostMlaProblem::output() const {
  std::vector<double> values(out_.size() / 2);
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = bf16_at(out_.data(), i);
  return values;
}

double mla_error_threshold(MlaCache) { return 1e-2; }

}  // namespace kvplan::kernels

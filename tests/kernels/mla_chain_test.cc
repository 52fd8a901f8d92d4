// MLA prefill -> decode through an fp8 cache: the latent cache write (latent_cache_reference, the
// algorithm of latent_cache_kernel) stores fp8_ds_mla rows, and the MLA decode reference and host
// models read them back. The rows are checked field by field against the format written out here
// (vLLM's concat_and_cache_ds_mla_kernel: per 128 values scale = max(amax / 448, FLT_MIN), code =
// e4m3(value / scale), RoPE in bf16), and decode over them must agree with decode over a bf16 cache
// written from the same latent. The layout the write once produced (576 e4m3 codes, one scale)
// must fail that comparison.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "core/error.h"
#include "kernels/kernels.h"
#include "kernels/decode_problem.h"  // relative_l2_error
#include "kernels/mla_problem.h"
#include "kernels/mla_tensors.h"
#include "kernels/mla_tiling.h"
#include "kernels/numeric.h"
#include "kernels/random_values.h"

using namespace kvplan::kernels;

namespace {

constexpr int kWidth = mla::kRowDim;  // 576: 512 latent + 64 RoPE

// The latent a prefill produces for `tokens` tokens: random_unit values, each 128-value tile of a
// token scaled by its own power of two (2^-3 .. 2^3), so that the four scales of a row differ; the
// last latent tile of token 1 is all zero (its scale must be FLT_MIN, not 0).
std::vector<std::uint16_t> prefill_latent(int tokens) {
  std::vector<std::uint16_t> latent(static_cast<std::size_t>(tokens) * kWidth);
  for (int t = 0; t < tokens; ++t) {
    for (int i = 0; i < kWidth; ++i) {
      const float tile_scale = i < mla::kLatentDim ? std::ldexp(1.0f, (t + i / mla::kFp8ScaleTile) % 7 - 3) : 1.0f;
      float value = random_unit(41, static_cast<std::uint64_t>(t) * kWidth + i) * tile_scale;
      if (t == 1 && i >= 384 && i < 512) value = 0.0f;
      latent[static_cast<std::size_t>(t) * kWidth + i] = float_to_bf16(value);
    }
  }
  return latent;
}

// The write of a decode problem's cache from `latent`: its block table, page geometry and lengths.
LatentCacheParams latent_write(const MlaParams& decode, const std::vector<std::int32_t>& starts,
                               const std::vector<std::uint16_t>& latent, KvType type, void* cache) {
  LatentCacheParams p;
  p.latent = latent.data();
  p.seq_starts = starts.data();
  p.cache = cache;
  p.block_table = decode.block_table;
  p.batch = decode.batch;
  p.width = kWidth;
  p.token_stride = kWidth;
  p.max_seq_len = decode.max_seq_len;
  p.num_pages = decode.num_pages;
  p.page_size = decode.page_size;
  p.max_pages_per_seq = decode.max_pages_per_seq;
  p.kv_type = type;
  return p;
}

float bf16_value(const std::vector<std::uint16_t>& latent, int t, int i) {
  return bf16_to_float(latent[static_cast<std::size_t>(t) * kWidth + i]);
}

}  // namespace

TEST_CASE("MLA prefill writes fp8_ds_mla rows that MLA decode reads: prefill -> decode in fp8") {
  // Three sequences over 64-token pages in shuffled order with a spare page (poisoned with NaN).
  HostMlaProblem problem(make_mla_layout({3, 16, MlaCache::fp8_ds_mla, 64, {70, 1, 130}}, 5, 1));
  MlaParams decode = problem.params();
  const std::vector<std::int32_t> starts = {0, 70, 71, 201};
  const std::vector<std::uint16_t> latent = prefill_latent(201);

  std::vector<std::uint8_t> fp8_cache(problem.layout().cache_bytes(), 0xff);
  const LatentCacheParams write = latent_write(decode, starts, latent, KvType::fp8_e4m3, fp8_cache.data());
  CHECK(latent_row_bytes(write) == 512 + 4 * 4 + 64 * 2);
  latent_cache_reference(write);
  decode.kv_cache = fp8_cache.data();

  // Every row of every sequence, field by field, as the format defines it.
  for (int b = 0; b < decode.batch; ++b) {
    for (int t = 0; t < decode.seq_lens[b]; ++t) {
      const int token = starts[static_cast<std::size_t>(b)] + t;
      const std::uint8_t* row = mla_row(decode, b, t);
      for (int tile = 0; tile < 4; ++tile) {
        float amax = 0;
        for (int c = tile * 128; c < tile * 128 + 128; ++c) amax = std::max(amax, std::fabs(bf16_value(latent, token, c)));
        const float scale = std::max(amax / 448.0f, 0x1p-126f);
        REQUIRE(fp8_ds_mla_scale(row, tile) == scale);
        for (int c = tile * 128; c < tile * 128 + 128; ++c) {
          // Round to nearest E4M3: within half a step, 2^-4 of the value (3 mantissa bits) or half
          // the smallest subnormal step 2^-9 x scale, whichever is larger.
          const float value = bf16_value(latent, token, c);
          const double decoded = mla_latent_exact(row, c, MlaCache::fp8_ds_mla);
          CHECK(std::fabs(decoded - value) <= std::max(std::fabs(value) * 0x1p-4, double{scale} * 0x1p-10));
        }
      }
      for (int i = 0; i < mla::kRopeDim; ++i) CHECK(mla_rope(row, i, MlaCache::fp8_ds_mla) == bf16_value(latent, token, 512 + i));
    }
  }
  // Token 1's zero tile: FLT_MIN and zero codes, not 0 / 0.
  const std::uint8_t* zero_tile_row = mla_row(decode, 0, 1);
  CHECK(fp8_ds_mla_scale(zero_tile_row, 3) == 0x1p-126f);
  CHECK(zero_tile_row[400] == 0);

  // Decode over the fp8 cache: both host models match the reference on it.
  const std::vector<double> fp8_reference = mla_reference(decode, {});
  for (MlaPath path : {MlaPath::absorbed, MlaPath::naive}) {
    CAPTURE(to_string(path));
    MlaParams run = problem.params();
    run.kv_cache = fp8_cache.data();
    mla_host_model(run, path, 8);
    CHECK(relative_l2_error(problem.output(), fp8_reference) < mla_error_threshold(MlaCache::fp8_ds_mla));
  }

  // The same latent through a bf16 cache: the fp8 path must agree to the fp8 rounding. Every latent
  // value is within 2^-4 of itself (relative) and the RoPE dims are exact, so the scores move by at
  // most 2^-4 of their latent part and the outputs, weighted sums of latents, by about as much:
  // 2^-4 bounds the relative L2 difference.
  MlaLayout bf16_layout = problem.layout();
  bf16_layout.shape.cache = MlaCache::bf16;
  std::vector<std::uint8_t> bf16_cache(bf16_layout.cache_bytes(), 0xff);
  latent_cache_reference(latent_write(decode, starts, latent, KvType::bf16, bf16_cache.data()));
  MlaParams bf16_decode = decode;
  bf16_decode.cache = MlaCache::bf16;
  bf16_decode.kv_cache = bf16_cache.data();
  const std::vector<double> bf16_reference = mla_reference(bf16_decode, {});
  const double fp8_vs_bf16 = relative_l2_error(fp8_reference, bf16_reference);
  CHECK(fp8_vs_bf16 < 0x1p-4);
  CHECK(fp8_vs_bf16 > 0);  // the fp8 rows really are rounded

  // Planted: the layout the fp8 write once produced (576 e4m3 codes with one per-tensor scale of 1,
  // RoPE included, in the first 576 bytes of a row) reads back as garbage scales and RoPE dims.
  std::vector<std::uint8_t> old_cache(fp8_cache.size(), 0xff);
  for (int b = 0; b < decode.batch; ++b) {
    for (int t = 0; t < decode.seq_lens[b]; ++t) {
      const std::size_t at = mla_row_index(decode, b, t) * mla::kFp8RowBytes;
      const int token = starts[static_cast<std::size_t>(b)] + t;
      for (int i = 0; i < kWidth; ++i) old_cache[at + static_cast<std::size_t>(i)] = float_to_e4m3(bf16_value(latent, token, i));
    }
  }
  MlaParams old_decode = decode;
  old_decode.kv_cache = old_cache.data();
  const double old_vs_bf16 = relative_l2_error(mla_reference(old_decode, {}), bf16_reference);
  CHECK_FALSE(old_vs_bf16 < 0x1p-4);  // NaN counts as caught
}

TEST_CASE("the latent cache write refuses an fp8 row that is not 576 wide") {
  std::vector<std::uint16_t> latent(512);
  std::vector<std::uint8_t> cache(64 * 656);
  const std::vector<std::int32_t> starts = {0, 1};
  LatentCacheParams p;
  p.latent = latent.data();
  p.seq_starts = starts.data();
  p.cache = cache.data();
  p.batch = 1;
  p.width = 512;
  p.token_stride = 512;
  p.max_seq_len = 1;
  p.num_pages = 1;
  p.page_size = 64;
  p.max_pages_per_seq = 1;
  p.kv_type = KvType::fp8_e4m3;
  CHECK_THROWS_WITH_AS(check_latent_cache_params(p),
                       doctest::Contains("an fp8 cache is fp8_ds_mla: width must be 576"), kvplan::Error);
  p.kv_type = KvType::bf16;
  CHECK_NOTHROW(check_latent_cache_params(p));
}

// The prefill kernel's algorithm (host model, kernels/prefill_model.cc) against the double
// reference on random shapes: prompt lengths on and off the tile edges, every group size class,
// packed and fused-QKV inputs, every head-dim pair, bf16/fp16/fp8 caches. The cache it writes is
// checked bit for bit and fed to decode_reference; planted bugs show the test can fail.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <set>

#include "core/error.h"
#include "kernels/kernels.h"
#include "kernels/numeric.h"
#include "kernels/prefill_problem.h"
#include "kernels/prefill_tensors.h"
#include "kernels/prefill_tiling.h"

using namespace kvplan::kernels;

namespace {

double model_error(HostPrefillProblem& problem, PrefillFault fault = PrefillFault::none) {
  PrefillParams params = problem.params();
  std::vector<double> want = prefill_reference(params, {});
  prefill_host_model(params, fault);
  return relative_l2_error(problem.output(), want);
}

// Lengths around the tile edges (64-key and 128-row tiles) and a few others.
int random_length(std::mt19937& rng) {
  const int edges[] = {1, 2, 63, 64, 65, 127, 128, 129, 191, 192, 255, 256, 257};
  return rng() % 2 ? edges[rng() % 13] : 1 + static_cast<int>(rng() % 400);
}

PrefillShape random_shape(std::mt19937& rng, int round) {
  const int groups[] = {1, 2, 3, 4, 8};
  const KvType types[] = {KvType::bf16, KvType::fp16, KvType::fp8_e4m3};
  PrefillShape shape;
  const int batch = 1 + static_cast<int>(rng() % 2);
  for (int b = 0; b < batch; ++b) shape.seq_lens.push_back(random_length(rng));
  const auto [d_qk, d_v] = kPrefillHeadDims[static_cast<std::size_t>(round % 3)];
  shape.head_dim_qk = d_qk;
  shape.head_dim_v = d_v;
  shape.n_kv_heads = d_qk == d_v ? 1 + static_cast<int>(rng() % 2) : 2;
  shape.n_q_heads = d_qk == d_v ? shape.n_kv_heads * groups[rng() % 5] : 2;  // MLA: one K/V per head
  shape.kv_type = d_qk == d_v ? types[rng() % 3] : types[rng() % 2];
  shape.write_cache = d_qk == d_v;
  const int pages[] = {0, 1, 16, 64};
  shape.page_size = pages[rng() % 4];
  shape.fused_qkv = rng() % 2 == 0;
  return shape;
}

std::uint16_t bits16(const void* base, std::size_t index) {
  std::uint16_t value;
  std::memcpy(&value, static_cast<const std::uint8_t*>(base) + 2 * index, 2);
  return value;
}

}  // namespace

TEST_CASE("prefill tiling: the fragment map covers the m16n8 accumulator once") {
  using namespace kvplan::kernels::prefill;
  std::set<std::pair<int, int>> seen;
  for (int lane = 0; lane < 32; ++lane) {
    for (int reg = 0; reg < 4; ++reg) seen.insert({acc_row(lane, reg), acc_col(lane, reg)});
  }
  CHECK(seen.size() == 16 * 8);
  CHECK(seen.begin()->first == 0);
  CHECK(seen.rbegin()->first == 15);
  CHECK(acc_row(5, 2) == 9);  // lane 5 = group 1, thread 1 in its quad: c2 is row 1 + 8, column 2
  CHECK(acc_col(5, 2) == 2);
  CHECK(acc_col(7, 3) == 7);
}

TEST_CASE("prefill tiling: key tiles per query tile, by hand") {
  using namespace kvplan::kernels::prefill;
  CHECK(kBlockM == 128);
  CHECK(kBlockN == 64);
  CHECK(key_tiles_end(0, 1000) == 2);    // rows 0..127 see keys 0..127
  CHECK(first_masked_tile(0) == 0);
  CHECK(key_tiles_end(3, 450) == 8);     // rows 384..449 see keys 0..449: tiles 0..7 (7 * 64 = 448)
  CHECK(first_masked_tile(3) == 6);      // tiles 6 and 7 start at key 384 and 448: both cross the diagonal
  CHECK(key_tiles_end(0, 1) == 1);
  CHECK(query_tiles(129) == 2);
  CHECK(masked(10, 11));
  CHECK_FALSE(masked(10, 10));
  CHECK(writes_tile(3, 6));
  CHECK_FALSE(writes_tile(3, 5));
  CHECK(smem_bytes(128, 128) == 2 * (128 * 136 + 2 * 64 * 136 + 2 * 64 * 136));  // 104448 B
}

TEST_CASE("prefill reference: token 0 returns its V row - token 1 weighs two V rows by softmax") {
  PrefillShape shape{{2}, 1, 1, 64, 64, KvType::bf16, false, 16, false};
  HostPrefillProblem problem(shape, 3);
  PrefillParams p = problem.params();
  std::vector<double> first = prefill_reference(p, {{0, 0, 0}});
  for (int i = 0; i < 64; ++i) CHECK(first[i] == bf16_to_float(bits16(p.v, i)));
  double s0 = 0, s1 = 0;
  for (int i = 0; i < 64; ++i) {
    const double q = bf16_to_float(bits16(p.q, 64 + i));  // token 1's query
    s0 += q * bf16_to_float(bits16(p.k, i)) / 8.0;        // 1/sqrt(64)
    s1 += q * bf16_to_float(bits16(p.k, 64 + i)) / 8.0;
  }
  const double w1 = 1.0 / (1.0 + std::exp(s0 - s1));
  std::vector<double> second = prefill_reference(p, {{0, 1, 0}});
  for (int i = 0; i < 64; ++i) {
    const double want = (1 - w1) * bf16_to_float(bits16(p.v, i)) + w1 * bf16_to_float(bits16(p.v, 64 + i));
    CHECK(second[i] == doctest::Approx(want).epsilon(1e-12));
  }
}

TEST_CASE("prefill host model matches the reference on random shapes") {
  std::mt19937 rng(20261125);
  double worst[3] = {0, 0, 0};
  for (int round = 0; round < 30; ++round) {
    PrefillShape shape = random_shape(rng, round);
    CAPTURE(round);
    CAPTURE(shape.seq_lens[0]);
    CAPTURE(shape.seq_lens.size());
    CAPTURE(shape.n_q_heads);
    CAPTURE(shape.n_kv_heads);
    CAPTURE(shape.head_dim_qk);
    CAPTURE(to_string(shape.kv_type));
    CAPTURE(shape.fused_qkv);
    CAPTURE(shape.page_size);
    HostPrefillProblem problem(shape, rng());
    const double error = model_error(problem);
    CHECK(error < prefill_error_threshold(shape.kv_type));
    double& w = worst[static_cast<int>(shape.kv_type)];
    w = std::max(w, error);
  }
  MESSAGE("worst relative L2 error, bf16 / fp16 / fp8-cache inputs: " << worst[0] << " / " << worst[1] << " / " << worst[2]);
}

TEST_CASE("prefill writes the cache decode reads: exact values, only the owned slots") {
  for (KvType type : {KvType::bf16, KvType::fp16, KvType::fp8_e4m3}) {
    CAPTURE(to_string(type));
    PrefillShape shape{{130, 1, 77}, 8, 2, 128, 128, type, true, 16, true};
    HostPrefillProblem problem(shape, 17);
    PrefillParams p = problem.params();
    prefill_host_model(p);
    const DecodeParams cache = problem.cache_params();
    std::size_t written = 0;
    for (int b = 0; b < 3; ++b) {
      for (int t = 0; t < shape.seq_lens[static_cast<std::size_t>(b)]; ++t) {
        for (int h = 0; h < 2; ++h) {
          const std::size_t at = kv_row_offset(cache, b, t, h);
          const std::size_t k_in = token_offset(p.seq_starts, b, t, h, p.k_token_stride, p.k_head_stride);
          const std::size_t v_in = token_offset(p.seq_starts, b, t, h, p.v_token_stride, p.v_head_stride);
          for (std::size_t i = 0; i < 128; ++i, ++written) {
            if (type == KvType::fp8_e4m3) {
              // Quantised independently: value * 64 rounded to E4M3 (kPrefillFp8Scale = 1/64).
              REQUIRE(problem.k_cache()[at + i] == float_to_e4m3(bf16_to_float(bits16(p.k, k_in + i)) * 64.0f));
              REQUIRE(problem.v_cache()[at + i] == float_to_e4m3(bf16_to_float(bits16(p.v, v_in + i)) * 64.0f));
            } else {
              REQUIRE(bits16(problem.k_cache().data(), at + i) == bits16(p.k, k_in + i));
              REQUIRE(bits16(problem.v_cache().data(), at + i) == bits16(p.v, v_in + i));
            }
          }
        }
      }
    }
    // Every other slot still holds the NaN poison: nothing was written outside the sequences.
    std::size_t nan_slots = 0;
    const std::size_t elements = problem.k_cache().size() / static_cast<std::size_t>(element_bytes(type));
    for (std::size_t i = 0; i < elements; ++i) {
      const double value = type == KvType::fp8_e4m3 ? e4m3_to_float(problem.k_cache()[i]) : load_element(problem.k_cache().data(), i, type);
      nan_slots += std::isnan(value);
    }
    CHECK(nan_slots == elements - written);
  }
}

TEST_CASE("prefill -> decode: the written cache gives decode the answer of the original K/V") {
  for (KvType type : {KvType::bf16, KvType::fp8_e4m3}) {
    CAPTURE(to_string(type));
    PrefillShape shape{{300, 45}, 8, 2, 64, 64, type, true, 16, false};
    HostPrefillProblem problem(shape, 29);
    PrefillParams p = problem.params();
    prefill_host_model(p);
    // One new query token per sequence, read against the cache prefill wrote...
    DecodeParams chained = problem.cache_params();
    std::vector<std::uint16_t> q(2 * 8 * 64);
    for (std::size_t i = 0; i < q.size(); ++i) q[i] = random_element(KvType::bf16, 99, i);
    std::vector<std::uint16_t> out(q.size());
    const std::vector<std::int32_t> lens = {300, 45};
    chained.q = q.data();
    chained.seq_lens = lens.data();
    chained.out = out.data();
    std::vector<double> from_cache = decode_reference(chained, {});
    // ... and against the prompt's own K/V, one sequence at a time as a contiguous bf16 cache.
    for (int b = 0; b < 2; ++b) {
      DecodeParams original = chained;
      original.batch = 1;
      original.kv_type = KvType::bf16;
      original.k_scale = original.v_scale = 1;
      original.block_table = nullptr;
      original.num_pages = 1;
      original.page_size = original.max_seq_len = lens[static_cast<std::size_t>(b)];
      original.seq_lens = &lens[static_cast<std::size_t>(b)];
      original.q = q.data() + b * 8 * 64;
      original.k_cache = static_cast<const std::uint16_t*>(p.k) + static_cast<std::size_t>(p.seq_starts[b]) * 2 * 64;
      original.v_cache = static_cast<const std::uint16_t*>(p.v) + static_cast<std::size_t>(p.seq_starts[b]) * 2 * 64;
      std::vector<double> want = decode_reference(original, {});
      std::vector<double> got(from_cache.begin() + b * 8 * 64, from_cache.begin() + (b + 1) * 8 * 64);
      if (type == KvType::bf16) {
        CHECK(got == want);  // the same values, the same double arithmetic
      } else {
        // E4M3 keeps 3 mantissa bits: about 3% per element, much less after the softmax average.
        CHECK(relative_l2_error(got, want) < 5e-2);
      }
    }
  }
}

TEST_CASE("planted bugs in the host model fail the test") {
  // Two sequences, lengths off the tile edges, so every fault has something to break.
  PrefillShape shape{{300, 129}, 4, 2, 64, 64, KvType::bf16, true, 16, false};
  for (PrefillFault fault : {PrefillFault::no_rescale, PrefillFault::no_mask, PrefillFault::mask_off_by_one,
                             PrefillFault::no_masked_row_guard, PrefillFault::skip_last_tile}) {
    CAPTURE(static_cast<int>(fault));
    HostPrefillProblem problem(shape, 41);
    const double error = model_error(problem, fault);
    CHECK_FALSE(error < prefill_error_threshold(KvType::bf16));  // NaN fails too
  }
  HostPrefillProblem clean(shape, 41);
  CHECK(model_error(clean) < 1e-2);
}

TEST_CASE("prefill params: unsupported head dims name the built ones") {
  PrefillShape shape{{10}, 2, 1, 64, 64, KvType::bf16, false, 0, false};
  HostPrefillProblem problem(shape, 5);
  PrefillParams p = problem.params();
  p.head_dim_qk = p.head_dim_v = 96;
  CHECK_THROWS_WITH_AS(check_prefill_params(p), doctest::Contains("supported: 64, 128, 192/128"), kvplan::Error);
  p.head_dim_qk = p.head_dim_v = 64;
  p.k_token_stride = 100;  // not a multiple of 8 elements
  CHECK_THROWS_AS(check_prefill_params(p), kvplan::Error);
}

TEST_CASE("E4M3 encoder: every finite code round-trips - ties go to even - large values saturate") {
  for (int code = 0; code < 256; ++code) {
    if ((code & 0x7f) == 0x7f) continue;  // NaN
    CAPTURE(code);
    CHECK(float_to_e4m3(e4m3_to_float(static_cast<std::uint8_t>(code))) == code);
  }
  CHECK(float_to_e4m3(1.0625f) == 0x38);  // halfway between 1 (0x38) and 1.125 (0x39): even
  CHECK(float_to_e4m3(1.1875f) == 0x3a);  // halfway between 1.125 and 1.25 (0x3a): even
  CHECK(float_to_e4m3(1000.0f) == 0x7e);  // 448
  CHECK(float_to_e4m3(-1000.0f) == 0xfe);
  CHECK(float_to_e4m3(0x1p-10f) == 0x00);  // half of the smallest subnormal 2^-9: ties to even (0)
  CHECK(float_to_e4m3(0x1p-6f) == 0x08);   // the smallest normal
}

TEST_CASE("latent cache reference: bf16 MLA rows placed as decode reads them") {
  // Two sequences of a 576-wide latent in a 600-wide buffer (padding NaN), paged by 64 tokens. The
  // fp8 cache (fp8_ds_mla rows) is tested with the decode side in tests/kernels/mla_chain_test.cc.
  const std::vector<std::int32_t> starts = {0, 70, 71};
  std::vector<std::uint16_t> latent(72 * 600, 0x7fc0);
  for (int t = 0; t < 71; ++t) {
    for (int i = 0; i < 576; ++i) latent[static_cast<std::size_t>(t * 600 + i)] = random_element(KvType::bf16, 7, static_cast<std::size_t>(t * 600 + i));
  }
  const std::vector<std::int32_t> table = {2, 0, 1, -1};
  std::vector<std::uint8_t> cache(3 * 64 * 576 * 2, 0xff);
  LatentCacheParams p;
  p.latent = latent.data();
  p.seq_starts = starts.data();
  p.cache = cache.data();
  p.block_table = table.data();
  p.batch = 2;
  p.width = 576;
  p.token_stride = 600;
  p.max_seq_len = 70;
  p.num_pages = 3;
  p.page_size = 64;
  p.max_pages_per_seq = 2;
  p.kv_type = KvType::bf16;
  latent_cache_reference(p);
  // Token 69 of sequence 0 is slot 5 of its second page (page 0); sequence 1's token 0 is page 1.
  const std::size_t t69 = (0 * 64 + 5) * 576, s1 = (1 * 64 + 0) * 576;
  for (std::size_t i = 0; i < 576; ++i) {
    CHECK(bits16(cache.data(), t69 + i) == latent[69 * 600 + i]);
    CHECK(bits16(cache.data(), s1 + i) == latent[70 * 600 + i]);
  }
}

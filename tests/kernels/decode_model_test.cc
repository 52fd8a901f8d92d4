// The decode kernel's algorithm (host model, kernels/decode_model.cc) against the double
// reference on random shapes: ragged lengths, lengths that are no multiple of any tile, paged and
// contiguous caches with poisoned spare pages, every cache type, group sizes below, at and above
// the heads one CTA holds, SM counts that force one or many splits, and ragged batches whose
// schedule cuts sequences across CTAs, checked element by element.
#include <doctest/doctest.h>

#include <cmath>
#include <random>

#include "core/error.h"
#include "kernels/decode_problem.h"
#include "kernels/element_check.h"
#include "kernels/paged_cache.h"
#include "kernels/decode_tiling.h"
#include "kernels/kernels.h"
#include "kernels/numeric.h"
#include "kernels/random_shapes.h"

using namespace kvplan::kernels;

namespace {

struct Outcome {
  double error;
  DecodePlan plan;
};

Outcome model_vs_reference(const DecodeShape& shape, std::uint64_t seed, int num_sms) {
  HostDecodeProblem problem(make_decode_layout(shape, seed, 3));
  DecodeParams params = problem.params();
  std::vector<double> want = decode_reference(params, {});
  decode_host_model(params, num_sms);
  return {relative_l2_error(problem.output(), want), plan_decode(params, params.seq_lens, num_sms)};
}

}  // namespace

TEST_CASE("reference: one token returns its V - two tokens weigh V by softmax") {
  DecodeShape shape{1, 1, 1, 64, KvType::bf16, 0, {1}};
  HostDecodeProblem one(make_decode_layout(shape, 7));
  DecodeParams p = one.params();
  std::vector<double> out = decode_reference(p, {});
  for (int i = 0; i < 64; ++i) CHECK(out[i] == bf16_to_float(static_cast<const std::uint16_t*>(p.v_cache)[i]));

  shape.seq_lens = {2};
  HostDecodeProblem two(make_decode_layout(shape, 8));
  p = two.params();
  auto q = static_cast<const std::uint16_t*>(p.q);
  auto k = static_cast<const std::uint16_t*>(p.k_cache);
  auto v = static_cast<const std::uint16_t*>(p.v_cache);
  double s0 = 0, s1 = 0;
  for (int i = 0; i < 64; ++i) {
    s0 += double{bf16_to_float(q[i])} * bf16_to_float(k[i]) / 8.0;  // 1/sqrt(64)
    s1 += double{bf16_to_float(q[i])} * bf16_to_float(k[64 + i]) / 8.0;
  }
  const double w1 = 1.0 / (1.0 + std::exp(s0 - s1));
  out = decode_reference(p, {{0, 0}});
  for (int i = 0; i < 64; ++i) {
    CHECK(out[i] == doctest::Approx((1 - w1) * bf16_to_float(v[i]) + w1 * bf16_to_float(v[64 + i])).epsilon(1e-12));
  }
}

TEST_CASE("host model matches the reference on random shapes") {
  std::mt19937 rng(20261124);
  const KvType types[] = {KvType::bf16, KvType::fp16, KvType::fp8_e4m3};
  const int sms[] = {1, 16, 132};
  int multi_split = 0, multi_chunk = 0;
  for (int round = 0; round < 36; ++round) {
    DecodeShape shape = kvplan::testing::random_decode_shape(rng, types[round % 3], 1300);
    const int num_sms = sms[rng() % 3];
    CAPTURE(round);
    CAPTURE(shape.batch);
    CAPTURE(shape.n_q_heads);
    CAPTURE(shape.n_kv_heads);
    CAPTURE(shape.head_dim);
    CAPTURE(to_string(shape.kv_type));
    CAPTURE(shape.page_size);
    CAPTURE(num_sms);
    Outcome outcome = model_vs_reference(shape, rng(), num_sms);
    CHECK(outcome.error < decode_error_threshold(shape.kv_type));
    multi_split += schedule_balance(outcome.plan.schedule).split_sequences > 0;
    multi_chunk += outcome.plan.head_chunks > 1;
  }
  // The draw must exercise the split combine and the head chunks, or this test proves little.
  CHECK(multi_split >= 5);
  CHECK(multi_chunk >= 3);
}

TEST_CASE("a long single sequence splits across the context and still matches") {
  DecodeShape shape{1, 4, 1, 128, KvType::bf16, 16, {4099}};
  Outcome outcome = model_vs_reference(shape, 11, 132);
  // 132 * 8 CTAs wanted, but a piece keeps 256 tokens on average: 4099 / 256 = 16 parts.
  CHECK(outcome.plan.schedule.view().parts() == 16);
  CHECK(schedule_balance(outcome.plan.schedule).max_pieces_per_sequence == 16);
  CHECK(outcome.error < 1e-2);
}

TEST_CASE("the model reads no token a sequence does not own") {
  // Spare pages and the slots past each sequence's end are NaN; one read of them poisons the
  // output and the error is NaN, which never passes.
  DecodeShape shape{3, 8, 2, 64, KvType::fp8_e4m3, 5, {1, 17, 333}};
  Outcome outcome = model_vs_reference(shape, 5, 132);
  // 351 tokens: one part (351 / 256 = 1) holding the three whole sequences.
  CHECK(outcome.plan.schedule.view().parts() == 1);
  CHECK(schedule_balance(outcome.plan.schedule).split_sequences == 0);
  CHECK(outcome.error < 2e-2);
  HostDecodeProblem problem(make_decode_layout(shape, 5, 3));
  DecodeParams params = problem.params();
  params.seq_lens = nullptr;
  CHECK_THROWS(decode_host_model(params, 132));
}

TEST_CASE("decode plan: batch 1 at 128k fills all SMs - big batches need no split") {
  using namespace kvplan::kernels::decode;
  const Tiling bf16_128 = tiling(2, 128, 4);
  CHECK(bf16_128.lanes_per_token == 16);  // 128 elements / 8 per 16-byte vector
  CHECK(bf16_128.token_groups == 8);
  CHECK(bf16_128.heads_per_cta == 4);     // the group of 4 query heads
  // Heads per CTA: the group size rounded up to a power of two, at most 64 accumulators / 8 = 8
  // (bf16) or / 16 = 4 (fp8). MHA holds one head's q and o, not eight.
  CHECK(tiling(2, 128, 1).heads_per_cta == 1);
  CHECK(tiling(2, 128, 3).heads_per_cta == 4);
  CHECK(tiling(2, 128, 7).heads_per_cta == 8);
  CHECK(tiling(2, 128, 32).heads_per_cta == 8);
  const Tiling fp8_128 = tiling(1, 128, 32);
  CHECK(fp8_128.lanes_per_token == 8);    // 16 fp8 per vector
  CHECK(fp8_128.heads_per_cta == 4);
  // Llama-3-8B shape, batch 1, 128k: 8 KV heads x 1 chunk = 8 CTAs per part; 132 SMs x 8 = 1056
  // CTAs wanted: 132 parts of 8192 / 132 = 62 or 63 blocks of 16 tokens.
  CHECK(parts_for(1, 131072, 8192, 8, 132) == 132);
  // 64 sequences: 132 parts rounded up to a multiple of 64 = 192, 3 pieces per uniform sequence;
  // 256 sequences: 256 parts, one sequence each, none split.
  CHECK(parts_for(64, 64 * 4096, 64 * 256, 8, 132) == 192);
  CHECK(parts_for(256, 256 * 4096, 256 * 256, 8, 132) == 256);
  // A part keeps 256 tokens on average: 3 sequences of 300 tokens get 3 parts, not 528.
  CHECK(parts_for(3, 900, 57, 2, 132) == 3);
  // MQA with 32 query heads in bf16: 4 chunks of 8 heads share the KV head.
  DecodeParams p;
  p.batch = 1;
  p.n_q_heads = 32;
  p.n_kv_heads = 1;
  p.head_dim = 128;
  p.max_seq_len = 8192;
  const std::int32_t len = 8192;
  CHECK(plan_decode(p, &len, 132).head_chunks == 4);
}

TEST_CASE("paged layouts count pages in 64 bits and refuse more than 32-bit page ids") {
  // 3000 sequences of 2^30 tokens in pages of 16: 3000 x 2^26 = 201326592000 pages, past 2^31
  // where an int sum would wrap (to a small or negative count and a too-small block table).
  const std::vector<int> lens(3000, 1 << 30);
  CHECK_THROWS_WITH_AS(kvplan::kernels::make_paged_layout(lens, 16, 1, 0),
                       doctest::Contains("needs 201326592000 pages of 16 tokens"), kvplan::Error);
}

TEST_CASE("ragged batches: the schedule cuts sequences across CTAs and every element still matches") {
  // 4 or 16 SMs against 9 to 12 sequences of 1 to 2000 tokens (every fourth of one token): ranges
  // that end inside a sequence, CTAs that run pieces of several sequences one after the other.
  std::mt19937 rng(20261201);
  const KvType types[] = {KvType::bf16, KvType::fp16, KvType::fp8_e4m3};
  int crossing = 0;
  for (int round = 0; round < 9; ++round) {
    DecodeShape shape = kvplan::testing::random_decode_shape(rng, types[round % 3], 2000);
    shape.batch = 9 + static_cast<int>(rng() % 4);
    shape.seq_lens.clear();
    for (int b = 0; b < shape.batch; ++b) shape.seq_lens.push_back(b % 4 == 3 ? 1 : 1 + static_cast<int>(rng() % 2000));
    const int num_sms = round % 2 ? 4 : 16;
    CAPTURE(round);
    CAPTURE(to_string(shape.kv_type));
    HostDecodeProblem problem(make_decode_layout(shape, rng(), 2));
    DecodeParams params = problem.params();
    const DecodePlan plan = plan_decode(params, params.seq_lens, num_sms);
    const ScheduleBalance balance = schedule_balance(plan.schedule);
    CHECK(balance.max_part_blocks - balance.min_part_blocks <= 1);
    const ScheduleView view = plan.schedule.view();
    for (int part = 0; part < view.parts(); ++part) crossing += view.first_piece(part + 1) - view.first_piece(part) > 1;
    const std::vector<double> want = decode_reference(params, {});
    decode_host_model(params, num_sms);
    ElementCheck check;
    const std::vector<std::string> names(want.size() / static_cast<std::size_t>(shape.head_dim), "row");
    check_elements(problem.output(), want, shape.head_dim, names, decode_element_tolerance(shape.kv_type), check);
    CHECK(check.mismatches == 0);
  }
  CHECK(crossing >= 9);  // CTAs that run pieces of several sequences: the case this test is for
}

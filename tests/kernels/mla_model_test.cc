// The MLA decode kernels' algorithms (host models, kernels/mla_model.cc and mla_naive_model.cc)
// against the double reference on random shapes: ragged lengths, every head count step, paged
// (FlashMLA's 64 and odd pages) and contiguous caches with poisoned spare rows, bf16 and
// fp8_ds_mla, SM counts that force one or many splits, naive chunks, ragged batches checked element
// by element. Planted bugs must fail.
#include <doctest/doctest.h>

#include <cmath>
#include <random>

#include "core/error.h"
#include "kernels/element_check.h"
#include "kernels/kernels.h"
#include "kernels/mla_problem.h"
#include "kernels/mla_tensors.h"
#include "kernels/mla_tiling.h"
#include "kernels/mla_workspace.h"
#include "kernels/random_shapes.h"

using namespace kvplan::kernels;

namespace {

struct Outcome {
  double error;
  MlaPlan plan;
};

Outcome model_vs_reference(const MlaShape& shape, std::uint64_t seed, MlaPath path, int num_sms, int naive_chunk = 0,
                           MlaFault fault = MlaFault::none) {
  HostMlaProblem problem(make_mla_layout(shape, seed, 2));
  MlaParams params = problem.params();
  params.naive_chunk = naive_chunk;
  const std::vector<double> want = mla_reference(params, {});
  mla_host_model(params, path, num_sms, fault);
  return {relative_l2_error(problem.output(), want), plan_mla(params, params.seq_lens, path, num_sms)};
}

// The up-projected formula written out: K nope = W_UK c, V = W_UV c per head and token.
std::vector<double> up_projected_attention(const MlaParams& p) {
  std::vector<double> out;
  for (int b = 0; b < p.batch; ++b) {
    for (int h = 0; h < p.n_heads; ++h) {
      const int len = p.seq_lens[b];
      std::vector<double> scores(static_cast<std::size_t>(len)), values(static_cast<std::size_t>(len) * mla::kVDim);
      for (int t = 0; t < len; ++t) {
        const std::uint8_t* row = mla_row(p, b, t);
        double score = 0;
        for (int r = 0; r < mla::kNopeDim; ++r) {
          double k = 0;
          for (int c = 0; c < mla::kLatentDim; ++c) k += double{mla_w(p, h, r, c)} * mla_latent_exact(row, c, p.cache);
          score += double{mla_q(p, b, h, r)} * k;
        }
        for (int i = 0; i < mla::kRopeDim; ++i) score += double{mla_q(p, b, h, mla::kNopeDim + i)} * mla_rope(row, i, p.cache);
        scores[static_cast<std::size_t>(t)] = score * p.softmax_scale;
        for (int v = 0; v < mla::kVDim; ++v) {
          double value = 0;
          for (int c = 0; c < mla::kLatentDim; ++c) {
            value += double{mla_w(p, h, mla::kNopeDim + v, c)} * mla_latent_exact(row, c, p.cache);
          }
          values[static_cast<std::size_t>(t) * mla::kVDim + v] = value;
        }
      }
      double max_score = -INFINITY, sum = 0;
      for (double s : scores) max_score = std::max(max_score, s);
      for (double& s : scores) sum += (s = std::exp(s - max_score));
      for (int v = 0; v < mla::kVDim; ++v) {
        double o = 0;
        for (int t = 0; t < len; ++t) o += scores[static_cast<std::size_t>(t)] / sum * values[static_cast<std::size_t>(t) * mla::kVDim + v];
        out.push_back(o);
      }
    }
  }
  return out;
}

}  // namespace

TEST_CASE("MLA reference: the absorbed association equals the up-projected formula") {
  for (MlaCache cache : {MlaCache::bf16, MlaCache::fp8_ds_mla}) {
    CAPTURE(to_string(cache));
    HostMlaProblem problem(make_mla_layout({2, 16, cache, 64, {3, 70}}, 17, 1));
    MlaParams p = problem.params();
    const std::vector<double> want = up_projected_attention(p);
    const std::vector<double> got = mla_reference(p, {});
    REQUIRE(got.size() == want.size());
    CHECK(relative_l2_error(got, want) < 1e-12);
  }
  // One token: the softmax weight is 1, so the output is W_UV times that token's latent.
  HostMlaProblem one(make_mla_layout({1, 16, MlaCache::fp8_ds_mla, 0, {1}}, 3));
  MlaParams p = one.params();
  const std::vector<double> out = mla_reference(p, {{0, 5}});
  for (int v = 0; v < mla::kVDim; v += 31) {
    double want = 0;
    for (int c = 0; c < mla::kLatentDim; ++c) {
      const std::uint8_t* row = static_cast<const std::uint8_t*>(p.kv_cache);
      want += double{mla_w(p, 5, mla::kNopeDim + v, c)} * e4m3_to_float(row[c]) * fp8_ds_mla_scale(row, c / 128);
    }
    CHECK(out[static_cast<std::size_t>(v)] == doctest::Approx(want).epsilon(1e-12));
  }
}

TEST_CASE("absorbed host model matches the reference on random shapes") {
  std::mt19937 rng(20261125);
  const int sms[] = {1, 8, 132};
  int multi_split = 0, multi_block = 0, small_cta = 0;
  for (int round = 0; round < 20; ++round) {
    const MlaCache cache = round % 2 ? MlaCache::fp8_ds_mla : MlaCache::bf16;
    MlaShape shape = kvplan::testing::random_mla_shape(rng, cache, 100000);
    const int num_sms = sms[rng() % 3];
    CAPTURE(round);
    CAPTURE(shape.batch);
    CAPTURE(shape.n_heads);
    CAPTURE(to_string(shape.cache));
    CAPTURE(shape.page_size);
    CAPTURE(num_sms);
    Outcome outcome = model_vs_reference(shape, rng(), MlaPath::absorbed, num_sms);
    CHECK(outcome.error < mla_error_threshold(shape.cache));
    multi_split += schedule_balance(outcome.plan.schedules.front()).split_sequences > 0;
    multi_block += outcome.plan.head_blocks > 1;
    small_cta += outcome.plan.heads_per_cta < 64;
  }
  // The draw must exercise the combine, several head blocks and the smaller CTAs.
  CHECK(multi_split >= 4);
  CHECK(multi_block >= 4);
  CHECK(small_cta >= 4);
}

TEST_CASE("naive host model matches the reference, in chunks of sequences too") {
  std::mt19937 rng(7);
  const int chunks[] = {0, 1, 2};
  for (int round = 0; round < 8; ++round) {
    const MlaCache cache = round % 2 ? MlaCache::fp8_ds_mla : MlaCache::bf16;
    MlaShape shape = kvplan::testing::random_mla_shape(rng, cache, 6000);
    const int num_sms = round % 4 == 0 ? 132 : 8;
    const int chunk = chunks[round % 3];
    CAPTURE(round);
    CAPTURE(shape.batch);
    CAPTURE(shape.n_heads);
    CAPTURE(to_string(shape.cache));
    CAPTURE(shape.page_size);
    CAPTURE(chunk);
    Outcome outcome = model_vs_reference(shape, rng(), MlaPath::naive, num_sms, chunk);
    CHECK(outcome.error < mla_error_threshold(shape.cache));
  }
}

TEST_CASE("a long single sequence splits across the context and both paths still match") {
  const MlaShape shape{1, 128, MlaCache::bf16, 64, {1000}};
  Outcome absorbed = model_vs_reference(shape, 11, MlaPath::absorbed, 132);
  // 16 tiles of 64, one per part: 2 head blocks x 16 = 32 CTAs, one wave (cost 1 tile + 1).
  CHECK(absorbed.plan.schedules.front().view().parts() == 16);
  CHECK(schedule_balance(absorbed.plan.schedules.front()).max_pieces_per_sequence == 16);
  CHECK(absorbed.plan.head_blocks == 2);
  CHECK(absorbed.error < 1e-2);
  const MlaShape narrow{1, 16, MlaCache::fp8_ds_mla, 64, {700}};
  Outcome naive = model_vs_reference(narrow, 12, MlaPath::naive, 132);
  CHECK(schedule_balance(naive.plan.schedules.front()).max_pieces_per_sequence > 1);
  CHECK(naive.error < 1e-2);
}

TEST_CASE("planted bugs in the models are caught") {
  // Several tiles per split and a score spread that moves the running max: each fault must push the
  // error far past the threshold, or the random-shape tests above prove little.
  const MlaShape shape{2, 32, MlaCache::bf16, 64, {700, 450}};
  for (MlaFault fault : {MlaFault::no_rescale, MlaFault::no_rope, MlaFault::skip_last_tile}) {
    CAPTURE(static_cast<int>(fault));
    CHECK(model_vs_reference(shape, 5, MlaPath::absorbed, 1, 0, fault).error > 5e-2);
  }
  const MlaShape narrow{1, 16, MlaCache::bf16, 64, {300}};
  for (MlaFault fault : {MlaFault::no_rescale, MlaFault::no_rope}) {
    CAPTURE(static_cast<int>(fault));
    CHECK(model_vs_reference(narrow, 6, MlaPath::naive, 1, 0, fault).error > 5e-2);
  }
}

TEST_CASE("the models read no row a sequence does not own and check their arguments") {
  // Spare pages and the slots past each sequence's end are NaN; one read of them makes the output
  // NaN, and a NaN error never passes.
  const MlaShape shape{3, 16, MlaCache::fp8_ds_mla, 16, {1, 17, 130}};
  CHECK(model_vs_reference(shape, 9, MlaPath::absorbed, 132).error < 1e-2);
  CHECK(model_vs_reference(shape, 9, MlaPath::naive, 132, 2).error < 1e-2);
  HostMlaProblem problem(make_mla_layout(shape, 9, 1));
  MlaParams params = problem.params();
  params.n_heads = 40;
  CHECK_THROWS_WITH(mla_host_model(params, MlaPath::absorbed, 132),
                    doctest::Contains("supported: multiples of 16 from 16 to 128"));
  params = problem.params();
  params.w_kv_b = nullptr;
  CHECK_THROWS(mla_reference(params, {}));
}

TEST_CASE("absorbed plan: fills the SMs with whole tiles and few waves, by real lengths") {
  using namespace kvplan::kernels::mla;
  constexpr int kH100 = 232448, kA100 = 166912, kRtx = 101376;  // opt-in shared memory per block
  CHECK(heads_per_cta_for(16, false, kH100) == 16);
  CHECK(heads_per_cta_for(48, false, kH100) == 16);
  CHECK(heads_per_cta_for(96, false, kH100) == 32);
  CHECK(heads_per_cta_for(128, false, kH100) == 64);
  // Smaller shared memory, fewer heads per CTA: on an A100 fp8 at 32 heads (157440 B) fits and bf16
  // does not even at 16 (168576 B: Q 18432 + two latent tiles 147456 + P 2048 + 512 + 128).
  CHECK(heads_per_cta_for(128, true, kA100) == 32);
  CHECK(absorbed_smem(16, false).total == 18432 + 147456 + 2048 + 512 + 128);
  CHECK(heads_per_cta_for(128, false, kA100) == 0);
  CHECK(heads_per_cta_for(128, true, kRtx) == 0);
  // Where nothing fits the absorbed plan says so (exit 3) and the naive path still plans.
  HostMlaProblem problem(make_mla_layout({1, 128, MlaCache::bf16, 64, {64}}, 1));
  MlaParams p = problem.params();
  p.max_smem_per_cta = kA100;
  CHECK_THROWS_WITH_AS(plan_mla(p, p.seq_lens, MlaPath::absorbed, 108), doctest::Contains("needs 168576 bytes of shared memory"),
                       kvplan::Error);
  CHECK(plan_mla(p, p.seq_lens, MlaPath::naive, 108).heads_per_cta == 1);
  // DeepSeek-V3 (2 head blocks of 64 heads), batch 32 at 4k: 2048 tiles. 64 parts of 32 tiles, each
  // half a sequence (one piece): 128 CTAs, one wave on 132 SMs, cost 32 + 1 = 33; 66 parts (132
  // CTAs) hold 31 or 32 tiles but some of them two pieces: 32 + 2 = 34; 32 parts: 64 + 1 = 65.
  const std::vector<std::int32_t> uniform_4k(32, 4096);
  CHECK(absorbed_parts(uniform_4k.data(), 32, 2, 132) == 64);
  // Batch 1 at 32k: 512 tiles; 64 parts of 8 tiles are the fewest that cost 8 + 1 in one wave.
  const std::int32_t long_one = 32768;
  CHECK(absorbed_parts(&long_one, 1, 2, 132) == 64);
  // 65 tokens, one head block: 2 tiles in 2 parts (1 + 1) beat 1 part (2 + 1).
  const std::int32_t two_tiles = 65;
  CHECK(absorbed_parts(&two_tiles, 1, 1, 132) == 2);
  // Ragged: one sequence of 32k among 31 of 64 tokens, 543 tiles. The plan by the longest length cut
  // every sequence into the same 64 splits (2 x 64 x 32 = 4096 CTAs, most of them empty); by real
  // lengths every CTA holds at most one tile more than any other.
  std::vector<std::int32_t> ragged(32, 64);
  ragged[5] = 32768;
  const int parts = absorbed_parts(ragged.data(), 32, 2, 132);
  CHECK(parts <= 132);
  const ScheduleBalance balance = schedule_balance(make_split_schedule(ragged.data(), 32, kTileTokens, parts));
  CHECK(balance.blocks == 512 + 31);
  CHECK(balance.max_part_blocks - balance.min_part_blocks <= 1);
}

TEST_CASE("naive path: one schedule per chunk - the workspace holds the partials of the chunk that has most") {
  // 3 sequences in chunks of 2, 16 heads on 132 SMs (66 parts wanted per head: 132 x 8 / 16), a
  // part keeping 256 tokens on average. Chunk 0, {1024, 10}: 65 blocks of 16 tokens in 1034 / 256 =
  // 4 parts, cut at 0, 16, 32, 48, 65: sequence 0 in 4 pieces, sequence 1 whole in the last part.
  // Chunk 1, {4096}: 16 parts, 16 pieces. The partials: max(4, 16) groups x 16 heads x 128 floats.
  HostMlaProblem problem(make_mla_layout({3, 16, MlaCache::bf16, 64, {1024, 10, 4096}}, 1));
  MlaParams p = problem.params();
  p.naive_chunk = 2;
  const MlaPlan plan = plan_mla(p, p.seq_lens, MlaPath::naive, 132);
  REQUIRE(plan.schedules.size() == 2);
  CHECK(plan.schedules[0].view().parts() == 4);
  CHECK(plan.schedules[0].view().partial_groups() == 4);
  CHECK(plan.schedules[0].view().batch() == 2);
  CHECK(plan.schedules[1].view().parts() == 16);
  CHECK(plan.schedules[1].view().partial_groups() == 16);
  CHECK(plan.schedule_offset(1) == plan.schedules[0].words.size());
  CHECK(plan.packed_schedules().size() == plan.schedules[0].words.size() + plan.schedules[1].words.size());
  const MlaWorkspace w = mla_workspace(p, MlaPath::naive, plan);
  CHECK(w.partial_lse - w.partial_o == 16ull * 16 * 128 * 4);
  CHECK(w.total - w.partial_lse == 16ull * 16 * 4);
  // 16 heads on 4 SMs (2 parts wanted): chunk 0, {512, 10}, is 33 blocks in 2 parts, cut at 16:
  // sequence 0 in 2 pieces, sequence 1 whole; chunk 1, {512}, 2 pieces. The model still matches.
  HostMlaProblem odd(make_mla_layout({3, 16, MlaCache::bf16, 64, {512, 10, 512}}, 1));
  p = odd.params();
  p.naive_chunk = 2;
  const MlaPlan plan4 = plan_mla(p, p.seq_lens, MlaPath::naive, 4);
  CHECK(schedule_balance(plan4.schedules[0]).split_sequences == 1);
  CHECK(schedule_balance(plan4.schedules[1]).max_pieces_per_sequence == 2);
  mla_host_model(p, MlaPath::naive, 4);
  CHECK(relative_l2_error(odd.output(), mla_reference(p, {})) < 1e-2);
}

TEST_CASE("absorbed shared memory fits one H100 CTA (227 KiB opt-in)") {
  using namespace kvplan::kernels::mla;
  // Q 64 x 1152 + two latent tiles 2 x 64 x 1152 + P 64 x 64 x 2 + 128 partials + 2 x 64 stats, 4 B each.
  CHECK(absorbed_smem(64, false).total == 73728 + 147456 + 8192 + 512 + 512);
  // fp8: one bf16 tile and the raw 64 x 656-byte tile instead of the second.
  CHECK(absorbed_smem(64, true).total == 73728 + 73728 + 41984 + 8192 + 512 + 512);
  for (int heads : {16, 32, 64}) {
    for (bool fp8 : {false, true}) CHECK(absorbed_smem(heads, fp8).total <= 227 * 1024);
  }
}

TEST_CASE("ragged batches: both paths' schedules cut sequences across CTAs and every element still matches") {
  std::mt19937 rng(20261203);
  for (int round = 0; round < 6; ++round) {
    const MlaCache cache = round % 2 ? MlaCache::fp8_ds_mla : MlaCache::bf16;
    const MlaPath path = round < 3 ? MlaPath::absorbed : MlaPath::naive;
    // 16 or 32 heads, 7 to 9 sequences of 1 to 400 tokens (every third of one token).
    MlaShape shape{7 + static_cast<int>(rng() % 3), round % 3 == 2 ? 32 : 16, cache, round % 2 ? 64 : 16, {}};
    for (int b = 0; b < shape.batch; ++b) shape.seq_lens.push_back(b % 3 == 2 ? 1 : 1 + static_cast<int>(rng() % 400));
    const int num_sms = round % 3 == 0 ? 2 : 8;
    CAPTURE(round);
    CAPTURE(to_string(path));
    HostMlaProblem problem(make_mla_layout(shape, rng(), 1));
    MlaParams params = problem.params();
    const MlaPlan plan = plan_mla(params, params.seq_lens, path, num_sms);
    const ScheduleView view = plan.schedules.front().view();
    int shared = 0;  // CTAs that run pieces of more than one sequence
    for (int part = 0; part < view.parts(); ++part) shared += view.first_piece(part + 1) - view.first_piece(part) > 1;
    CHECK(shared > 0);
    const ScheduleBalance balance = schedule_balance(plan.schedules.front());
    CHECK(balance.max_part_blocks - balance.min_part_blocks <= 1);
    const std::vector<double> want = mla_reference(params, {});
    mla_host_model(params, path, num_sms);
    ElementCheck check;
    const std::vector<std::string> names(want.size() / 128, "row");
    check_elements(problem.output(), want, 128, names, mla_element_tolerance(), check);
    CHECK(check.mismatches == 0);
    if (check.mismatches > 0) MESSAGE(check.first_mismatches[0]);
  }
}

// Per-element validation (kernels/element_check.h): one wrong element among many right ones fails
// although the pooled relative L2 error passes; NaN fails; the host models, which round as the
// kernels do, pass every element on random shapes (decode, MLA, prefill); planted bugs fail.
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "kernels/decode_problem.h"
#include "kernels/element_check.h"
#include "kernels/kernels.h"
#include "kernels/mla_problem.h"
#include "kernels/prefill_problem.h"
#include "kernels/random_shapes.h"

using namespace kvplan::kernels;

namespace {

std::vector<std::string> row_names(std::size_t rows) {
  std::vector<std::string> names;
  for (std::size_t r = 0; r < rows; ++r) names.push_back("row " + std::to_string(r));
  return names;
}

}  // namespace

TEST_CASE("element check: one wrong element fails where the pooled error passes") {
  // 64 rows of 128 values in [-1, 1]; got is want rounded to 2^-9 relative, except one element 20% off.
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> unit(-1.0, 1.0);
  std::vector<double> want(64 * 128), got(64 * 128);
  for (std::size_t i = 0; i < want.size(); ++i) {
    want[i] = unit(rng);
    got[i] = want[i] * (1 + 0x1p-9);
  }
  got[37 * 128 + 5] = want[37 * 128 + 5] * 1.2;
  CHECK(relative_l2_error(got, want) < 1e-2);  // the pooled check of the bf16 threshold passes it
  ElementCheck check;
  check_elements(got, want, 128, row_names(64), {0x1p-7, 0x1p-7}, check);
  CHECK(check.elements == 64 * 128);
  CHECK(check.mismatches == 1);
  REQUIRE(check.first_mismatches.size() == 1);
  CHECK(check.first_mismatches[0].rfind("row 37 element 5: got ", 0) == 0);

  got[3] = NAN;  // NaN never passes, and at most kReportedMismatches are described
  for (std::size_t i = 0; i < 10; ++i) got[1000 + i] = 5.0;
  ElementCheck more;
  check_elements(got, want, 128, row_names(64), {0x1p-7, 0x1p-7}, more);
  CHECK(more.mismatches == 12);
  CHECK(more.first_mismatches.size() == kReportedMismatches);
}

TEST_CASE("decode host model passes the per-element check on random shapes") {
  std::mt19937 rng(20261130);
  const KvType types[] = {KvType::bf16, KvType::fp16, KvType::fp8_e4m3};
  for (int round = 0; round < 18; ++round) {
    const DecodeShape shape = kvplan::testing::random_decode_shape(rng, types[round % 3], 1300);
    CAPTURE(round);
    CAPTURE(to_string(shape.kv_type));
    HostDecodeProblem problem(make_decode_layout(shape, rng(), 2));
    DecodeParams params = problem.params();
    const std::vector<double> want = decode_reference(params, {});
    decode_host_model(params, 16);
    std::vector<double> got = problem.output();
    ElementCheck check;
    const std::size_t rows = want.size() / static_cast<std::size_t>(shape.head_dim);
    check_elements(got, want, shape.head_dim, row_names(rows), decode_element_tolerance(shape.kv_type), check);
    CHECK(check.mismatches == 0);
    if (check.mismatches > 0) MESSAGE(check.first_mismatches[0]);
    // Planted: one element of one head 0.05 + 10% off, far outside its tolerance.
    got[rows / 2 * static_cast<std::size_t>(shape.head_dim)] += 0.05 + std::fabs(want[rows / 2 * static_cast<std::size_t>(shape.head_dim)]) * 0.1;
    ElementCheck planted;
    check_elements(got, want, shape.head_dim, row_names(rows), decode_element_tolerance(shape.kv_type), planted);
    CHECK(planted.mismatches == 1);
  }
}

TEST_CASE("MLA host models pass the per-element check - a planted bug does not") {
  std::mt19937 rng(20261131);
  for (int round = 0; round < 8; ++round) {
    const MlaCache cache = round % 2 ? MlaCache::fp8_ds_mla : MlaCache::bf16;
    const MlaShape shape = kvplan::testing::random_mla_shape(rng, cache, 60000);
    const MlaPath path = round % 4 < 2 ? MlaPath::absorbed : MlaPath::naive;
    CAPTURE(round);
    CAPTURE(to_string(cache));
    CAPTURE(to_string(path));
    HostMlaProblem problem(make_mla_layout(shape, rng(), 1));
    MlaParams params = problem.params();
    const std::vector<double> want = mla_reference(params, {});
    const std::vector<std::string> names = row_names(want.size() / 128);
    mla_host_model(params, path, 8);
    ElementCheck check;
    check_elements(problem.output(), want, 128, names, mla_element_tolerance(), check);
    CHECK(check.mismatches == 0);
    if (check.mismatches > 0) MESSAGE(check.first_mismatches[0]);
    params = problem.params();
    mla_host_model(params, path, 8, MlaFault::no_rope);
    ElementCheck planted;
    check_elements(problem.output(), want, 128, names, mla_element_tolerance(), planted);
    CHECK(planted.mismatches > 0);
  }
}

TEST_CASE("prefill host model passes the per-element check - a planted bug does not") {
  std::mt19937 rng(20261132);
  const KvType types[] = {KvType::bf16, KvType::fp16, KvType::fp8_e4m3};
  for (int round = 0; round < 12; ++round) {
    const auto [d_qk, d_v] = kPrefillHeadDims[static_cast<std::size_t>(round % 3)];
    const bool mla = d_qk != d_v;
    PrefillShape shape;
    shape.seq_lens = {1 + static_cast<int>(rng() % 300), 1 + static_cast<int>(rng() % 150)};
    shape.head_dim_qk = d_qk;
    shape.head_dim_v = d_v;
    shape.n_kv_heads = mla ? 2 : 1 + static_cast<int>(rng() % 2);
    shape.n_q_heads = mla ? 2 : shape.n_kv_heads * (1 + static_cast<int>(rng() % 4));
    shape.kv_type = types[round / 3 % (mla ? 2 : 3)];
    shape.write_cache = !mla;
    CAPTURE(round);
    CAPTURE(d_qk);
    CAPTURE(to_string(shape.kv_type));
    HostPrefillProblem problem(shape, rng());
    PrefillParams params = problem.params();
    const std::vector<double> want = prefill_reference(params, {});
    const std::vector<std::string> names = row_names(want.size() / static_cast<std::size_t>(d_v));
    const ElementTolerance tolerance = prefill_element_tolerance(shape.kv_type);
    prefill_host_model(params);
    ElementCheck check;
    check_elements(problem.output(), want, d_v, names, tolerance, check);
    CHECK(check.elements == static_cast<std::int64_t>(want.size()));
    CHECK(check.mismatches == 0);
    if (check.mismatches > 0) MESSAGE(check.first_mismatches[0]);
    params = problem.params();
    prefill_host_model(params, PrefillFault::mask_off_by_one);
    ElementCheck planted;
    check_elements(problem.output(), want, d_v, names, tolerance, planted);
    CHECK(planted.mismatches > 0);
  }
}

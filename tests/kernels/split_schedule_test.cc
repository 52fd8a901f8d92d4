// The split schedule (kernels/split_schedule.h), FlashMLA's metadata style: every (sequence, block)
// covered exactly once, every CTA within one block of every other, each split sequence's pieces
// tiling its tokens in order with consecutive partial groups (the combine's inputs), worked by hand
// on one ragged batch and checked on random ones; and `bench --lengths`' distribution.
#include <doctest/doctest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "core/error.h"
#include "kernels/bench_lengths.h"
#include "kernels/random_values.h"
#include "kernels/split_schedule.h"

using namespace kvplan::kernels;

namespace {

std::vector<WorkPiece> pieces_of(const ScheduleView& v, int part) {
  std::vector<WorkPiece> pieces;
  for (int i = v.first_piece(part); i < v.first_piece(part + 1); ++i) pieces.push_back(v.piece(i));
  return pieces;
}

// The properties every schedule must have.
void check_schedule(const std::vector<std::int32_t>& lens, int block, int parts) {
  const SplitSchedule schedule = make_split_schedule(lens.data(), static_cast<int>(lens.size()), block, parts);
  const ScheduleView v = schedule.view();
  const int batch = static_cast<int>(lens.size());
  REQUIRE(v.batch() == batch);
  // Every (sequence, block) once: count the blocks each piece covers.
  std::vector<std::vector<int>> covered(static_cast<std::size_t>(batch));
  for (int b = 0; b < batch; ++b) covered[static_cast<std::size_t>(b)].assign(static_cast<std::size_t>((lens[static_cast<std::size_t>(b)] + block - 1) / block), 0);
  std::int64_t lightest = -1, heaviest = 0;
  for (int p = 0; p < v.parts(); ++p) {
    std::int64_t blocks = 0;
    for (const WorkPiece& piece : pieces_of(v, p)) {
      REQUIRE(piece.begin < piece.end);
      CHECK(piece.begin % block == 0);  // pieces start on a block (the kernels' tile or iteration)
      CHECK((piece.end % block == 0 || piece.end == lens[static_cast<std::size_t>(piece.seq)]));
      for (int k = piece.begin / block; k * block < piece.end; ++k) ++covered[static_cast<std::size_t>(piece.seq)][static_cast<std::size_t>(k)];
      blocks += (piece.end - piece.begin + block - 1) / block;
    }
    lightest = lightest < 0 ? blocks : std::min(lightest, blocks);
    heaviest = std::max(heaviest, blocks);
  }
  for (const std::vector<int>& seq : covered) {
    for (int count : seq) CHECK(count == 1);
  }
  CHECK(heaviest - lightest <= 1);  // balance within one block per CTA
  // The combine's inputs: a split sequence's pieces tile [0, len) in token order, their partial
  // groups are [first_partial(b), first_partial(b + 1)) in that order; a whole one writes directly.
  std::vector<std::vector<WorkPiece>> by_seq(static_cast<std::size_t>(batch));
  for (int i = 0; i < v.pieces(); ++i) by_seq[static_cast<std::size_t>(v.piece(i).seq)].push_back(v.piece(i));
  int groups = 0;
  for (int b = 0; b < batch; ++b) {
    const std::vector<WorkPiece>& pieces = by_seq[static_cast<std::size_t>(b)];
    REQUIRE(!pieces.empty());
    CHECK(pieces.front().begin == 0);
    CHECK(pieces.back().end == lens[static_cast<std::size_t>(b)]);
    for (std::size_t i = 1; i < pieces.size(); ++i) CHECK(pieces[i].begin == pieces[i - 1].end);
    CHECK(v.first_partial(b) == groups);
    if (pieces.size() == 1) {
      CHECK(pieces[0].partial == -1);
      CHECK(v.first_partial(b + 1) == v.first_partial(b));
      continue;
    }
    for (std::size_t i = 0; i < pieces.size(); ++i) CHECK(pieces[i].partial == groups + static_cast<int>(i));
    groups += static_cast<int>(pieces.size());
    CHECK(v.first_partial(b + 1) == groups);
  }
  CHECK(v.partial_groups() == groups);
}

}  // namespace

TEST_CASE("split schedule: a ragged batch by hand") {
  // Blocks of 64: 1000 tokens = 16 blocks, 10 = 1, 10 = 1, 3000 = 47; T = 65 in 4 parts, cut at
  // 65 p / 4 = 0, 16, 32, 48, 65: 16, 16, 16 and 17 blocks.
  const std::vector<std::int32_t> lens = {1000, 10, 10, 3000};
  const SplitSchedule schedule = make_split_schedule(lens.data(), 4, 64, 4);
  const ScheduleView v = schedule.view();
  REQUIRE(v.parts() == 4);
  CHECK(v.pieces() == 6);
  // Part 0: sequence 0 whole (blocks 0..15), written directly.
  REQUIRE(pieces_of(v, 0).size() == 1);
  CHECK(pieces_of(v, 0)[0].seq == 0);
  CHECK(pieces_of(v, 0)[0].end == 1000);
  CHECK(pieces_of(v, 0)[0].partial == -1);
  // Part 1 (blocks 16..31): sequences 1 and 2 whole, then sequence 3's first 14 blocks, 896 tokens.
  const std::vector<WorkPiece> part1 = pieces_of(v, 1);
  REQUIRE(part1.size() == 3);
  CHECK(part1[0].seq == 1);
  CHECK(part1[1].seq == 2);
  CHECK(part1[2].seq == 3);
  CHECK(part1[2].begin == 0);
  CHECK(part1[2].end == 14 * 64);
  // Parts 2 and 3: sequence 3's blocks 14..29 (tokens 896..1920) and 30..46 (1920..3000).
  CHECK(pieces_of(v, 2)[0].begin == 896);
  CHECK(pieces_of(v, 2)[0].end == 1920);
  CHECK(pieces_of(v, 3)[0].begin == 1920);
  CHECK(pieces_of(v, 3)[0].end == 3000);
  // Only sequence 3 is combined, from partial groups 0, 1, 2 in token order.
  CHECK(v.partial_groups() == 3);
  CHECK(v.first_partial(3) == 0);
  CHECK(v.first_partial(4) == 3);
  CHECK(part1[2].partial == 0);
  CHECK(pieces_of(v, 3)[0].partial == 2);
  const ScheduleBalance balance = schedule_balance(schedule);
  CHECK(balance.blocks == 65);
  CHECK(balance.min_part_blocks == 16);
  CHECK(balance.max_part_blocks == 17);
  CHECK(balance.split_sequences == 1);
  CHECK(balance.max_pieces_per_sequence == 3);
  check_schedule(lens, 64, 4);
}

TEST_CASE("split schedule: uniform lengths in a multiple of the batch cut every sequence alike") {
  // 4 sequences of 256 blocks in 12 parts: part p covers blocks [1024 p / 12, ...), sequence b's
  // boundaries 256 b fall on parts 3 b exactly: 3 pieces each of 85 or 86 blocks.
  const std::vector<std::int32_t> lens(4, 4096);
  const ScheduleBalance balance = schedule_balance(make_split_schedule(lens.data(), 4, 16, 12));
  CHECK(balance.pieces == 12);
  CHECK(balance.split_sequences == 4);
  CHECK(balance.max_pieces_per_sequence == 3);
  check_schedule(lens, 16, 12);
}

TEST_CASE("split schedule: random ragged batches") {
  std::mt19937 rng(20261202);
  for (int round = 0; round < 200; ++round) {
    const int batch = 1 + static_cast<int>(rng() % 40);
    std::vector<std::int32_t> lens;
    for (int b = 0; b < batch; ++b) lens.push_back(rng() % 3 == 0 ? 1 + static_cast<int>(rng() % 8) : 1 + static_cast<int>(rng() % 5000));
    const int block = rng() % 2 ? 64 : 16;
    const int parts = 1 + static_cast<int>(rng() % 300);
    CAPTURE(round);
    CAPTURE(batch);
    CAPTURE(parts);
    check_schedule(lens, block, parts);
  }
  // Parts are clamped to the blocks there are: 3 blocks cannot make 10 CTAs.
  const std::vector<std::int32_t> three = {64, 64, 64};
  CHECK(make_split_schedule(three.data(), 3, 64, 10).view().parts() == 3);
  CHECK(make_split_schedule(three.data(), 3, 64, 0).view().parts() == 1);
  const std::vector<std::int32_t> empty_one = {5, 0};
  CHECK_THROWS_AS(make_split_schedule(empty_one.data(), 2, 64, 2), kvplan::Error);
}

TEST_CASE("bench lengths: uniform gives --ctx, ragged 1 + mix64(seed, b) mod ctx") {
  CHECK(bench_lengths(BenchLengths::uniform, 3, 4096, 1) == std::vector<std::int32_t>{4096, 4096, 4096});
  const std::vector<std::int32_t> ragged = bench_lengths(BenchLengths::ragged, 1000, 4096, 7);
  for (std::size_t b = 0; b < ragged.size(); ++b) {
    CHECK(ragged[b] == static_cast<std::int32_t>(1 + mix64(7, b) % 4096));
    CHECK(ragged[b] >= 1);
    CHECK(ragged[b] <= 4096);
  }
  // Spread over the range: 1000 draws uniform on [1, 4096] leave neither quarter empty.
  CHECK(*std::min_element(ragged.begin(), ragged.end()) <= 1024);
  CHECK(*std::max_element(ragged.begin(), ragged.end()) > 3072);
  CHECK(bench_lengths(BenchLengths::ragged, 4, 4096, 8) != bench_lengths(BenchLengths::ragged, 4, 4096, 7));
}

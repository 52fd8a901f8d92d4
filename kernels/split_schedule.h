// The split-KV schedule of the decode and MLA decode kernels, in FlashMLA's metadata style
// (get_mla_metadata): the work of a batch is its (sequence, block) pairs in sequence order, and
// each of `parts` CTAs (per head unit: KV head or head block) takes one contiguous range of them,
// of near-equal size whatever the sequences' lengths, so a ragged batch keeps every CTA busy for
// the same time. A range may end inside a sequence and the next begin there: such a sequence is
// cut into pieces whose partial outputs the combine kernel merges (log-sum-exp, piece order); a
// sequence that lies whole in one range is written to the output directly.
//
// The host builds the schedule from the sequences' real lengths (make_split_schedule, pure C++,
// kernels/split_schedule.cc) and packs it into int32 words; the kernels and the host models read
// the same words through ScheduleView, so the model tested without a GPU walks the kernel's work.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/device.h"  // KVPLAN_HOST_DEVICE

namespace kvplan::kernels {

// Tokens [begin, end) of sequence `seq`, run by one CTA. `partial`: the row group its partial
// output goes to, or -1 when the piece is the whole sequence (written to the output directly).
struct WorkPiece {
  std::int32_t seq, begin, end, partial;
};

// The packed words: a header (parts, batch, partial row groups, pieces), then part_first_piece
// [parts + 1], seq_first_partial [batch + 1] (sequence b's partial groups are [x[b], x[b + 1]),
// none when it is one piece), then the pieces, 4 words each.
struct ScheduleView {
  static constexpr int kHeader = 4;
  const std::int32_t* words;

  KVPLAN_HOST_DEVICE int parts() const { return words[0]; }
  KVPLAN_HOST_DEVICE int batch() const { return words[1]; }
  KVPLAN_HOST_DEVICE int partial_groups() const { return words[2]; }
  KVPLAN_HOST_DEVICE int pieces() const { return words[3]; }
  KVPLAN_HOST_DEVICE int first_piece(int part) const { return words[kHeader + part]; }
  KVPLAN_HOST_DEVICE int first_partial(int seq) const { return words[kHeader + parts() + 1 + seq]; }
  // Where piece i's 4 words start.
  KVPLAN_HOST_DEVICE int piece_word(int i) const { return kHeader + parts() + 1 + batch() + 1 + 4 * i; }
  KVPLAN_HOST_DEVICE WorkPiece piece(int i) const {
    const std::int32_t* w = words + piece_word(i);
    return {w[0], w[1], w[2], w[3]};
  }
};

struct SplitSchedule {
  std::vector<std::int32_t> words;
  int block_tokens = 0;  // the unit of balance: the kernel's tile (MLA: 64) or iteration (decode)

  ScheduleView view() const { return {words.data()}; }
  std::size_t bytes() const { return words.size() * sizeof(std::int32_t); }
};

// Cuts the blocks of `batch` sequences of `seq_lens` tokens (each >= 1) into `parts` ranges: part p
// takes the blocks [p T / P, (p + 1) T / P) of the T in sequence order (rounded down), so every
// part holds floor(T / P) or ceil(T / P) blocks. `parts` is clamped to [1, T].
SplitSchedule make_split_schedule(const std::int32_t* seq_lens, int batch, int block_tokens, int parts);

// What `kvplan bench` prints of a schedule: how even the CTAs' shares are, how many pieces that
// made and what the combine merges.
struct ScheduleBalance {
  int parts = 0;
  int pieces = 0;
  std::int64_t blocks = 0;            // T, over the whole batch
  std::int64_t min_part_blocks = 0;   // the lightest CTA's blocks
  std::int64_t max_part_blocks = 0;   // the heaviest's: at most one more than the lightest
  int split_sequences = 0;            // sequences cut into more than one piece (combined)
  int max_pieces_per_sequence = 0;
};
ScheduleBalance schedule_balance(const SplitSchedule& schedule);

}  // namespace kvplan::kernels

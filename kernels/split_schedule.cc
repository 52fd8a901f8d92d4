#include "kernels/split_schedule.h"

#include <algorithm>
#include <string>

#include "core/error.h"

namespace kvplan::kernels {

SplitSchedule make_split_schedule(const std::int32_t* seq_lens, int batch, int block_tokens, int parts) {
  if (batch < 1 || block_tokens < 1) throw Error("split schedule: batch and block_tokens must be at least 1");
  std::vector<std::int64_t> first_block(static_cast<std::size_t>(batch) + 1, 0);  // prefix sums of blocks
  for (int b = 0; b < batch; ++b) {
    if (seq_lens[b] < 1) throw Error("split schedule: sequence " + std::to_string(b) + " has no token");
    first_block[static_cast<std::size_t>(b) + 1] =
        first_block[static_cast<std::size_t>(b)] + (seq_lens[b] + block_tokens - 1) / block_tokens;
  }
  const std::int64_t total = first_block.back();
  const int p_count = static_cast<int>(std::clamp<std::int64_t>(parts, 1, total));

  std::vector<std::int32_t> part_first(static_cast<std::size_t>(p_count) + 1, 0);
  std::vector<WorkPiece> pieces;
  std::vector<int> seq_pieces(static_cast<std::size_t>(batch), 0);
  int b = 0;
  for (int p = 0; p < p_count; ++p) {
    part_first[static_cast<std::size_t>(p)] = static_cast<std::int32_t>(pieces.size());
    const std::int64_t begin = total * p / p_count, end = total * (p + 1) / p_count;
    for (std::int64_t at = begin; at < end;) {
      while (first_block[static_cast<std::size_t>(b) + 1] <= at) ++b;
      const std::int64_t seq_first = first_block[static_cast<std::size_t>(b)];
      const std::int64_t stop = std::min(end, first_block[static_cast<std::size_t>(b) + 1]);
      const auto token_begin = static_cast<std::int32_t>((at - seq_first) * block_tokens);
      const auto token_end = static_cast<std::int32_t>(std::min<std::int64_t>((stop - seq_first) * block_tokens, seq_lens[b]));
      pieces.push_back({b, token_begin, token_end, 0});
      ++seq_pieces[static_cast<std::size_t>(b)];
      at = stop;
    }
  }
  part_first.back() = static_cast<std::int32_t>(pieces.size());

  // Partial row groups in sequence order, and inside a sequence in token order (the combine's order).
  std::vector<std::int32_t> seq_first_partial(static_cast<std::size_t>(batch) + 1, 0);
  for (int s = 0; s < batch; ++s) {
    const int n = seq_pieces[static_cast<std::size_t>(s)];
    seq_first_partial[static_cast<std::size_t>(s) + 1] = seq_first_partial[static_cast<std::size_t>(s)] + (n > 1 ? n : 0);
  }
  std::vector<int> next(seq_first_partial.begin(), seq_first_partial.end() - 1);
  for (WorkPiece& piece : pieces) {  // pieces are in (sequence, token) order already
    piece.partial = seq_pieces[static_cast<std::size_t>(piece.seq)] > 1 ? next[static_cast<std::size_t>(piece.seq)]++ : -1;
  }

  SplitSchedule schedule;
  schedule.block_tokens = block_tokens;
  std::vector<std::int32_t>& w = schedule.words;
  w = {p_count, batch, seq_first_partial.back(), static_cast<std::int32_t>(pieces.size())};
  w.insert(w.end(), part_first.begin(), part_first.end());
  w.insert(w.end(), seq_first_partial.begin(), seq_first_partial.end());
  for (const WorkPiece& piece : pieces) w.insert(w.end(), {piece.seq, piece.begin, piece.end, piece.partial});
  return schedule;
}

ScheduleBalance schedule_balance(const SplitSchedule& schedule) {
  const ScheduleView v = schedule.view();
  ScheduleBalance balance;
  balance.parts = v.parts();
  balance.pieces = v.pieces();
  std::vector<int> per_seq(static_cast<std::size_t>(v.batch()), 0);
  for (int p = 0; p < v.parts(); ++p) {
    std::int64_t blocks = 0;
    for (int i = v.first_piece(p); i < v.first_piece(p + 1); ++i) {
      const WorkPiece piece = v.piece(i);
      blocks += (piece.end - piece.begin + schedule.block_tokens - 1) / schedule.block_tokens;
      ++per_seq[static_cast<std::size_t>(piece.seq)];
    }
    balance.blocks += blocks;
    balance.min_part_blocks = p == 0 ? blocks : std::min(balance.min_part_blocks, blocks);
    balance.max_part_blocks = std::max(balance.max_part_blocks, blocks);
  }
  for (int n : per_seq) {
    balance.split_sequences += n > 1;
    balance.max_pieces_per_sequence = std::max(balance.max_pieces_per_sequence, n);
  }
  return balance;
}

}  // namespace kvplan::kernels

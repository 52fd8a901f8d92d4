#include "cli/bench_plan.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/error.h"
#include "kernels/kernels.h"
#include "kernels/mla_tiling.h"

namespace kvplan::cli {
namespace {

kernels::KvType kernel_type(KvDtype dtype) {
  return dtype == KvDtype::fp16 ? kernels::KvType::fp16 : dtype == KvDtype::fp8_e4m3 ? kernels::KvType::fp8_e4m3 : kernels::KvType::bf16;
}

// "132 parts x 8 CTAs (1056); 8192 blocks of 16 tokens, 62 to 63 per CTA; 132 pieces, 1 of the
// batch's sequences split (the most pieces of one: 132), merged by the combine".
std::string balance_text(const kernels::SplitSchedule& schedule, int ctas_per_part) {
  const kernels::ScheduleBalance b = kernels::schedule_balance(schedule);
  return fmt::format("{} parts x {} CTAs ({}); {} blocks of {} tokens, {} to {} per CTA; {} pieces, {} of the batch's "
                     "sequences split (the most pieces of one: {}), merged by the combine",
                     b.parts, ctas_per_part, static_cast<std::int64_t>(b.parts) * ctas_per_part, b.blocks,
                     schedule.block_tokens, b.min_part_blocks, b.max_part_blocks, b.pieces, b.split_sequences,
                     b.max_pieces_per_sequence);
}

}  // namespace

kernels::BenchLengths parse_bench_lengths(const std::string& text) {
  if (text == "uniform") return kernels::BenchLengths::uniform;
  if (text == "ragged") return kernels::BenchLengths::ragged;
  throw Error("--lengths " + text + ": uniform (every sequence holds --ctx tokens) or ragged (1 to --ctx, seeded)");
}

std::vector<std::int32_t> row_lengths(const DecodeAttentionShape& shape) {
  if (shape.seq_lens.empty()) return std::vector<std::int32_t>(shape.batch, static_cast<std::int32_t>(shape.ctx.value));
  return {shape.seq_lens.begin(), shape.seq_lens.end()};
}

std::vector<std::string> plan_notes(const std::vector<report::KernelRow>& rows, int sms) {
  std::vector<std::string> notes;
  for (const report::KernelRow& row : rows) {
    if (row.phase != "decode") continue;
    const DecodeAttentionShape& s = row.shape;
    const std::vector<std::int32_t> lens = row_lengths(s);
    const std::string name = s.variant.name() + (row.mla_path ? " " + std::string(to_string(*row.mla_path)) : "");
    if (row.mla_path) {
      kernels::MlaParams p;
      p.batch = static_cast<int>(s.batch);
      p.n_heads = static_cast<int>(s.n_q_heads);
      p.max_seq_len = static_cast<int>(s.ctx.value);
      p.cache = s.dtype == KvDtype::fp8_ds_mla ? kernels::MlaCache::fp8_ds_mla : kernels::MlaCache::bf16;
      const bool absorbed = row.mla_path == MlaDecodePath::absorbed;
      const kernels::MlaPlan plan =
          kernels::plan_mla(p, lens.data(), absorbed ? kernels::MlaPath::absorbed : kernels::MlaPath::naive, sms);
      // The naive path up-projects every sequence in one pass here (a run on a GPU chunks the batch
      // by free memory, and plans each chunk the same way).
      const std::string what = absorbed ? fmt::format("{} heads per CTA, {} KiB of shared memory per block allowed",
                                                      plan.heads_per_cta, p.max_smem_per_cta / 1024)
                                        : std::string("one up-projection pass, one head per CTA");
      notes.push_back(fmt::format("plan on {} SMs, {} ({}): {}", sms, name, what,
                                  balance_text(plan.schedules.front(), plan.head_blocks)));
      continue;
    }
    kernels::DecodeParams p;
    p.batch = static_cast<int>(s.batch);
    p.n_q_heads = static_cast<int>(s.n_q_heads);
    p.n_kv_heads = static_cast<int>(s.variant.kv_heads);
    p.head_dim = static_cast<int>(s.variant.head_dim);
    p.kv_type = kernel_type(s.dtype);
    p.max_seq_len = static_cast<int>(s.ctx.value);
    const kernels::DecodePlan plan = kernels::plan_decode(p, lens.data(), sms);
    notes.push_back(fmt::format("plan on {} SMs, {} decode: {}", sms, name,
                                balance_text(plan.schedule, p.n_kv_heads * plan.head_chunks)));
  }
  return notes;
}

std::string lengths_note(const std::vector<std::uint64_t>& lengths, std::uint64_t seed) {
  std::uint64_t total = 0;
  for (std::uint64_t len : lengths) total += len;  // at most 65535 x 2^30: no overflow
  const auto [shortest, longest] = std::minmax_element(lengths.begin(), lengths.end());
  return fmt::format("lengths ragged: sequence b holds 1 + mix64({}, b) mod ctx tokens (splitmix64's finaliser; uniform on "
                     "[1, ctx]): {} to {}, {} in all, {:.0f} on average; bytes and FLOPs count each sequence's own",
                     seed, *shortest, *longest, total, static_cast<double>(total) / static_cast<double>(lengths.size()));
}

}  // namespace kvplan::cli

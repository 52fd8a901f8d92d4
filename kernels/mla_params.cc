// Argument checks, split plans (absorbed: its schedule) and workspace sizes of the MLA decode family, shared by the
// launchers, the host models and the reference so that all accept exactly the same problems.
#include <algorithm>
#include <string>

#include "core/error.h"
#include "kernels/mla.h"
#include "kernels/mla_tiling.h"
#include "kernels/mla_workspace.h"
#include "kernels/paged_cache.h"

namespace kvplan::kernels {

std::string_view to_string(MlaCache cache) { return cache == MlaCache::bf16 ? "bf16" : "fp8_ds_mla"; }
std::string_view to_string(MlaPath path) { return path == MlaPath::naive ? "naive" : "absorbed"; }

int mla_row_bytes(MlaCache cache) { return cache == MlaCache::bf16 ? mla::kBf16RowBytes : mla::kFp8RowBytes; }

bool mla_heads_supported(int n_heads) {
  return n_heads >= mla::kMinHeads && n_heads <= mla::kMaxHeads && n_heads % mla::kMmaM == 0;
}

namespace {

void require(bool ok, const std::string& what) {
  if (!ok) throw Error("MLA decode: " + what);
}

}  // namespace

void check_mla_params(const MlaParams& p) {
  require(p.batch >= 1, "batch must be at least 1, got " + std::to_string(p.batch));
  require(mla_heads_supported(p.n_heads),
          "n_heads " + std::to_string(p.n_heads) + " is not built; supported: multiples of 16 from 16 to 128");
  check_paged_cache("MLA decode", p.block_table != nullptr, p.batch, p.max_seq_len, p.page_size, p.max_pages_per_seq,
                    p.num_pages);
  require(p.q && p.kv_cache && p.w_kv_b && p.seq_lens && p.out, "q, kv_cache, w_kv_b, seq_lens and out must be set");
  require(p.softmax_scale > 0, "softmax_scale must be positive");
  require(p.naive_chunk >= 0, "naive_chunk must be 0 (all sequences) or positive");
  require(p.max_smem_per_cta > 0, "max_smem_per_cta must be positive");
}

namespace mla {

int absorbed_parts(const std::int32_t* seq_lens, int batch, int head_blocks, int num_sms) {
  std::int64_t tiles = 0;
  for (int b = 0; b < batch; ++b) tiles += (seq_lens[b] + kTileTokens - 1) / kTileTokens;
  const std::int64_t slots = static_cast<std::int64_t>(num_sms) * kCtasPerSm;
  const std::int64_t one_wave = std::max<std::int64_t>(1, slots / head_blocks);
  const int most = static_cast<int>(std::min(tiles, 2 * one_wave));
  std::int64_t best_cost = -1;
  int best = 1;
  for (int parts = 1; parts <= most; ++parts) {
    const SplitSchedule schedule = make_split_schedule(seq_lens, batch, kTileTokens, parts);
    const ScheduleView v = schedule.view();
    std::int64_t heaviest = 0;
    for (int part = 0; part < v.parts(); ++part) {
      std::int64_t cost = 0;
      for (int i = v.first_piece(part); i < v.first_piece(part + 1); ++i) {
        const WorkPiece piece = v.piece(i);
        cost += (piece.end - piece.begin + kTileTokens - 1) / kTileTokens + kSplitOverheadTiles;
      }
      heaviest = std::max(heaviest, cost);
    }
    const std::int64_t waves = (static_cast<std::int64_t>(parts) * head_blocks + slots - 1) / slots;
    if (best_cost < 0 || waves * heaviest < best_cost) {
      best_cost = waves * heaviest;
      best = parts;
    }
  }
  return best;
}

}  // namespace mla

std::vector<std::int32_t> MlaPlan::packed_schedules() const {
  std::vector<std::int32_t> words;
  for (const SplitSchedule& schedule : schedules) words.insert(words.end(), schedule.words.begin(), schedule.words.end());
  return words;
}

std::size_t MlaPlan::schedule_offset(int chunk) const {
  std::size_t offset = 0;
  for (int c = 0; c < chunk; ++c) offset += schedules[static_cast<std::size_t>(c)].words.size();
  return offset;
}

MlaPlan plan_mla(const MlaParams& p, const std::int32_t* host_seq_lens, MlaPath path, int num_sms) {
  MlaPlan plan;
  plan.num_sms = num_sms;
  for (int b = 0; b < p.batch; ++b) {
    require(host_seq_lens[b] >= 1 && host_seq_lens[b] <= p.max_seq_len,
            "seq_lens[" + std::to_string(b) + "] = " + std::to_string(host_seq_lens[b]) + " is outside [1, max_seq_len " +
                std::to_string(p.max_seq_len) + "]");
  }
  if (path == MlaPath::absorbed) {
    const bool fp8 = p.cache == MlaCache::fp8_ds_mla;
    plan.heads_per_cta = mla::heads_per_cta_for(p.n_heads, fp8, p.max_smem_per_cta);
    if (plan.heads_per_cta == 0) {
      throw Error("MLA decode: the absorbed kernel needs " + std::to_string(mla::absorbed_smem(mla::kMmaM, fp8).total) +
                      " bytes of shared memory per CTA (16 heads, " + std::string(to_string(p.cache)) + " cache); this GPU allows " +
                      std::to_string(p.max_smem_per_cta) + ": the naive path runs here",
                  ExitCode::cannot_run);
    }
    plan.head_blocks = p.n_heads / plan.heads_per_cta;
    plan.chunk_sequences = p.batch;
    const int parts = mla::absorbed_parts(host_seq_lens, p.batch, plan.head_blocks, num_sms);
    plan.schedules.push_back(make_split_schedule(host_seq_lens, p.batch, mla::kTileTokens, parts));
    return plan;
  }
  plan.heads_per_cta = 1;
  plan.head_blocks = p.n_heads;
  plan.chunk_sequences = p.naive_chunk > 0 ? std::min(p.naive_chunk, p.batch) : p.batch;
  const int block = mla::kNaiveTiling.tokens_per_iter;
  for (int first = 0; first < p.batch; first += plan.chunk_sequences) {
    const int sequences = std::min(plan.chunk_sequences, p.batch - first);
    long long tokens = 0, blocks = 0;
    for (int b = first; b < first + sequences; ++b) {
      tokens += host_seq_lens[b];
      blocks += (host_seq_lens[b] + block - 1) / block;
    }
    const int parts = decode::parts_for(sequences, tokens, blocks, p.n_heads, num_sms);
    plan.schedules.push_back(make_split_schedule(host_seq_lens + first, sequences, block, parts));
  }
  return plan;
}

MlaWorkspace mla_workspace(const MlaParams& p, MlaPath path, const MlaPlan& plan) {
  MlaWorkspace w;
  const std::size_t heads = static_cast<std::size_t>(p.n_heads);
  const std::size_t sequences = static_cast<std::size_t>(plan.chunk_sequences);
  std::size_t next = 0;
  if (path == MlaPath::absorbed) {
    w.q_latent = next;
    next += sequences * heads * mla::kLatentDim * 2;
    w.o_latent = next;
    next += sequences * heads * mla::kLatentDim * 2;
  } else {
    const std::size_t tokens = sequences * static_cast<std::size_t>(p.max_seq_len);
    w.gathered = next;
    next += tokens * mla::kRowDim * 2;
    w.kv_up = next;
    next += tokens * heads * mla::kUpRows * 2;
  }
  // Split partials for the chunk whose schedule has the most partial groups.
  std::size_t rows = 0;
  for (const SplitSchedule& schedule : plan.schedules) {
    rows = std::max(rows, static_cast<std::size_t>(schedule.view().partial_groups()) * heads);
  }
  const std::size_t dim = path == MlaPath::absorbed ? mla::kLatentDim : mla::kVDim;
  w.partial_o = next;
  next += rows * dim * 4;
  w.partial_lse = next;
  next += rows * 4;
  w.total = next;
  return w;
}

std::size_t mla_workspace_bytes(const MlaParams& p, MlaPath path, const MlaPlan& plan) {
  return mla_workspace(p, path, plan).total;
}

}  // namespace kvplan::kernels

// Argument checks, split plans and workspace sizes of the MLA decode family, shared by the
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

MlaPlan plan_mla(const MlaParams& p, MlaPath path, int num_sms) {
  MlaPlan plan;
  if (path == MlaPath::absorbed) {
    const bool fp8 = p.cache == MlaCache::fp8_ds_mla;
    plan.heads_per_cta = mla::heads_per_cta_for(p.n_heads, fp8, p.max_smem_per_cta);
    if (plan.heads_per_cta == 0) {
      throw Error("MLA decode: the absorbed kernel needs " + std::to_string(mla::absorbed_smem(mla::kMmaM, fp8).total) +
                      " bytes of shared memory per CTA (16 heads, " + std::string(to_string(p.cache)) + " cache); this GPU allows " +
                      std::to_string(p.max_smem_per_cta) + ": the naive path runs here",
                  ExitCode::cannot_run);
    }
    const mla::AbsorbedSplit s = mla::absorbed_split(p.batch, p.n_heads, plan.heads_per_cta, p.max_seq_len, num_sms);
    plan.head_blocks = s.head_blocks;
    plan.splits = s.splits;
    plan.tokens_per_split = s.tokens_per_split;
    plan.chunk_sequences = p.batch;
    return plan;
  }
  plan.chunk_sequences = p.naive_chunk > 0 ? std::min(p.naive_chunk, p.batch) : p.batch;
  const decode::Split s = decode::split_for(plan.chunk_sequences, p.n_heads, 1, p.max_seq_len, mla::kNaiveTiling, num_sms);
  plan.heads_per_cta = 1;
  plan.head_blocks = p.n_heads;
  plan.splits = s.splits;
  plan.tokens_per_split = s.tokens_per_split;
  return plan;
}

MlaWorkspace mla_workspace(const MlaParams& p, MlaPath path, int num_sms) {
  const MlaPlan plan = plan_mla(p, path, num_sms);
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
  // Split partials for the chunk that needs most: a last, shorter naive chunk may split more ways.
  auto partial_rows = [&](std::size_t chunk, int splits) { return splits > 1 ? chunk * heads * static_cast<std::size_t>(splits) : 0; };
  std::size_t rows = partial_rows(sequences, plan.splits);
  const int last = p.batch % plan.chunk_sequences;
  if (path == MlaPath::naive && last != 0) {
    const decode::Split s = decode::split_for(last, p.n_heads, 1, p.max_seq_len, mla::kNaiveTiling, num_sms);
    rows = std::max(rows, partial_rows(static_cast<std::size_t>(last), s.splits));
  }
  const std::size_t dim = path == MlaPath::absorbed ? mla::kLatentDim : mla::kVDim;
  w.partial_o = next;
  next += rows * dim * 4;
  w.partial_lse = next;
  next += rows * 4;
  w.total = next;
  return w;
}

std::size_t mla_workspace_bytes(const MlaParams& p, MlaPath path, int num_sms) {
  return mla_workspace(p, path, num_sms).total;
}

}  // namespace kvplan::kernels

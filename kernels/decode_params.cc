// Argument checks and the split plan of the decode family, shared by the launcher, the host model
// and the reference so that all three accept exactly the same problems.
#include <algorithm>
#include <string>

#include "core/error.h"
#include "kernels/decode_tiling.h"
#include "kernels/kernels.h"
#include "kernels/paged_cache.h"

namespace kvplan::kernels {

std::string_view to_string(KvType type) {
  switch (type) {
    case KvType::bf16: return "bf16";
    case KvType::fp16: return "fp16";
    case KvType::fp8_e4m3: return "fp8_e4m3";
  }
  return "?";
}

int element_bytes(KvType type) { return type == KvType::fp8_e4m3 ? 1 : 2; }

KvType query_type(KvType cache) { return cache == KvType::fp16 ? KvType::fp16 : KvType::bf16; }

namespace {

void require(bool ok, const std::string& what) {
  if (!ok) throw Error("decode attention: " + what);
}

}  // namespace

void check_decode_params(const DecodeParams& p) {
  require(p.batch >= 1, "batch must be at least 1, got " + std::to_string(p.batch));
  require(p.n_q_heads >= 1 && p.n_kv_heads >= 1 && p.n_q_heads % p.n_kv_heads == 0,
          "n_kv_heads (" + std::to_string(p.n_kv_heads) + ") must divide n_q_heads (" +
              std::to_string(p.n_q_heads) + ")");
  require(std::find(kDecodeHeadDims.begin(), kDecodeHeadDims.end(), p.head_dim) != kDecodeHeadDims.end(),
          "head_dim " + std::to_string(p.head_dim) + " is not built; supported: 64, 128, 256");
  check_paged_cache("decode attention", p.block_table != nullptr, p.batch, p.max_seq_len, p.page_size, p.max_pages_per_seq,
                    p.num_pages);
  require(p.q && p.k_cache && p.v_cache && p.seq_lens && p.out, "q, k_cache, v_cache, seq_lens and out must be set");
  require(p.softmax_scale > 0, "softmax_scale must be positive");
  require(p.kv_type == KvType::fp8_e4m3 || (p.k_scale == 1 && p.v_scale == 1),
          "k_scale and v_scale apply to fp8 caches only");
}

DecodePlan plan_decode(const DecodeParams& p, int num_sms) {
  decode::Tiling t = decode::tiling(element_bytes(p.kv_type), p.head_dim, p.group_size());
  decode::Split s = decode::split_for(p.batch, p.n_kv_heads, p.group_size(), p.max_seq_len, t, num_sms);
  return {t.heads_per_cta, s.head_chunks, s.splits, s.tokens_per_split};
}

std::size_t decode_workspace_bytes(const DecodeParams& p, int num_sms) {
  DecodePlan plan = plan_decode(p, num_sms);
  if (plan.splits == 1) return 0;  // one split writes the output directly
  std::size_t rows = static_cast<std::size_t>(p.batch) * p.n_q_heads * plan.splits;
  return rows * (static_cast<std::size_t>(p.head_dim) + 1) * sizeof(float);
}

}  // namespace kvplan::kernels

// Argument checks and the schedule of the decode family, shared by the launcher, the host model
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

DecodePlan plan_decode(const DecodeParams& p, const std::int32_t* host_seq_lens, int num_sms) {
  const decode::Tiling t = decode::tiling(element_bytes(p.kv_type), p.head_dim, p.group_size());
  DecodePlan plan;
  plan.heads_per_cta = t.heads_per_cta;
  plan.head_chunks = (p.group_size() + t.heads_per_cta - 1) / t.heads_per_cta;
  long long tokens = 0, blocks = 0;
  for (int b = 0; b < p.batch; ++b) {
    require(host_seq_lens[b] >= 1 && host_seq_lens[b] <= p.max_seq_len,
            "seq_lens[" + std::to_string(b) + "] = " + std::to_string(host_seq_lens[b]) + " is outside [1, max_seq_len " +
                std::to_string(p.max_seq_len) + "]");
    tokens += host_seq_lens[b];
    blocks += (host_seq_lens[b] + t.tokens_per_iter - 1) / t.tokens_per_iter;
  }
  const int parts = decode::parts_for(p.batch, tokens, blocks, p.n_kv_heads * plan.head_chunks, num_sms);
  plan.schedule = make_split_schedule(host_seq_lens, p.batch, t.tokens_per_iter, parts);
  return plan;
}

std::size_t decode_workspace_bytes(const DecodeParams& p, const DecodePlan& plan) {
  const std::size_t rows = static_cast<std::size_t>(plan.schedule.view().partial_groups()) * p.n_q_heads;
  return rows * (static_cast<std::size_t>(p.head_dim) + 1) * sizeof(float);
}

}  // namespace kvplan::kernels

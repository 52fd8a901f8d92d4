// SGLang 0.5.23's --dcp-size: what kvplan plans of it, and what it refuses (sglang_dcp.h).
#include "core/sglang_dcp.h"

#include <string>

#include "core/error.h"

namespace kvplan::detail {

void check_sglang_dcp(const ModelShape& shape, const FitRequest& request, std::uint32_t attn_dp_size, bool hybrid_swa_pool,
                      bool speculative) {
  const std::uint32_t dcp = request.parallel.dcp;
  if (dcp == 1) return;
  const std::string flag = "--dcp " + std::to_string(dcp);
  const std::uint32_t attn_tp = request.parallel.tp / attn_dp_size;
  if (attn_dp_size > 1) {
    throw Error(flag + " with --dp-attention: kvplan does not model SGLang's decode context parallelism inside "
                "attention-DP groups; drop one of them");
  }
  if (shape.state || hybrid_swa_pool || speculative) {
    throw Error(flag + ": kvplan models SGLang's decode context parallelism for a plain attention pool only; " +
                (shape.state       ? "the state pool of this model"
                 : hybrid_swa_pool ? "the hybrid SWA pool (it never widens under DCP)"
                                   : "speculative drafts (replicated over the DCP ranks)") +
                " is not modelled with it; drop --dcp or use --engine vllm");
  }
  if (attn_tp % dcp != 0) {
    throw Error(flag + " does not divide --tp " + std::to_string(attn_tp) + ": SGLang groups a DCP group's ranks "
                "out of the attention TP ranks");
  }
  // attention_hook.py: a model's qkv projection shards K/V heads over TP, so the ranks of a DCP group
  // hold the same heads only when the heads are at most TP / dcp ("Otherwise KV silently corrupts").
  if (request.variant.kind != VariantKind::mla && request.variant.kv_heads > attn_tp / dcp) {
    throw Error(flag + ": the " + std::to_string(request.variant.kv_heads) + " K/V heads of " + request.variant.name() +
                " exceed TP / dcp = " + std::to_string(attn_tp / dcp) + ", so the ranks of a DCP group would hold "
                "different heads (SGLang's attention_hook.py); use a smaller --dcp or a larger --tp");
  }
}

}  // namespace kvplan::detail

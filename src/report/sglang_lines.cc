#include "report/sglang_lines.h"

#include <fmt/format.h>

#include "core/sglang_rules.h"
#include "report/format.h"

namespace kvplan::report {

// memory_pool.py:KVCache._finalize_allocation_log: each pool allocates (tokens + page_size)
// slots per layer, K and V in separate buffers (one latent buffer for MLA; K and V of their own
// widths for MiMo-V2-Flash), and logs their sizes in 2^30 bytes; the hybrid SWA pool logs "Full" and "SWA".
std::vector<std::string> sglang_log_lines(const FitRequest& request, const FitResult& result) {
  std::vector<std::string> lines;
  // memory_pool.py:MambaPool.__init__ allocates (slots + 1) x layers of each state buffer first.
  if (const std::optional<StatePool>& state = result.state_pool) {
    const double buffers = static_cast<double>(state->slots + 1) * state->layers / static_cast<double>(kGiB);
    lines.push_back(fmt::format("SGLang logs: \"Mamba Cache is allocated. max_mamba_cache_size: {}, conv_state size: "
                                "{:.2f}GB, ssm_state size: {:.2f}GB\"",
                                state->slots, buffers * static_cast<double>(state->conv_bytes_per_layer),
                                buffers * static_cast<double>(state->ssm_bytes_per_layer)));
  }
  const double per_slot = static_cast<double>(result.token_layer_per_rank.value_bytes);
  const bool log_dtype = sglang_rules(result.engine_version).log_dtype;
  for (const TokenPool& pool : result.token_pools) {
    const std::string dtype = log_dtype ? "dtype: " + pool.dtype + ", " : "";
    const std::string name = pool.label.empty() ? "KV Cache" : pool.label + " KV Cache";
    const double rows = static_cast<double>(pool.tokens + result.block_size) * pool.layers;
    if (request.variant.kind == VariantKind::mla) {
      lines.push_back(fmt::format("SGLang logs: \"{} is allocated. {}#tokens: {}, KV size: {:.2f} GB\"", name, dtype,
                                  pool.tokens, rows * per_slot / static_cast<double>(kGiB)));
    } else {
      const double k = rows * (pool.k_bytes ? static_cast<double>(pool.k_bytes) : per_slot / 2) / kGiB;
      const double v = rows * (pool.k_bytes ? static_cast<double>(pool.v_bytes) : per_slot / 2) / kGiB;
      lines.push_back(fmt::format("SGLang logs: \"{} is allocated. {}#tokens: {}, K size: {:.2f} GB, V size: {:.2f} GB\"",
                                  name, dtype, pool.tokens, k, v));
    }
  }
  return lines;
}

std::string sglang_tokens_rule(const FitRequest& request, const FitResult& result) {
  const std::uint32_t dcp = request.parallel.dcp;
  if (dcp > 1) {
    return fmt::format("{} rows per rank x DCP {} (SGLang's logical token capacity)", result.kv_tokens / dcp, dcp);
  }
  const std::uint64_t sliding = result.token_layer_per_rank.total();
  const std::string pages = result.block_size > 1 ? fmt::format(", down to whole pages of {}", result.block_size) : "";
  // HybridSWAPoolConfigurator: the Full pool's tokens, the SWA pool's 0.8 x as many beside them.
  if (result.token_pools.size() == 2 && result.token_pools[1].label == "SWA") {
    const std::uint64_t full = result.full_token_layer_per_rank ? result.full_token_layer_per_rank->total() : sliding;
    const bool chunked = result.groups.size() == 2 && result.groups[1].attention == LayerAttention::chunked;
    return fmt::format("floor({} / ({} B x {} full layers + 0.8 x {} B x {} {} layers)){}", gib_text(result.kv_budget),
                       full, result.token_pools[0].layers, sliding, result.token_pools[1].layers,
                       chunked ? "chunked" : "sliding", pages);
  }
  std::uint64_t layers = 0;
  for (const TokenPool& pool : result.token_pools) layers += pool.layers;
  return fmt::format("floor({} / ({} B x {} layers)){}", gib_text(result.kv_budget), sliding, layers, pages);
}

}  // namespace kvplan::report

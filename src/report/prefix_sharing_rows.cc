#include "report/prefix_sharing_rows.h"

#include <fmt/format.h>

#include "report/format.h"

namespace kvplan::report {
namespace {

void add_row(Document& document, std::string key, std::string item, Cell value, std::string unit, std::string rule) {
  document.rows.push_back({Cell::of(std::move(key)), Cell::of(std::string(" ")), Cell::of(std::move(item)),
                           std::move(value), Cell::of(std::move(unit)), Cell::of(std::move(rule))});
}

// "1 prefix", "2 prefixes".
std::string prefixes(std::uint64_t count, const std::string& adjective = "") {
  return fmt::format("{} {}prefix{}", count, adjective, count == 1 ? "" : "es");
}

std::string kind_name(LayerAttention kind) {
  switch (kind) {
    case LayerAttention::full: return "full-attention";
    case LayerAttention::sliding: return "sliding";
    case LayerAttention::chunked: return "chunked";
    case LayerAttention::state: return "state";
    case LayerAttention::none: return "uncached";
  }
  return "";
}

// Where the shared tokens come from, by the engine's rule and release.
std::string shared_tokens_rule(const PrefixSharing& sharing, const FitResult& result) {
  const PrefixSharing& s = sharing;
  if (result.engine == Engine::sglang) {
    return fmt::format("{} of {} tokens (--prefixes); SGLang {}'s radix cache matches whole pages "
                       "(RadixKey.page_aligned): floor({} / page {}) x {} = {} tokens shared",
                       prefixes(s.prefix.prefixes), s.prefix.tokens, result.engine_version, s.prefix.tokens, s.block_size,
                       s.block_size, s.shared_tokens_per_prefix);
  }
  if (!s.caching) {
    return fmt::format("{} of {} tokens (--prefixes); --no-enable-prefix-caching: vLLM {} shares nothing",
                       prefixes(s.prefix.prefixes), s.prefix.tokens, result.engine_version);
  }
  return fmt::format("{} of {} tokens (--prefixes); vLLM {} shares whole blocks only (hash_block_tokens hashes "
                     "full blocks): floor({} / {}) x {} = {} tokens shared",
                     prefixes(s.prefix.prefixes), s.prefix.tokens, result.engine_version, s.prefix.tokens,
                     s.block_size, s.block_size, s.shared_tokens_per_prefix);
}

// Per kind of group: its groups, the blocks each shares per prefix and why.
std::string shared_blocks_rule(const PrefixSharing& s, const ModelShape& shape, std::uint64_t len) {
  std::string terms, windows;
  for (LayerAttention kind : {LayerAttention::full, LayerAttention::sliding, LayerAttention::chunked, LayerAttention::state}) {
    std::uint64_t groups = 0, shared = 0;
    for (const PrefixGroupShare& group : s.groups) {
      if (group.attention != kind) continue;
      ++groups;
      shared = group.shared_per_prefix;
    }
    if (groups == 0) continue;
    terms += fmt::format("{}{} x {} {}", terms.empty() ? "" : " + ", shared, groups,
                         kind_name(kind) + (groups == 1 ? " group" : " groups"));
    if (!s.caching) continue;
    const std::uint64_t prefix_blocks = s.prefix.tokens / s.block_size;
    if (kind == LayerAttention::sliding) {
      const std::uint64_t window = shape.sliding_window.value_or(0);
      windows += fmt::format("; a sliding group keeps a request at its last token from block floor(max(0, {} - W {}) "
                             "/ {}) = {} on (SlidingWindowManager.remove_skipped_blocks), so it shares {} of the "
                             "prefix's {} blocks",
                             len, window, s.block_size, (len > window ? len - window : 0) / s.block_size, shared,
                             prefix_blocks);
    } else if (kind == LayerAttention::chunked) {
      const std::uint64_t chunk = shape.attention_chunk_size.value_or(1);
      windows += fmt::format("; a chunked group keeps a request at its last token from block floor(({} - 1) / "
                             "chunk {}) x {} / {} = {} on (ChunkedLocalAttentionManager.get_num_skipped_tokens), so "
                             "it shares {} of the prefix's {} blocks",
                             len, chunk, chunk, s.block_size, (len - 1) / chunk * chunk / s.block_size, shared, prefix_blocks);
    } else if (kind == LayerAttention::state) {
      windows += "; state groups share nothing: MambaManager copies the hit state into the request's own block";
    }
  }
  return fmt::format("{} x ({}) = {}, held once per prefix{}", prefixes(s.prefix.prefixes), terms,
                     s.shared_blocks, windows);
}

}  // namespace

void add_prefix_sharing_fact(Document& document, const PrefixSharing& sharing) {
  document.facts.push_back({"shared_prefix_tokens", "shared prefix",
                            Cell::of(format_count(sharing.prefix.tokens) + " tokens", sharing.prefix.tokens)});
  document.facts.push_back({"shared_prefixes", "prefixes",
                            Cell::of(prefixes(sharing.prefix.prefixes, "distinct "), sharing.prefix.prefixes)});
}

void add_prefix_sharing_rows(Document& document, const PrefixSharing& sharing, const ModelShape& shape,
                             const FitRequest& request, const FitResult& result) {
  const PrefixSharing& s = sharing;
  const std::uint64_t len = request.max_model_len.value;
  add_row(document, "shared_tokens_per_prefix", "tokens shared per prefix",
          Cell::of(format_count(s.shared_tokens_per_prefix) + " tokens", s.shared_tokens_per_prefix), "tokens", shared_tokens_rule(s, result));
  add_row(document, "shared_prefix_blocks", "shared prefix blocks", Cell::of(s.shared_blocks), "",
          shared_blocks_rule(s, shape, len));
  add_row(document, "unique_blocks_per_request", "unique blocks per request", Cell::of(s.unique_blocks_per_request), "",
          fmt::format("{} blocks per request - {} shared with the prefix = {}", s.blocks_per_request,
                      s.blocks_per_request - s.unique_blocks_per_request, s.unique_blocks_per_request));
  add_row(document, "max_concurrency_shared_prefix", "max concurrency, shared prefix",
          Cell::of(fmt::format("{:.2f}x (unshared {:.2f}x)", s.max_concurrency, result.max_concurrency), s.max_concurrency),
          "x", fmt::format("({} blocks - {} shared) / {} unique per request", s.pool_blocks, s.shared_blocks,
                           s.unique_blocks_per_request));
  const std::uint64_t per_pool = s.requests_per_replica / result.attention_dp;
  add_row(document, "requests_per_replica_shared_prefix", "requests per replica, shared prefix",
          Cell::of(format_count(s.requests_per_replica) + " requests", s.requests_per_replica), "requests",
          result.attention_dp > 1
              ? fmt::format("{} per pool x {} pools (--dp-attention: each rank caches its own prefixes)", per_pool,
                            result.attention_dp)
              : fmt::format("floor({:.2f})", s.max_concurrency));
  add_row(document, "fleet_requests_shared_prefix", "requests on the fleet, shared prefix",
          Cell::of(format_count(s.fleet_requests) + " requests", s.fleet_requests), "requests",
          fmt::format("{} x {} replica{}, each caching its own prefixes", s.requests_per_replica, request.parallel.dp,
                      request.parallel.dp == 1 ? "" : "s"));
  document.notes.push_back("shared prefix: every request's prompt continues past its prefix (a prompt that is only "
                           "the prefix hits one token less, which the engine recomputes), and every request is at full "
                           "length, as the unshared concurrency assumes");
  bool windowed = false, state = false;
  for (const PrefixGroupShare& group : s.groups) {
    windowed |= group.attention != LayerAttention::full;
    state |= group.attention == LayerAttention::state;
  }
  if (windowed && s.caching && result.engine == Engine::vllm) {
    document.notes.push_back("shared prefix: a request that has passed the prefix no longer holds its blocks in sliding, "
                             "chunked or state groups; they stay cached but evictable, and a new request hits the "
                             "prefix only while they are not evicted");
  }
  if (state && s.caching && result.engine == Engine::vllm) {
    document.notes.push_back("shared prefix: with state layers the second request to meet a prefix misses it (no state "
                             "was cached at its end) and caches that state for the requests after it, so until one of "
                             "the first two finishes the prefix is held twice");
  }
}

}  // namespace kvplan::report

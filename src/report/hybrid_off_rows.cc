#include "report/hybrid_off_rows.h"

#include <fmt/format.h>

#include "report/format.h"

namespace kvplan::report {
namespace {

void add_row(Document& document, std::string key, std::string item, Cell value, std::string unit, std::string rule) {
  document.rows.push_back({Cell::of(std::move(key)), Cell::of(std::string(" ")), Cell::of(std::move(item)),
                           std::move(value), Cell::of(std::move(unit)), Cell::of(std::move(rule))});
}

}  // namespace

void add_hybrid_off_rows(Document& document, const FitResult& off, const FitResult& on) {
  add_row(document, "hybrid_on_kv_tokens", "KV tokens, hybrid allocator on", Cell::of(format_count(on.kv_tokens) + " tokens", on.kv_tokens),
          "tokens",
          fmt::format("vLLM's default: {} KV cache groups, {} blocks per request instead of {}", on.groups.size(),
                      on.blocks_per_request, off.blocks_per_request));
  add_row(document, "hybrid_on_max_concurrency", "max concurrency, hybrid allocator on",
          Cell::of(fmt::format("{:.2f}x", on.max_concurrency), on.max_concurrency), "requests",
          fmt::format("{} blocks / {} blocks per request", on.num_blocks, on.blocks_per_request));
  const double lost = on.max_concurrency > 0 ? 1 - off.max_concurrency / on.max_concurrency : 0;
  add_row(document, "hybrid_off_capacity_lost", "concurrency lost with it off", Cell::of(fmt::format("{:.1f}%", 100 * lost), lost),
          "fraction", fmt::format("1 - {:.2f}x / {:.2f}x: sliding and chunked layers keep every token", off.max_concurrency,
                                  on.max_concurrency));
}

}  // namespace kvplan::report

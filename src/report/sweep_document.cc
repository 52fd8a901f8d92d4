#include "report/sweep_document.h"

#include <fmt/format.h>

#include "report/format.h"

namespace kvplan::report {

Document sweep_head(std::uint64_t row_count, const EngineRelease& engine) {
  Document document;
  document.command = "sweep";
  document.title = fmt::format("Sweep: {} combinations, {}{}{} accounting", row_count, to_string(engine.engine),
                               engine.version.empty() ? "" : "@", engine.version);
  document.columns = {
      {"model", "model", Align::left},
      {"variant", "variant", Align::left},
      {"native", "native", Align::left, true},
      {"kv_dtype", "kv dtype", Align::left},
      {"ctx_tokens", "ctx"},
      {"fleet", "fleet", Align::left},
      {"tp", "TP"},
      {"pp", "PP", Align::right, true},
      {"dp", "DP", Align::right, true},
      {"bytes_per_token_per_layer", "per token per layer"},
      {"bytes_per_sequence", "per sequence"},
      {"kv_bytes_per_request_per_rank", "per request per rank"},
      {"kv_bytes_per_gpu", "KV per GPU"},
      {"kv_tokens_per_replica", "KV tokens"},
      {"max_concurrency", "concurrency"},
      {"fleet_requests", "requests"},
      {"status", "status", Align::left},
  };
  document.notes.push_back("* marks the model's native attention; per-sequence sizes are the whole model's cache for one "
                           "request, per request per rank what one request holds on one GPU (TP, DCP and DP attention change it); "
                           "KV per GPU, tokens and concurrency are per replica as the engine computes them; "
                           "requests count all replicas of the fleet");
  return document;
}

std::vector<Cell> sweep_cells(const SweepRow& row, UnitSystem units, bool with_text) {
  // A text is made only when it will be shown: formatting three sizes and a ratio for every row
  // of a million-row CSV cost more than the row's arithmetic.
  auto cell = [&](auto text, Cell::Raw raw) {
    return Cell{with_text ? std::string(text()) : std::string(), std::move(raw)};
  };
  auto count = [&](std::uint64_t value) { return cell([&] { return std::to_string(value); }, value); };
  auto bytes = [&](std::uint64_t value) { return cell([&] { return format_bytes(Bytes{value}, units); }, value); };
  auto none = [&] { return cell([] { return "-"; }, Cell::Raw{}); };
  std::vector<Cell> cells;
  cells.reserve(17);
  cells.push_back(cell([&] { return row.model; }, row.model));
  cells.push_back(cell([&] { return row.variant + (row.native ? "*" : ""); }, row.variant));
  cells.push_back(cell([&] { return row.native ? "yes" : "no"; }, row.native));
  cells.push_back(cell([&] { return to_string(row.kv_dtype); }, std::string(to_string(row.kv_dtype))));
  cells.push_back(count(row.ctx.value));
  cells.push_back(cell([&] { return row.fleet; }, row.fleet));
  cells.push_back(count(row.parallel.tp));
  cells.push_back(count(row.parallel.pp));
  cells.push_back(count(row.parallel.dp));
  const std::uint64_t per_token_layer = row.bytes_per_token_per_layer;
  cells.push_back(per_token_layer ? cell([&] { return std::to_string(per_token_layer) + " B"; }, per_token_layer) : none());
  cells.push_back(row.bytes_per_sequence ? bytes(row.bytes_per_sequence) : none());
  if (row.fit) {
    cells.push_back(bytes(row.fit->bytes_per_request_per_rank.value));
    cells.push_back(bytes(row.fit->kv_budget.value));
    cells.push_back(count(row.fit->kv_tokens));
    cells.push_back(cell([&] { return fmt::format("{:.2f}x", row.fit->max_concurrency); },
                         std::round(row.fit->max_concurrency * 1e4) / 1e4));
    cells.push_back(count(row.fit->fleet_requests));
  } else {
    for (int i = 0; i < 5; ++i) cells.push_back(none());
  }
  cells.push_back(cell([&] { return row.status; }, row.status));
  return cells;
}

Document sweep_document(const std::vector<SweepRow>& rows, const EngineRelease& engine, UnitSystem units) {
  Document document = sweep_head(rows.size(), engine);
  for (const SweepRow& row : rows) document.rows.push_back(sweep_cells(row, units));
  return document;
}

}  // namespace kvplan::report

#include "io/bench_results.h"

#include "core/config_fields.h"
#include "core/error.h"
#include "io/json_reader.h"

namespace kvplan::io {

BenchResults read_bench_results(const std::string& path) {
  ConfigNode root = read_json(read_text_file(path, "--bench"), path);
  ConfigFields top(root, "bench results");
  BenchResults results;
  results.device = top.optional_string("device").value_or("");
  const ConfigNode* rows = top.get("rows");
  if (rows == nullptr || rows->as_list() == nullptr) {
    top.fail(rows, "bench results need `rows`, a list (as 'kvplan bench --out' writes)");
  }
  for (const ConfigNode& node : *rows->as_list()) {
    ConfigFields fields(node, "a bench row");
    BenchRow row;
    row.impl = fields.optional_string("impl").value_or("kvplan");
    row.model = fields.optional_string("model").value_or("");
    row.variant = fields.required_string("variant");
    row.kv_dtype = fields.optional_string("kv_dtype").value_or("");
    row.batch = fields.optional_non_negative("batch").value_or(0);
    row.ctx_tokens = fields.optional_non_negative("ctx_tokens").value_or(0);
    row.kv_bytes = fields.optional_positive_number("kv_bytes");
    std::optional<double> floor = fields.optional_positive_number("floor_s");
    if (!floor) fields.fail(node.find("floor_s"), "a bench row needs floor_s (the roofline floor in seconds)");
    row.floor_s = *floor;
    row.time_median_s = fields.optional_positive_number("time_median_s");
    row.check = fields.optional_string("check").value_or("");
    results.rows.push_back(std::move(row));
  }
  if (results.rows.empty()) top.fail(rows, "bench results have no rows");
  return results;
}

}  // namespace kvplan::io

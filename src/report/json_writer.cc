// JSON: facts as fields, rows as objects keyed by column key, raw values (exact integers).
#include <nlohmann/json.hpp>

#include <ostream>

#include "report/document.h"

namespace kvplan::report {
namespace {

nlohmann::ordered_json raw_json(const Cell::Raw& raw) {
  struct Json {
    nlohmann::ordered_json operator()(std::monostate) const { return nullptr; }
    nlohmann::ordered_json operator()(const std::string& s) const { return s; }
    nlohmann::ordered_json operator()(std::uint64_t v) const { return v; }
    nlohmann::ordered_json operator()(double v) const { return v; }
    nlohmann::ordered_json operator()(bool v) const { return v; }
  };
  return std::visit(Json{}, raw);
}

}  // namespace

void write_json(const Document& document, std::ostream& out) {
  nlohmann::ordered_json json;
  json["command"] = document.command;
  for (const Fact& fact : document.facts) json[fact.key] = raw_json(fact.value.raw);
  json["rows"] = nlohmann::ordered_json::array();
  for (const auto& row : document.rows) {
    nlohmann::ordered_json object;
    for (std::size_t c = 0; c < row.size(); ++c) object[document.columns[c].key] = raw_json(row[c].raw);
    json["rows"].push_back(std::move(object));
  }
  json["notes"] = document.notes;
  out << json.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << '\n';
}

}  // namespace kvplan::report

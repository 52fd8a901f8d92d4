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

// nlohmann's dump(2) of `value`, shifted right by `indent` spaces after its first line, to sit
// inside the document the way a dump of the whole would put it.
std::string indented(const nlohmann::ordered_json& value, std::size_t indent) {
  std::string text = value.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  std::string result;
  for (char c : text) {
    result += c;
    if (c == '\n') result.append(indent, ' ');
  }
  return result;
}

// Writes what nlohmann's dump(2) of {"command", facts..., "rows": [...], "notes": [...]} would,
// one row at a time.
class JsonWriter : public RowWriter {
 public:
  JsonWriter(const Document& head, std::ostream& out) : head_(head), out_(out) {
    nlohmann::ordered_json fields;
    fields["command"] = head.command;
    for (const Fact& fact : head.facts) fields[fact.key] = raw_json(fact.value.raw);
    out_ << "{";
    for (const auto& [key, value] : fields.items()) {
      out_ << "\n  " << nlohmann::ordered_json(key).dump() << ": " << indented(value, 2) << ",";
    }
    out_ << "\n  \"rows\": [";
  }
  void row(const std::vector<Cell>& cells) override {
    nlohmann::ordered_json object;
    for (std::size_t c = 0; c < cells.size(); ++c) object[head_.columns[c].key] = raw_json(cells[c].raw);
    out_ << (rows_++ ? ",\n    " : "\n    ") << indented(object, 4);
  }
  bool reads_text() const override { return false; }
  void finish() override {
    out_ << (rows_ ? "\n  ]," : "],") << "\n  \"notes\": " << indented(nlohmann::ordered_json(head_.notes), 2) << "\n}\n";
  }

 private:
  const Document& head_;
  std::ostream& out_;
  std::uint64_t rows_ = 0;
};

}  // namespace

std::unique_ptr<RowWriter> json_row_writer(const Document& head, std::ostream& out) {
  return std::make_unique<JsonWriter>(head, out);
}

}  // namespace kvplan::report

// RFC 4180 CSV: one header line of column keys, then one line per row with raw values (exact
// byte counts), so spreadsheets and scripts need no unit parsing.
#include <fmt/format.h>

#include <ostream>

#include "report/document.h"

namespace kvplan::report {
namespace {

std::string raw_text(const Cell::Raw& raw) {
  struct Text {
    std::string operator()(std::monostate) const { return ""; }
    std::string operator()(const std::string& s) const { return s; }
    std::string operator()(std::uint64_t v) const { return std::to_string(v); }
    std::string operator()(double v) const { return fmt::format("{}", v); }
    std::string operator()(bool v) const { return v ? "true" : "false"; }
  };
  return std::visit(Text{}, raw);
}

std::string quoted(const std::string& field) {
  if (field.find_first_of(",\"\r\n") == std::string::npos) return field;
  std::string result = "\"";
  for (char c : field) {
    if (c == '"') result += '"';
    result += c;
  }
  return result + "\"";
}

}  // namespace

void write_csv(const Document& document, std::ostream& out) {
  for (std::size_t c = 0; c < document.columns.size(); ++c) {
    out << (c ? "," : "") << quoted(document.columns[c].key);
  }
  out << "\r\n";
  for (const auto& row : document.rows) {
    for (std::size_t c = 0; c < row.size(); ++c) out << (c ? "," : "") << quoted(raw_text(row[c].raw));
    out << "\r\n";
  }
}

}  // namespace kvplan::report

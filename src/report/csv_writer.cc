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

class CsvWriter : public RowWriter {
 public:
  explicit CsvWriter(const Document& head, std::ostream& out) : out_(out) {
    for (std::size_t c = 0; c < head.columns.size(); ++c) out_ << (c ? "," : "") << quoted(head.columns[c].key);
    out_ << "\r\n";
  }
  void row(const std::vector<Cell>& cells) override {
    for (std::size_t c = 0; c < cells.size(); ++c) out_ << (c ? "," : "") << quoted(raw_text(cells[c].raw));
    out_ << "\r\n";
  }
  void finish() override {}

 private:
  std::ostream& out_;
};

}  // namespace

std::unique_ptr<RowWriter> csv_row_writer(const Document& head, std::ostream& out) {
  return std::make_unique<CsvWriter>(head, out);
}

}  // namespace kvplan::report

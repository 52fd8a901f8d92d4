// RFC 4180 CSV: one header line of column keys, then one line per row with raw values (exact
// byte counts), so spreadsheets and scripts need no unit parsing.
#include <fmt/format.h>

#include <iterator>
#include <ostream>

#include "report/document.h"

namespace kvplan::report {
namespace {

// Appends the raw value as CSV text: strings quoted when they hold a separator, a quote or a line
// break (RFC 4180), integers in decimal, doubles as fmt's "{}" writes them. Appended to one line
// buffer, not returned: a sweep writes a million rows of 16 cells.
void append_field(std::string& line, const Cell::Raw& raw) {
  struct Append {
    std::string& line;
    void operator()(std::monostate) const {}
    void operator()(const std::string& s) const {
      if (s.find_first_of(",\"\r\n") == std::string::npos) {
        line += s;
        return;
      }
      line += '"';
      for (char c : s) {
        if (c == '"') line += '"';
        line += c;
      }
      line += '"';
    }
    void operator()(std::uint64_t v) const { fmt::format_to(std::back_inserter(line), "{}", v); }
    void operator()(double v) const { fmt::format_to(std::back_inserter(line), "{}", v); }
    void operator()(bool v) const { line += v ? "true" : "false"; }
  };
  std::visit(Append{line}, raw);
}

class CsvWriter : public RowWriter {
 public:
  explicit CsvWriter(const Document& head, std::ostream& out) : out_(out) {
    line_.clear();
    for (std::size_t c = 0; c < head.columns.size(); ++c) {
      if (c) line_ += ',';
      append_field(line_, Cell::Raw{head.columns[c].key});
    }
    write_line();
  }
  void row(const std::vector<Cell>& cells) override {
    line_.clear();
    for (std::size_t c = 0; c < cells.size(); ++c) {
      if (c) line_ += ',';
      append_field(line_, cells[c].raw);
    }
    write_line();
  }
  void finish() override {}
  bool reads_text() const override { return false; }

 private:
  void write_line() {
    line_ += "\r\n";
    out_.write(line_.data(), static_cast<std::streamsize>(line_.size()));
  }

  std::ostream& out_;
  std::string line_;  // one line, kept to reuse its memory
};

}  // namespace

std::unique_ptr<RowWriter> csv_row_writer(const Document& head, std::ostream& out) {
  return std::make_unique<CsvWriter>(head, out);
}

}  // namespace kvplan::report

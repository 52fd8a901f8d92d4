// The shape every command's output takes before a writer turns it into text, CSV, Markdown or
// JSON: a title, a few facts, one table, notes. Each cell carries both its display text (for
// people) and its raw value (exact bytes and counts, for machines).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string>
#include <variant>
#include <vector>

namespace kvplan::report {

struct Cell {
  using Raw = std::variant<std::monostate, std::string, std::uint64_t, double, bool>;
  std::string text;  // table and Markdown
  Raw raw;           // CSV and JSON; monostate = null

  static Cell of(std::string text) { return Cell{text, Raw{std::move(text)}}; }
  static Cell of(std::uint64_t value) { return Cell{std::to_string(value), Raw{value}}; }
  static Cell of(std::string text, Raw raw) { return Cell{std::move(text), std::move(raw)}; }
};

enum class Align { left, right };

struct Column {
  std::string key;      // CSV header and JSON field: snake_case with the unit, "per_sequence_bytes"
  std::string header;   // table and Markdown header: "per sequence"
  Align align = Align::right;
  bool machine_only = false;  // CSV/JSON only (e.g. the model name, already in the title)
};

struct Fact {
  std::string key;    // JSON field
  std::string label;  // text label
  Cell value;
};

struct Document {
  std::string command;  // "size"
  std::string title;
  std::vector<Fact> facts;
  std::vector<Column> columns;
  std::vector<std::vector<Cell>> rows;
  std::vector<std::string> notes;
};

enum class Format { table, csv, md, json };

Format parse_format(const std::string& text);

// Writes a document whose rows arrive one at a time, so that a sweep of a million rows needs
// the memory of one: the title, facts and header when made, each row as it comes, the notes at
// finish(). `head`'s rows are not written; it must outlive the writer.
class RowWriter {
 public:
  virtual ~RowWriter() = default;
  virtual void row(const std::vector<Cell>& cells) = 0;
  virtual void finish() = 0;
  // Whether the writer shows Cell::text (table, Markdown) or only Cell::raw (CSV, JSON): a caller
  // writing many rows can skip formatting texts nobody reads.
  virtual bool reads_text() const { return true; }
};
std::unique_ptr<RowWriter> row_writer(const Document& head, Format format, std::ostream& out);

// One writer per format, each in its own file.
std::unique_ptr<RowWriter> table_row_writer(const Document& head, std::ostream& out);
std::unique_ptr<RowWriter> csv_row_writer(const Document& head, std::ostream& out);
std::unique_ptr<RowWriter> markdown_row_writer(const Document& head, std::ostream& out);
std::unique_ptr<RowWriter> json_row_writer(const Document& head, std::ostream& out);

// A whole document: its rows through row_writer.
void write_document(const Document& document, Format format, std::ostream& out);
void write_csv(const Document& document, std::ostream& out);

}  // namespace kvplan::report

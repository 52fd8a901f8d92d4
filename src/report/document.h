// The shape every command's output takes before a writer turns it into text, CSV, Markdown or
// JSON: a title, a few facts, one table, notes. Each cell carries both its display text (for
// people) and its raw value (exact bytes and counts, for machines).
#pragma once

#include <cstdint>
#include <iosfwd>
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

// One writer per format, each in its own file.
void write_table(const Document& document, std::ostream& out);
void write_csv(const Document& document, std::ostream& out);
void write_markdown(const Document& document, std::ostream& out);
void write_json(const Document& document, std::ostream& out);

void write_document(const Document& document, Format format, std::ostream& out);

}  // namespace kvplan::report

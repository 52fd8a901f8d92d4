#include "report/document.h"

#include "core/error.h"

namespace kvplan::report {

Format parse_format(const std::string& text) {
  if (text == "table") return Format::table;
  if (text == "csv") return Format::csv;
  if (text == "md" || text == "markdown") return Format::md;
  if (text == "json") return Format::json;
  throw Error("--format: expected table, csv, md or json, got '" + text + "'");
}

std::unique_ptr<RowWriter> row_writer(const Document& head, Format format, std::ostream& out) {
  switch (format) {
    case Format::table: return table_row_writer(head, out);
    case Format::csv: return csv_row_writer(head, out);
    case Format::md: return markdown_row_writer(head, out);
    case Format::json: return json_row_writer(head, out);
  }
  throw Error("unhandled format", ExitCode::internal);
}

void write_document(const Document& document, Format format, std::ostream& out) {
  std::unique_ptr<RowWriter> writer = row_writer(document, format, out);
  for (const std::vector<Cell>& row : document.rows) writer->row(row);
  writer->finish();
}

void write_csv(const Document& document, std::ostream& out) { write_document(document, Format::csv, out); }

}  // namespace kvplan::report

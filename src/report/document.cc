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

void write_document(const Document& document, Format format, std::ostream& out) {
  switch (format) {
    case Format::table: write_table(document, out); break;
    case Format::csv: write_csv(document, out); break;
    case Format::md: write_markdown(document, out); break;
    case Format::json: write_json(document, out); break;
  }
}

}  // namespace kvplan::report

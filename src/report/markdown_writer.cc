// GitHub-flavoured Markdown: a heading, facts as a list, a table with right-aligned numbers,
// then the notes. Suitable for $GITHUB_STEP_SUMMARY.
#include <ostream>

#include "report/document.h"

namespace kvplan::report {
namespace {

std::string escaped(const std::string& text) {
  std::string result;
  for (char c : text) {
    if (c == '|') result += '\\';
    result += c;
  }
  return result;
}

}  // namespace

void write_markdown(const Document& document, std::ostream& out) {
  if (!document.title.empty()) out << "### " << escaped(document.title) << "\n\n";
  for (const Fact& fact : document.facts) out << "- " << fact.label << ": " << fact.value.text << '\n';
  if (!document.facts.empty()) out << '\n';

  std::vector<std::size_t> shown;
  for (std::size_t c = 0; c < document.columns.size(); ++c) {
    if (!document.columns[c].machine_only) shown.push_back(c);
  }
  out << '|';
  for (std::size_t c : shown) out << ' ' << escaped(document.columns[c].header) << " |";
  out << "\n|";
  for (std::size_t c : shown) out << (document.columns[c].align == Align::right ? " ---: |" : " :--- |");
  out << '\n';
  for (const auto& row : document.rows) {
    out << '|';
    for (std::size_t c : shown) out << ' ' << escaped(row[c].text) << " |";
    out << '\n';
  }
  if (!document.notes.empty()) {
    out << "\nNotes:\n\n";
    for (const std::string& note : document.notes) out << "- " << escaped(note) << '\n';
  }
}

}  // namespace kvplan::report

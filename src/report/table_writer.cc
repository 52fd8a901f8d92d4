// Plain-text output for terminals: title, facts, an aligned table, notes.
#include <algorithm>
#include <ostream>

#include "report/document.h"

namespace kvplan::report {
namespace {

// Terminal columns taken by UTF-8 text: count the bytes that start a character.
std::size_t display_width(const std::string& text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

void pad(std::ostream& out, const std::string& text, std::size_t width, Align align) {
  std::size_t fill = width - std::min(width, display_width(text));
  if (align == Align::right) out << std::string(fill, ' ') << text;
  else out << text << std::string(fill, ' ');
}

}  // namespace

void write_table(const Document& document, std::ostream& out) {
  if (!document.title.empty()) out << document.title << '\n';
  std::size_t label_width = 0;
  for (const Fact& fact : document.facts) label_width = std::max(label_width, display_width(fact.label));
  for (const Fact& fact : document.facts) {
    out << "  ";
    pad(out, fact.label + ":", label_width + 1, Align::left);
    out << ' ' << fact.value.text << '\n';
  }
  if (!document.title.empty() || !document.facts.empty()) out << '\n';

  std::vector<std::size_t> shown;
  for (std::size_t c = 0; c < document.columns.size(); ++c) {
    if (!document.columns[c].machine_only) shown.push_back(c);
  }
  std::vector<std::size_t> width(document.columns.size(), 0);
  for (std::size_t c : shown) {
    width[c] = display_width(document.columns[c].header);
    for (const auto& row : document.rows) width[c] = std::max(width[c], display_width(row[c].text));
  }
  auto write_row = [&](auto cell_text) {
    for (std::size_t i = 0; i < shown.size(); ++i) {
      std::size_t c = shown[i];
      if (i > 0) out << "  ";
      bool last = i + 1 == shown.size();
      Align align = document.columns[c].align;
      std::string text = cell_text(c);
      if (last && align == Align::left) out << text;  // no trailing spaces
      else pad(out, text, width[c], align);
    }
    out << '\n';
  };
  write_row([&](std::size_t c) { return document.columns[c].header; });
  for (const auto& row : document.rows) write_row([&](std::size_t c) { return row[c].text; });

  if (!document.notes.empty()) {
    out << "\nnotes:\n";
    for (const std::string& note : document.notes) out << "  - " << note << '\n';
  }
}

}  // namespace kvplan::report

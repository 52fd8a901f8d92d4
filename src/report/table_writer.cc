// Plain-text output for terminals: title, facts, an aligned table, notes; control characters in
// any text are escaped (a table goes to a terminal).
#include <algorithm>
#include <ostream>

#include "report/document.h"
#include "report/format.h"

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

// Columns are as wide as their widest cell, so rows wait in pages: a table of up to kPageRows rows
// is aligned as a whole; a longer one (a large sweep) page by page, widths only ever growing, so
// memory stays bounded.
constexpr std::size_t kPageRows = 1000;

class TableWriter : public RowWriter {
 public:
  TableWriter(const Document& head, std::ostream& out) : head_(head), out_(out), width_(head.columns.size(), 0) {
    if (!head.title.empty()) out_ << escape_controls(head.title) << '\n';
    std::size_t label_width = 0;
    for (const Fact& fact : head.facts) label_width = std::max(label_width, display_width(fact.label));
    for (const Fact& fact : head.facts) {
      out_ << "  ";
      pad(out_, fact.label + ":", label_width + 1, Align::left);
      out_ << ' ' << escape_controls(fact.value.text) << '\n';
    }
    if (!head.title.empty() || !head.facts.empty()) out_ << '\n';
    for (std::size_t c = 0; c < head.columns.size(); ++c) {
      if (!head.columns[c].machine_only) shown_.push_back(c);
    }
    for (std::size_t c : shown_) width_[c] = display_width(head.columns[c].header);
  }
  void row(const std::vector<Cell>& cells) override {
    std::vector<std::string> texts(cells.size());
    for (std::size_t c : shown_) texts[c] = escape_controls(cells[c].text);
    page_.push_back(std::move(texts));
    if (page_.size() == kPageRows) write_page();
  }
  void finish() override {
    write_page();
    if (!header_written_) write_row([&](std::size_t c) { return head_.columns[c].header; });
    if (!head_.notes.empty()) {
      out_ << "\nnotes:\n";
      for (const std::string& note : head_.notes) out_ << "  - " << escape_controls(note) << '\n';
    }
  }

 private:
  void write_page() {
    for (std::size_t c : shown_) {
      for (const auto& texts : page_) width_[c] = std::max(width_[c], display_width(texts[c]));
    }
    if (!header_written_ && !page_.empty()) {
      write_row([&](std::size_t c) { return head_.columns[c].header; });
      header_written_ = true;
    }
    for (const auto& texts : page_) write_row([&](std::size_t c) { return texts[c]; });
    page_.clear();
  }
  template <typename CellText>
  void write_row(CellText cell_text) {
    for (std::size_t i = 0; i < shown_.size(); ++i) {
      std::size_t c = shown_[i];
      if (i > 0) out_ << "  ";
      bool last = i + 1 == shown_.size();
      Align align = head_.columns[c].align;
      std::string text = cell_text(c);
      if (last && align == Align::left) out_ << text;  // no trailing spaces
      else pad(out_, text, width_[c], align);
    }
    out_ << '\n';
  }

  const Document& head_;
  std::ostream& out_;
  std::vector<std::size_t> shown_;
  std::vector<std::size_t> width_;
  std::vector<std::vector<std::string>> page_;
  bool header_written_ = false;
};

}  // namespace

std::unique_ptr<RowWriter> table_row_writer(const Document& head, std::ostream& out) {
  return std::make_unique<TableWriter>(head, out);
}

}  // namespace kvplan::report

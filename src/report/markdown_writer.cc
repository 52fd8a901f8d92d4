// GitHub-flavoured Markdown: a heading, facts as a list, a table with right-aligned numbers,
// then the notes. Suitable for $GITHUB_STEP_SUMMARY.
#include <ostream>

#include "report/document.h"
#include "report/format.h"

namespace kvplan::report {
namespace {

std::string escaped(const std::string& text) {
  std::string result;
  for (char c : escape_controls(text)) {
    if (c == '|') result += '\\';
    result += c;
  }
  return result;
}

class MarkdownWriter : public RowWriter {
 public:
  MarkdownWriter(const Document& head, std::ostream& out) : head_(head), out_(out) {
    if (!head.title.empty()) out_ << "### " << escaped(head.title) << "\n\n";
    for (const Fact& fact : head.facts) out_ << "- " << fact.label << ": " << escaped(fact.value.text) << '\n';
    if (!head.facts.empty()) out_ << '\n';
    for (std::size_t c = 0; c < head.columns.size(); ++c) {
      if (!head.columns[c].machine_only) shown_.push_back(c);
    }
    out_ << '|';
    for (std::size_t c : shown_) out_ << ' ' << escaped(head.columns[c].header) << " |";
    out_ << "\n|";
    for (std::size_t c : shown_) out_ << (head.columns[c].align == Align::right ? " ---: |" : " :--- |");
    out_ << '\n';
  }
  void row(const std::vector<Cell>& cells) override {
    out_ << '|';
    for (std::size_t c : shown_) out_ << ' ' << escaped(cells[c].text) << " |";
    out_ << '\n';
  }
  void finish() override {
    if (head_.notes.empty()) return;
    out_ << "\nNotes:\n\n";
    for (const std::string& note : head_.notes) out_ << "- " << escaped(note) << '\n';
  }

 private:
  const Document& head_;
  std::ostream& out_;
  std::vector<std::size_t> shown_;
};

}  // namespace

std::unique_ptr<RowWriter> markdown_row_writer(const Document& head, std::ostream& out) {
  return std::make_unique<MarkdownWriter>(head, out);
}

}  // namespace kvplan::report

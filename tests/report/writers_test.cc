// The writers on a small hand-made document: what each format does with text and raw values.
#include <doctest/doctest.h>

#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "report/document.h"
#include "report/format.h"

using namespace kvplan;
using namespace kvplan::report;

namespace {
Document sample() {
  Document document;
  document.command = "demo";
  document.title = "Demo";
  document.facts = {{"ctx_tokens", "context", Cell::of("4096 tokens", std::uint64_t{4096})}};
  document.columns = {{"name", "name", Align::left}, {"bytes", "size"}, {"hidden", "hidden", Align::left, true}};
  document.rows = {{Cell::of("a, \"b\""), Cell::of("1.00 KiB", std::uint64_t{1024}), Cell::of("x")},
                   {Cell::of("c|d"), Cell::of("2.00 KiB", std::uint64_t{2048}), Cell::of("y")}};
  document.notes = {"a note"};
  return document;
}
std::string render(Format format) {
  std::ostringstream out;
  write_document(sample(), format, out);
  return out.str();
}
}  // namespace

TEST_CASE("human byte formatting keeps IEC and SI apart") {
  CHECK(format_bytes(Bytes{656}, UnitSystem::iec) == "656 B");
  CHECK(format_bytes(Bytes{1152}, UnitSystem::iec) == "1.12 KiB");  // 1.125 rounds to even
  CHECK(format_bytes(Bytes{1152}, UnitSystem::si) == "1.15 kB");
  CHECK(format_bytes(Bytes{480ull << 30}, UnitSystem::iec) == "480.00 GiB");
  CHECK(format_bytes(Bytes{515'396'075'520ull}, UnitSystem::si) == "515.40 GB");
  CHECK(format_bytes(Bytes{9'059'696'640ull}, UnitSystem::si) == "9.06 GB");
  CHECK(format_bytes_both(Bytes{1ull << 30}, UnitSystem::iec) == "1.00 GiB (1.07 GB)");
  CHECK(format_ratio(56.888) == "56.89x");
}

TEST_CASE("table: aligned columns, machine-only columns hidden") {
  std::string text = render(Format::table);
  CHECK(text == "Demo\n  context: 4096 tokens\n\nname        size\na, \"b\"  1.00 KiB\nc|d     2.00 KiB\n"
                "\nnotes:\n  - a note\n");
}

TEST_CASE("csv: keys as header, raw values, RFC 4180 quoting") {
  CHECK(render(Format::csv) == "name,bytes,hidden\r\n\"a, \"\"b\"\"\",1024,x\r\nc|d,2048,y\r\n");
}

TEST_CASE("markdown: right-aligned numbers and escaped pipes") {
  CHECK(render(Format::md) == "### Demo\n\n- context: 4096 tokens\n\n| name | size |\n| :--- | ---: |\n"
                              "| a, \"b\" | 1.00 KiB |\n| c\\|d | 2.00 KiB |\n\nNotes:\n\n- a note\n");
}

TEST_CASE("json: facts as fields, rows with raw values") {
  CHECK(render(Format::json) ==
        "{\n  \"command\": \"demo\",\n  \"ctx_tokens\": 4096,\n  \"rows\": [\n    {\n      \"name\": \"a, \\\"b\\\"\",\n"
        "      \"bytes\": 1024,\n      \"hidden\": \"x\"\n    },\n    {\n      \"name\": \"c|d\",\n      \"bytes\": 2048,\n"
        "      \"hidden\": \"y\"\n    }\n  ],\n  \"notes\": [\n    \"a note\"\n  ]\n}\n");
}

TEST_CASE("json: no rows and no notes are empty arrays, as a dump of the whole would write them") {
  Document document = sample();
  document.rows.clear();
  document.notes.clear();
  std::ostringstream out;
  write_document(document, Format::json, out);
  CHECK(out.str() == "{\n  \"command\": \"demo\",\n  \"ctx_tokens\": 4096,\n  \"rows\": [],\n  \"notes\": []\n}\n");
}

TEST_CASE("table: rows streamed one at a time align by pages of 1000, widths only growing") {
  Document head = sample();
  head.rows.clear();
  head.notes.clear();
  head.title.clear();
  head.facts.clear();
  std::ostringstream out;
  std::unique_ptr<RowWriter> writer = row_writer(head, Format::table, out);
  for (int i = 0; i < 1000; ++i) writer->row({Cell::of("a"), Cell::of("1 B", std::uint64_t{1}), Cell::of("x")});
  writer->row({Cell::of("a wider name"), Cell::of("1 B", std::uint64_t{1}), Cell::of("x")});
  writer->row({Cell::of("a"), Cell::of("1 B", std::uint64_t{1}), Cell::of("x")});
  writer->finish();
  std::istringstream lines(out.str());
  std::string line;
  std::vector<std::string> all;
  while (std::getline(lines, line)) all.push_back(line);
  REQUIRE(all.size() == 1 + 1002);
  // The first page: "name" is the widest text in the name column (4), "size" in the size column.
  CHECK(all[0] == "name  size");
  CHECK(all[1] == "a      1 B");
  // The second page widens the name column to "a wider name" (12) and keeps that width.
  CHECK(all[1001] == "a wider name   1 B");
  CHECK(all[1002] == "a              1 B");
}

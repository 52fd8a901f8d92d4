#include "report/charts/charts.h"

#include <doctest/doctest.h>

#include "report/charts/axes.h"
#include "report/xml_check.h"

using namespace kvplan;
using namespace kvplan::report::charts;

namespace {
bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }
std::vector<LineSeries> two_lines() {
  // MHA and GQA-8 of a 32-layer, 32-head model: 16 KiB and 4 KiB per token per layer... x 32.
  LineSeries mha{"mha", {}, {}}, gqa{"gqa:8 <native> & co", {}, {}};
  for (double tokens = 1024; tokens <= 131072; tokens *= 2) {
    mha.x.push_back(tokens);
    mha.y.push_back(tokens * 16384 * 32);
    gqa.x.push_back(tokens);
    gqa.y.push_back(tokens * 4096 * 32);
  }
  return {mha, gqa};
}
}  // namespace

TEST_CASE("axes: log mapping, ticks at whole powers, labels as users write them") {
  LogAxis axis(1000, 100000, 2, 0, 100);
  CHECK(axis.low() == 512);       // widened down to a power of two
  CHECK(axis.high() == 131072);   // and up
  CHECK(axis.pixel(512) == doctest::Approx(0));
  CHECK(axis.pixel(131072) == doctest::Approx(100));
  CHECK(axis.pixel(8192) == doctest::Approx(50));  // 2^13 is half-way between 2^9 and 2^17
  CHECK(axis.ticks(20).size() == 9);
  CHECK(axis.ticks(5).size() <= 5);
  CHECK(token_label(4096) == "4k");
  CHECK(token_label(131072) == "128k");
  CHECK(token_label(1048576) == "1M");
  CHECK(byte_label(64.0 * (1 << 20), UnitSystem::iec) == "64 MiB");
  CHECK(byte_label(1e10, UnitSystem::si) == "10 GB");
  CHECK(count_label(1000) == "1k");
}

TEST_CASE("the cache chart is well-formed SVG with a legend, axis labels and escaped text") {
  std::string svg = cache_vs_context("demo", two_lines(), UnitSystem::iec);
  CHECK(kvplan::testing::xml_problem(svg) == "");
  CHECK(contains(svg, ">mha</text>"));
  CHECK(contains(svg, ">gqa:8 &lt;native&gt; &amp; co</text>"));
  CHECK(contains(svg, ">4k</text>"));
  CHECK(contains(svg, ">128k</text>"));
  CHECK(contains(svg, "context length (tokens, log scale)"));
  CHECK(contains(svg, "prefers-color-scheme:dark"));
  // Points where the log axes put them: x over [2^10, 2^17] on pixels 86..590 (72 px per doubling);
  // y over [2^26, 2^36] (the data's 2^27 .. 2^36 widened to powers of 4) on 372..52 (32 px per
  // doubling). MHA starts at 1k tokens x 16 KiB x 32 = 2^29 B: y = 372 - 3 x 32 = 276; GQA-8 at
  // 2^27 B: 340; each doubling of context moves 72 px right and 32 px up.
  CHECK(contains(svg, "points=\"86,276 158,244 230,212 "));
  CHECK(contains(svg, "points=\"86,340 158,308 230,276 "));
}

TEST_CASE("the P:D chart puts ratios below 1 on a base-2 log axis") {
  // Two models' ratios from 0.28 to 3.02 over ISL 1k..128k (deepseek-v3's sweep in disagg_test.cc).
  std::vector<LineSeries> lines = {{"deepseek-v3", {1024, 8192, 131072}, {0.28, 0.62, 3.02}},
                                   {"llama-3.1-70b", {1024, 65536}, {0.87, 2.76}}};
  std::string svg = pd_ratio_vs_isl("P:D", lines);
  CHECK(kvplan::testing::xml_problem(svg) == "");
  CHECK(contains(svg, "prompt length, ISL (tokens, log scale)"));
  CHECK(contains(svg, "prefill GPUs per decode GPU (log scale)"));
  // y widens to [0.25, 4]: ticks at every power of two, fractions written as decimals.
  for (const char* tick : {">0.25</text>", ">0.5</text>", ">1</text>", ">2</text>", ">4</text>"}) CHECK(contains(svg, tick));
  // x over [2^10, 2^17] on pixels 86..590 (72 px per doubling); y over [2^-2, 2^2] on 372..52
  // (80 px per doubling). A ratio of 1 sits 2 doublings above 0.25: y = 372 - 160 = 212.
  // deepseek-v3: 1k at y = 372 - 80 x log2(0.28 / 0.25) = 372 - 13.08 = 358.9; 8k at x = 86 + 3 x 72
  // = 302, y = 372 - 80 x log2(0.62 / 0.25) = 372 - 104.8 = 267.2; 128k at 590, 372 - 287.6 = 84.4.
  CHECK(contains(svg, ">deepseek-v3</text>"));
  CHECK(contains(svg, "points=\"86,358.9 302,267.2 590,84.4\""));
}

TEST_CASE("grouped bars: log axis, crosses for combinations that do not fit") {
  std::vector<BarSeries> series = {{"mha bf16", 0, 1}, {"mla bf16", 3, 1}};
  std::vector<BarGroup> groups = {{"h100:8 @ 4k", {std::nullopt, 120.0}}, {"h100:8 @ 128k", {1.0, 9.0}}};
  std::string svg = grouped_bars("demo", "requests", series, groups);
  CHECK(kvplan::testing::xml_problem(svg) == "");
  CHECK(contains(svg, ">h100:8 @ 4k</text>"));
  CHECK(contains(svg, ">1k</text>"));  // ticks up to the next power of ten above 120 x 1.5
  CHECK(contains(svg, "does not hold one request"));
}

TEST_CASE("bench bars: measured against the floor, dry runs say so") {
  std::string svg = bench_bars("demo", {{"kvplan gqa b1 128k", 2e-4, 1.5e-4}, {"kvplan mla b1 128k", std::nullopt, 1e-4}});
  CHECK(kvplan::testing::xml_problem(svg) == "");
  CHECK(contains(svg, "200.0 us (75% of floor speed)"));
  CHECK(contains(svg, "floor 100.0 us (not measured)"));
}

TEST_CASE("the XML check itself catches broken documents") {
  CHECK(kvplan::testing::xml_problem("<svg><g></svg>") != "");
  CHECK(kvplan::testing::xml_problem("<svg x=1/>") != "");
  CHECK(kvplan::testing::xml_problem("<svg>a & b</svg>") != "");
  CHECK(kvplan::testing::xml_problem("<svg/><svg/>") != "");
  CHECK(kvplan::testing::xml_problem("<svg a=\"1\"><text>ok</text></svg>") == "");
}

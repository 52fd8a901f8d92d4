// The measured columns of `kvplan bench`, which only a GPU run fills: rendered here from a
// hand-built report and checked against arithmetic written out.
#include <doctest/doctest.h>

#include <sstream>

#include "report/bench_document.h"

using namespace kvplan;
using namespace kvplan::report;

namespace {

KernelRow gqa_row(std::optional<BenchMeasurement> measured) {
  KernelRow row;
  row.phase = "decode";
  row.shape = {Variant{VariantKind::gqa, 8, 128, 0, 0}, 32, 1, Tokens{131072}, KvDtype::bf16, 16};
  row.cost = decode_attention_cost(row.shape);
  row.floor = roofline_floor(row.cost, 3.0e12, {800e12, 60e12});
  row.measured = measured;
  return row;
}

}  // namespace

TEST_CASE("bench document: GB/s, TFLOP/s, % of floor and launches from a measured median") {
  BenchReport report;
  report.model = "llama-3-8b";
  report.device = "NVIDIA H100 80GB HBM3";
  report.iters = 20;
  report.ceilings = {"measured in this run", 3.0e12, 800e12, 60e12, 5e-6, 3.35e12, 989.4e12, 66.9e12, 1978.9e12};
  report.rows.push_back(gqa_row(BenchMeasurement{true, 2e-3, 1e-2, 64, 128, 200e-6}));
  report.rows.push_back(gqa_row(BenchMeasurement{false, 0.5, 1e-2, 64, 128, std::nullopt}));
  std::ostringstream csv;
  write_csv(bench_document(report, UnitSystem::iec), csv);
  const std::string text = csv.str();
  // 536920068 B in 200 us = 2684.6 GB/s; 2147483648 FLOP in 200 us = 10.74 TFLOP/s;
  // floor 536920068 / 3.0e12 = 178.97 us, 89.5% of 200 us; 200 us / 5 us = 40 empty launches.
  CHECK(text.find(",pass,0.002,0.0002,2684.60034,10.73741824,89.486678,40\r\n") != std::string::npos);
  // A kernel that failed its check has no time.
  CHECK(text.find(",fail,0.5,,,,,\r\n") != std::string::npos);
}

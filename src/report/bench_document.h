// `kvplan bench` results as a Document: one row per kernel run, the planner's analytic KV bytes
// beside the bytes and FLOPs the kernel must move and do, its roofline floor, and (on a GPU) the
// correctness check, the median time, GB/s, TFLOP/s and % of the floor.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/attention_cost.h"
#include "core/units.h"
#include "report/document.h"

namespace kvplan::report {

// What the GPU did with one row's kernel.
struct BenchMeasurement {
  bool correct = false;          // checked against the CPU reference; timed only when true
  double rel_l2_error = 0;
  double threshold = 0;
  int checked_rows = 0;          // (sequence, query head) rows compared
  int splits = 0;                // the most pieces the launcher's plan cut one sequence's context into
  std::optional<double> median_s;
  std::int64_t checked_elements = 0;          // decode, MLA decode and prefill: each against its own tolerance
  std::int64_t element_mismatches = 0;
  std::vector<std::string> first_mismatches;  // described, at most 5
};

struct KernelRow {
  std::string phase;             // "decode", "prefill" or "layer"
  DecodeAttentionShape shape;
  std::uint32_t qk_head_dim = 0; // prefill and layer: per attention head (MLA: 192 = nope + rope)
  std::uint32_t v_head_dim = 0;  // prefill and layer: 128 for MLA
  std::optional<MlaDecodePath> mla_path;     // MLA rows: which pipeline (impl kvplan_naive / kvplan_absorbed)
  AttentionCost cost;
  RooflineFloor floor;
  std::optional<BenchMeasurement> measured;  // empty in a dry run
};

// The ceilings every row is measured against, and where they come from.
struct BenchCeilings {
  std::string source;            // "measured in this run" or "h100-sxm preset (datasheet)"
  double bandwidth_bytes_per_s = 0;
  double peak_flops_per_s = 0;   // bf16 dense on the tensor cores (measured: cuBLAS GEMM)
  double fma_flops_per_s = 0;    // FP32 FMA on the CUDA cores (measured: the FMA microkernel)
  std::optional<double> empty_launch_s;       // measured runs only
  std::optional<double> datasheet_bandwidth_bytes_per_s;
  std::optional<double> datasheet_peak_flops_per_s;
  std::optional<double> datasheet_fma_flops_per_s;
  std::optional<double> datasheet_fp8_flops_per_s;

  ComputePeaks peaks() const { return {peak_flops_per_s, fma_flops_per_s}; }
};

struct BenchReport {
  std::string model;             // preset name, or "custom" for --heads/--kv-heads/--head-dim
  std::string device;            // the GPU's name, or the preset's in a dry run
  std::string driver;            // CUDA driver version; empty in a dry run
  bool dry_run = false;
  int iters = 0;
  std::uint64_t seed = 0;
  BenchCeilings ceilings;
  std::vector<KernelRow> rows;
};

Document bench_document(const BenchReport& report, UnitSystem units);

}  // namespace kvplan::report

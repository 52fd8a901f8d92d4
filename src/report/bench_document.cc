#include "report/bench_document.h"

#include <fmt/format.h>

#include "report/format.h"

namespace kvplan::report {
namespace {

Cell number(double value, const char* format) { return Cell::of(fmt::format(fmt::runtime(format), value), value); }
Cell null_cell() { return Cell::of("-", Cell::Raw{}); }
Cell micros(double seconds) { return Cell::of(fmt::format("{:.2f}", seconds * 1e6), seconds); }

std::string dtype_name(KvDtype dtype) { return dtype == KvDtype::fp8_e4m3 ? "fp8" : std::string(to_string(dtype)); }

Cell check_cell(const std::optional<BenchMeasurement>& measured) {
  if (!measured) return Cell::of("not run");
  std::string verdict = measured->correct ? "pass" : "FAIL";
  return Cell::of(fmt::format("{} ({:.1e} < {:.0e})", verdict, measured->rel_l2_error, measured->threshold),
                  verdict == "pass" ? "pass" : "fail");
}

}  // namespace

Document bench_document(const BenchReport& report, UnitSystem units) {
  const BenchCeilings& c = report.ceilings;
  Document document;
  document.command = "bench";
  document.title = report.dry_run ? "Expected cost of the decode kernels on " + report.device + " (dry run: nothing ran)"
                                  : "Decode attention kernels on " + report.device;
  document.facts = {
      {"device", "device", Cell::of(report.device)},
      {"dry_run", "dry run", Cell::of(report.dry_run ? "yes" : "no", report.dry_run)},
      {"ceilings_source", "ceilings", Cell::of(c.source)},
      {"bandwidth_bytes_per_s", "bandwidth", Cell::of(fmt::format("{:.0f} GB/s", c.bandwidth_bytes_per_s / 1e9), c.bandwidth_bytes_per_s)},
      {"peak_bf16_flops_per_s", "bf16 peak", Cell::of(fmt::format("{:.1f} TFLOP/s", c.peak_flops_per_s / 1e12), c.peak_flops_per_s)},
  };
  if (!report.driver.empty()) document.facts.push_back({"driver", "CUDA driver", Cell::of(report.driver)});
  if (c.empty_launch_s) {
    document.facts.push_back({"empty_launch_s", "empty kernel", Cell::of(fmt::format("{:.2f} us", *c.empty_launch_s * 1e6), *c.empty_launch_s)});
  }
  if (c.datasheet_bandwidth_bytes_per_s) {
    document.facts.push_back({"datasheet_bandwidth_bytes_per_s", "datasheet bandwidth",
                              Cell::of(fmt::format("{:.0f} GB/s", *c.datasheet_bandwidth_bytes_per_s / 1e9), *c.datasheet_bandwidth_bytes_per_s)});
    document.facts.push_back({"datasheet_bf16_flops_per_s", "datasheet bf16",
                              Cell::of(fmt::format("{:.1f} TFLOP/s", *c.datasheet_peak_flops_per_s / 1e12), *c.datasheet_peak_flops_per_s)});
  }
  if (c.datasheet_fp8_flops_per_s) {
    document.facts.push_back({"datasheet_fp8_flops_per_s", "datasheet fp8",
                              Cell::of(fmt::format("{:.1f} TFLOP/s", *c.datasheet_fp8_flops_per_s / 1e12), *c.datasheet_fp8_flops_per_s)});
  }
  if (!report.dry_run) {
    document.facts.push_back({"iters", "timed runs", Cell::of(std::to_string(report.iters) + " per kernel (median; L2 flushed before each)", std::uint64_t(report.iters))});
    document.facts.push_back({"seed", "seed", Cell::of(report.seed)});
  }
  document.columns = {
      {"impl", "impl", Align::left},
      {"phase", "phase", Align::left, true},
      {"model", "model", Align::left, true},
      {"variant", "variant", Align::left},
      {"batch", "batch"},
      {"ctx_tokens", "ctx"},
      {"n_q_heads", "q heads"},
      {"n_kv_heads", "kv heads"},
      {"head_dim", "head dim", Align::right, true},
      {"kv_dtype", "kv", Align::left},
      {"page_size", "page", Align::right, true},
      {"kv_bytes", "KV (planner)"},
      {"bytes", "bytes moved"},
      {"flops", "GFLOP"},
      {"floor_s", "floor us"},
      {"bound", "bound", Align::left},
      {"splits", "splits", Align::right, true},
      {"check", "check", Align::left},
      {"rel_l2_error", "rel L2 error", Align::right, true},
      {"time_median_s", "median us"},
      {"gb_per_s", "GB/s"},
      {"tflop_per_s", "TFLOP/s"},
      {"roofline_pct", "% floor"},
      {"empty_launches", "x empty launch"},
  };
  for (const KernelRow& row : report.rows) {
    const DecodeAttentionShape& s = row.shape;
    const std::optional<BenchMeasurement>& m = row.measured;
    const bool timed = m && m->median_s;
    std::string bound = row.cost.launch_bound ? "launch" : row.floor.memory_bound ? "memory" : "compute";
    const bool mla = s.variant.kind == VariantKind::mla;
    document.rows.push_back({
        Cell::of(row.mla_path ? "kvplan_" + std::string(to_string(*row.mla_path)) : std::string("kvplan")),
        Cell::of(row.phase),
        Cell::of(report.model),
        Cell::of(s.variant.name()),
        Cell::of(s.batch),
        Cell::of(s.ctx.value),
        Cell::of(std::uint64_t{s.n_q_heads}),
        Cell::of(mla ? std::uint64_t{1} : std::uint64_t{s.variant.kv_heads}),
        Cell::of(mla ? std::uint64_t{s.variant.kv_lora_rank} + s.variant.qk_rope_head_dim : std::uint64_t{s.variant.head_dim}),
        Cell::of(dtype_name(s.dtype)),
        Cell::of(std::uint64_t{s.page_size}),
        Cell::of(format_bytes(row.cost.kv, units), row.cost.kv.value),
        Cell::of(format_bytes(row.cost.total, units), row.cost.total.value),
        Cell::of(fmt::format("{:.3f}", row.cost.flops / 1e9), row.cost.flops),
        micros(row.floor.floor_s),
        Cell::of(bound),
        m ? Cell::of(std::uint64_t(m->splits)) : null_cell(),
        check_cell(m),
        m ? number(m->rel_l2_error, "{:.2e}") : null_cell(),
        timed ? micros(*m->median_s) : null_cell(),
        timed ? number(static_cast<double>(row.cost.total.value) / *m->median_s / 1e9, "{:.0f}") : null_cell(),
        timed ? number(row.cost.flops / *m->median_s / 1e12, "{:.2f}") : null_cell(),
        timed ? number(100.0 * row.floor.floor_s / *m->median_s, "{:.1f}") : null_cell(),
        timed && c.empty_launch_s ? number(*m->median_s / *c.empty_launch_s, "{:.1f}") : null_cell(),
    });
  }
  document.notes.push_back(
      "bytes moved = K/V (the planner's bytes, as 'kvplan size' prints them) + fp8 scales + q + out + block table and "
      "lengths, each once; FLOPs = 2 * batch * q_heads * ctx * (d_qk + d_v)");
  document.notes.push_back("floor = max(bytes / bandwidth, FLOPs / bf16 peak); % floor = floor / median time");
  bool any_mla = false;
  for (const KernelRow& row : report.rows) any_mla |= row.mla_path.has_value();
  if (any_mla) {
    document.notes.push_back(
        "MLA rows (kv heads 1: one latent row of d_c + d_R per token, shared by all heads): kvplan_naive gathers the "
        "latent, up-projects it to every head's K and V with cuBLAS, then runs decode attention; kvplan_absorbed folds "
        "W_UK into q and W_UV into the output (cuBLAS) and attends over the latent rows on the tensor cores. Their bytes "
        "add kv_b_proj (read once) and what each path writes and reads back between launches; their FLOPs add the "
        "projections");
  }
  bool any_launch_bound = false;
  for (const KernelRow& row : report.rows) any_launch_bound |= row.cost.launch_bound;
  if (any_launch_bound) {
    document.notes.push_back(
        "bound 'launch': the shape reads less than 256 MiB of K/V (an MLA path: moves less than 256 MiB in all), too "
        "little to hide launch latency and ramp-up; no bandwidth target applies; 'x empty launch' is its time over an "
        "empty kernel's");
  }
  if (report.dry_run) {
    document.notes.push_back("dry run: ceilings are the preset's datasheet figures; a run on the GPU measures them");
  }
  return document;
}

}  // namespace kvplan::report

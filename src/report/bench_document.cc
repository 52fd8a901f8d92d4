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

bool only_decode(const BenchReport& report) {
  for (const KernelRow& row : report.rows) {
    if (row.phase != "decode") return false;
  }
  return true;
}

// "128", or MLA's decompressed heads "192/128".
Cell head_dim_cell(const KernelRow& row) {
  if (row.qk_head_dim == 0) return Cell::of(std::uint64_t{row.shape.variant.head_dim});
  if (row.qk_head_dim == row.v_head_dim) return Cell::of(std::uint64_t{row.qk_head_dim});
  return Cell::of(fmt::format("{}/{}", row.qk_head_dim, row.v_head_dim), std::uint64_t{row.qk_head_dim});
}

}  // namespace

Document bench_document(const BenchReport& report, UnitSystem units) {
  const BenchCeilings& c = report.ceilings;
  Document document;
  document.command = "bench";
  const bool decode_only = only_decode(report);
  const std::string kernels = decode_only ? "decode" : "attention";
  document.title = report.dry_run ? "Expected cost of the " + kernels + " kernels on " + report.device + " (dry run: nothing ran)"
                                  : (decode_only ? "Decode attention kernels on " : "Attention kernels on ") + report.device;
  document.facts = {
      {"device", "device", Cell::of(report.device)},
      {"dry_run", "dry run", Cell::of(report.dry_run ? "yes" : "no", report.dry_run)},
      {"ceilings_source", "ceilings", Cell::of(c.source)},
      {"bandwidth_bytes_per_s", "bandwidth", Cell::of(fmt::format("{:.0f} GB/s", c.bandwidth_bytes_per_s / 1e9), c.bandwidth_bytes_per_s)},
      {"peak_bf16_flops_per_s", "bf16 peak (tensor cores)", Cell::of(fmt::format("{:.1f} TFLOP/s", c.peak_flops_per_s / 1e12), c.peak_flops_per_s)},
      {"peak_fp32_fma_flops_per_s", "FP32 FMA peak (CUDA cores)", Cell::of(fmt::format("{:.1f} TFLOP/s", c.fma_flops_per_s / 1e12), c.fma_flops_per_s)},
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
  if (c.datasheet_fma_flops_per_s) {
    document.facts.push_back({"datasheet_fp32_fma_flops_per_s", "datasheet FP32",
                              Cell::of(fmt::format("{:.1f} TFLOP/s", *c.datasheet_fma_flops_per_s / 1e12), *c.datasheet_fma_flops_per_s)});
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
      {"phase", "phase", Align::left, decode_only},
      {"model", "model", Align::left, true},
      {"variant", "variant", Align::left},
      {"batch", "batch"},
      {"ctx_tokens", "ctx"},
      {"n_q_heads", "q heads"},
      {"n_kv_heads", "kv heads"},
      {"head_dim", "head dim", Align::right, decode_only},
      {"kv_dtype", "kv", Align::left},
      {"page_size", "page", Align::right, true},
      {"kv_bytes", "KV (planner)"},
      {"bytes", "bytes moved"},
      {"flops", "GFLOP"},
      {"compute_units", "units", Align::left},
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
  // Prefill and layer rows are compute-bound: their compute floor (each unit at its peak) over the
  // time is the figure.
  if (!decode_only) document.columns.push_back({"peak_pct", "% peak"});
  for (const KernelRow& row : report.rows) {
    const DecodeAttentionShape& s = row.shape;
    const std::optional<BenchMeasurement>& m = row.measured;
    const bool timed = m && m->median_s;
    const bool decode = row.phase == "decode";
    const bool mla = s.variant.kind == VariantKind::mla;
    std::string bound = row.cost.launch_bound ? "launch" : row.floor.memory_bound ? "memory" : "compute";
    std::vector<Cell> cells = {
        Cell::of(row.mla_path ? "kvplan_" + std::string(to_string(*row.mla_path)) : std::string("kvplan")),
        Cell::of(row.phase),
        Cell::of(report.model),
        Cell::of(s.variant.name()),
        Cell::of(s.batch),
        Cell::of(s.ctx.value),
        Cell::of(std::uint64_t{s.n_q_heads}),
        mla ? Cell::of("latent", std::uint64_t{1}) : Cell::of(std::uint64_t{s.variant.kv_heads}),
        head_dim_cell(row),
        Cell::of(dtype_name(s.dtype)),
        Cell::of(std::uint64_t{s.page_size}),
        Cell::of(format_bytes(row.cost.kv, units), row.cost.kv.value),
        Cell::of(format_bytes(row.cost.total, units), row.cost.total.value),
        Cell::of(fmt::format("{:.3f}", row.cost.flops / 1e9), row.cost.flops),
        Cell::of(std::string(compute_units(row.cost))),
        micros(row.floor.floor_s),
        Cell::of(bound),
        m && decode ? Cell::of(std::uint64_t(m->splits)) : null_cell(),
        check_cell(m),
        m ? number(m->rel_l2_error, "{:.2e}") : null_cell(),
        timed ? micros(*m->median_s) : null_cell(),
        timed ? number(static_cast<double>(row.cost.total.value) / *m->median_s / 1e9, "{:.0f}") : null_cell(),
        timed ? number(row.cost.flops / *m->median_s / 1e12, "{:.2f}") : null_cell(),
        timed ? number(100.0 * row.floor.floor_s / *m->median_s, "{:.1f}") : null_cell(),
        timed && c.empty_launch_s ? number(*m->median_s / *c.empty_launch_s, "{:.1f}") : null_cell(),
    };
    if (!decode_only) {
      cells.push_back(timed ? number(100.0 * row.floor.compute_s / *m->median_s, "{:.1f}") : null_cell());
    }
    document.rows.push_back(std::move(cells));
  }
  bool any_decode = false;
  for (const KernelRow& row : report.rows) any_decode |= row.phase == "decode";
  if (any_decode) {
    document.notes.push_back(std::string(decode_only ? "" : "decode: ") +
                             "bytes moved = K/V (the planner's bytes, as 'kvplan size' prints them) + fp8 scales + q + out + "
                             "block table and lengths, each once; FLOPs = 2 * batch * q_heads * ctx * (d_qk + d_v)");
  }
  if (!decode_only) {
    document.notes.push_back(
        "prefill: FLOPs = 2 * batch * q_heads * ctx^2 * (d_qk + d_v) / 2 (the causal half, counted once); bytes moved = q, "
        "K, V (MLA: the decompressed K/V and the latent) read, out and the cache written; KV (planner) is the cache written");
    document.notes.push_back(
        "layer: FLOPs = 2 * tokens * projection weights + the attention's; bytes moved = hidden states in and out, bf16 "
        "weights, the cache written; RoPE and copies not counted");
    document.notes.push_back(
        "MLA prefill and layer: attention on decompressed heads (d_qk 192 = 128 nope + 64 rope, d_v 128); its cache is the 576-wide latent "
        "in blocks of 64 tokens; % peak = compute floor / median time");
  }
  document.notes.push_back(
      "floor = max(bytes / bandwidth, compute), compute = tensor-core FLOPs / bf16 peak + CUDA-core FLOPs / FP32 FMA peak "
      "(units: FMA = decode attention's FFMAs on the CUDA cores; tensor = mma.sync and cuBLAS; tensor+FMA = naive MLA's "
      "cuBLAS up-projection, then its attention on the CUDA cores); % floor = floor / median time");
  bool any_mla = false;
  for (const KernelRow& row : report.rows) any_mla |= row.mla_path.has_value();
  if (any_mla) {
    document.notes.push_back(
        "MLA decode rows (kv heads: one latent row of d_c + d_R per token, shared by all heads; head dim: d_qk/d_v as "
        "each path attends): kvplan_naive gathers the latent, up-projects it to every head's K and V with cuBLAS, then "
        "runs decode attention (192/128); kvplan_absorbed folds "
        "W_UK into q and W_UV into the output (cuBLAS) and attends over the latent rows on the tensor cores (576/512). Their bytes "
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

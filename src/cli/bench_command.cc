// `kvplan bench`: matched attention kernels per variant on one model's shape, checked against the
// CPU reference and timed on the GPU: decode (MHA, GQA, MQA, and MLA's naive and absorbed paths,
// cli/bench_mla.cc), prefill and a whole attention layer (MHA, GQA, MQA, MLA); `--dry-run --gpu G`
// prints the expected cost from the GPU preset instead, with no GPU and no CUDA needed.
#include <algorithm>
#include <climits>
#include <sstream>
#include <ostream>

#include "cli/context.h"
#include "core/attention_cost.h"
#include "core/dtype.h"
#include "core/error.h"
#include "core/variant.h"
#include "cli/bench_mla.h"
#include "cli/bench_plan.h"
#include "cli/bench_prefill.h"
#include "io/output_dir.h"
#include "kernels/gpu.h"
#include "report/bench_document.h"

namespace kvplan::cli {
namespace {

struct BenchOptions {
  std::string variant = "all";
  std::string phase = "decode";
  ModelOption model;
  std::uint32_t heads = 0, kv_heads = 0, head_dim = 0;
  std::string batch = "1";
  std::string ctx = "32k";
  std::string kv_dtype = "bf16";
  std::uint32_t page_size = 16;
  std::string lengths = "uniform";
  std::uint32_t sms = 0;
  int iters = 20;
  std::uint64_t seed = 1;
  bool dry_run = false;
  std::string gpu;
  std::string out;
  OutputOptions output;
};

constexpr int kMinIters = 20;  // medians of fewer runs move too much between runs
// Heads and head dims of a custom shape: the kernels' ints multiply them by tokens, and no model
// has more than a few hundred heads.
constexpr std::uint32_t kMaxBenchDim = 1024;
constexpr int kMaxIters = 100000;               // a median of more runs changes nothing
constexpr std::uint32_t kMaxPageSize = 1u << 16;  // pages are 16 to 128 tokens in the engines
constexpr std::uint32_t kMaxSms = 1024;           // the largest GPUs have under 200

// The model's shape, or a what-if shape from --heads/--kv-heads/--head-dim.
std::pair<std::string, ModelShape> bench_shape(Context& context, const BenchOptions& o) {
  const bool explicit_shape = o.heads || o.kv_heads || o.head_dim;
  if (explicit_shape == !o.model.name.empty()) {
    throw Error("bench: give --model M, or --heads H --kv-heads K --head-dim D (not both)");
  }
  if (!explicit_shape) {
    SelectedModel model = select_model(context, o.model);
    return {model.label.name, model.shape};
  }
  if (!o.heads || !o.head_dim) throw Error("bench: --heads and --head-dim are both required with a custom shape");
  for (auto [flag, value] : {std::pair{"--heads", o.heads}, {"--kv-heads", o.kv_heads}, {"--head-dim", o.head_dim}}) {
    if (value > kMaxBenchDim) {
      throw Error(std::string(flag) + " " + std::to_string(value) + " is more than the kernels take (at most " +
                  std::to_string(kMaxBenchDim) + ")");
    }
  }
  const std::uint32_t kv_heads = o.kv_heads ? o.kv_heads : o.heads;
  if (o.heads % kv_heads != 0) {
    std::string valid;
    for (std::uint32_t g = 1; g <= o.heads; ++g) {
      if (o.heads % g == 0) valid += (valid.empty() ? "" : ", ") + std::to_string(g);
    }
    throw Error("--kv-heads " + std::to_string(kv_heads) + " must divide --heads (" + std::to_string(o.heads) +
                "); valid: " + valid);
  }
  ModelShape shape;
  shape.model_type = "custom";
  shape.num_hidden_layers = 1;
  shape.num_attention_heads = o.heads;
  shape.num_key_value_heads = kv_heads;
  shape.head_dim = o.head_dim;
  return {"custom", shape};
}

// The decode rows' variants. Members of `all` the kernels cannot run (an MLA shape other than
// DeepSeek's, a cache one family does not read) are skipped with a note; named ones are errors.
struct BenchVariants {
  std::vector<ResolvedVariant> variants;
  std::vector<std::string> skipped;
};

BenchVariants bench_variants(const BenchOptions& o, const ModelShape& shape, const std::string& model, KvDtype dtype) {
  const bool from_all = o.variant == "all";
  BenchVariants result;
  for (ResolvedVariant& v : resolve_variants(parse_variants(o.variant), shape, &result.skipped)) {
    if (v.variant.kind == VariantKind::mla) {
      const std::string why = mla_unsupported(v.variant, shape, model, dtype);
      if (!why.empty() && !from_all) throw Error(why);
      if (!why.empty()) {
        result.skipped.push_back("variant skipped: " + why);
        continue;
      }
    }
    result.variants.push_back(std::move(v));
  }
  if (result.variants.empty()) throw Error("bench: no variant of --variant " + o.variant + " can run here: " + result.skipped.front());
  return result;
}

// The decode kernels' cache for MHA/GQA/MQA rows. In `all`, fp8_ds_mla (MLA's layout) means fp8 for
// them, as `kvplan size` compares it.
KvDtype decode_dtype(KvDtype dtype, const std::string& text, bool from_all) {
  if (dtype == KvDtype::fp8_ds_mla && from_all) return KvDtype::fp8_e4m3;
  if (dtype != KvDtype::bf16 && dtype != KvDtype::fp16 && dtype != KvDtype::fp8_e4m3) {
    throw Error("--kv-dtype " + text + ": the decode kernels read bf16, fp16 and fp8 (e4m3) caches" +
                (dtype == KvDtype::fp8_ds_mla ? "; fp8_ds_mla is MLA's layout (--variant mla or all)" : "") +
                "; the MLA kernels read bf16 and fp8_ds_mla");
  }
  return dtype;
}

kernels::KvType kernel_type(KvDtype dtype) {
  return dtype == KvDtype::fp16 ? kernels::KvType::fp16
         : dtype == KvDtype::fp8_e4m3 ? kernels::KvType::fp8_e4m3 : kernels::KvType::bf16;
}

void check_head_dim(std::uint32_t head_dim, const std::string& model) {
  for (int built : kernels::kDecodeHeadDims) {
    if (static_cast<std::uint32_t>(built) == head_dim) return;
  }
  throw Error((model == "custom" ? "--head-dim " : model + " has head_dim ") + std::to_string(head_dim) +
              ": the decode kernels are built for head dims 64, 128 and 256");
}

// "gqa:8 decode", "mla:512:64 absorbed", "mha prefill": how progress lines and errors name a row.
std::string row_name(const report::KernelRow& row) {
  return row.shape.variant.name() + " " + (row.mla_path ? std::string(to_string(*row.mla_path)) : row.phase);
}

// The most pieces the plan cut one sequence's context into: the report's splits column.
int most_splits(const kernels::DecodePlan& plan) { return kernels::schedule_balance(plan.schedule).max_pieces_per_sequence; }
int most_splits(const kernels::MlaPlan& plan) {
  int most = 0;
  for (const kernels::SplitSchedule& s : plan.schedules) most = std::max(most, kernels::schedule_balance(s).max_pieces_per_sequence);
  return most;
}

// What a bench result (kernels::DecodeBenchResult or MlaBenchResult) puts in the report.
template <typename Result>
report::BenchMeasurement measurement_of(const Result& result) {
  report::BenchMeasurement m;
  m.correct = result.correct;
  m.rel_l2_error = result.rel_l2_error;
  m.threshold = result.threshold;
  m.checked_rows = result.checked_rows;
  m.checked_elements = result.elements.elements;
  m.element_mismatches = result.elements.mismatches;
  m.first_mismatches = result.elements.first_mismatches;
  m.splits = most_splits(result.plan);
  if (result.correct) m.median_s = result.median_s;
  return m;
}

kernels::DecodeBenchResult run_decode(const kernels::GpuInfo& gpu, const DecodeAttentionShape& s, const BenchOptions& o,
                                      const kernels::Progress& progress) {
  kernels::DecodeShape shape;
  shape.batch = static_cast<int>(s.batch);
  shape.n_q_heads = static_cast<int>(s.n_q_heads);
  shape.n_kv_heads = static_cast<int>(s.variant.kv_heads);
  shape.head_dim = static_cast<int>(s.variant.head_dim);
  shape.kv_type = kernel_type(s.dtype);
  shape.page_size = static_cast<int>(s.page_size);
  shape.seq_lens = row_lengths(s);
  return kernels::bench_decode(gpu, shape, o.iters, o.seed, progress);
}

void run_bench(Context& context, const BenchOptions& o) {
  report::Format format = o.output.parsed_format();
  UnitSystem units = o.output.parsed_units();
  auto [model_name, shape] = bench_shape(context, o);
  const bool decode = o.phase == "decode" || o.phase == "all";
  const KvDtype dtype = parse_kv_dtype(o.kv_dtype);
  const auto [variants, skipped] = decode ? bench_variants(o, shape, model_name, dtype) : BenchVariants{};
  bool any_decode = false;
  for (const ResolvedVariant& v : variants) any_decode |= v.variant.kind != VariantKind::mla;
  const KvDtype decode_rows_dtype = any_decode ? decode_dtype(dtype, o.kv_dtype, o.variant == "all") : dtype;
  if (any_decode) check_head_dim(shape.head_dim, model_name);
  if (any_decode && shape.v_head_dim != 0) {
    throw Error("bench: " + model_name + " caches values narrower than keys (" + head_widths(shape.head_dim, shape.v_head_dim) +
                "); kvplan's decode kernels read K and V of one width. Use --phase prefill, or --variant mla");
  }
  const std::uint64_t batch = parse_count(o.batch, "--batch");
  const Tokens ctx = parse_tokens(o.ctx, "--ctx");
  if (batch > 65535 || ctx.value > (1u << 30)) {
    throw Error("bench: --batch is at most 65535 and --ctx at most 1G tokens (the kernels index with 32-bit ints)");
  }
  if (batch * ctx.value > INT32_MAX) {
    throw Error("bench: --batch " + std::to_string(batch) + " x --ctx " + std::to_string(ctx.value) + " = " +
                std::to_string(batch * ctx.value) + " tokens; the kernels count tokens in 32-bit ints (at most " +
                std::to_string(INT32_MAX) + ")");
  }
  if (o.iters < kMinIters) throw Error("--iters " + std::to_string(o.iters) + ": at least 20 runs make a median");
  if (o.iters > kMaxIters) throw Error("--iters " + std::to_string(o.iters) + ": at most " + std::to_string(kMaxIters));
  if (o.page_size > kMaxPageSize) {
    throw Error("--page-size " + std::to_string(o.page_size) + ": at most " + std::to_string(kMaxPageSize) + " tokens per page");
  }
  if (o.dry_run && o.gpu.empty()) throw Error("--dry-run needs --gpu G, whose preset gives the bandwidth and peak");
  const kernels::BenchLengths lengths_kind = parse_bench_lengths(o.lengths);
  if (lengths_kind == kernels::BenchLengths::ragged && o.phase != "decode") {
    throw Error("--lengths ragged: decode rows only (--phase decode); prefill and layer rows take --ctx tokens per prompt");
  }
  if (o.sms > kMaxSms) throw Error("--sms " + std::to_string(o.sms) + ": at most " + std::to_string(kMaxSms));
  if (o.sms > 0 && !o.dry_run) throw Error("--sms: a dry run's SM count; a run on a GPU plans for the device's own");
  std::vector<std::uint64_t> seq_lens;  // empty: uniform
  if (lengths_kind == kernels::BenchLengths::ragged) {
    for (std::int32_t len : kernels::bench_lengths(lengths_kind, static_cast<int>(batch), static_cast<int>(ctx.value), o.seed)) {
      seq_lens.push_back(static_cast<std::uint64_t>(len));
    }
  }
  std::vector<PrefillRowPlan> prefill_rows;
  for (const char* phase : {"prefill", "layer"}) {
    if (o.phase != phase && o.phase != "all") continue;
    for (PrefillRowPlan& row : plan_prefill_rows(phase, o.variant, model_name, shape, dtype, batch, ctx, o.page_size)) {
      prefill_rows.push_back(std::move(row));
    }
  }

  report::BenchReport report;
  report.model = model_name;
  report.dry_run = o.dry_run;
  report.iters = o.iters;
  report.seed = o.seed;
  const io::GpuPreset* preset = o.gpu.empty() ? nullptr : &context.registry().gpu(o.gpu);
  kernels::GpuInfo gpu;
  if (!o.dry_run) {
    gpu = kernels::open_gpu();
    if (!preset) {  // the datasheet column, when a preset knows this device's name
      try {
        preset = &context.registry().gpu(gpu.name);
      } catch (const Error&) {
        preset = nullptr;
      }
    }
    report.device = gpu.name;
    report.driver = gpu.driver;
    auto progress = [&](const std::string& line) { context.err << "kvplan: bench: " << line << '\n'; };
    kernels::GpuCeilings ceilings = kernels::measure_ceilings(gpu, o.iters, progress);
    report.ceilings.source = "measured in this run";
    report.ceilings.bandwidth_bytes_per_s = ceilings.copy_bytes_per_s;
    report.ceilings.peak_flops_per_s = ceilings.gemm_bf16_flops_per_s;
    report.ceilings.fma_flops_per_s = ceilings.fma_fp32_flops_per_s;
    report.ceilings.empty_launch_s = ceilings.empty_launch_s;
  }
  if (preset) {
    const GpuSpec& spec = preset->spec;
    if (o.dry_run) {
      report.device = preset->display;
      report.ceilings.source = preset->info.name + " preset (datasheet)";
      report.ceilings.bandwidth_bytes_per_s = spec.hbm_bandwidth_bytes_per_s;
      report.ceilings.peak_flops_per_s = spec.bf16_dense_flops_per_s;
      if (!spec.fp32_flops_per_s) {
        throw Error("--gpu " + o.gpu + ": the preset has no fp32_tflops, the FP32 FMA ceiling of the decode kernels; "
                    "a dry run needs it");
      }
      report.ceilings.fma_flops_per_s = *spec.fp32_flops_per_s;
    } else {
      report.ceilings.datasheet_bandwidth_bytes_per_s = spec.hbm_bandwidth_bytes_per_s;
      report.ceilings.datasheet_peak_flops_per_s = spec.bf16_dense_flops_per_s;
      report.ceilings.datasheet_fma_flops_per_s = spec.fp32_flops_per_s;
    }
    report.ceilings.datasheet_fp8_flops_per_s = spec.fp8_dense_flops_per_s;
  }

  for (const ResolvedVariant& v : variants) {
    if (v.variant.kind == VariantKind::mla) {
      for (report::KernelRow& row : mla_rows(v.variant, shape, batch, ctx, seq_lens, dtype, report.ceilings)) {
        report.rows.push_back(std::move(row));
      }
      continue;
    }
    report::KernelRow row;
    row.phase = "decode";
    row.shape = {v.variant, shape.num_attention_heads, batch, ctx, decode_rows_dtype, o.page_size};
    row.shape.seq_lens = seq_lens;
    row.cost = decode_attention_cost(row.shape);
    row.floor = roofline_floor(row.cost, report.ceilings.bandwidth_bytes_per_s, report.ceilings.peaks());
    report.rows.push_back(row);
  }
  if (!o.dry_run) {
    for (std::size_t i = 0; i < report.rows.size(); ++i) {
      report::KernelRow& row = report.rows[i];
      const std::string name = row_name(row);
      auto progress = [&](const std::string& line) {
        context.err << "kvplan: bench: [" << i + 1 << "/" << report.rows.size() << "] " << name << ": " << line << '\n';
      };
      row.measured = row.mla_path ? measurement_of(run_mla(gpu, row, o.iters, o.seed, progress))
                                  : measurement_of(run_decode(gpu, row.shape, o, progress));
    }
  }
  if (preset) check_fits(prefill_rows, preset->spec.memory_total.value, preset->info.name);
  if (!o.dry_run) check_fits(prefill_rows, gpu.memory_bytes, gpu.name);
  for (std::size_t i = 0; i < prefill_rows.size(); ++i) {
    report::KernelRow row = prefill_rows[i].row;
    row.floor = roofline_floor(row.cost, report.ceilings.bandwidth_bytes_per_s, report.ceilings.peaks());
    if (!o.dry_run) {
      const std::string name = row.phase + " " + row.shape.variant.name();
      auto progress = [&](const std::string& line) {
        context.err << "kvplan: bench: [" << i + 1 << "/" << prefill_rows.size() << "] " << name << ": " << line << '\n';
      };
      row.measured = measure_prefill_row(gpu, prefill_rows[i], o.iters, o.seed, progress);
    }
    report.rows.push_back(row);
  }

  report::Document document = report::bench_document(report, units);
  document.notes.insert(document.notes.end(), skipped.begin(), skipped.end());
  if (!seq_lens.empty()) document.notes.push_back(lengths_note(seq_lens, o.seed));
  const int plan_sms = o.dry_run ? static_cast<int>(o.sms) : gpu.sms;
  if (plan_sms > 0) {
    for (std::string& note : plan_notes(report.rows, plan_sms)) document.notes.push_back(std::move(note));
  }
  report::write_document(document, format, context.out);
  if (!o.out.empty()) {
    std::ostringstream json;
    report::write_document(document, report::Format::json, json);
    io::write_file(o.out, json.str(), "--out");
  }
  for (const report::KernelRow& row : report.rows) {
    if (row.measured && !row.measured->correct) {
      const report::BenchMeasurement& m = *row.measured;
      std::string elements;
      if (m.element_mismatches > 0) {
        elements = "; " + std::to_string(m.element_mismatches) + " of " + std::to_string(m.checked_elements) +
                   " elements outside their tolerance, first: " + m.first_mismatches.front();
      }
      throw Error("the " + row_name(row) + " kernel failed its check against the CPU reference "
                  "(relative L2 error " + std::to_string(m.rel_l2_error) + elements + "), so it was not timed",
                  ExitCode::internal);
    }
  }
}

}  // namespace

void add_bench_command(CLI::App& app, Context& context, std::vector<Command>& commands) {
  auto options = std::make_shared<BenchOptions>();
  CLI::App* command = app.add_subcommand(
      "bench", "Run matched attention kernels for each variant on a GPU: check, time, compare with the roofline");
  command->footer(
      "\nPhases: decode (one new token per sequence against its cached K/V; MHA, GQA, MQA, and MLA's two\n"
      "paths side by side: naive, which up-projects the latent to per-head K/V with cuBLAS, then\n"
      "attends, and absorbed, which folds W_UK and W_UV into q and the output and attends over the\n"
      "latent on the tensor cores, on a bf16 or fp8_ds_mla cache in FlashMLA's pages of 64), prefill\n"
      "(causal attention over each prompt of --ctx tokens, writing its KV cache; MHA, GQA, MQA and\n"
      "MLA on decompressed heads, d_qk 192 / d_v 128), layer (the whole attention layer: projections\n"
      "with cuBLAS, RoPE, attention, cache write, output projection), or all.\n"
      "Without a GPU, or in a build without CUDA, it exits 3; --dry-run --gpu G prints the expected\n"
      "bytes, FLOPs and roofline time from the GPU preset instead.\n"
      "\nExamples:\n"
      "  kvplan bench --model llama-3-8b --batch 1 --ctx 128k\n"
      "  kvplan bench --heads 32 --kv-heads 8 --head-dim 128 --batch 64 --ctx 4k --kv-dtype fp8\n"
      "  kvplan bench --model llama-3-70b --ctx 32k --dry-run --gpu h100-sxm\n"
      "  kvplan bench --model deepseek-v3 --variant mla --batch 64 --ctx 32k --lengths ragged --dry-run --gpu h200 --sms 132\n"
      "  kvplan bench --phase prefill --variant all --model deepseek-v2-lite --ctx 16k\n"
      "  kvplan bench --model deepseek-v3 --variant mla --batch 32 --ctx 32k --kv-dtype fp8_ds_mla");
  command->add_option("--variant", options->variant,
                      "mha, gqa[:G], mqa, mla[:512:64], native, all (= mha, gqa, mqa, mla), or a list")
      ->capture_default_str();
  command->add_option("--phase", options->phase, "Which kernels: decode, prefill, layer or all")
      ->check(CLI::IsMember({"decode", "prefill", "layer", "all"}))
      ->capture_default_str();
  add_model_option(*command, options->model);
  command->add_option("--heads", options->heads, "Query heads of a custom shape (instead of --model)");
  command->add_option("--kv-heads", options->kv_heads, "KV heads of a custom shape (default: --heads)");
  command->add_option("--head-dim", options->head_dim, "Head dim of a custom shape: 64, 128 or 256 (MLA: qk_nope = v head dim, 128)");
  command->add_option("--batch", options->batch, "Sequences, one new token each")->capture_default_str();
  command->add_option("--ctx", options->ctx, "Cached tokens per sequence (prefill, layer: prompt tokens): 4096, 32k")->capture_default_str();
  command->add_option("--kv-dtype", options->kv_dtype, "Cache dtype: bf16, fp16 or fp8 (e4m3, per-tensor scales); MLA decode: bf16 or fp8_ds_mla")
      ->capture_default_str();
  command->add_option("--page-size", options->page_size, "Tokens per page of the block table (vLLM: 16); 0 = contiguous; MLA rows use FlashMLA's 64")
      ->capture_default_str();
  command->add_option("--lengths", options->lengths,
                      "Decode sequence lengths: uniform (all --ctx) or ragged (each 1 + mix64(seed, b) mod --ctx, "
                      "uniform on [1, --ctx])")
      ->capture_default_str();
  command->add_option("--sms", options->sms,
                      "Dry run: the GPU's SM count, to print each decode row's split plan and its balance");
  command->add_option("--iters", options->iters, "Timed runs per kernel (median; at least 20)")->capture_default_str();
  command->add_option("--seed", options->seed, "Seed of the random inputs")->capture_default_str();
  command->add_flag("--dry-run", options->dry_run, "Print the expected cost from --gpu's preset; run nothing");
  command->add_option("--gpu", options->gpu, "GPU preset: the ceilings of a dry run, the datasheet column of a real one");
  command->add_option("--out", options->out, "Also write the results as JSON to this file");
  add_output_options(*command, options->output);
  commands.push_back({command, [&context, options] { run_bench(context, *options); }});
}

}  // namespace kvplan::cli

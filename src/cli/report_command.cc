// `kvplan report`: a capacity report folder (Markdown + SVG charts + CSV + JSON) for people and
// CI jobs, or one of its files on stdout.
#include <deque>
#include <ostream>

#include "cli/checkpoint_model.h"
#include "cli/context.h"
#include "core/checked.h"
#include "core/error.h"
#include "core/links.h"
#include "io/bench_results.h"
#include "io/output_dir.h"
#include "report/capacity_report.h"

namespace kvplan::cli {
namespace {

constexpr std::uint64_t kMaxReportCombinations = 20000;

struct ReportOptions {
  std::string models = "llama-3-70b,qwen3-32b,gemma-2-27b,deepseek-v3";
  std::string gpus = "h100-sxm:8,h200:8";
  std::string ctx = "4k,32k,128k";
  std::string kv_dtypes = "bf16,fp8";
  std::string variants = "all";
  std::string engine = "vllm";
  std::string bench;
  std::string out;
  std::string format = "md";
  std::string units = "iec";
  std::string disagg_prefill;  // GPU:N[:tpT]; with disagg_decode, adds the P:D section
  std::string disagg_decode;
  std::string disagg_osl;
  std::string disagg_link;
};

constexpr const char* kDefaultDisaggOsl = "1k";
constexpr const char* kDefaultDisaggLink = "ib-400g";

std::string regenerate_command(const ReportOptions& options) {
  std::string command = "kvplan report --models " + options.models + " --gpus " + options.gpus + " --ctx " + options.ctx +
                        " --kv-dtypes " + options.kv_dtypes + " --variants " + options.variants;
  if (options.engine != "vllm") command += " --engine " + options.engine;
  if (!options.bench.empty()) command += " --bench " + std::filesystem::path(options.bench).filename().string();
  if (!options.disagg_prefill.empty()) {
    command += " --disagg-prefill " + options.disagg_prefill + " --disagg-decode " + options.disagg_decode;
    if (!options.disagg_osl.empty()) command += " --disagg-osl " + options.disagg_osl;
    if (!options.disagg_link.empty()) command += " --disagg-link " + options.disagg_link;
  }
  return command;
}

// --disagg-prefill and --disagg-decode come together; --disagg-osl and --disagg-link only with them.
std::optional<report::ReportDisagg> parse_disagg(const ReportOptions& options, Engine engine, Context& context) {
  if (options.disagg_prefill.empty() != options.disagg_decode.empty()) {
    throw Error(std::string(options.disagg_prefill.empty() ? "--disagg-decode" : "--disagg-prefill") +
                ": the P:D section needs both pools, --disagg-prefill GPU:N[:tpT] and --disagg-decode GPU:N[:tpT]");
  }
  if (options.disagg_prefill.empty()) {
    if (!options.disagg_osl.empty() || !options.disagg_link.empty()) {
      throw Error(std::string(options.disagg_osl.empty() ? "--disagg-link" : "--disagg-osl") +
                  " is for the P:D section: give --disagg-prefill and --disagg-decode with it");
    }
    return std::nullopt;
  }
  if (engine != Engine::vllm) {
    throw Error("--disagg-prefill: the P:D section follows vLLM's rules and NIXL connector; use it with --engine vllm");
  }
  report::ReportDisagg disagg;
  disagg.prefill = parse_fleet(options.disagg_prefill, context, "--disagg-prefill");
  disagg.decode = parse_fleet(options.disagg_decode, context, "--disagg-decode");
  disagg.osl = parse_tokens(options.disagg_osl.empty() ? kDefaultDisaggOsl : options.disagg_osl, "--disagg-osl").value;
  disagg.link = parse_link(options.disagg_link.empty() ? kDefaultDisaggLink : options.disagg_link, LinkUse::network,
                           "--disagg-link");
  return disagg;
}

void run_report(Context& context, const ReportOptions& options) {
  report::ReportRequest request;
  request.command_line = regenerate_command(options);
  request.units = parse_unit_system(options.units);
  const EngineRelease release = parse_engine_release(options.engine);
  request.engine.engine = release.engine;
  request.engine.engine_version = release.version;
  request.variants = parse_variants(options.variants);
  for (const std::string& dtype : split_list(options.kv_dtypes, "--kv-dtypes")) request.kv_dtypes.push_back(parse_kv_dtype(dtype));
  for (const std::string& ctx : split_list(options.ctx, "--ctx")) request.contexts.push_back(parse_tokens(ctx, "--ctx"));
  for (const std::string& fleet : split_list(options.gpus, "--gpus")) request.fleets.push_back(parse_fleet(fleet, context));
  request.disagg = parse_disagg(options, release.engine, context);
  std::deque<SelectedModel> checkpoints;  // the models read from checkpoints, which the rows point into
  for (const std::string& name : split_list(options.models, "--models")) {
    if (std::optional<SelectedModel> model = checkpoint_model(context, ModelOption{name, "", ""})) {
      const SelectedModel& kept = checkpoints.emplace_back(std::move(*model));
      request.models.push_back({kept.label, &kept.shape});
      continue;
    }
    const io::ModelPreset& preset = context.registry().model(name);
    request.models.push_back({{preset.info.name, preset.hf_id, preset.info.source}, &preset.shape});
  }
  // A report holds its rows in memory and draws them; larger maps are what `kvplan sweep` streams.
  const std::string what = "the number of report combinations";
  const std::uint64_t combinations =
      checked_mul(checked_mul(checked_mul(request.models.size(), request.variants.size(), what), request.kv_dtypes.size(), what),
                  checked_mul(request.contexts.size(), request.fleets.size(), what), what);
  if (combinations > kMaxReportCombinations) {
    throw Error("report: " + std::to_string(combinations) + " combinations of --models, --variants, --kv-dtypes, --ctx and "
                "--gpus are more than a report shows (" + std::to_string(kMaxReportCombinations) +
                "); narrow the lists, or use 'kvplan sweep', which streams its rows");
  }
  if (!options.bench.empty()) request.bench = io::read_bench_results(options.bench);
  const std::string wanted = options.format == "md" || options.format == "markdown" ? "report.md"
                             : options.format == "csv"                            ? "report.csv"
                             : options.format == "json"                           ? "report.json"
                                                                                  : "";
  if (wanted.empty()) throw Error("--format: report writes md, csv or json (got '" + options.format + "')");

  report::ReportFiles files = report::build_report(request);
  if (options.out.empty()) {
    for (const auto& [name, contents] : files.files) {
      if (name == wanted) context.out << contents;
    }
    return;
  }
  io::write_folder_atomically(options.out, files.files);
  context.out << "wrote " << files.files.size() << " files to " << options.out << " (report.md first)\n";
}

}  // namespace

void add_report_command(CLI::App& app, Context& context, std::vector<Command>& commands) {
  auto options = std::make_shared<ReportOptions>();
  CLI::App* command = app.add_subcommand(
      "report", "A capacity report: Markdown with SVG charts, plus CSV and JSON, for people and CI jobs");
  command->footer(
      "\nWith --out DIR, writes DIR/report.md (summary first), report.csv, report.json, cache_<model>.svg,\n"
      "concurrency_<model>.svg, with --bench bench.svg, and with --disagg-prefill/--disagg-decode a section on\n"
      "disaggregated prefill/decode (what 'kvplan disagg' prints at ISLs 1k-128k) and disagg_pd_ratio.svg.\n"
      "The folder is replaced all-or-nothing and the output is deterministic, so a CI job can diff it.\n"
      "Without --out, prints report.md (or --format csv|json).\n"
      "\nExamples:\n"
      "  kvplan report --out reports/capacity\n"
      "  kvplan report --models llama-3-70b --gpus h100-sxm:8 --format md >> \"$GITHUB_STEP_SUMMARY\"\n"
      "  kvplan report --bench results.json --out reports/measured\n"
      "  kvplan report --models deepseek-v3,llama-3.1-70b --gpus h200:8 --disagg-prefill h200:8 "
      "--disagg-decode h200:8:tp8 --out reports/pd");
  command->add_option("--models", options->models, "Comma-separated model presets")->capture_default_str();
  command->add_option("--gpus", options->gpus, "Comma-separated fleets GPU[:N[:tpT][:ppP][:dpD][:dcpC][:epE]]")->capture_default_str();
  command->add_option("--ctx", options->ctx, "Comma-separated contexts")->capture_default_str();
  command->add_option("--kv-dtypes", options->kv_dtypes, "Comma-separated cache dtypes")->capture_default_str();
  command->add_option("--variants", options->variants, "Comma-separated variants, or all")->capture_default_str();
  command->add_option("--engine", options->engine, "Accounting rules: vllm, sglang or trtllm")->capture_default_str();
  command->add_option("--bench", options->bench, "Results of 'kvplan bench --out' (or compare_torch.py) to chart");
  command->add_option("--out", options->out, "Folder to write the report into");
  command->add_option("--format", options->format, "Without --out: which file to print, md, csv or json")
      ->capture_default_str();
  command->add_option("--units", options->units, "iec (GiB) or si (GB)")->capture_default_str();
  command->add_option("--disagg-prefill", options->disagg_prefill,
                      "Prefill pool GPU:N[:tpT] of a disaggregated deployment: adds the P:D section (with --disagg-decode)");
  command->add_option("--disagg-decode", options->disagg_decode, "Decode pool GPU:N[:tpT] of the P:D section");
  command->add_option("--disagg-osl", options->disagg_osl, "Output tokens per request in the P:D section (default 1k)");
  command->add_option("--disagg-link", options->disagg_link,
                      "KV link of the P:D section: nvlink, ib-400g, roce-200g or <N>GBps (default ib-400g)");
  commands.push_back({command, [&context, options] { run_report(context, *options); }});
}

}  // namespace kvplan::cli

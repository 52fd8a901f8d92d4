// `kvplan sweep`: one row per combination of models, variants, cache dtypes, contexts and fleets.
#include <deque>
#include <ostream>
#include <sstream>

#include "cli/checkpoint_model.h"
#include "cli/context.h"
#include "core/error.h"
#include "core/sweep.h"
#include "report/sweep_document.h"

namespace kvplan::cli {
namespace {

struct SweepOptions {
  std::string models = "all";
  std::string ctx = "4k,32k,128k";
  std::string variants = "native";
  std::string kv_dtypes = "bf16";
  std::string gpus = "h100-sxm:8";
  std::string engine = "vllm";
  std::string weights_dtype = "auto";
  std::string max_rows = "100000";
  OutputOptions output;
};

void run_sweep_command(Context& context, const SweepOptions& options) {
  report::Format format = options.output.parsed_format();
  UnitSystem units = options.output.parsed_units();
  SweepRequest request;
  std::deque<SelectedModel> selected;  // checkpoints the rows point into (presets live in the registry)
  const EngineRelease release = parse_engine_release(options.engine);
  request.engine.engine = release.engine;
  request.engine.engine_version = release.version;
  request.weights_dtype = options.weights_dtype;
  request.variants = parse_variants(options.variants);
  for (const std::string& dtype : split_list(options.kv_dtypes, "--kv-dtypes")) request.kv_dtypes.push_back(parse_kv_dtype(dtype));
  for (const std::string& ctx : split_list(options.ctx, "--ctx")) request.contexts.push_back(parse_tokens(ctx, "--ctx"));
  for (const std::string& fleet : split_list(options.gpus, "--gpus")) request.fleets.push_back(parse_fleet(fleet, context));
  if (options.models == "all") {
    for (const io::ModelPreset* preset : context.registry().models()) {
      request.models.push_back({preset->info.name, &preset->shape});
    }
  } else {
    for (const std::string& name : split_list(options.models, "--models")) {
      if (std::optional<SelectedModel> model = checkpoint_model(context, ModelOption{name, "", ""})) {
        SelectedModel& kept = selected.emplace_back(std::move(*model));
        drop_checkpoint_unless_auto(kept.shape, options.weights_dtype);
        request.models.push_back({kept.label.name, &kept.shape});
        continue;
      }
      const io::ModelPreset& preset = context.registry().model(name);
      request.models.push_back({preset.info.name, &preset.shape});
    }
  }
  // Every input is checked before the first row is written: from here on only stdout can fail.
  const std::uint64_t max_rows = parse_count(options.max_rows, "--max-rows");
  const std::uint64_t rows = sweep_row_count(request);
  if (rows > max_rows) {
    throw Error("sweep: " + std::to_string(rows) + " combinations are more than --max-rows " + std::to_string(max_rows) +
                "; narrow --models, --variants, --kv-dtypes, --ctx or --gpus, or raise --max-rows");
  }
  const report::Document head = report::sweep_head(rows, EngineRelease{request.engine.engine, request.engine.engine_version});
  std::ostream& out = context.stream_out();
  // Rows gather in a chunk of about 64 KiB before they go out: one write per chunk, not per cell.
  std::ostringstream chunk;
  auto flush = [&] {
    out << chunk.str();
    chunk.str("");
    if (!out) throw Error("cannot write standard output (a full disk, or a closed pipe?); the sweep stopped");
  };
  std::unique_ptr<report::RowWriter> writer = report::row_writer(head, format, chunk);
  for_each_sweep_row(request, [&](const SweepRow& row) {
    writer->row(report::sweep_cells(row, units, writer->reads_text()));
    if (chunk.tellp() > (1 << 16)) flush();
  });
  writer->finish();
  flush();
}

}  // namespace

void add_sweep_command(CLI::App& app, Context& context, std::vector<Command>& commands) {
  auto options = std::make_shared<SweepOptions>();
  CLI::App* command = app.add_subcommand("sweep", "One row per combination of models, variants, dtypes, contexts and fleets");
  command->footer(
      "\nFleets are GPU[:N[:tpT][:ppP][:dpD][:dcpC][:epE]]: h100-sxm:8 is 8 GPUs as one TP-8 replica,\n"
      "h100-sxm:8:tp4 two TP-4 data-parallel ranks, h200:8:tp8:dcp8 one TP-8 replica with decode context parallel 8\n"
      "(vLLM's or SGLang's; no extra GPU), h200:8:dp8:ep8 eight TP-1 ranks with vLLM's expert parallel 8. Under vLLM the DP\n"
      "ranks of a MoE model are one deployment: its routed experts are split over TP x DP ranks (ep only says\n"
      "whole experts, the same bytes); each rank caches its own requests.\n"
      "Combinations that do not fit are rows with the reason.\n"
      "\nExamples:\n"
      "  kvplan sweep --models llama-3-70b,deepseek-v3 --ctx 4k,32k,128k --variants all --kv-dtypes bf16,fp8 "
      "--gpus h100-sxm:8,h200:8\n"
      "  kvplan sweep --format csv > capacity.csv");
  command->add_option("--models", options->models, "Comma-separated presets, or all")->capture_default_str();
  command->add_option("--ctx", options->ctx, "Comma-separated contexts (tokens per request)")->capture_default_str();
  command->add_option("--variants", options->variants, "Comma-separated variants, or all")->capture_default_str();
  command->add_option("--kv-dtypes", options->kv_dtypes, "Comma-separated cache dtypes")->capture_default_str();
  command->add_option("--gpus", options->gpus, "Comma-separated fleets GPU[:N[:tpT][:ppP][:dpD][:dcpC][:epE]]")->capture_default_str();
  command->add_option("--engine", options->engine, "Accounting rules: vllm, sglang or trtllm")->capture_default_str();
  command->add_option("--weights-dtype", options->weights_dtype, "As for 'kvplan fit'")->capture_default_str();
  command->add_option("--max-rows", options->max_rows,
                      "Refuse sweeps of more combinations than this (rows are streamed; raise it for larger ones)")
      ->capture_default_str();
  add_output_options(*command, options->output);
  commands.push_back({command, [&context, options] { run_sweep_command(context, *options); }});
}

}  // namespace kvplan::cli

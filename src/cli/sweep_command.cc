// `kvplan sweep`: one row per combination of models, variants, cache dtypes, contexts and fleets.
#include <ostream>

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
  OutputOptions output;
};

std::vector<std::string> split_list(const std::string& text, std::string_view flag) {
  std::vector<std::string> items;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    std::string item = text.substr(start, end - start);
    if (item.empty()) throw Error(std::string(flag) + ": empty item in '" + text + "'");
    items.push_back(item);
    start = end + 1;
  }
  return items;
}

// "h100-sxm" (1 GPU), "h100-sxm:8" (8 GPUs, TP 8), "h100-sxm:8:tp4" (TP 4 x DP 2),
// "h100-sxm:16:tp8:pp2".
SweepFleet parse_fleet(const std::string& text, Context& context) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    std::size_t end = text.find(':', start);
    parts.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  SweepFleet fleet;
  fleet.label = text;
  const io::GpuPreset& gpu = context.registry().gpu(parts[0]);
  fleet.gpu_name = gpu.info.name;
  fleet.gpu = &gpu.spec;
  std::uint64_t gpus = parts.size() > 1 ? parse_count(parts[1], "--gpus " + text) : 1;
  std::uint64_t tp = 0, pp = 1;
  for (std::size_t i = 2; i < parts.size(); ++i) {
    if (parts[i].rfind("tp", 0) == 0) tp = parse_count(parts[i].substr(2), "--gpus " + text + " tp");
    else if (parts[i].rfind("pp", 0) == 0) pp = parse_count(parts[i].substr(2), "--gpus " + text + " pp");
    else throw Error("--gpus: '" + text + "': expected GPU[:N[:tpT][:ppP]], e.g. h100-sxm:8 or h100-sxm:16:tp8:pp2");
  }
  if (tp == 0) tp = gpus / pp;
  if (tp == 0 || gpus > 4096 || gpus % (tp * pp) != 0) {
    throw Error("--gpus: '" + text + "': " + std::to_string(gpus) + " GPUs are not a multiple of TP x PP");
  }
  fleet.parallel = Parallelism{static_cast<std::uint32_t>(tp), static_cast<std::uint32_t>(pp),
                               static_cast<std::uint32_t>(gpus / (tp * pp))};
  return fleet;
}

void run_sweep_command(Context& context, const SweepOptions& options) {
  report::Format format = options.output.parsed_format();
  UnitSystem units = options.output.parsed_units();
  SweepRequest request;
  request.engine.engine = parse_engine(options.engine);
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
      const io::ModelPreset& preset = context.registry().model(name);
      request.models.push_back({preset.info.name, &preset.shape});
    }
  }
  report::write_document(report::sweep_document(run_sweep(request), request.engine.engine, units), format, context.out);
}

}  // namespace

void add_sweep_command(CLI::App& app, Context& context, std::vector<Command>& commands) {
  auto options = std::make_shared<SweepOptions>();
  CLI::App* command = app.add_subcommand("sweep", "One row per combination of models, variants, dtypes, contexts and fleets");
  command->footer(
      "\nFleets are GPU[:N[:tpT][:ppP]]: h100-sxm:8 is 8 GPUs as one TP-8 replica, h100-sxm:8:tp4 two TP-4\n"
      "replicas. Combinations that do not fit are rows with the reason.\n"
      "\nExamples:\n"
      "  kvplan sweep --models llama-3-70b,deepseek-v3 --ctx 4k,32k,128k --variants all --kv-dtypes bf16,fp8 "
      "--gpus h100-sxm:8,h200:8\n"
      "  kvplan sweep --format csv > capacity.csv");
  command->add_option("--models", options->models, "Comma-separated presets, or all")->capture_default_str();
  command->add_option("--ctx", options->ctx, "Comma-separated contexts (tokens per request)")->capture_default_str();
  command->add_option("--variants", options->variants, "Comma-separated variants, or all")->capture_default_str();
  command->add_option("--kv-dtypes", options->kv_dtypes, "Comma-separated cache dtypes")->capture_default_str();
  command->add_option("--gpus", options->gpus, "Comma-separated fleets GPU[:N[:tpT][:ppP]]")->capture_default_str();
  command->add_option("--engine", options->engine, "Accounting rules: vllm, sglang or trtllm")->capture_default_str();
  command->add_option("--weights-dtype", options->weights_dtype, "As for 'kvplan fit'")->capture_default_str();
  add_output_options(*command, options->output);
  commands.push_back({command, [&context, options] { run_sweep_command(context, *options); }});
}

}  // namespace kvplan::cli

#include "cli/context.h"

#include "cli/checkpoint_model.h"

#include <algorithm>
#include <filesystem>
#include <ostream>

#include "core/error.h"
#include "core/hf_config.h"
#include "core/params.h"
#include "io/json_reader.h"
#include "report/format.h"

namespace kvplan::cli {

const io::PresetRegistry& Context::registry() {
  if (embedded_ != nullptr && presets_dir.empty()) return *embedded_;
  if (!registry_) {
    registry_ = std::make_unique<io::PresetRegistry>();
    if (!presets_dir.empty()) registry_->add_directory(presets_dir);
  }
  return *registry_;
}

std::ostream& Context::stream_out() {
  stdout_ << buffer_.str();
  buffer_.str("");
  return stdout_;
}

void Context::finish() {
  stdout_ << buffer_.str() << std::flush;
  buffer_.str("");
  if (!stdout_) throw Error("cannot write standard output (a full disk, or a closed pipe?); the results are incomplete");
}

std::string printable_line(std::string_view text) {
  std::string line = report::escape_controls(text);
  std::replace(line.begin(), line.end(), '\n', ' ');
  while (!line.empty() && line.back() == ' ') line.pop_back();
  return line;
}

void add_mamba_ssm_cache_dtype_option(CLI::App& command, std::string& dtype) {
  command.add_option("--mamba-ssm-cache-dtype", dtype,
                     "State layers: dtype of the recurrent state, float32, bfloat16 or float16 (vLLM's option, and "
                     "SGLang's --mamba-ssm-dtype; default: vLLM the config's mamba_ssm_cache_dtype, float32 for "
                     "Nemotron-H, else the model's dtype; SGLang the config's mamba_ssm_dtype, else float32)");
}

void add_output_options(CLI::App& command, OutputOptions& options) {
  command.add_option("--format", options.format, "Output format: table, csv, md or json")
      ->capture_default_str();
  command.add_option("--units", options.units,
                     "Size units in table and md output: iec (GiB = 2^30 B) or si (GB = 10^9 B); "
                     "csv and json always carry exact bytes")
      ->capture_default_str();
}

void add_model_option(CLI::App& command, ModelOption& option) {
  command.add_option("-m,--model", option.name,
                     "Model preset ('kvplan models' lists them), a Hugging Face id (org/name: read from the local "
                     "Hugging Face cache, else config.json and the safetensors headers from the hub) or a checkpoint "
                     "folder; a checkpoint's weights are its tensors' bytes");
  command.add_option("--revision", option.revision,
                     "Branch, tag or commit of a Hugging Face --model (default: main)");
  command.add_option("--config", option.config,
                     "A Hugging Face config.json to use instead of a preset (parameter count estimated "
                     "from its shapes)");
}

namespace {

SelectedModel import_config(const std::string& path) {
  ModelShape shape = shape_from_hf_config(io::read_json(io::read_text_file(path, "--config"), path));
  // Only `fit` needs the parameters: without an estimate the cache is still sized, and fit says
  // what is missing.
  if (std::optional<std::string> gap = params_estimate_gap(shape)) {
    shape.assumptions.push_back(*gap + "; the weights are not sized");
  } else {
    ParamEstimate params = estimate_params(shape, shape.tie_word_embeddings);
    shape.params_total = params.total;
    shape.params_active = params.active;
    shape.assumptions.push_back("parameter count estimated from config.json shapes: " + std::to_string(params.total) +
                                " total, " + std::to_string(params.active) + " active per token");
  }
  // Name the model after its folder, as Hugging Face checkouts are laid out (org/model/config.json).
  std::filesystem::path file(path);
  std::string name = file.parent_path().filename().string();
  if (name.empty() || name == ".") name = file.stem().string();
  return {{name, "", path}, std::move(shape)};
}

}  // namespace

SelectedModel select_model(Context& context, const ModelOption& option) {
  if (!option.name.empty() && !option.config.empty()) {
    throw Error("give either --model NAME or --config path/to/config.json, not both");
  }
  if (!option.config.empty()) {
    if (!option.revision.empty()) throw Error("--revision applies to a Hugging Face --model, not to --config");
    return import_config(option.config);
  }
  if (option.name.empty()) {
    throw Error("--model is required: name a preset such as llama-3-8b ('kvplan models' lists them), or "
                "give --config path/to/config.json");
  }
  if (std::optional<SelectedModel> model = checkpoint_model(context, option)) return std::move(*model);
  const io::ModelPreset& preset = context.registry().model(option.name);
  for (const std::string& warning : preset.info.warnings) context.err << "kvplan: warning: " << printable_line(warning) << '\n';
  return {{preset.info.name, preset.hf_id, preset.info.source}, preset.shape};
}

}  // namespace kvplan::cli

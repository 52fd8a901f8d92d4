#include "cli/context.h"

#include <ostream>

#include "core/error.h"

namespace kvplan::cli {

const io::PresetRegistry& Context::registry() {
  if (!registry_) {
    registry_ = std::make_unique<io::PresetRegistry>();
    if (!presets_dir.empty()) registry_->add_directory(presets_dir);
  }
  return *registry_;
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
                     "Model preset ('kvplan models' lists them) or its Hugging Face id");
}

SelectedModel select_model(Context& context, const ModelOption& option) {
  if (option.name.empty()) {
    throw Error("--model is required: name a preset such as llama-3-8b ('kvplan models' lists them)");
  }
  const io::ModelPreset& preset = context.registry().model(option.name);
  for (const std::string& warning : preset.info.warnings) context.err << "kvplan: warning: " << warning << '\n';
  return {{preset.info.name, preset.hf_id, preset.info.source}, preset.shape};
}

}  // namespace kvplan::cli

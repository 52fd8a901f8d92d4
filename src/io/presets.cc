#include "io/presets.h"

#include <algorithm>
#include <cctype>

#include "core/config_fields.h"
#include "core/error.h"
#include "core/hf_config.h"

namespace kvplan::io {
namespace {

void warn_unknown_keys(const ConfigNode& map, std::initializer_list<std::string_view> known,
                       PresetInfo& info) {
  for (const ConfigEntry& entry : *map.as_map()) {
    if (std::find(known.begin(), known.end(), entry.key) == known.end()) {
      info.warnings.push_back(entry.node.where + ": unknown field '" + entry.key + "' ignored");
    }
  }
}

std::vector<std::string> string_list(const ConfigFields& fields, std::string_view key) {
  std::vector<std::string> items;
  const ConfigNode* node = fields.get(key);
  if (node == nullptr) return items;
  const ConfigNode::List* list = node->as_list();
  if (list == nullptr) fields.fail(node, std::string(key) + " must be a list of strings");
  for (const ConfigNode& item : *list) {
    const std::string* text = item.as_string();
    if (text == nullptr || text->empty()) {
      fields.fail(&item, std::string(key) + " must hold non-empty strings; got " + item.describe());
    }
    items.push_back(*text);
  }
  return items;
}

PresetInfo read_info(const ConfigFields& fields) {
  PresetInfo info;
  info.name = fields.required_string("name");
  bool valid = std::all_of(info.name.begin(), info.name.end(), [](char c) {
    return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) ||
           c == '-' || c == '.' || c == '_';
  });
  if (!valid) {
    fields.fail(fields.get("name"), "name '" + info.name +
                                        "' must be lower-case letters, digits, '-', '.' or '_' "
                                        "(as users type it)");
  }
  info.source = fields.required_string("source");
  info.aliases = string_list(fields, "aliases");
  info.notes = fields.optional_string("notes").value_or("");
  return info;
}

}  // namespace

PresetKind preset_kind(const ConfigNode& root) {
  ConfigFields fields(root, "preset");
  bool is_model = root.find("config") != nullptr;
  bool is_gpu = root.find("memory") != nullptr;
  if (is_model == is_gpu) {
    fields.fail(nullptr, "a preset has either `config:` (a model) or `memory:` (a GPU); see "
                         "presets/README.md");
  }
  return is_model ? PresetKind::model : PresetKind::gpu;
}

ModelPreset parse_model_preset(const ConfigNode& root, const std::string& file) {
  ConfigFields fields(root, "model preset");
  ModelPreset preset;
  preset.info = read_info(fields);
  preset.info.file = file;
  preset.hf_id = fields.optional_string("hf_id").value_or("");
  preset.verified_from = fields.optional_string("verified_from").value_or("");
  warn_unknown_keys(root, {"name", "hf_id", "aliases", "source", "verified_from", "params", "config", "notes"},
                    preset.info);
  const ConfigNode* config = fields.get("config");
  if (config == nullptr) fields.fail(nullptr, "model preset needs `config:` (config.json fields)");
  preset.shape = shape_from_hf_config(*config);
  if (const ConfigNode* params = fields.get("params")) {
    ConfigFields param_fields(*params, "params");
    preset.shape.params_total = param_fields.optional_bounded("total", kMaxParams, true);
    preset.shape.params_active = param_fields.optional_bounded("active", kMaxParams, true);
    preset.params_source = param_fields.optional_string("source").value_or("");
    if (preset.shape.params_total && preset.shape.params_active &&
        *preset.shape.params_active > *preset.shape.params_total) {
      param_fields.fail(param_fields.get("active"), "params.active cannot exceed params.total");
    }
  }
  if (!preset.hf_id.empty() &&
      std::find(preset.info.aliases.begin(), preset.info.aliases.end(), preset.hf_id) == preset.info.aliases.end()) {
    preset.info.aliases.push_back(preset.hf_id);
  }
  return preset;
}

GpuPreset parse_gpu_preset(const ConfigNode& root, const std::string& file) {
  ConfigFields fields(root, "GPU preset");
  GpuPreset preset;
  preset.info = read_info(fields);
  preset.info.file = file;
  preset.display = fields.optional_string("display").value_or(preset.info.name);
  preset.spec.device_name = preset.display;
  warn_unknown_keys(root, {"name", "display", "architecture", "aliases", "source", "memory",
                           "hbm_bandwidth_bytes_per_s", "bf16_dense_tflops", "fp8_dense_tflops", "fp32_tflops", "multiprocessors", "notes"},
                    preset.info);
  std::string architecture = fields.optional_string("architecture").value_or("other");
  static constexpr std::pair<std::string_view, GpuArchitecture> architectures[] = {
      {"ampere", GpuArchitecture::ampere},       {"ada", GpuArchitecture::ada},
      {"hopper", GpuArchitecture::hopper},       {"blackwell", GpuArchitecture::blackwell},
      {"cdna3", GpuArchitecture::cdna3},         {"other", GpuArchitecture::other}};
  bool known = false;
  for (const auto& [name, value] : architectures) {
    if (name == architecture) {
      preset.spec.architecture = value;
      known = true;
    }
  }
  if (!known) {
    fields.fail(fields.get("architecture"), "architecture '" + architecture +
                                                "' is not one of ampere, ada, hopper, blackwell, cdna3, other");
  }
  const ConfigNode* memory = fields.get("memory");
  if (memory == nullptr) fields.fail(nullptr, "GPU preset needs `memory:`");
  ConfigFields memory_fields(*memory, "memory");
  preset.marketing_memory = memory_fields.optional_string("marketing").value_or("");
  preset.spec.memory_total.value = memory_fields.required_positive("cuda_total_bytes");
  memory_fields.optional_bounded("cuda_total_bytes", kMaxGpuMemory, true);
  preset.memory_source = memory_fields.optional_string("cuda_total_source").value_or("");
  preset.spec.nvidia_smi_total_mib = memory_fields.optional_positive("nvidia_smi_total_mib");
  preset.nvidia_smi_source = memory_fields.optional_string("nvidia_smi_total_source").value_or("");
  auto required_number = [&](std::string_view key) {
    std::optional<double> value = fields.optional_positive_number(key);
    if (!value) fields.fail(root.find(key), "GPU preset needs " + std::string(key) + " (a positive number)");
    return *value;
  };
  preset.spec.hbm_bandwidth_bytes_per_s = required_number("hbm_bandwidth_bytes_per_s");
  preset.spec.bf16_dense_flops_per_s = required_number("bf16_dense_tflops") * 1e12;
  if (std::optional<double> fp8 = fields.optional_positive_number("fp8_dense_tflops")) {
    preset.spec.fp8_dense_flops_per_s = *fp8 * 1e12;
  }
  if (std::optional<double> fp32 = fields.optional_positive_number("fp32_tflops")) {
    preset.spec.fp32_flops_per_s = *fp32 * 1e12;
  }
  if (std::optional<std::uint64_t> sms = fields.optional_bounded("multiprocessors", 4096, true)) {
    preset.spec.multiprocessors = static_cast<std::uint32_t>(*sms);
  }
  return preset;
}

}  // namespace kvplan::io

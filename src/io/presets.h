// Model and GPU presets: YAML files under presets/ (embedded) or a user's --presets DIR.
// A model preset holds config.json fields verbatim under `config:`; see presets/README.md.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/config_node.h"
#include "core/gpu_spec.h"
#include "core/model_shape.h"

namespace kvplan::io {

struct PresetInfo {
  std::string name;                  // what users type: "llama-3-8b", "h100-sxm"
  std::vector<std::string> aliases;  // other accepted names (HF id, device name)
  std::string source;                // config.json or datasheet URL
  std::string notes;
  std::string file;                  // where it was read (set by the registry)
  std::vector<std::string> warnings; // unknown fields and the like: reported, not fatal
};

struct ModelPreset {
  PresetInfo info;
  std::string hf_id;
  std::string verified_from;
  std::string params_source;
  ModelShape shape;
};

struct GpuPreset {
  PresetInfo info;
  std::string display;           // the device name CUDA prints
  std::string marketing_memory;  // "80GB" as sold
  std::string memory_source;     // where the CUDA-reported total was seen
  std::string nvidia_smi_source; // where the nvidia-smi total was seen
  GpuSpec spec;
};

enum class PresetKind { model, gpu };

// Which kind a parsed file is: a model preset has `config:`, a GPU preset `memory:`.
PresetKind preset_kind(const ConfigNode& root);

// `file` names the preset in listings ("presets/models/x.yaml"); fields' own locations come
// from `root`.
ModelPreset parse_model_preset(const ConfigNode& root, const std::string& file);
GpuPreset parse_gpu_preset(const ConfigNode& root, const std::string& file);

}  // namespace kvplan::io

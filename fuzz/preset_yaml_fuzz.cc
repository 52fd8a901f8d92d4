// libFuzzer target: any bytes as a YAML preset. kvplan::Error is the expected answer to bad
// input; a crash, a sanitizer report or any other exception is a bug.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/error.h"
#include "core/kv_size.h"
#include "core/variant.h"
#include "io/presets.h"
#include "io/yaml_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    kvplan::ConfigNode root = kvplan::io::read_yaml(text, "fuzz.yaml");
    if (kvplan::io::preset_kind(root) == kvplan::io::PresetKind::gpu) {
      kvplan::io::parse_gpu_preset(root, "fuzz.yaml");
      return 0;
    }
    kvplan::io::ModelPreset preset = kvplan::io::parse_model_preset(root, "fuzz.yaml");
    kvplan::SizeRequest request;
    request.ctx = kvplan::Tokens{131072};
    auto variants = kvplan::resolve_variants(kvplan::parse_variants("all"), preset.shape);
    kvplan::compute_kv_size(preset.shape, variants, request);
  } catch (const kvplan::Error&) {
  }
  return 0;
}

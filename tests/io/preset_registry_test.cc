#include "io/preset_registry.h"

#include <doctest/doctest.h>

#include "core/error.h"
#include "temp_dir.h"

using namespace kvplan;
using kvplan::testing::TempDir;

namespace {
const std::string kTinyModel =
    "name: tiny\nsource: https://example.com/config.json\nhf_id: me/tiny\nconfig:\n  model_type: llama\n"
    "  num_hidden_layers: 2\n  num_attention_heads: 4\n  num_key_value_heads: 2\n  hidden_size: 256\n";
}

TEST_CASE("unknown names suggest the nearest preset") {
  io::PresetRegistry registry;
  CHECK_THROWS_WITH_AS(registry.model("llama3-8b"), doctest::Contains("did you mean 'llama-3-8b'?"), Error);
  CHECK_THROWS_WITH_AS(registry.gpu("h100-sxn"), doctest::Contains("did you mean 'h100-sxm'?"), Error);
  CHECK_THROWS_WITH_AS(registry.model("gpt-4"), doctest::Contains("unknown model 'gpt-4'"), Error);
  // A GPU name is not a model.
  CHECK_THROWS_AS(registry.model("h100-sxm"), Error);
}

TEST_CASE("names are matched without regard to case") {
  io::PresetRegistry registry;
  CHECK(registry.model("Llama-3-8B").info.name == "llama-3-8b");
  CHECK(registry.gpu("H100").info.name == "h100-sxm");
}

TEST_CASE("--presets DIR adds models and GPUs and overrides embedded ones") {
  TempDir dir;
  dir.write("models/tiny.yaml", kTinyModel);
  dir.write("my-gpu.yaml",
            "name: my-gpu\nsource: https://example.com\nmemory:\n  cuda_total_bytes: 1000000000\n"
            "hbm_bandwidth_bytes_per_s: 1e12\nbf16_dense_tflops: 100\n");
  dir.write("override.yaml", "name: llama-3-8b\nsource: https://example.com/mine\nconfig:\n  model_type: llama\n"
                             "  num_hidden_layers: 1\n  num_attention_heads: 1\n  hidden_size: 64\n");
  dir.write("README.txt", "not a preset");
  io::PresetRegistry registry;
  registry.add_directory(dir.path());
  CHECK(registry.model("tiny").shape.num_hidden_layers == 2);
  CHECK(registry.model("me/tiny").info.name == "tiny");
  CHECK(registry.gpu("my-gpu").spec.memory_total.value == 1000000000);
  CHECK(registry.model("llama-3-8b").info.source == "https://example.com/mine");
  CHECK(registry.models().size() == 33);  // 32 embedded + tiny; the override replaces one
}

TEST_CASE("malformed user presets: file and line in the message") {
  TempDir dir;
  dir.write("broken.yaml", "name: broken\nsource: x\nconfig:\n  model_type: llama\n  num_hidden_layers: 2\n"
                           "  num_attention_heads: 64\n  num_key_value_heads: 7\n  hidden_size: 8192\n");
  io::PresetRegistry registry;
  registry.add_directory(dir.path());
  std::string expected = (dir.path() / "broken.yaml").string() +
                         ":7: num_key_value_heads must divide num_attention_heads (64); got 7";
  CHECK_THROWS_WITH_AS(registry.model("broken"), expected.c_str(), Error);
}

TEST_CASE("incomplete or unclassifiable user presets are refused") {
  TempDir incomplete;
  incomplete.write("incomplete.yaml", "name: incomplete\nsource: x\nconfig:\n  model_type: llama\n  num_attention_heads: 8\n");
  io::PresetRegistry first;
  first.add_directory(incomplete.path());
  CHECK_THROWS_WITH_AS(first.model("incomplete"), doctest::Contains("num_hidden_layers"), Error);

  TempDir neither;
  neither.write("neither.yaml", "name: neither\nsource: x\n");
  io::PresetRegistry second;
  second.add_directory(neither.path());
  CHECK_THROWS_WITH_AS(second.model("neither"), doctest::Contains("either `config:`"), Error);
}

TEST_CASE("one broken user preset is reported even when looking up another") {
  TempDir dir;
  dir.write("tiny.yaml", kTinyModel);
  dir.write("a-broken.yaml", "name: [\n");
  io::PresetRegistry registry;
  registry.add_directory(dir.path());
  CHECK_THROWS_WITH_AS(registry.model("tiny"), doctest::Contains("a-broken.yaml:"), Error);
}

TEST_CASE("unknown preset fields are reported as warnings, not fatal") {
  TempDir dir;
  dir.write("tiny.yaml", kTinyModel + "colour: blue\n");
  io::PresetRegistry registry;
  registry.add_directory(dir.path());
  const io::ModelPreset& preset = registry.model("tiny");
  REQUIRE(preset.info.warnings.size() == 1);
  CHECK(preset.info.warnings[0].find("unknown field 'colour'") != std::string::npos);
}

TEST_CASE("--presets must be a directory") {
  TempDir dir;
  io::PresetRegistry registry;
  CHECK_THROWS_AS(registry.add_directory(dir.path() / "missing"), Error);
  CHECK_THROWS_AS(registry.add_directory(dir.write("file.yaml", kTinyModel)), Error);
}

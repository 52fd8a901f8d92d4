// The embedded presets against their sources. The expected values below are copied from each
// model's config.json (the `source:` URL) and the GPU datasheets, not from running kvplan.
#include "io/presets.h"

#include <doctest/doctest.h>

#include <filesystem>

#include "core/kv_bytes.h"
#include "core/variant.h"
#include "io/embedded_presets.h"
#include "io/preset_registry.h"

using namespace kvplan;

namespace {

struct Expected {
  const char* name;
  std::uint32_t layers, heads, kv_heads, head_dim;
  std::uint32_t kv_lora_rank;  // 0: not MLA
  std::uint64_t sliding_window;  // 0: none
  std::uint32_t sliding_layers;
  std::uint32_t mtp_layers;
  std::uint64_t max_position_embeddings;
};

// num_hidden_layers, num_attention_heads, num_key_value_heads, head_dim, kv_lora_rank,
// sliding_window (effective), sliding layers, num_nextn_predict_layers, max_position_embeddings.
constexpr Expected kModels[] = {
    {"llama-3-8b", 32, 32, 8, 128, 0, 0, 0, 0, 8192},
    {"llama-3-70b", 80, 64, 8, 128, 0, 0, 0, 0, 8192},
    {"llama-3.1-8b", 32, 32, 8, 128, 0, 0, 0, 0, 131072},
    {"llama-3.1-70b", 80, 64, 8, 128, 0, 0, 0, 0, 131072},
    {"llama-3.1-405b", 126, 128, 8, 128, 0, 0, 0, 0, 131072},
    {"mistral-7b-v0.1", 32, 32, 8, 128, 0, 4096, 32, 0, 32768},
    {"mistral-7b-v0.3", 32, 32, 8, 128, 0, 0, 0, 0, 32768},
    {"mixtral-8x7b", 32, 32, 8, 128, 0, 0, 0, 0, 32768},
    {"deepseek-v2", 60, 128, 128, 128, 512, 0, 0, 0, 163840},
    {"deepseek-v2-lite", 27, 16, 16, 128, 512, 0, 0, 0, 163840},
    {"deepseek-v3", 61, 128, 128, 128, 512, 0, 0, 1, 163840},
    {"kimi-k2", 61, 64, 64, 128, 512, 0, 0, 0, 131072},
    {"qwen2.5-7b", 28, 28, 4, 128, 0, 0, 0, 0, 32768},
    {"qwen2.5-72b", 80, 64, 8, 128, 0, 0, 0, 0, 32768},
    {"qwen3-32b", 64, 64, 8, 128, 0, 0, 0, 0, 40960},
    {"gemma-2-9b", 42, 16, 8, 256, 0, 4096, 21, 0, 8192},
    {"gemma-2-27b", 46, 32, 16, 128, 0, 4096, 23, 0, 8192},
};

const io::PresetRegistry& registry() {
  static const io::PresetRegistry instance;
  return instance;
}

}  // namespace

TEST_CASE("every model DESIGN.md requires is embedded, with the shape its config.json states") {
  for (const Expected& expected : kModels) {
    CAPTURE(expected.name);
    const io::ModelPreset& preset = registry().model(expected.name);
    const ModelShape& shape = preset.shape;
    CHECK(shape.num_hidden_layers == expected.layers);
    CHECK(shape.num_attention_heads == expected.heads);
    CHECK(shape.num_key_value_heads == expected.kv_heads);
    CHECK(shape.head_dim == expected.head_dim);
    CHECK(shape.mla.has_value() == (expected.kv_lora_rank != 0));
    if (shape.mla) {
      CHECK(shape.mla->kv_lora_rank == expected.kv_lora_rank);
      CHECK(shape.mla->qk_rope_head_dim == 64);
      CHECK(shape.mla->v_head_dim == 128);
    }
    CHECK(shape.sliding_window.value_or(0) == expected.sliding_window);
    CHECK(shape.sliding_layer_count() == expected.sliding_layers);
    CHECK(shape.num_nextn_predict_layers == expected.mtp_layers);
    CHECK(shape.max_position_embeddings == expected.max_position_embeddings);
  }
  CHECK(registry().models().size() == std::size(kModels));
}

TEST_CASE("every preset is clean data with a source, named after its file") {
  for (const io::EmbeddedFile& file : io::embedded_presets()) {
    CAPTURE(file.path);
    std::string stem = std::filesystem::path(file.path).stem().string();
    bool is_gpu = file.path.find("/gpus/") != std::string_view::npos;
    const io::PresetInfo& info = is_gpu ? registry().gpu(stem).info : registry().model(stem).info;
    CHECK(info.name == stem);
    CHECK(info.source.rfind("https://", 0) == 0);
    CHECK(info.warnings.empty());
    if (!is_gpu) {
      const io::ModelPreset& model = registry().model(stem);
      CHECK(model.shape.params_total.has_value());
      CHECK(model.shape.params_active.has_value());
      CHECK_FALSE(model.hf_id.empty());
      CHECK_FALSE(model.verified_from.empty());
    }
  }
}

TEST_CASE("traps in real configs are kept as the configs state them") {
  // Gemma-2 ships float32 weights; the KV dtype still defaults to bf16 elsewhere.
  CHECK(registry().model("gemma-2-27b").shape.torch_dtype == "float32");
  // Gemma-2-27B: 16 KV heads of 128 = 8 KiB per token per layer in bf16, not text 000's 1 KB.
  Variant gemma = native_variant(registry().model("gemma-2-27b").shape);
  CHECK(bytes_per_token_per_layer(gemma, KvDtype::bf16, KvScales::per_tensor).total() == 2 * 16 * 128 * 2);
  // DeepSeek-V3 has FP8 block-quantised weights; Kimi-K2 has 64 heads and no MTP layer.
  CHECK(registry().model("deepseek-v3").shape.weight_quantization == "fp8");
  CHECK(registry().model("kimi-k2").shape.num_attention_heads == 64);
  // Qwen2.5 states sliding_window 131072 with use_sliding_window false: no window.
  CHECK_FALSE(registry().model("qwen2.5-72b").shape.sliding_window.has_value());
  // MoE expert counts.
  CHECK(registry().model("mixtral-8x7b").shape.moe->num_experts == 8);
  CHECK(registry().model("deepseek-v3").shape.moe->num_experts == 256);
  CHECK(registry().model("kimi-k2").shape.moe->num_experts == 384);
}

TEST_CASE("Hugging Face ids are accepted as aliases") {
  CHECK(registry().model("meta-llama/Meta-Llama-3-8B").info.name == "llama-3-8b");
  CHECK(registry().model("deepseek-ai/DeepSeek-V2").info.name == "deepseek-v2");
}

TEST_CASE("GPU presets: memory as CUDA reports it") {
  const double GiB = 1024.0 * 1024 * 1024;
  // vLLM logs total_gpu_memory (79.19GiB) on an H100 SXM and 139.8 GiB on an H200 (DESIGN §4).
  CHECK(static_cast<double>(registry().gpu("h100-sxm").spec.memory_total.value) / GiB == doctest::Approx(79.19).epsilon(0.0001));
  CHECK(static_cast<double>(registry().gpu("h200").spec.memory_total.value) / GiB == doctest::Approx(139.8).epsilon(0.0005));
  // Datasheet: H100 SXM 3.35 TB/s, 989.4 dense bf16 TFLOP/s; A100 has no fp8 tensor cores.
  CHECK(registry().gpu("h100-sxm").spec.hbm_bandwidth_bytes_per_s == 3.35e12);
  CHECK(registry().gpu("h100-sxm").spec.bf16_dense_flops_per_s == doctest::Approx(989.4e12));
  CHECK_FALSE(registry().gpu("a100-80gb").spec.fp8_dense_flops_per_s.has_value());
  for (const char* name : {"a100-40gb", "a100-80gb", "h100-sxm", "h100-pcie", "h200", "b200", "l40s", "mi300x", "rtx-4090"}) {
    CAPTURE(name);
    CHECK(registry().gpu(name).info.name == name);
  }
  CHECK(registry().gpus().size() == 9);
}

TEST_CASE("GPU presets: nvidia-smi's total is above CUDA's, and all NVIDIA presets have one") {
  // nvidia-smi counts memory the driver keeps from CUDA: 81559 MiB against 81090 on an H100.
  CHECK(registry().gpu("h100-sxm").spec.nvidia_smi_total_mib == 81559u);
  CHECK(registry().gpu("h200").spec.nvidia_smi_total_mib == 143771u);
  for (const io::GpuPreset* preset : registry().gpus()) {
    CAPTURE(preset->info.name);
    const GpuSpec& spec = preset->spec;
    if (spec.architecture == GpuArchitecture::cdna3) {
      CHECK_FALSE(spec.nvidia_smi_total_mib.has_value());  // ROCm: SGLang reads rocminfo
      continue;
    }
    REQUIRE(spec.nvidia_smi_total_mib.has_value());
    CHECK(*spec.nvidia_smi_total_mib * kMiB > spec.memory_total.value);
    CHECK_FALSE(preset->nvidia_smi_source.empty());
  }
}

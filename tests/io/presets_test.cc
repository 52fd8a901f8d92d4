// The embedded model presets against their sources. The expected values below are copied from each
// model's config.json (the `source:` URL), not from running kvplan. GPU presets: gpu_presets_test.cc.
#include "io/presets.h"

#include <doctest/doctest.h>

#include "core/weights.h"

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
    {"qwen3-8b", 36, 32, 8, 128, 0, 0, 0, 0, 40960},
    {"qwen3-30b-a3b", 48, 32, 4, 128, 0, 0, 0, 0, 40960},
    {"qwen3-235b-a22b", 94, 64, 4, 128, 0, 0, 0, 0, 40960},
    {"deepseek-v3.1", 61, 128, 128, 128, 512, 0, 0, 1, 163840},
    {"glm-4.6", 92, 96, 8, 128, 0, 0, 0, 1, 202752},
    {"mistral-small-3.1-24b", 40, 32, 8, 128, 0, 0, 0, 0, 131072},
    {"phi-4", 40, 40, 10, 128, 0, 0, 0, 0, 16384},
    {"minimax-m2", 62, 48, 8, 128, 0, 0, 0, 0, 196608},
    {"minimax-m2.7", 62, 48, 8, 128, 0, 0, 0, 0, 204800},
    {"llama-4-scout", 48, 40, 8, 128, 0, 0, 0, 0, 10485760},
    {"llama-4-maverick", 48, 40, 8, 128, 0, 0, 0, 0, 1048576},
    {"gpt-oss-20b", 24, 64, 8, 64, 0, 128, 12, 0, 131072},
    {"gpt-oss-120b", 36, 64, 8, 64, 0, 128, 18, 0, 131072},
    // Qwen3-Next's config.json has no MTP count; vLLM's Qwen3NextMTP builds 1 layer then.
    {"qwen3-next-80b-a3b", 48, 16, 2, 256, 0, 0, 0, 1, 262144},
    {"nemotron-3-nano-30b-a3b", 52, 32, 2, 128, 0, 0, 0, 0, 262144},
    // Nemotron-3 Super and Ultra: one MTP layer each (num_nextn_predict_layers 1).
    {"nemotron-3-super-120b-a12b", 88, 32, 2, 128, 0, 0, 0, 1, 262144},
    {"nemotron-3.5-lightning-30b-a3b", 52, 32, 2, 128, 0, 0, 0, 1, 1048576},
    {"nemotron-3-ultra-550b-a55b", 108, 64, 2, 128, 0, 0, 0, 1, 262144},
    {"deepseek-v3.2-exp", 61, 128, 128, 128, 512, 0, 0, 1, 163840},
    {"deepseek-v3.2", 61, 128, 128, 128, 512, 0, 0, 1, 163840},
    // Gemma-3: text_config states no max_position_embeddings (Gemma3TextConfig's 131072); the 12B
    // no head_dim (256). Every 6th layer global: 62 - 10 = 52 and 48 - 8 = 40 sliding.
    {"gemma-3-12b", 48, 16, 8, 256, 0, 1024, 40, 0, 131072},
    {"gemma-3-27b", 62, 32, 16, 128, 0, 1024, 52, 0, 131072},
    {"kimi-k2-thinking", 61, 64, 64, 128, 512, 0, 0, 0, 262144},
    // GLM-5: MLA's counterfactual head_dim is v_head_dim, 256 (the config's head_dim 64 is not MLA's).
    {"glm-5", 78, 64, 64, 256, 512, 0, 0, 1, 202752},
    {"glm-5.2", 78, 64, 64, 256, 512, 0, 0, 1, 1048576},
    // Qwen3.5: the language model is text_config; mtp_num_hidden_layers 1.
    {"qwen3.5-27b", 64, 24, 4, 256, 0, 0, 0, 1, 262144},
    {"qwen3.5-35b-a3b", 40, 16, 2, 256, 0, 0, 0, 1, 262144},
    {"qwen3.5-122b-a10b", 48, 32, 2, 256, 0, 0, 0, 1, 262144},
    {"qwen3.5-397b-a17b", 60, 32, 2, 256, 0, 0, 0, 1, 262144},
    {"qwen3.6-27b", 64, 24, 4, 256, 0, 0, 0, 1, 262144},
    {"qwen3.6-35b-a3b", 40, 16, 2, 256, 0, 0, 0, 1, 262144},
    // Gemma-4: layer_types lists 5 sliding layers to 1 full (30 - 5 = 25, 60 - 10 = 50 sliding);
    // num_key_value_heads and head_dim are the sliding layers' (the full layers' are global_*).
    {"gemma-4-26b-a4b", 30, 16, 8, 256, 0, 1024, 25, 0, 262144},
    {"gemma-4-31b", 60, 32, 16, 256, 0, 1024, 50, 0, 262144},
    {"kimi-k2.5", 61, 64, 64, 128, 512, 0, 0, 0, 262144},
    {"kimi-k3", 93, 96, 96, 128, 512, 0, 0, 0, 1048576},
    // DeepSeek-V4: one shared 512-wide latent (num_key_value_heads 1); its windows and compressed
    // caches are CompressedMlaDims' (compressed_mla_test.cc), not sliding layers.
    {"deepseek-v4-flash", 43, 64, 1, 512, 0, 0, 0, 1, 1048576},
    {"deepseek-v4-pro", 61, 128, 1, 512, 0, 0, 0, 1, 1048576},
    // MiMo-V2-Flash: the sliding layers' swa_num_key_value_heads and swa_head_dim (the full layers'
    // 4 heads are num_key_value_heads); hybrid_layer_pattern has 9 zeros (full), 39 ones.
    {"mimo-v2-flash", 48, 64, 8, 192, 0, 128, 39, 0, 262144},
};

const io::PresetRegistry& registry() {
  static const io::PresetRegistry instance;
  return instance;
}

}  // namespace

TEST_CASE("every embedded model has the shape its config.json states") {
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
      CHECK(shape.mla->v_head_dim == expected.head_dim);  // an MLA model's head_dim is its v_head_dim
    }
    CHECK(shape.sliding_window.value_or(0) == expected.sliding_window);
    CHECK(shape.sliding_layer_count() == expected.sliding_layers);
    CHECK(shape.num_nextn_predict_layers == expected.mtp_layers);
    CHECK(shape.max_position_embeddings == expected.max_position_embeddings);
  }
  CHECK(registry().models().size() == std::size(kModels));
}

TEST_CASE("hybrid presets: which layers keep a state and which cache nothing, as their configs say") {
  // Qwen3-Next: full_attention_interval 4 makes layers 3, 7, ..., 47 attention, the other 36 Gated DeltaNet.
  const ModelShape& qwen = registry().model("qwen3-next-80b-a3b").shape;
  CHECK(qwen.layer_count(LayerAttention::state) == 36);
  CHECK(qwen.layer_attention[3] == LayerAttention::full);
  CHECK(qwen.layer_attention[4] == LayerAttention::state);
  CHECK(qwen.state->mixer == StateMixer::gated_deltanet);
  // Nemotron-3-Nano: hybrid_override_pattern has 23 M, 6 * and 23 E characters.
  const ModelShape& nemotron = registry().model("nemotron-3-nano-30b-a3b").shape;
  CHECK(nemotron.layer_count(LayerAttention::state) == 23);
  CHECK(nemotron.layer_count(LayerAttention::full) == 6);
  CHECK(nemotron.layer_count(LayerAttention::none) == 23);
  CHECK(nemotron.layer_attention[5] == LayerAttention::full);  // "MEMEM*": the sixth character
  CHECK(nemotron.state->ssm_cache_dtype == "float32");
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
  // Gemma-2-27B: 16 KV heads of 128 = 8 KiB per token per layer in bf16, not the 1 KB some tables give.
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

TEST_CASE("new model presets: bytes per token per layer from their config.json") {
  auto per_layer_bf16 = [](const char* name) {
    return bytes_per_token_per_layer(native_variant(registry().model(name).shape), KvDtype::bf16, KvScales::per_tensor)
        .total();
  };
  // K and V x KV heads x head_dim x 2 B (bf16); the layer counts are checked above.
  CHECK(per_layer_bf16("qwen3-8b") == 2 * 8 * 128 * 2);         // 4096 B x 36 layers
  CHECK(per_layer_bf16("qwen3-30b-a3b") == 2 * 4 * 128 * 2);    // 2048 B x 48 layers
  CHECK(per_layer_bf16("qwen3-235b-a22b") == 2 * 4 * 128 * 2);  // 2048 B x 94 layers
  CHECK(per_layer_bf16("phi-4") == 2 * 10 * 128 * 2);           // 5120 B x 40 layers
  CHECK(per_layer_bf16("mistral-small-3.1-24b") == 2 * 8 * 128 * 2);  // 4096 B x 40 layers
  CHECK(per_layer_bf16("glm-4.6") == 2 * 8 * 128 * 2);          // 4096 B x 92 layers
  CHECK(per_layer_bf16("minimax-m2") == 2 * 8 * 128 * 2);       // 4096 B x 62 layers
  // MLA: one latent of kv_lora_rank + qk_rope_head_dim = 512 + 64 scalars x 2 B, 61 layers.
  CHECK(per_layer_bf16("deepseek-v3.1") == (512 + 64) * 2);
  // gpt-oss: 8 KV heads x 64; every other layer (0, 2, ...) slides over 128 tokens.
  CHECK(per_layer_bf16("gpt-oss-20b") == 2 * 8 * 64 * 2);
  CHECK(registry().model("gpt-oss-120b").shape.layer_attention[0] == LayerAttention::sliding);
  CHECK(registry().model("gpt-oss-120b").shape.layer_attention[1] == LayerAttention::full);
  // Llama-4: 8 KV heads x 128; 36 of 48 layers attend within chunks of 8192, every 4th is global.
  for (const char* name : {"llama-4-scout", "llama-4-maverick"}) {
    CAPTURE(name);
    const ModelShape& shape = registry().model(name).shape;
    CHECK(per_layer_bf16(name) == 2 * 8 * 128 * 2);
    CHECK(shape.attention_chunk_size.value_or(0) == 8192);
    CHECK(shape.layer_count(LayerAttention::chunked) == 36);
    CHECK(shape.layer_attention[3] == LayerAttention::full);
  }
}

TEST_CASE("new model presets keep their configs' traps") {
  // head_dim is explicit and is not hidden_size / heads: 2048/32 = 64, 5120/96 = 53.3, 5120/32 = 160.
  CHECK(registry().model("qwen3-30b-a3b").shape.head_dim == 128);
  CHECK(registry().model("glm-4.6").shape.head_dim == 128);
  CHECK(registry().model("mistral-small-3.1-24b").shape.head_dim == 128);
  // Mistral Small 3.1: the language model is text_config; its sliding_window is null, so the Mistral
  // class default (4096) must not be filled in.
  CHECK_FALSE(registry().model("mistral-small-3.1-24b").shape.sliding_window.has_value());
  CHECK(registry().model("mistral-small-3.1-24b").shape.torch_dtype == "bfloat16");
  // No window anywhere in the full-attention presets.
  for (const char* name : {"qwen3-8b", "phi-4", "glm-4.6", "minimax-m2"}) {
    CAPTURE(name);
    CHECK(registry().model(name).shape.sliding_layer_count() == 0);
  }
  // FP8 checkpoints; Qwen3 and GLM ship bf16.
  CHECK(registry().model("deepseek-v3.1").shape.weight_quantization == "fp8");
  CHECK(registry().model("minimax-m2").shape.weight_quantization == "fp8");
  CHECK(registry().model("qwen3-235b-a22b").shape.weight_quantization.empty());
  // Experts: Qwen3 MoE 128 (top 8), GLM-4.6 160 (+1 shared, 3 dense layers first), MiniMax-M2 256.
  CHECK(registry().model("qwen3-30b-a3b").shape.moe->num_experts == 128);
  CHECK(registry().model("qwen3-30b-a3b").shape.moe->num_experts_per_tok == 8);
  CHECK(registry().model("glm-4.6").shape.moe->num_experts == 160);
  CHECK(registry().model("glm-4.6").shape.moe->first_dense_layers == 3);
  CHECK(registry().model("minimax-m2").shape.moe->num_experts == 256);
}

TEST_CASE("MiniMax-M2.5 is MiniMax-M2's preset - M2.7 differs only in its context") {
  // aiconfigurator's M2.5 config.json has M2's shape (max_position_embeddings 196608); M2.7's says 204800.
  CHECK(&registry().model("minimax-m2.5").shape == &registry().model("minimax-m2").shape);
  const ModelShape& m27 = registry().model("minimax-m2.7").shape;
  const ModelShape& m2 = registry().model("minimax-m2").shape;
  CHECK(m27.max_position_embeddings == 204800);
  CHECK(*m27.params_total == *m2.params_total);
  CHECK(m27.weight_quantization == "fp8");
  CHECK(m27.moe->num_experts == 256);
}

TEST_CASE("Hugging Face ids are accepted as aliases") {
  CHECK(registry().model("meta-llama/Meta-Llama-3-8B").info.name == "llama-3-8b");
  CHECK(registry().model("deepseek-ai/DeepSeek-V2").info.name == "deepseek-v2");
}

TEST_CASE("gpt-oss weights as the checkpoint stores them: MXFP4 experts, the rest in bf16") {
  // gpt-oss-20b: 24 layers x 32 experts x 3 x 2880 x 2880 = 19110297600 expert parameters at 4.25
  // bits (0.53125 B); the other 20914757184 - 19110297600 = 1804459584 in bf16:
  // 10152345600 + 3608919168 = 13761264768 B = 12.82 GiB, the model card's 12.8 GiB checkpoint.
  const ModelShape& shape = registry().model("gpt-oss-20b").shape;
  WeightsDtype weights = resolve_weights_dtype("auto", shape);
  CHECK(weights.name == "mxfp4+bf16");
  CHECK(weights.bytes_per_param * 20914757184.0 == doctest::Approx(13761264768.0));
  // gpt-oss-120b: 36 x 128 x 3 x 2880 x 2880 = 114661785600 experts; 60.77 GiB against the card's 60.8.
  WeightsDtype big = resolve_weights_dtype("auto", registry().model("gpt-oss-120b").shape);
  CHECK(big.bytes_per_param * 116829156672.0 ==
        doctest::Approx(114661785600.0 * 0.53125 + (116829156672.0 - 114661785600.0) * 2));
}

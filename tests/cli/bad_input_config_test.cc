// The bad-input catalogue for the layer kinds and model types a config.json describes (--config):
// the layer lists of the hybrid families (Nemotron-H, Granite-4.0-H, Falcon-H1, Jamba, Kimi-Linear),
// the lightning indexer on some layers only, a model type vLLM serves with caches kvplan lacks,
// Gemma-4's shared and per-layer caches, DeepSeek-V4's compressed layers. The contract is
// bad_input_check.h's.
#include <doctest/doctest.h>

#include <vector>

#include "cli/bad_input_check.h"
#include "temp_dir.h"

using namespace kvplan::testing;

namespace {

// The config.json files the cases read, written into a fresh folder.
const TableFiles kConfigs = {
    {"pattern.json", "{\"model_type\": \"nemotron_h\", \"num_hidden_layers\": 3, \"num_attention_heads\": 8, "
                     "\"num_key_value_heads\": 2, \"head_dim\": 64, \"mamba_num_heads\": 8, \"mamba_head_dim\": 64, "
                     "\"n_groups\": 1, \"ssm_state_size\": 16, \"conv_kernel\": 4, \"hybrid_override_pattern\": \"M*X\"}"},
    {"pattern_length.json", "{\"model_type\": \"nemotron_h\", \"num_hidden_layers\": 3, \"num_attention_heads\": 8, "
                            "\"num_key_value_heads\": 2, \"head_dim\": 64, \"mamba_num_heads\": 8, \"mamba_head_dim\": 64, "
                            "\"n_groups\": 1, \"ssm_state_size\": 16, \"conv_kernel\": 4, \"hybrid_override_pattern\": \"M*\"}"},
    {"blocks_kind.json", "{\"model_type\": \"nemotron_h\", \"num_attention_heads\": 8, \"num_key_value_heads\": 2, "
                         "\"head_dim\": 64, \"mamba_num_heads\": 8, \"mamba_head_dim\": 64, \"n_groups\": 1, "
                         "\"ssm_state_size\": 16, \"conv_kernel\": 4, \"layers_block_type\": [\"mamba\", \"attention\", \"conv\"]}"},
    {"granite_kind.json", "{\"model_type\": \"granitemoehybrid\", \"num_hidden_layers\": 2, \"hidden_size\": 512, "
                          "\"num_attention_heads\": 8, \"mamba_n_heads\": 8, \"mamba_d_head\": 128, "
                          "\"layer_types\": [\"mamba\", \"mlp\"]}"},
    {"granite_width.json", "{\"model_type\": \"granitemoehybrid\", \"num_hidden_layers\": 2, \"hidden_size\": 512, "
                           "\"num_attention_heads\": 8, \"mamba_n_heads\": 8, \"mamba_d_head\": 64, "
                           "\"layer_types\": [\"mamba\", \"attention\"]}"},
    {"granite_no_types.json", "{\"model_type\": \"granitemoehybrid\", \"num_hidden_layers\": 2, \"hidden_size\": 512, "
                              "\"num_attention_heads\": 8, \"mamba_n_heads\": 8, \"mamba_d_head\": 128}"},
    {"falcon_width.json", "{\"model_type\": \"falcon_h1\", \"num_hidden_layers\": 2, \"hidden_size\": 512, "
                          "\"num_attention_heads\": 8, \"num_key_value_heads\": 2, \"head_dim\": 64, \"mamba_d_ssm\": 1024, "
                          "\"mamba_n_heads\": 8, \"mamba_d_head\": 64}"},
    {"jamba_offset.json", "{\"model_type\": \"jamba\", \"num_hidden_layers\": 8, \"hidden_size\": 512, "
                          "\"num_attention_heads\": 8, \"attn_layer_period\": 8, \"attn_layer_offset\": 8}"},
    {"jamba_no_attention.json", "{\"model_type\": \"jamba\", \"num_hidden_layers\": 4, \"hidden_size\": 512, "
                                "\"num_attention_heads\": 8, \"attn_layer_period\": 8, \"attn_layer_offset\": 4}"},
    {"topk_pattern.json", "{\"model_type\": \"deepseek_v32\", \"num_hidden_layers\": 4, \"num_attention_heads\": 8, "
                       "\"kv_lora_rank\": 512, \"qk_rope_head_dim\": 64, \"qk_nope_head_dim\": 128, \"v_head_dim\": 128, "
                       "\"index_head_dim\": 128, \"index_n_heads\": 64, \"index_topk\": 2048, \"index_topk_pattern\": \"SSSS\"}"},
    {"topk_freq.json", "{\"model_type\": \"deepseek_v32\", \"num_hidden_layers\": 4, \"num_attention_heads\": 8, "
                       "\"hidden_size\": 1024, \"intermediate_size\": 2048, \"vocab_size\": 32000, \"q_lora_rank\": 256, "
                       "\"kv_lora_rank\": 512, \"qk_rope_head_dim\": 64, \"qk_nope_head_dim\": 128, \"v_head_dim\": 128, "
                       "\"index_head_dim\": 128, \"index_n_heads\": 64, \"index_topk\": 2048, \"index_topk_freq\": 2}"},
    {"mimo_pattern.json", "{\"model_type\": \"mimo_v2_flash\", \"num_hidden_layers\": 2, \"num_attention_heads\": 8, "
                          "\"num_key_value_heads\": 2, \"head_dim\": 64, \"swa_num_attention_heads\": 8, "
                          "\"swa_num_key_value_heads\": 4, \"swa_head_dim\": 64, \"sliding_window_size\": 16, "
                          "\"hybrid_layer_pattern\": [0, 1, 1]}"},
    {"mimo_ok.json", "{\"model_type\": \"mimo_v2_flash\", \"num_hidden_layers\": 2, \"num_attention_heads\": 8, "
                     "\"hidden_size\": 512, \"intermediate_size\": 1024, \"vocab_size\": 32000, "
                     "\"num_key_value_heads\": 2, \"head_dim\": 64, \"v_head_dim\": 32, \"swa_num_attention_heads\": 8, "
                     "\"swa_num_key_value_heads\": 4, \"swa_head_dim\": 64, \"swa_v_head_dim\": 32, "
                     "\"sliding_window_size\": 16, \"hybrid_layer_pattern\": [0, 1]}"},
    {"ring.json", "{\"model_type\": \"deepseek_v41\", \"num_hidden_layers\": 2, \"num_attention_heads\": 8}"},
    {"kda_layers.json", "{\"model_type\": \"kimi_linear\", \"num_hidden_layers\": 2, \"num_attention_heads\": 8, "
                        "\"kv_lora_rank\": 512, \"qk_rope_head_dim\": 64, \"qk_nope_head_dim\": 128, \"v_head_dim\": 128, "
                        "\"linear_attn_config\": {\"num_heads\": 8, \"head_dim\": 128, \"short_conv_kernel_size\": 4, "
                        "\"kda_layers\": [0]}}"},
    {"kda_ok.json", "{\"model_type\": \"kimi_linear\", \"num_hidden_layers\": 2, \"num_attention_heads\": 8, "
                    "\"kv_lora_rank\": 512, \"qk_rope_head_dim\": 64, \"qk_nope_head_dim\": 128, \"v_head_dim\": 128, "
                    "\"linear_attn_config\": {\"num_heads\": 8, \"head_dim\": 128, \"short_conv_kernel_size\": 4, "
                    "\"kda_layers\": [1]}}"},
    {"kda_missing.json", "{\"model_type\": \"kimi_linear\", \"num_hidden_layers\": 2, \"num_attention_heads\": 8, "
                         "\"kv_lora_rank\": 512, \"qk_rope_head_dim\": 64, \"qk_nope_head_dim\": 128, \"v_head_dim\": 128}"},
    {"g4_shared.json", "{\"model_type\": \"gemma4_text\", \"num_hidden_layers\": 6, \"num_attention_heads\": 8, "
                       "\"num_key_value_heads\": 2, \"head_dim\": 256, \"sliding_window\": 512, \"num_kv_shared_layers\": 6}"},
    {"g4_all_full.json", "{\"model_type\": \"gemma4_text\", \"num_hidden_layers\": 2, \"num_attention_heads\": 8, "
                         "\"num_key_value_heads\": 2, \"head_dim\": 256, \"global_head_dim\": 256, \"hidden_size\": 1024, "
                         "\"vocab_size\": 1000, \"intermediate_size\": 2048, "
                         "\"layer_types\": [\"full_attention\", \"full_attention\"]}"},
    {"l4_no_chunks.json", "{\"model_type\": \"llama4\", \"architectures\": [\"Llama4ForConditionalGeneration\"], "
                          "\"text_config\": {\"model_type\": \"llama4_text\", \"num_hidden_layers\": 4, "
                          "\"num_attention_heads\": 8, \"num_key_value_heads\": 2, \"head_dim\": 64, \"hidden_size\": 512, "
                          "\"intermediate_size\": 1024, \"vocab_size\": 1000, \"attention_chunk_size\": null}}"},
    {"q35_layers.json", "{\"model_type\": \"qwen3_5_text\", \"num_hidden_layers\": 4, \"hidden_size\": 1024, "
                        "\"num_attention_heads\": 8, \"num_key_value_heads\": 2, \"head_dim\": 256, \"vocab_size\": 1000, "
                        "\"intermediate_size\": 2048, \"linear_num_value_heads\": 8, \"linear_value_head_dim\": 128, "
                        "\"linear_num_key_heads\": 4, \"linear_key_head_dim\": 128, \"linear_conv_kernel_dim\": 4, "
                        "\"full_attention_interval\": 4, \"layer_types\": [\"full_attention\", \"linear_attention\", "
                        "\"linear_attention\", \"linear_attention\"]}"},
    {"g4_per_layer.json", "{\"model_type\": \"gemma4_text\", \"num_hidden_layers\": 6, \"num_attention_heads\": 8, "
                          "\"num_key_value_heads\": 2, \"head_dim\": 256, \"sliding_window\": 512, \"per_layer_config\": {}}"},
    {"v4_ratio.json", "{\"model_type\": \"deepseek_v4\", \"num_hidden_layers\": 2, \"num_attention_heads\": 8, "
                      "\"head_dim\": 512, \"compress_ratios\": [4, 16]}"},
    {"v4.json", "{\"model_type\": \"deepseek_v4\", \"num_hidden_layers\": 2, \"num_attention_heads\": 8, "
                "\"head_dim\": 512, \"compress_ratios\": [0, 4]}"},
    {"v4_fp8.json", "{\"model_type\": \"deepseek_v4\", \"num_hidden_layers\": 2, \"num_attention_heads\": 8, "
                    "\"head_dim\": 512, \"compress_ratios\": [0, 4], \"quantization_config\": {\"quant_method\": \"fp8\", "
                    "\"weight_block_size\": [128, 128]}}"},
    {"v4_short.json", "{\"model_type\": \"deepseek_v4\", \"num_hidden_layers\": 3, \"num_attention_heads\": 8, "
                      "\"head_dim\": 512, \"layer_types\": [\"sliding_attention\"]}"},
};

const std::vector<BadInput> kLayerKinds = {
    {"a layer kind kvplan does not know in hybrid_override_pattern", {"size", "--config", "{dir}/pattern.json"},
     "hybrid_override_pattern[2] is 'X'"},
    {"hybrid_override_pattern of the wrong length", {"size", "--config", "{dir}/pattern_length.json"},
     "num_hidden_layers = 3 but hybrid_override_pattern describes 2 layers"},
    {"a layer kind kvplan does not know in Nemotron-H's layers_block_type", {"size", "--config", "{dir}/blocks_kind.json"},
     "layers_block_type[2] = 'conv' is not a Nemotron-H layer kind"},
    {"a layer kind kvplan does not know in Granite-4.0-H's layer_types", {"size", "--config", "{dir}/granite_kind.json"},
     "layer_types[1] = 'mlp' is not supported"},
    {"Mamba heads x head dim that are not mamba_expand x hidden_size", {"size", "--config", "{dir}/granite_width.json"},
     "mamba_n_heads (8) x mamba_d_head (64) must equal the Mamba width (1024, mamba_expand x hidden_size)"},
    {"a Granite-4.0-H config without layer_types", {"size", "--config", "{dir}/granite_no_types.json"},
     "granitemoehybrid needs layer_types"},
    {"Falcon-H1 Mamba heads x head dim that are not mamba_d_ssm", {"size", "--config", "{dir}/falcon_width.json"},
     "mamba_n_heads (8) x mamba_d_head (64) must equal the Mamba width (1024, mamba_d_ssm)"},
    {"a Jamba attention offset outside its period", {"size", "--config", "{dir}/jamba_offset.json"},
     "attn_layer_offset (8) must be smaller than attn_layer_period (8)"},
    {"a Jamba config whose period leaves no attention layer", {"size", "--config", "{dir}/jamba_no_attention.json"},
     "leave no attention layer in 4 layers"},
    {"an indexer pattern that leaves no layer an indexer", {"size", "--config", "{dir}/topk_pattern.json"},
     "index_topk_pattern leaves no layer with a lightning indexer"},
    {"offloading a model whose indexer keys are on some layers only",
     {"fit", "--config", "{dir}/topk_freq.json", "--gpu", "h100-sxm", "--ctx", "4k", "--offload", "cpu:1GiB", "--link", "pcie5"},
     "--offload: the model caches indexer keys on some layers only"},
    {"disaggregating a model whose indexer keys are on some layers only",
     {"disagg", "--config", "{dir}/topk_freq.json", "--isl", "8k", "--osl", "1k", "--prefill", "h200:1", "--decode", "h200:1"},
     "disagg: the model caches indexer keys on some layers only"},
    {"a model type vLLM serves with caches kvplan lacks", {"size", "--config", "{dir}/ring.json"},
     "model_type 'deepseek_v41' is not planned: kvplan has no layer kind for vLLM 0.33's CircularBufferSpec"},
    {"a layer pattern that does not name each layer's kind", {"size", "--config", "{dir}/mimo_pattern.json"},
     "hybrid_layer_pattern must list 0 or 1 for each of the 2 layers"},
    {"a cache dtype vLLM's DiffKV backend fails to start with",
     {"fit", "--config", "{dir}/mimo_ok.json", "--gpu", "b200", "--ctx", "4k", "--kv-dtype", "fp8"},
     "--kv-dtype fp8: vLLM 0.33's FlashAttentionImpl checks an fp8 cache as if values were as wide as keys"},
    {"keys and values of different widths on SGLang's ROCm backends",
     {"fit", "--config", "{dir}/mimo_ok.json", "--gpu", "mi300x", "--ctx", "4k", "--engine", "sglang"},
     "--engine sglang: kvplan does not model SGLang's ROCm backends for keys and values of different widths"},
    {"a KDA layer number that is not 1-based", {"size", "--config", "{dir}/kda_layers.json"},
     "kda_layers entries are 1-based layer numbers"},
    {"a kimi_linear config without its KDA layers", {"size", "--config", "{dir}/kda_missing.json"},
     "kimi_linear needs linear_attn_config"},
    {"a state family SGLang's pool is not planned for", {"fit", "--config", "{dir}/kda_ok.json", "--gpu", "h200", "--ctx", "4k", "--engine", "sglang"},
     "--engine sglang: kvplan plans SGLang's state pool for Qwen3-Next, Qwen3.5 / Qwen3.6 (qwen3_next, qwen3_5_text, "
     "qwen3_5_moe_text) and Nemotron-H (nemotron_h) only, not kimi_linear"},
    {"a KDA state dtype vLLM refuses", {"size", "--config", "{dir}/kda_ok.json", "--ctx", "4k", "--mamba-ssm-cache-dtype", "float16"},
     "--mamba-ssm-cache-dtype float16: vLLM keeps a KDA recurrent state in float32 or bfloat16 only"},
    {"every layer reading another layer's cache", {"size", "--config", "{dir}/g4_shared.json"},
     "num_kv_shared_layers must be below num_hidden_layers"},
    {"a hybrid SWA architecture without a sliding layer on SGLang",
     {"fit", "--config", "{dir}/g4_all_full.json", "--gpu", "h200", "--ctx", "4k", "--engine", "sglang"},
     "asserts \"Hybrid SWA model must have at least one SWA layer\""},
    {"Llama-4 without a chunk size on SGLang's hybrid SWA pool",
     {"fit", "--config", "{dir}/l4_no_chunks.json", "--gpu", "h200", "--ctx", "4k", "--engine", "sglang"},
     "--engine sglang: attention_chunk_size is null"},
    {"Qwen3.5 layer_types that SGLang's full_attention_interval rule contradicts",
     {"fit", "--config", "{dir}/q35_layers.json", "--gpu", "h200", "--ctx", "4k", "--engine", "sglang"},
     "layer_types makes layer 0 full attention, but SGLang builds qwen3_5_text from full_attention_interval (4"},
    {"per-layer overrides kvplan does not read", {"size", "--config", "{dir}/g4_per_layer.json"},
     "per_layer_config is not read by kvplan"},
    {"a compress ratio vLLM has no compressor for", {"size", "--config", "{dir}/v4_ratio.json"},
     "compress_ratios[1] = 16 is not a DeepSeek-V4 layer kind"},
    {"fewer DeepSeek-V4 layer kinds than layers", {"size", "--config", "{dir}/v4_short.json"},
     "layer_types must list at least one entry per layer"},
    {"a variant of a model with one shared compressed latent",
     {"size", "--config", "{dir}/v4.json", "--ctx", "1k", "--variant", "gqa"}, "caches one compressed latent shared by all heads"},
    {"a cache dtype vLLM has no DeepSeek-V4 layout for", {"size", "--config", "{dir}/v4.json", "--ctx", "1k", "--kv-dtype", "int8"},
     "--kv-dtype int8: vLLM 0.33 stores DeepSeek-V4's latents"},
    {"compressed sparse attention on an engine kvplan does not model it for",
     {"fit", "--config", "{dir}/v4.json", "--gpu", "h200", "--ctx", "1k", "--engine", "sglang"},
     "--engine sglang: kvplan plans DeepSeek-V4's compressed sparse attention with vLLM's rules only"},
    {"DeepSeek-V4 weights from a config.json without the fields they are counted from",
     {"fit", "--config", "{dir}/v4_fp8.json", "--gpu", "h200", "--ctx", "1k"},
     "--weights-dtype auto: kvplan cannot size a DeepSeek-V4 config.json without q_lora_rank"},
};

}  // namespace

TEST_CASE("the bad-input catalogue, config.json layer kinds: exit 2, one line, nothing on stdout") {
  TempDir dir;
  write_files(dir, kConfigs);
  check_bad_inputs(kLayerKinds, dir.path());
}

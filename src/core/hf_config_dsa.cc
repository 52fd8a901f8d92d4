// config.json -> the lightning indexer of sparse MLA (DeepSeek Sparse Attention), as vLLM 0.33 reads
// it for DeepSeek-V3.2 (deepseek_v32) and GLM-5 (glm_moe_dsa), which share one model class:
// vllm/models/deepseek_v32/__init__.py maps GlmMoeDsaForCausalLM to DeepseekV32ForCausalLM on CUDA.
#include <string>
#include <variant>

#include "core/hf_config_hybrid.h"

namespace kvplan::detail {
namespace {

// vLLM 0.33 models/deepseek_v32/attention.py:DeepseekV32Attention.__init__: a layer skips the top-k
// (and builds no indexer, so caches no indexer key) when index_topk_pattern names it 'S', or, without a
// pattern, when max(layer - index_skip_topk_offset + 1, 0) % index_topk_freq != 0. The defaults (freq 1,
// offset 2, no pattern) give every layer an indexer; the MTP layers always build one.
bool layer_has_indexer(const ConfigFields& fields, std::uint32_t layer) {
  if (const ConfigNode* pattern = fields.get("index_topk_pattern")) {
    const std::string* text = pattern->as_string();
    if (text == nullptr) fields.fail(pattern, "index_topk_pattern must be a string (one character per layer, S skips)");
    return layer >= text->size() || (*text)[layer] != 'S';
  }
  const std::uint64_t frequency = fields.optional_bounded("index_topk_freq", kMaxDim, true).value_or(1);
  const std::uint64_t offset = fields.optional_non_negative("index_skip_topk_offset").value_or(2);
  const std::uint64_t shifted = layer + 1 >= offset ? layer + 1 - offset : 0;
  return shifted % frequency == 0;
}

}  // namespace

void resolve_indexer(const ConfigFields& fields, ModelShape& shape) {
  if (!is_one_of(shape.model_type, {"deepseek_v32", "glm_moe_dsa"})) return;
  if (!shape.mla) {
    fields.fail(nullptr, shape.model_type + " is sparse MLA: the config needs kv_lora_rank and qk_rope_head_dim");
  }
  IndexerDims indexer;
  indexer.index_head_dim = fields.required_dim("index_head_dim");
  indexer.index_n_heads = fields.required_dim("index_n_heads");
  indexer.index_topk = fields.required_dim("index_topk");
  for (std::uint32_t layer = 0; layer < shape.num_hidden_layers; ++layer) {
    if (!layer_has_indexer(fields, layer)) indexer.keyless_layers.push_back(layer);
  }
  if (indexer.keyless_layers.size() == shape.num_hidden_layers) {
    const char* field = fields.has("index_topk_pattern") ? "index_topk_pattern" : "index_topk_freq";
    fields.fail(fields.get(field), std::string(field) + " leaves no layer with a lightning indexer, so no layer "
                                                          "selects the top-k tokens the others reuse");
  }
  shape.indexer = indexer;
}

}  // namespace kvplan::detail

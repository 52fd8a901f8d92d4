// Speculative decoding in vLLM 0.33 (docs/engines.md, "Speculative decoding"): which drafts add
// cached layers to the target's KV cache groups, the lookahead slots a request asks for, and the
// draft's weights per rank.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config_node.h"
#include "core/model_shape.h"

namespace kvplan {

// vLLM's --speculative-config "method" values kvplan plans.
enum class SpeculativeMethod { none, eagle, eagle3, mtp, ngram };
std::string_view to_string(SpeculativeMethod method);

// What vLLM's EAGLE / EAGLE-3 draft models (llama_eagle.py, llama_eagle3.py) read of the draft's
// config.json.
struct DraftShape {
  std::uint32_t layers = 0;  // num_hidden_layers
  std::uint32_t num_attention_heads = 0;
  std::uint32_t num_key_value_heads = 0;
  std::uint32_t head_dim = 0;
  std::uint64_t hidden_size = 0;
  std::uint64_t intermediate_size = 0;
  std::uint64_t vocab_size = 0;
  std::uint64_t draft_vocab_size = 0;    // EAGLE-3's lm_head rows (default vocab_size)
  std::uint64_t target_hidden_size = 0;  // EAGLE-3: the target's hidden states it reads (default hidden_size)
  std::uint32_t aux_hidden_states = 3;   // EAGLE-3: target layers whose hidden states feed its fc
  // Each decoder layer's attention (full or sliding), as LlamaAttention reads layer_types at the
  // draft-relative index; sliding layers attend over sliding_window tokens.
  std::vector<LayerAttention> layer_kinds;
  std::uint64_t sliding_window = 0;
  bool qkv_bias = false;  // attention_bias (or qkv_bias): QKVParallelLinear's bias
  bool o_bias = false;    // attention_bias: o_proj's bias
  bool mlp_bias = false;  // mlp_bias: gate_up_proj's and down_proj's biases
};

// vLLM takes any k >= 1 (SpeculativeConfig: gt=0); the EAGLE papers use up to 8 and kvplan refuses
// more than 64, far past any draft's acceptance.
inline constexpr std::uint32_t kMaxSpeculativeTokens = 64;

struct SpeculativeDecoding {
  SpeculativeMethod method = SpeculativeMethod::none;
  std::uint32_t num_speculative_tokens = 0;
  std::string draft_path;            // EAGLE / EAGLE-3: the draft's folder, as --speculative-config's "model"
  std::optional<DraftShape> draft;   // EAGLE / EAGLE-3
};

// "eagle3:PATH", "eagle:PATH", "mtp", "ngram" -> the method and the path (--speculative).
SpeculativeDecoding parse_speculative(std::string_view text);

// The draft's config.json (`where` names it in errors). Throws kvplan::Error naming the field
// (draft_config.cc).
DraftShape draft_shape_from_config(const ConfigNode& config, SpeculativeMethod method);

// Throws kvplan::Error (exit 2) when vLLM would refuse the draft for this target, or when kvplan
// does not plan the pair: another vocabulary or hidden size, K/V pages unlike the target's, or
// sliding layers whose window the target's sliding layers do not share.
void check_draft_fits_target(const DraftShape& draft, const ModelShape& target, const std::string& draft_name);

// Layers the draft adds to the target's KV cache groups: an EAGLE draft's decoder layers.
// (MTP layers are the target's own, counted by include_mtp; n-gram drafting caches nothing.)
std::uint32_t draft_cached_layers(const SpeculativeDecoding& speculative);
// The same layers' kinds, in order (empty without an EAGLE draft).
std::vector<LayerAttention> draft_layer_kinds(const SpeculativeDecoding& speculative);

// VllmConfig.num_lookahead_tokens: KV slots a request asks for past its tokens (k for EAGLE,
// EAGLE-3 and MTP; none for n-gram).
std::uint64_t lookahead_tokens(const SpeculativeDecoding& speculative);

// The draft's parameters on one TP rank, as vLLM's draft model allocates them, with the rule.
struct DraftWeights {
  std::uint64_t params_per_rank = 0;
  std::uint64_t extra_bytes_per_rank = 0;  // EAGLE-3's int64 draft-to-target token map
  std::string rule;
};
DraftWeights draft_weights_per_rank(const SpeculativeDecoding& speculative, std::uint32_t tp);

}  // namespace kvplan

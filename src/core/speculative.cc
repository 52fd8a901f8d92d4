#include "core/speculative.h"

#include <algorithm>

#include "core/checked.h"
#include "core/config_fields.h"
#include "core/error.h"

namespace kvplan {

std::string_view to_string(SpeculativeMethod method) {
  switch (method) {
    case SpeculativeMethod::none: return "none";
    case SpeculativeMethod::eagle: return "eagle";
    case SpeculativeMethod::eagle3: return "eagle3";
    case SpeculativeMethod::mtp: return "mtp";
    case SpeculativeMethod::ngram: return "ngram";
  }
  return "none";
}

SpeculativeDecoding parse_speculative(std::string_view text) {
  const std::size_t colon = text.find(':');
  const std::string_view name = text.substr(0, colon);
  const std::string path = colon == std::string_view::npos ? "" : std::string(text.substr(colon + 1));
  SpeculativeDecoding speculative;
  if (name == "eagle" || name == "eagle3") {
    if (path.empty()) {
      throw Error("--speculative " + std::string(name) + " needs the draft's folder: " + std::string(name) +
                  ":PATH (a folder with the draft's config.json)");
    }
    speculative.method = name == "eagle" ? SpeculativeMethod::eagle : SpeculativeMethod::eagle3;
    speculative.draft_path = path;
    return speculative;
  }
  if (name == "mtp" || name == "ngram") {
    if (colon != std::string_view::npos) {
      throw Error("--speculative " + std::string(name) + " takes no PATH: " +
                  (name == "mtp" ? "MTP drafts with the model's own MTP layers"
                                 : "n-gram drafting looks tokens up in the prompt, without a draft model"));
    }
    speculative.method = name == "mtp" ? SpeculativeMethod::mtp : SpeculativeMethod::ngram;
    return speculative;
  }
  throw Error("--speculative: expected eagle3:PATH, eagle:PATH, mtp or ngram, got '" + std::string(text) + "'");
}

void check_draft_fits_target(const DraftShape& draft, const ModelShape& target, const std::string& draft_name) {
  // The draft proposes token ids of the target's vocabulary (compute_logits maps its draft
  // vocabulary onto vocab_size) and reads the target's hidden states.
  if (target.vocab_size != 0 && draft.vocab_size != target.vocab_size) {
    throw Error(draft_name + ": vocab_size " + std::to_string(draft.vocab_size) + " is not the target's " +
                std::to_string(target.vocab_size) + "; the draft was trained for another model");
  }
  if (draft.target_hidden_size != target.hidden_size) {
    throw Error(draft_name + ": reads hidden states of " + std::to_string(draft.target_hidden_size) +
                " (target_hidden_size, else hidden_size), but the target's hidden_size is " +
                std::to_string(target.hidden_size) + "; the draft was trained for another model");
  }
  if (target.mla || target.full_layer_kv || target.v_head_dim != 0 || target.compressed_mla || target.num_key_value_heads == 0) {
    throw Error(draft_name + ": kvplan plans EAGLE drafts beside targets with plain K/V heads only; this target "
                "caches a latent or per-kind heads, so vLLM would pad its pages (not modelled)");
  }
  if (draft.num_key_value_heads != target.num_key_value_heads || draft.head_dim != target.head_dim) {
    // Another page size makes vLLM unify pages across the layers (its hybrid page rules), which
    // kvplan does not follow for drafts.
    throw Error(draft_name + ": " + std::to_string(draft.num_key_value_heads) + " K/V heads of " +
                std::to_string(draft.head_dim) + " differ from the target's " +
                std::to_string(target.num_key_value_heads) + " of " + std::to_string(target.head_dim) +
                "; kvplan plans drafts whose K/V page equals the target's");
  }
  // A sliding draft layer merges into the target's sliding group only with the same spec (window
  // included); a spec of its own would make a kind of one layer, and vLLM's groups of one layer.
  for (LayerAttention kind : draft.layer_kinds) {
    if (kind != LayerAttention::sliding) continue;
    if (target.layer_count(LayerAttention::sliding) == 0 || target.sliding_window != draft.sliding_window) {
      throw Error(draft_name + ": a sliding draft layer (window " + std::to_string(draft.sliding_window) +
                  ") beside a target " +
                  (target.layer_count(LayerAttention::sliding) == 0
                       ? std::string("without sliding layers")
                       : "whose sliding layers' window is " + std::to_string(target.sliding_window.value_or(0))) +
                  " would be a KV cache group kind of its own; kvplan plans sliding draft layers with the target's "
                  "window only");
    }
  }
}

std::uint32_t draft_cached_layers(const SpeculativeDecoding& speculative) {
  const bool eagle = speculative.method == SpeculativeMethod::eagle || speculative.method == SpeculativeMethod::eagle3;
  return eagle && speculative.draft ? speculative.draft->layers : 0;
}

std::vector<LayerAttention> draft_layer_kinds(const SpeculativeDecoding& speculative) {
  if (draft_cached_layers(speculative) == 0) return {};
  return speculative.draft->layer_kinds;
}

std::uint64_t lookahead_tokens(const SpeculativeDecoding& speculative) {
  return speculative.method == SpeculativeMethod::none || speculative.method == SpeculativeMethod::ngram
             ? 0
             : speculative.num_speculative_tokens;
}

DraftWeights draft_weights_per_rank(const SpeculativeDecoding& speculative, std::uint32_t tp) {
  DraftWeights weights;
  if (draft_cached_layers(speculative) == 0) return weights;
  const DraftShape& d = *speculative.draft;
  const bool eagle3 = speculative.method == SpeculativeMethod::eagle3;
  if (d.num_attention_heads % tp != 0 || d.intermediate_size % tp != 0) {
    throw Error("the draft's num_attention_heads " + std::to_string(d.num_attention_heads) + " and intermediate_size " +
                std::to_string(d.intermediate_size) + " must divide by TP " + std::to_string(tp) +
                " (vLLM shards the draft with the target's TP)");
  }
  const std::uint64_t h = d.hidden_size;
  const std::uint64_t kv_per_rank = std::max<std::uint64_t>(1, d.num_key_value_heads / tp);
  const std::uint64_t qkv_out = (d.num_attention_heads / tp + 2 * kv_per_rank) * d.head_dim;
  auto mul = [](std::uint64_t a, std::uint64_t b) { return checked_mul(a, b, "the draft's parameters"); };
  auto add = [](std::uint64_t a, std::uint64_t b) { return checked_add(a, b, "the draft's parameters"); };
  std::uint64_t params = 0;
  for (std::uint32_t layer = 0; layer < d.layers; ++layer) {
    // EAGLE-3's first layer reads [embedding, hidden state]: a qkv_proj of 2 x hidden inputs.
    const std::uint64_t qkv_in = eagle3 && layer == 0 ? 2 * h : h;
    params = add(params, mul(qkv_in, qkv_out));
    params = add(params, mul(d.num_attention_heads / tp * d.head_dim, h));  // o_proj, row-parallel
    params = add(params, mul(3 * h, d.intermediate_size / tp));             // gate, up, down
    // Biases: qkv_proj's split like its rows; o_proj's and down_proj's (row-parallel) whole on
    // every rank; gate_up_proj's split.
    if (d.qkv_bias) params = add(params, qkv_out);
    if (d.o_bias) params = add(params, h);
    if (d.mlp_bias) params = add(params, add(2 * (d.intermediate_size / tp), h));
    // RMSNorms, whole on every rank: input and post-attention (EAGLE drops layer 0's input norm),
    // and EAGLE-3's hidden_norm.
    params = add(params, eagle3 ? 3 * h : (layer == 0 ? h : 2 * h));
  }
  const std::uint64_t fc_in = eagle3 ? mul(d.aux_hidden_states, d.target_hidden_size) : 2 * h;
  params = add(params, mul(fc_in, h));  // fc: a ReplicatedLinear, whole on every rank
  const std::string biases = std::string(d.qkv_bias ? " qkv" : "") + (d.o_bias ? " o_proj" : "") + (d.mlp_bias ? " mlp" : "");
  std::string rule = std::to_string(d.layers) + " decoder layer" + (d.layers == 1 ? "" : "s") +
                     (biases.empty() ? "" : " (with" + biases + " biases)") + " / TP " + std::to_string(tp) + " + fc " + std::to_string(fc_in) + " x " + std::to_string(h) + " (replicated)";
  if (eagle3) {
    params = add(params, h);  // the final norm
    // ParallelLMHead pads its rows to a multiple of 64 and splits them over TP.
    const std::uint64_t rows = checked_round_up(d.draft_vocab_size, 64, "the draft's parameters");
    params = add(params, mul(ceil_div(rows, tp), h));
    rule += " + lm_head " + std::to_string(rows) + " x " + std::to_string(h) + " / TP " + std::to_string(tp);
    if (d.draft_vocab_size != d.vocab_size) {
      weights.extra_bytes_per_rank = mul(d.draft_vocab_size, 8);  // draft_id_to_target_id, int64
      rule += " + d2t " + std::to_string(d.draft_vocab_size) + " x 8 B";
    }
  }
  weights.params_per_rank = params;
  weights.rule = rule + "; embed_tokens shared with the target (vLLM's _maybe_share_embeddings, for a draft "
                        "checkpoint without its own or with the target's)";
  return weights;
}

}  // namespace kvplan

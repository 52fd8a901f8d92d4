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

DraftShape draft_shape_from_config(const ConfigNode& config, SpeculativeMethod method) {
  if (!config.is_map()) throw Error(config.where + ": the draft's config.json is not a JSON object");
  ConfigFields fields(config, "draft config");
  // EAGLEConfig names the class (Eagle{arch}, or Eagle3{arch} unless the name has Eagle3 already);
  // kvplan counts the Llama drafts' modules, llama_eagle.py's and llama_eagle3.py's.
  const ConfigNode* architectures = fields.get("architectures");
  const ConfigNode* first = architectures != nullptr && architectures->as_list() != nullptr &&
                                    !architectures->as_list()->empty()
                                ? &architectures->as_list()->front()
                                : nullptr;
  const std::string architecture = first != nullptr && first->as_string() != nullptr ? *first->as_string() : "";
  const bool llama = method == SpeculativeMethod::eagle3
                         ? architecture == "LlamaForCausalLM" || architecture == "LlamaForCausalLMEagle3" ||
                               architecture == "Eagle3LlamaForCausalLM"
                         : architecture == "LlamaForCausalLM" || architecture == "EagleLlamaForCausalLM";
  if (!llama) {
    fields.fail(first != nullptr ? first : architectures,
                "architectures: kvplan plans Llama " + std::string(method == SpeculativeMethod::eagle3 ? "EAGLE-3" : "EAGLE") +
                    " drafts (vLLM's " + (method == SpeculativeMethod::eagle3 ? "llama_eagle3.py" : "llama_eagle.py") +
                    "), not '" + architecture + "'");
  }
  DraftShape draft;
  draft.layers = fields.required_dim("num_hidden_layers");
  draft.num_attention_heads = fields.required_dim("num_attention_heads");
  draft.num_key_value_heads = fields.optional_dim("num_key_value_heads").value_or(draft.num_attention_heads);
  draft.hidden_size = fields.required_dim("hidden_size");
  draft.intermediate_size = fields.required_dim("intermediate_size");
  draft.vocab_size = fields.required_dim("vocab_size");
  // LlamaAttention: head_dim from the config, else hidden_size / heads.
  draft.head_dim = fields.optional_dim("head_dim").value_or(
      static_cast<std::uint32_t>(draft.hidden_size / draft.num_attention_heads));
  if (draft.head_dim == 0) fields.fail(fields.get("hidden_size"), "hidden_size is smaller than num_attention_heads");
  if (draft.num_attention_heads % draft.num_key_value_heads != 0) {
    fields.fail(fields.get("num_key_value_heads"), "num_attention_heads is not a multiple of num_key_value_heads");
  }
  // LlamaAttention makes a layer sliding only where layer_types says so; kvplan plans drafts of
  // full-attention layers (every EAGLE draft it has seen).
  if (const ConfigNode* types = fields.get("layer_types"); types != nullptr && types->as_list() != nullptr) {
    for (const ConfigNode& type : *types->as_list()) {
      if (type.as_string() != nullptr && *type.as_string() != "full_attention") {
        fields.fail(&type, "kvplan plans drafts of full-attention layers only, not '" + *type.as_string() + "'");
      }
    }
  }
  if (method == SpeculativeMethod::eagle3) {
    // Eagle3LlamaForCausalLM: draft_vocab_size defaults to vocab_size, target_hidden_size to
    // hidden_size; num_aux_hidden_states, else eagle_config's layer ids, else 3.
    draft.draft_vocab_size = fields.optional_dim("draft_vocab_size").value_or(draft.vocab_size);
    draft.target_hidden_size = fields.optional_dim("target_hidden_size").value_or(draft.hidden_size);
    if (std::optional<std::uint32_t> aux = fields.optional_dim("num_aux_hidden_states")) {
      draft.aux_hidden_states = *aux;
    } else if (const ConfigNode* eagle = fields.get("eagle_config"); eagle != nullptr && eagle->is_map()) {
      const ConfigNode* ids = eagle->find("eagle_aux_hidden_state_layer_ids");
      if (ids != nullptr && ids->as_list() != nullptr && !ids->as_list()->empty()) {
        draft.aux_hidden_states = static_cast<std::uint32_t>(ids->as_list()->size());
      }
    }
  } else {
    draft.draft_vocab_size = draft.vocab_size;
    draft.target_hidden_size = draft.hidden_size;
  }
  return draft;
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
  if (target.mla || target.full_layer_kv || target.compressed_mla || target.num_key_value_heads == 0) {
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
}

std::uint32_t draft_cached_layers(const SpeculativeDecoding& speculative) {
  const bool eagle = speculative.method == SpeculativeMethod::eagle || speculative.method == SpeculativeMethod::eagle3;
  return eagle && speculative.draft ? speculative.draft->layers : 0;
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
    // RMSNorms, whole on every rank: input and post-attention (EAGLE drops layer 0's input norm),
    // and EAGLE-3's hidden_norm.
    params = add(params, eagle3 ? 3 * h : (layer == 0 ? h : 2 * h));
  }
  const std::uint64_t fc_in = eagle3 ? mul(d.aux_hidden_states, d.target_hidden_size) : 2 * h;
  params = add(params, mul(fc_in, h));  // fc: a ReplicatedLinear, whole on every rank
  std::string rule = std::to_string(d.layers) + " decoder layer" + (d.layers == 1 ? "" : "s") + " / TP " +
                     std::to_string(tp) + " + fc " + std::to_string(fc_in) + " x " + std::to_string(h) + " (replicated)";
  if (eagle3) {
    params = add(params, h);  // the final norm
    // ParallelLMHead pads its rows to a multiple of 64 and splits them over TP.
    const std::uint64_t rows = ceil_div(d.draft_vocab_size, 64) * 64;
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

// An EAGLE / EAGLE-3 draft's config.json, read as vLLM 0.33 reads it: SpeculativeConfig loads it
// with the transformers class of its model_type (whose defaults fill what the file leaves out),
// wraps it in EAGLEConfig and builds llama_eagle.py's or llama_eagle3.py's model from it.
#include <string>

#include "core/config_fields.h"
#include "core/error.h"
#include "core/speculative.h"

namespace kvplan {
namespace {

// The transformers classes whose defaults kvplan knows: LlamaConfig has no layer_types and no
// attention biases; GptOssConfig (SpecForge's gpt-oss drafts keep model_type gpt_oss) fills
// layer_types with sliding_attention on even layers, sliding_window 128 and attention_bias true.
enum class DraftConfigClass { llama, gpt_oss };

DraftConfigClass config_class(const ConfigFields& fields) {
  const std::optional<std::string> model_type = fields.optional_string("model_type");
  if (!model_type || *model_type == "llama") return DraftConfigClass::llama;
  if (*model_type == "gpt_oss") return DraftConfigClass::gpt_oss;
  fields.fail(fields.get("model_type"),
              "model_type: kvplan knows the defaults (which layers slide, which biases exist) of llama and gpt_oss "
              "drafts only, not '" + *model_type + "'");
}

void read_layer_kinds(const ConfigFields& fields, DraftConfigClass cls, SpeculativeMethod method, DraftShape& draft) {
  draft.layer_kinds.assign(draft.layers, LayerAttention::full);
  const ConfigNode* types = fields.get("layer_types");
  if (method == SpeculativeMethod::eagle && (types != nullptr || cls == DraftConfigClass::gpt_oss)) {
    // llama_eagle.py does not set target_layer_count, so LlamaAttention indexes layer_types at the
    // absolute layer number (target layers + i) and asserts it is inside the list.
    fields.fail(types, "layer_types (given, or GptOssConfig's default): vLLM's EAGLE (1) draft indexes them at the "
                       "target's layer count and stops on an assertion; only eagle3 drafts may have them");
  }
  if (types != nullptr) {
    // LlamaAttention asserts the draft-relative index is inside layer_types.
    if (types->as_list() == nullptr || types->as_list()->size() < draft.layers) {
      fields.fail(types, "layer_types needs one entry per draft layer (num_hidden_layers " +
                             std::to_string(draft.layers) + ")");
    }
    for (std::uint32_t i = 0; i < draft.layers; ++i) {
      const ConfigNode& type = (*types->as_list())[i];
      const std::string name = type.as_string() != nullptr ? *type.as_string() : "";
      if (name == "sliding_attention") {
        draft.layer_kinds[i] = LayerAttention::sliding;
      } else if (name != "full_attention") {
        fields.fail(&type, "layer_types: kvplan plans full_attention and sliding_attention draft layers, not '" +
                               name + "'");
      }
    }
  } else if (cls == DraftConfigClass::gpt_oss) {
    // GptOssConfig: "sliding_attention" if bool((i + 1) % 2) else "full_attention".
    for (std::uint32_t i = 0; i < draft.layers; i += 2) draft.layer_kinds[i] = LayerAttention::sliding;
  }
  bool sliding = false;
  for (LayerAttention kind : draft.layer_kinds) sliding = sliding || kind == LayerAttention::sliding;
  if (!sliding) return;
  if (std::optional<std::uint64_t> window = fields.optional_positive("sliding_window")) {
    draft.sliding_window = *window;
  } else if (cls == DraftConfigClass::gpt_oss) {
    draft.sliding_window = 128;  // GptOssConfig's default
  } else {
    fields.fail(fields.get("layer_types"), "layer_types has sliding_attention layers but the config has no "
                                           "sliding_window (vLLM's LlamaAttention reads config.sliding_window)");
  }
}

void read_biases(const ConfigFields& fields, DraftConfigClass cls, DraftShape& draft) {
  // llama.py's LlamaDecoderLayer: attention_bias (or bias) for qkv_proj and o_proj, qkv_bias
  // overriding qkv_proj's; llama_eagle3.py rebuilds layer 0's qkv_proj with attention_bias;
  // LlamaMLP's bias is mlp_bias.
  const bool attention = fields.optional_bool("attention_bias").value_or(cls == DraftConfigClass::gpt_oss) ||
                         fields.optional_bool("bias").value_or(false);
  draft.o_bias = attention;
  draft.qkv_bias = fields.optional_bool("qkv_bias").value_or(attention);
  draft.mlp_bias = fields.optional_bool("mlp_bias").value_or(false);
}

}  // namespace

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
  const DraftConfigClass cls = config_class(fields);
  DraftShape draft;
  draft.layers = fields.required_dim("num_hidden_layers");
  draft.num_attention_heads = fields.required_dim("num_attention_heads");
  draft.hidden_size = fields.required_dim("hidden_size");
  draft.intermediate_size = fields.required_dim("intermediate_size");
  draft.vocab_size = fields.required_dim("vocab_size");
  if (cls == DraftConfigClass::gpt_oss) {
    // GptOssConfig's defaults are gpt-oss-120b's, not LlamaAttention's fallbacks: kvplan asks for both.
    draft.num_key_value_heads = fields.required_dim("num_key_value_heads");
    draft.head_dim = fields.required_dim("head_dim");
  } else {
    draft.num_key_value_heads = fields.optional_dim("num_key_value_heads").value_or(draft.num_attention_heads);
    // LlamaAttention: head_dim from the config, else hidden_size / heads.
    draft.head_dim = fields.optional_dim("head_dim").value_or(
        static_cast<std::uint32_t>(draft.hidden_size / draft.num_attention_heads));
  }
  if (draft.head_dim == 0) fields.fail(fields.get("hidden_size"), "hidden_size is smaller than num_attention_heads");
  if (draft.num_attention_heads % draft.num_key_value_heads != 0) {
    fields.fail(fields.get("num_key_value_heads"), "num_attention_heads is not a multiple of num_key_value_heads");
  }
  read_layer_kinds(fields, cls, method, draft);
  read_biases(fields, cls, draft);
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

}  // namespace kvplan

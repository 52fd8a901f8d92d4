#include "core/checkpoint_shards.h"

#include <algorithm>
#include <array>

#include "core/checked.h"
#include "core/error.h"

namespace kvplan {
namespace {

constexpr std::array kColumnModules = {"q_proj", "qkv_proj", "query_key_value", "gate_proj", "up_proj",
                                       "gate_up_proj", "q_b_proj", "kv_b_proj", "c_attn", "c_fc", "fc1",
                                       "w1", "w3", "wq", "wqkv", "dense_h_to_4h"};
constexpr std::array kKvModules = {"k_proj", "v_proj"};
constexpr std::array kRowModules = {"o_proj", "down_proj", "out_proj", "c_proj", "fc2", "w2", "wo", "dense",
                                    "dense_4h_to_h"};
constexpr std::array kEmbeddingModules = {"embed_tokens", "wte", "word_embeddings", "tok_embeddings"};
constexpr std::array kFinalNormModules = {"norm", "ln_f", "final_layernorm", "final_norm"};
// Encoders beside the decoder (vision towers, projectors): loaded on the first stage, never part
// of a decoder layer even where their own blocks are called layers.
constexpr std::array kEncoderMarks = {"vision", "visual", "audio", "encoder", "multi_modal_projector",
                                      "mm_projector"};
// vLLM's DEFAULT_VOCAB_PADDING_SIZE (vocab_parallel_embedding.py): the vocabulary is padded to a
// multiple of 64 before it is divided over TP.
constexpr std::uint64_t kVocabPadding = 64;

template <std::size_t N>
bool one_of(std::string_view text, const std::array<const char*, N>& names) {
  return std::any_of(names.begin(), names.end(), [&](const char* name) { return text == name; });
}

std::vector<std::string_view> split_dots(std::string_view name) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (std::size_t dot = name.find('.'); dot != std::string_view::npos; dot = name.find('.', start)) {
    parts.push_back(name.substr(start, dot - start));
    start = dot + 1;
  }
  parts.push_back(name.substr(start));
  return parts;
}

bool is_index(std::string_view text) {
  return !text.empty() && text.size() <= 9 && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// AWQ and GPTQ store their packed weights transposed (input features first), so the dimension a
// layer splits is the other one.
bool transposed_packing(const std::string& quant_method, std::string_view param) {
  return (quant_method == "awq" || quant_method == "gptq") && (param == "qweight" || param == "qzeros" || param == "scales");
}

// Bytes of one rank's slice when dimension `dim` (padded to `padded` rows, if given) is split into
// `parts`. A weight must split evenly, as vLLM's divide() asserts; scales with one row per block
// keep ceil(size / parts) rows. Tensors without that dimension (biases of row-parallel layers,
// per-tensor scales) are whole on every rank.
std::uint64_t split_bytes(const CheckpointTensor& tensor, std::size_t dim, std::uint64_t parts, bool weight,
                          std::uint64_t padded = 0) {
  if (dim >= tensor.shape.size() || tensor.shape[dim] == 0) return tensor.bytes;
  const std::uint64_t size = tensor.shape[dim];
  const std::uint64_t split = padded != 0 ? padded : size;
  if (weight && split % parts != 0) {
    throw Error("vLLM splits " + tensor.name + " (" + std::to_string(split) + (padded != 0 ? " padded" : "") +
                " rows or columns) evenly over " + std::to_string(parts) + " TP ranks, and " + std::to_string(split) +
                " is not a multiple of " + std::to_string(parts) + "; choose another --tp");
  }
  return ceil_div(checked_mul(tensor.bytes, ceil_div(split, parts), "the bytes of tensor " + tensor.name), size);
}

std::uint64_t rank_bytes(const CheckpointTensor& tensor, const TensorPlacement& place, const ModelShape& shape,
                         const Parallelism& parallel, const std::string& quant_method) {
  const std::string_view param = split_dots(tensor.name).back();
  const bool weight = param == "weight";
  const bool transposed = transposed_packing(quant_method, param);
  const std::size_t out_dim = transposed ? 1 : 0;
  const std::size_t in_dim = transposed ? 0 : 1;
  switch (place.role) {
    case TensorRole::embedding:
    case TensorRole::lm_head:
      if (tensor.shape.empty()) return tensor.bytes;
      return split_bytes(tensor, 0, parallel.tp, weight,
                         checked_round_up(tensor.shape[0], kVocabPadding, "the padded vocabulary of " + tensor.name));
    case TensorRole::column: return split_bytes(tensor, out_dim, parallel.tp, weight);
    case TensorRole::kv_column: {
      // QKVParallelLinear: with fewer K/V heads than ranks each rank holds one whole head.
      std::uint64_t kv_heads = shape.num_key_value_heads;
      return split_bytes(tensor, out_dim, kv_heads != 0 ? std::min<std::uint64_t>(parallel.tp, kv_heads) : parallel.tp,
                         weight);
    }
    case TensorRole::row: return split_bytes(tensor, in_dim, parallel.tp, weight);
    case TensorRole::expert: {
      // Whole experts (--enable-expert-parallel) or a slice of each: the same bytes per rank.
      return ceil_div(tensor.bytes, parallel.expert_ranks());
    }
    case TensorRole::replicated: return tensor.bytes;
    case TensorRole::not_loaded: return 0;
  }
  return tensor.bytes;
}

std::uint32_t stage_of_layer(std::uint32_t layer, const std::vector<std::uint32_t>& stage_layers) {
  std::uint32_t first = 0;
  for (std::uint32_t stage = 0; stage < stage_layers.size(); ++stage) {
    first += stage_layers[stage];
    if (layer < first) return stage;
  }
  return static_cast<std::uint32_t>(stage_layers.size() - 1);
}

bool on_stage(const TensorPlacement& place, const ModelShape& shape, const std::vector<std::uint32_t>& stage_layers,
              std::uint32_t stage) {
  const std::uint32_t last = static_cast<std::uint32_t>(stage_layers.size() - 1);
  if (place.in_layer) return stage_of_layer(place.layer, stage_layers) == stage;
  if (place.role == TensorRole::embedding) {
    // A tied LM head is the embedding: the last stage builds its own copy (LlamaModel keeps
    // embed_tokens on the last rank when tie_word_embeddings).
    return stage == 0 || (shape.tie_word_embeddings && stage == last);
  }
  return place.last_stage ? stage == last : stage == 0;
}

}  // namespace

std::string_view to_string(TensorRole role) {
  switch (role) {
    case TensorRole::embedding: return "embedding";
    case TensorRole::lm_head: return "lm_head";
    case TensorRole::column: return "column-parallel";
    case TensorRole::kv_column: return "k/v projections";
    case TensorRole::row: return "row-parallel";
    case TensorRole::expert: return "experts";
    case TensorRole::replicated: return "replicated";
    case TensorRole::not_loaded: return "not loaded";
  }
  return "?";
}

TensorPlacement place_tensor(const std::string& name, const ModelShape& shape) {
  const std::vector<std::string_view> parts = split_dots(name);
  TensorPlacement place;
  const bool encoder = std::any_of(kEncoderMarks.begin(), kEncoderMarks.end(),
                                   [&](const char* mark) { return name.find(mark) != std::string::npos; });
  for (std::size_t i = 0; i + 1 < parts.size() && !encoder; ++i) {
    if ((parts[i] == "layers" || parts[i] == "h" || parts[i] == "blocks") && is_index(parts[i + 1])) {
      place.in_layer = true;
      place.layer = static_cast<std::uint32_t>(std::stoul(std::string(parts[i + 1])));
      break;
    }
  }
  // The module is the part before the parameter's name (weight, bias, weight_scale, qweight);
  // gpt-oss names its fused expert blocks after the parameter (experts.gate_up_proj_blocks).
  const std::string_view module = parts.size() >= 2 ? parts[parts.size() - 2] : parts.back();
  const bool expert = name.find(".experts.") != std::string::npos || module == "experts";
  if (name.find("rotary_emb.inv_freq") != std::string::npos ||
      (place.in_layer && shape.num_hidden_layers != 0 && place.layer >= shape.num_hidden_layers)) {
    // Layers past num_hidden_layers are MTP modules (DeepSeek-V3's layer 61): vLLM loads them only
    // into a speculative draft model. Rotary tables are recomputed, never loaded.
    place.role = TensorRole::not_loaded;
  } else if (expert) {
    place.role = TensorRole::expert;
  } else if (parts.front() == "lm_head" || module == "lm_head") {
    place.role = TensorRole::lm_head;
    place.last_stage = true;
  } else if (one_of(module, kEmbeddingModules) && !encoder) {
    place.role = TensorRole::embedding;
  } else if (one_of(module, kKvModules)) {
    place.role = place.in_layer ? TensorRole::kv_column : TensorRole::column;
  } else if (one_of(module, kColumnModules)) {
    place.role = TensorRole::column;
  } else if (one_of(module, kRowModules)) {
    place.role = TensorRole::row;
  } else {
    place.role = TensorRole::replicated;
    place.last_stage = !place.in_layer && !encoder && one_of(module, kFinalNormModules);
  }
  return place;
}

RankWeights checkpoint_stage_weights(const ModelShape& shape, const Parallelism& parallel, std::uint32_t stage) {
  if (!shape.checkpoint) throw Error("the model was not read from a checkpoint", ExitCode::internal);
  const Checkpoint& checkpoint = *shape.checkpoint;
  const std::vector<std::uint32_t> stage_layers = pp_stage_layers(shape.num_hidden_layers, parallel.pp);
  RankWeights weights;
  for (const CheckpointTensor& tensor : checkpoint.tensors) {
    const TensorPlacement place = place_tensor(tensor.name, shape);
    if (place.role == TensorRole::not_loaded) {
      weights.not_loaded_bytes = checked_add(weights.not_loaded_bytes, tensor.bytes, "the checkpoint's bytes");
      ++weights.not_loaded_tensors;
      continue;
    }
    if (!on_stage(place, shape, stage_layers, stage)) continue;
    const std::uint64_t bytes = rank_bytes(tensor, place, shape, parallel, checkpoint.quant_method);
    weights.bytes = checked_add(weights.bytes, bytes, "the checkpoint's bytes per GPU");
    weights.by_dtype[dtype_label(tensor.dtype)] += bytes;  // each part is at most the sum just checked
    weights.by_role[std::string(to_string(place.role))] += bytes;
  }
  return weights;
}

std::uint32_t checkpoint_widest_stage(const ModelShape& shape, const Parallelism& parallel) {
  std::uint32_t widest = 0;
  std::uint64_t widest_bytes = 0;
  for (std::uint32_t stage = 0; stage < parallel.pp; ++stage) {
    const std::uint64_t bytes = checkpoint_stage_weights(shape, parallel, stage).bytes;
    if (bytes > widest_bytes) {
      widest = stage;
      widest_bytes = bytes;
    }
  }
  return widest;
}

Bytes checkpoint_weights_per_rank(const ModelShape& shape, const Parallelism& parallel) {
  return Bytes{checkpoint_stage_weights(shape, parallel, checkpoint_widest_stage(shape, parallel)).bytes};
}

std::string checkpoint_weights_rule(const ModelShape& shape, const Parallelism& parallel, std::uint32_t stage) {
  const RankWeights weights = checkpoint_stage_weights(shape, parallel, stage);
  std::string rule = "the checkpoint's tensors as vLLM shards them, TP " +
                     std::to_string(parallel.tp) + (parallel.pp > 1 ? ", PP stage " + std::to_string(stage) : "") +
                     (parallel.expert_dp > 1 ? ", routed experts over TP x DP " + std::to_string(parallel.expert_ranks()) : "") + ": ";
  std::string separator;
  for (const auto& [dtype, bytes] : weights.by_dtype) {
    rule += separator + std::to_string(bytes) + " B " + dtype;
    separator = " + ";
  }
  rule += "; by role:";
  separator = " ";
  for (const auto& [role, bytes] : weights.by_role) {
    rule += separator + role + " " + std::to_string(bytes) + " B";
    separator = ", ";
  }
  if (weights.not_loaded_tensors > 0) {
    rule += "; not loaded: " + std::to_string(weights.not_loaded_tensors) + " tensors, " +
            std::to_string(weights.not_loaded_bytes) + " B (MTP layers, rotary tables)";
  }
  return rule;
}

WeightsDtype checkpoint_weights_dtype(const Checkpoint& checkpoint) {
  std::map<std::string, std::uint64_t> by_dtype;
  std::uint64_t bytes = 0, elements = 0;
  for (const CheckpointTensor& tensor : checkpoint.tensors) {
    by_dtype[dtype_label(tensor.dtype)] += tensor.bytes;
    bytes = checked_add(bytes, tensor.bytes, "the checkpoint's bytes");
    elements = checked_add(elements, tensor.elements, "the checkpoint's parameter count");
  }
  if (elements == 0) throw Error("the checkpoint (" + checkpoint.origin + ") holds no tensor");
  // The dtypes by the bytes they hold, largest first.
  std::vector<std::pair<std::uint64_t, std::string>> order;
  for (const auto& [dtype, dtype_bytes] : by_dtype) order.emplace_back(dtype_bytes, dtype);
  std::sort(order.rbegin(), order.rend());
  std::string name;
  for (const auto& [dtype_bytes, dtype] : order) name += (name.empty() ? "" : "+") + dtype;
  return {name, static_cast<double>(bytes) / static_cast<double>(elements),
          "the checkpoint's safetensors headers (" + checkpoint.origin + ")"};
}

std::string dtype_label(const std::string& safetensors_dtype) {
  static const std::map<std::string, std::string> kLabels = {
      {"BF16", "bf16"},         {"F16", "fp16"},          {"F32", "fp32"},   {"F64", "fp64"},
      {"F8_E4M3", "fp8_e4m3"},  {"F8_E5M2", "fp8_e5m2"},  {"F8_E8M0", "e8m0"}, {"F4", "fp4"},
      {"F6_E2M3", "fp6_e2m3"},  {"F6_E3M2", "fp6_e3m2"},  {"I8", "int8"},    {"U8", "uint8"},
      {"I16", "int16"},         {"U16", "uint16"},        {"I32", "int32"},  {"U32", "uint32"},
      {"I64", "int64"},         {"U64", "uint64"},        {"BOOL", "bool"}};
  auto found = kLabels.find(safetensors_dtype);
  return found != kLabels.end() ? found->second : safetensors_dtype;
}

}  // namespace kvplan

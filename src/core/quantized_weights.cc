#include "core/quantized_weights.h"

#include <map>
#include <optional>
#include <regex>

#include "core/checked.h"
#include "core/error.h"

namespace kvplan {
namespace {

constexpr std::string_view kWhat = "the checkpoint's weights";
std::uint64_t mul(std::uint64_t a, std::uint64_t b) { return checked_mul(a, b, kWhat); }
std::uint64_t add(std::uint64_t a, std::uint64_t b) { return checked_add(a, b, kWhat); }

void add_mlp(std::vector<LinearModule>& modules, const std::string& prefix, const std::string& part,
             std::uint64_t hidden, std::uint64_t intermediate, std::uint64_t count) {
  if (intermediate == 0 || count == 0) return;
  modules.push_back({prefix + "gate_proj", part, intermediate, hidden, count});
  modules.push_back({prefix + "up_proj", part, intermediate, hidden, count});
  modules.push_back({prefix + "down_proj", part, hidden, intermediate, count});
}

void add_attention(std::vector<LinearModule>& modules, const ModelShape& shape, const std::string& prefix,
                   bool full_layer) {
  const std::uint64_t hidden = shape.hidden_size;
  const std::uint64_t heads = shape.num_attention_heads;
  if (const auto& mla = shape.mla) {
    // DeepSeek-V2/V3 and Kimi-K2's MLA projections (modeling_deepseek.py's names).
    const std::uint64_t q_head = std::uint64_t{mla->qk_nope_head_dim} + mla->qk_rope_head_dim;
    if (mla->q_lora_rank) {
      modules.push_back({prefix + "q_a_proj", "attention", *mla->q_lora_rank, hidden, 1});
      modules.push_back({prefix + "q_b_proj", "attention", mul(heads, q_head), *mla->q_lora_rank, 1});
    } else {
      modules.push_back({prefix + "q_proj", "attention", mul(heads, q_head), hidden, 1});
    }
    modules.push_back({prefix + "kv_a_proj_with_mqa", "attention",
                       std::uint64_t{mla->kv_lora_rank} + mla->qk_rope_head_dim, hidden, 1});
    modules.push_back({prefix + "kv_b_proj", "attention",
                       mul(heads, std::uint64_t{mla->qk_nope_head_dim} + mla->v_head_dim), mla->kv_lora_rank, 1});
    modules.push_back({prefix + "o_proj", "attention", hidden, mul(heads, mla->v_head_dim), 1});
    return;
  }
  // A full layer with K/V heads of its own (MiMo-V2-Flash) projects to its own widths.
  const bool own = full_layer && shape.full_layer_kv;
  const std::uint64_t kv_heads = own ? shape.full_layer_kv->num_key_value_heads : shape.num_key_value_heads;
  const std::uint64_t k_dim = own ? shape.full_layer_kv->head_dim : shape.head_dim;
  const std::uint64_t v_narrow = own ? shape.full_layer_kv->v_head_dim : shape.v_head_dim;
  const std::uint64_t v_dim = v_narrow != 0 ? v_narrow : k_dim;
  modules.push_back({prefix + "q_proj", "attention", mul(heads, k_dim), hidden, 1});
  modules.push_back({prefix + "k_proj", "attention", mul(kv_heads, k_dim), hidden, 1});
  modules.push_back({prefix + "v_proj", "attention", mul(kv_heads, v_dim), hidden, 1});
  modules.push_back({prefix + "o_proj", "attention", hidden, mul(heads, v_dim), 1});
}

// A compressed-tensors ignore entry: "re:" + a pattern Python's re.match applies from the start of
// the module name, or an exact module name.
struct IgnoreRule {
  std::string text;
  std::optional<std::regex> pattern;
};

std::vector<IgnoreRule> ignore_rules(const WeightQuantization& quantization) {
  std::vector<IgnoreRule> rules;
  for (const std::string& entry : quantization.ignore) {
    IgnoreRule rule{entry, std::nullopt};
    if (entry.rfind("re:", 0) == 0) {
      try {
        rule.pattern.emplace(entry.substr(3), std::regex::ECMAScript);
      } catch (const std::regex_error&) {
        throw Error("quantization_config.ignore: '" + entry + "' is not a regular expression kvplan can read");
      }
    }
    rules.push_back(std::move(rule));
  }
  return rules;
}

bool ignored(const std::string& name, const std::vector<IgnoreRule>& rules) {
  for (const IgnoreRule& rule : rules) {
    if (rule.pattern ? std::regex_search(name, *rule.pattern, std::regex_constants::match_continuous)
                     : name == rule.text) {
      return true;
    }
  }
  return false;
}

// Scales one matrix stores, by the scheme's strategy.
std::uint64_t scales_per_matrix(const WeightQuantization& q, const LinearModule& m) {
  if (q.strategy == "block") return mul(ceil_div(m.rows, q.block_rows), ceil_div(m.cols, q.block_cols));
  if (q.strategy == "group") return mul(m.rows, ceil_div(m.cols, q.group_size));
  if (q.strategy == "channel") return m.rows;
  return 1;  // tensor
}

std::string quantized_format(const WeightQuantization& q) {
  std::string values = (q.type == "float" ? "fp" : "int") + std::to_string(q.bits);
  std::string scale = std::to_string(q.scale_bytes) + " B scale";
  if (q.strategy == "block") {
    return values + ", one " + scale + " per " + std::to_string(q.block_rows) + "x" + std::to_string(q.block_cols) + " block";
  }
  if (q.strategy == "group") return values + ", one " + scale + " per " + std::to_string(q.group_size) + " values";
  if (q.strategy == "channel") return values + ", one " + scale + " per output channel";
  return values + ", one " + scale + " per matrix";
}

}  // namespace

std::vector<LinearModule> linear_modules(const ModelShape& shape) {
  std::vector<LinearModule> modules;
  const std::uint64_t hidden = shape.hidden_size;
  for (std::uint32_t layer = 0; layer < shape.num_hidden_layers; ++layer) {
    const std::string prefix = "model.layers." + std::to_string(layer) + ".";
    add_attention(modules, shape, prefix + "self_attn.", shape.layer_attention.size() > layer &&
                                                             shape.layer_attention[layer] == LayerAttention::full);
    if (!shape.moe || layer < shape.moe->first_dense_layers) {
      add_mlp(modules, prefix + "mlp.", "dense MLP", hidden, shape.intermediate_size, 1);
      continue;
    }
    const MoeDims& moe = *shape.moe;
    add_mlp(modules, prefix + "mlp.experts.0.", "routed experts", hidden, moe.moe_intermediate_size, moe.num_experts);
    add_mlp(modules, prefix + "mlp.shared_experts.", "shared experts", hidden,
            mul(moe.num_shared_experts, moe.moe_intermediate_size), 1);
    add_mlp(modules, prefix + "mlp.shared_expert.", "shared experts", hidden, moe.shared_expert_intermediate_size, 1);
  }
  return modules;
}

std::vector<WeightPart> checkpoint_weight_parts(const ModelShape& shape) {
  const WeightQuantization& q = shape.quantization;
  if (!q.why_unsized.empty()) {
    throw Error("--weights-dtype auto: kvplan cannot size " + q.why_unsized + "; pass --weights-dtype");
  }
  if (!shape.params_total || shape.hidden_size == 0) {
    throw Error("--weights-dtype auto: a quantized checkpoint needs its parameter count and hidden_size to be sized; "
                "pass --weights-dtype");
  }
  const std::vector<IgnoreRule> rules = ignore_rules(q);
  // By part, quantized or not, in the order the parts first appear.
  std::vector<WeightPart> parts;
  std::map<std::string, std::size_t> index;
  std::uint64_t linear = 0;
  const std::string bf16 = "bf16";
  for (const LinearModule& module : linear_modules(shape)) {
    const std::uint64_t params = mul(mul(module.rows, module.cols), module.count);
    linear = add(linear, params);
    const bool quantized = !ignored(module.name, rules);
    const std::string key = module.part + (quantized ? "" : " (ignored)");
    auto [entry, fresh] = index.try_emplace(key, parts.size());
    if (fresh) parts.push_back({module.part + (quantized ? "" : " (in quantization_config.ignore)"), 0,
                                quantized ? quantized_format(q) : bf16, 0});
    WeightPart& part = parts[entry->second];
    part.params = add(part.params, params);
    if (quantized) {
      const std::uint64_t scales = mul(scales_per_matrix(q, module), module.count);
      part.bytes += static_cast<double>(params) * q.bits / 8 + static_cast<double>(scales) * q.scale_bytes;
    } else {
      part.bytes += static_cast<double>(params) * 2;
    }
  }
  if (linear > *shape.params_total) {
    throw Error("--weights-dtype auto: params.total (" + std::to_string(*shape.params_total) + ") is below the " +
                std::to_string(linear) + " parameters of the linear layers the shapes imply; give the exact count");
  }
  // vLLM builds embeddings, the LM head, norms and MoE routers unquantized (Fp8Config and
  // CompressedTensorsConfig quantize LinearBase and expert layers only; routers are built
  // without a quant_config).
  const std::uint64_t rest = *shape.params_total - linear;
  parts.push_back({"embeddings, LM head, norms, routers", rest, bf16, static_cast<double>(rest) * 2});
  return parts;
}

}  // namespace kvplan

#include "core/rope_cache.h"

#include <cmath>
#include <cstdio>
#include <optional>

#include "core/checked.h"
#include "core/units.h"

namespace kvplan {
namespace {

constexpr std::string_view kWhat = "the RoPE cos/sin tables";

bool is_one_of(const std::string& value, std::initializer_list<std::string_view> names) {
  for (std::string_view name : names) {
    if (value == name) return true;
  }
  return false;
}

std::string fmt_factor(double factor) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", factor);
  return text;
}

// rope_scaling (transformers < 5) or rope_parameters (transformers >= 5), when it is a map.
const ConfigNode* scaling_map(const ConfigFields& fields) {
  for (std::string_view key : {"rope_scaling", "rope_parameters"}) {
    const ConfigNode* node = fields.get(key);
    if (node != nullptr && node->as_map() != nullptr) return node;
  }
  return nullptr;
}

// Rows of the table, as vLLM's get_rope (rotary_embedding/__init__.py) builds each scaling type:
// RotaryEmbedding and Llama3RotaryEmbedding cover max_position; LinearScalingRotaryEmbedding and
// DynamicNTKScalingRotaryEmbedding max_position x factor; YaRNScalingRotaryEmbedding and
// DeepseekScalingRotaryEmbedding original_max_position_embeddings x factor.
RopeCache table(const ConfigFields* scaling, std::uint64_t max_position, std::uint32_t rotary_dim) {
  RopeCache cache{max_position, rotary_dim, false, "max_position_embeddings " + std::to_string(max_position)};
  if (scaling == nullptr) return cache;
  const std::string type =
      scaling->optional_string("rope_type").value_or(scaling->optional_string("type").value_or("default"));
  const double factor = scaling->optional_positive_number("factor").value_or(1.0);
  const auto scaled = [&](std::uint64_t positions, const std::string& base) {
    const double rows = std::floor(static_cast<double>(positions) * factor);
    if (!(rows < static_cast<double>(kMaxTokens))) {
      scaling->fail(scaling->get("factor"), "factor x " + base + " is beyond " + std::to_string(kMaxTokens) + " positions");
    }
    cache.positions = static_cast<std::uint64_t>(rows);
    cache.why = type + ": " + base + " " + std::to_string(positions) + " x factor " + fmt_factor(factor);
  };
  if (type == "linear" || type == "dynamic") {
    scaled(max_position, "max_position_embeddings");
  } else if (type == "yarn" || type == "deepseek_yarn") {
    const std::uint64_t original =
        scaling->optional_bounded("original_max_position_embeddings", kMaxTokens, true).value_or(max_position);
    scaled(original, "original_max_position_embeddings");
  } else {
    cache.why = type + ": " + cache.why;
  }
  return cache;
}

// vLLM 0.33's build_deepseek_v4_rope (models/deepseek_v4/common/rope.py): fp32 tables of
// qk_rope_head_dim values (is_deepseek_v4). Window-only layers rotate with rope_theta without
// scaling over max_position_embeddings; compressed (CSA, HCA) layers with compress_rope_theta and
// the config's YaRN. One table per kind the model has (V4-Flash both, V4-Pro no window-only layer).
std::vector<RopeCache> deepseek_v4_tables(const ConfigFields* scaling, const ModelShape& shape) {
  const CompressedMlaDims& dims = *shape.compressed_mla;
  const auto has = [&](bool compressed) {
    for (std::uint32_t ratio : dims.compress_ratio) {
      if ((ratio > 1) == compressed) return true;
    }
    return false;
  };
  std::vector<RopeCache> caches;
  if (has(false)) {
    caches.push_back(table(nullptr, shape.max_position_embeddings, dims.rope_head_dim));
    caches.back().why = "window-only layers, rope_theta: " + caches.back().why;
  }
  if (has(true)) {
    caches.push_back(table(scaling, shape.max_position_embeddings, dims.rope_head_dim));
    caches.back().why = "compressed layers, compress_rope_theta: " + caches.back().why;
  }
  for (RopeCache& cache : caches) cache.fp32 = true;
  return caches;
}

// mimo_v2.py:MiMoV2Attention asks get_rope for a "default" table (rope_scaling is not read) of
// int(head_dim x partial_rotary_factor) dims: the full layers at rope_theta (MiMo's default 1e6),
// the sliding layers at swa_rope_theta (default rope_theta). get_rope keys its cache by the base,
// so two bases make two tables.
std::vector<RopeCache> mimo_v2_tables(const ConfigFields& fields, const ModelShape& shape, double partial) {
  const double base = fields.optional_positive_number("rope_theta").value_or(1000000);
  const double swa_base = fields.optional_positive_number("swa_rope_theta").value_or(base);
  auto rotary = [partial](std::uint32_t head_dim) {
    return static_cast<std::uint32_t>(static_cast<double>(head_dim) * partial);
  };
  const std::uint32_t full_head = shape.full_layer_kv ? shape.full_layer_kv->head_dim : shape.head_dim;
  std::vector<RopeCache> caches;
  if (shape.layer_count(LayerAttention::full) > 0) {
    caches.push_back(table(nullptr, shape.max_position_embeddings, rotary(full_head)));
    caches.back().why = "the full layers' rope_theta: " + caches.back().why;
  }
  if (shape.sliding_layer_count() > 0 &&
      (caches.empty() || swa_base != base || rotary(shape.head_dim) != rotary(full_head))) {
    caches.push_back(table(nullptr, shape.max_position_embeddings, rotary(shape.head_dim)));
    caches.back().why = "the sliding layers' swa_rope_theta: " + caches.back().why;
  }
  return caches;
}

}  // namespace

std::vector<RopeCache> read_rope_caches(const ConfigFields& fields, const ModelShape& shape) {
  const std::string& type = shape.model_type;
  // Attention without rotary embeddings: Jamba, Nemotron-H and Kimi-Linear's attention layers, and
  // Granite-4.0-H unless position_embedding_type says rope (granitemoehybrid.py).
  if (is_one_of(type, {"jamba", "nemotron_h", "kimi_linear"})) return {};
  if (type == "granitemoehybrid" && fields.optional_string("position_embedding_type") != "rope") return {};
  if (shape.max_position_embeddings == 0) return {};
  const ConfigNode* scaling_node = scaling_map(fields);
  std::optional<ConfigFields> scaling;
  if (scaling_node != nullptr) scaling.emplace(*scaling_node, "rope_scaling");
  if (shape.compressed_mla) return deepseek_v4_tables(scaling ? &*scaling : nullptr, shape);
  // get_rope: rotary_dim = head_size x partial_rotary_factor; MLA rotates its qk_rope_head_dim part.
  double partial = fields.optional_positive_number("partial_rotary_factor").value_or(1.0);
  if (scaling) partial = scaling->optional_positive_number("partial_rotary_factor").value_or(partial);
  if (partial > 1.0) fields.fail(fields.get("partial_rotary_factor"), "partial_rotary_factor must be at most 1");
  if (type == "mimo_v2_flash") return mimo_v2_tables(fields, shape, partial);
  const std::uint32_t rotary_dim = shape.mla ? shape.mla->qk_rope_head_dim
                                             : static_cast<std::uint32_t>(static_cast<double>(shape.head_dim) * partial);
  std::vector<RopeCache> caches{table(scaling ? &*scaling : nullptr, shape.max_position_embeddings, rotary_dim)};
  if (type == "gpt_oss") caches.front().fp32 = true;  // gpt_oss.py passes dtype=torch.float32
  if (type == "gemma3_text") {
    // gemma3.py: sliding layers rotate with rope_local_base_freq and no scaling, a second table.
    caches.push_back(table(nullptr, shape.max_position_embeddings, rotary_dim));
    caches.back().why = "the sliding layers' local RoPE: " + caches.back().why;
  }
  return caches;
}

std::uint64_t rope_cache_bytes(const std::vector<RopeCache>& caches, std::uint32_t model_dtype_bytes) {
  std::uint64_t bytes = 0;
  for (const RopeCache& cache : caches) {
    const std::uint64_t values = checked_mul(cache.positions, cache.rotary_dim, kWhat);
    bytes = checked_add(bytes, checked_mul(values, cache.fp32 ? 4 : model_dtype_bytes, kWhat), kWhat);
  }
  return bytes;
}

std::string rope_cache_rule(const std::vector<RopeCache>& caches, std::uint32_t model_dtype_bytes) {
  std::string rule;
  for (const RopeCache& cache : caches) {
    rule += (rule.empty() ? "" : " + ") + std::to_string(cache.positions) + " positions x " +
            std::to_string(cache.rotary_dim) + " x " + std::to_string(cache.fp32 ? 4 : model_dtype_bytes) + " B (" +
            cache.why + (cache.fp32 ? ", fp32" : "") + ")";
  }
  return rule + ": vLLM's RotaryEmbedding.cos_sin_cache, a buffer allocated while the model loads";
}

}  // namespace kvplan

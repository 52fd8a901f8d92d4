// `kvplan size --explain`: the derivation of every number, in the order a reader checks it.
#include <fmt/format.h>

#include <ostream>

#include "core/checked.h"
#include "core/state_bytes.h"
#include "report/format.h"
#include "report/size_document.h"

namespace kvplan::report {
namespace {

void explain_model(const ModelLabel& model, const ModelShape& shape, std::ostream& out) {
  out << fmt::format("Model {}{}\n  from {}\n", model.name, model.hf_id.empty() ? "" : " (" + model.hf_id + ")",
                     model.source);
  auto field = [&](std::string_view name, std::string_view symbol, auto value) {
    out << fmt::format("  {:<26} {:<5} = {}\n", name, symbol, value);
  };
  field("num_hidden_layers", "L", shape.num_hidden_layers);
  field("num_attention_heads", "n_h", shape.num_attention_heads);
  const std::string& prefix = shape.kv_fields_prefix;  // "swa_": the sliding layers' fields (MiMo-V2-Flash)
  field(prefix + "num_key_value_heads", "H_kv", shape.num_key_value_heads);
  if (shape.mla) {
    field("kv_lora_rank", "d_c", shape.mla->kv_lora_rank);
    field("qk_rope_head_dim", "d_R", shape.mla->qk_rope_head_dim);
    field("qk_nope_head_dim", "", shape.mla->qk_nope_head_dim);
    field("v_head_dim", "", shape.mla->v_head_dim);
  }
  if (shape.indexer) field("index_head_dim", "", shape.indexer->index_head_dim);
  std::string head_dim_origin = shape.mla ? "MLA model: v_head_dim"
                                : shape.head_dim_explicit
                                    ? "config " + prefix + "head_dim"
                                    : fmt::format("hidden_size / num_attention_heads = {} / {}", shape.hidden_size,
                                                  shape.num_attention_heads);
  field("head dim of K/V heads", "d_h", fmt::format("{}  ({})", shape.head_dim, head_dim_origin));
  if (shape.v_head_dim != 0) field(prefix + "v_head_dim", "d_v", shape.v_head_dim);
  if (shape.full_layer_kv) {
    const KvGeometry& full = *shape.full_layer_kv;
    field(full.heads_field, "full layers' H_kv", full.num_key_value_heads);
    field(full.head_dim_field, "full layers' d_h", full.head_dim);
    if (full.v_head_dim != 0) field(full.v_head_dim_field, "full layers' d_v", full.v_head_dim);
  }
  if (shape.sliding_window) field("sliding_window", "W", *shape.sliding_window);
  if (shape.num_nextn_predict_layers > 0) field("num_nextn_predict_layers", "", shape.num_nextn_predict_layers);
  if (shape.state) {
    const StateDims& state = *shape.state;
    const StateFieldNames names = state_field_names(state.mixer);
    if (state.mixer == StateMixer::mamba1) {
      field("mamba_expand x hidden_size", "channels", state.channels);
      field(names.state_size, "", state.state_size);
      field(names.conv_kernel, "", state.conv_kernel);
    } else {
      field(names.num_heads, "", state.num_heads);
      field(names.head_dim, "", state.head_dim);
      if (state.mixer != StateMixer::kda) {
        field(names.n_groups, "", state.n_groups);
        field(names.state_size, "", state.state_size);
      }
      field(names.conv_kernel, "", state.conv_kernel);
    }
  }
  out << "  layers: " << shape.sliding_rule << '\n';
  for (const std::string& assumption : shape.assumptions) out << "  assumed: " << assumption << '\n';
}

std::string scalar_formula(const Variant& variant) {
  if (variant.v_head_dim != 0 && variant.kind != VariantKind::mla) {
    const char* heads = variant.kind == VariantKind::mha ? "n_h" : variant.kind == VariantKind::mqa ? "1" : "G";
    return fmt::format("{} * (d_h + d_v) = {} * ({} + {})", heads, variant.kv_heads, variant.head_dim,
                       variant.v_head_dim);
  }
  switch (variant.kind) {
    case VariantKind::mha:
      return fmt::format("2 * n_h * d_h = 2 * {} * {}", variant.kv_heads, variant.head_dim);
    case VariantKind::mqa: return fmt::format("2 * 1 * d_h = 2 * 1 * {}", variant.head_dim);
    case VariantKind::gqa:
      return fmt::format("2 * G * d_h = 2 * {} * {}", variant.kv_heads, variant.head_dim);
    case VariantKind::mla:
      return fmt::format("d_c + d_R = {} + {}", variant.kv_lora_rank, variant.qk_rope_head_dim);
  }
  return "?";
}

std::string value_bytes_formula(const Variant& variant, const TokenLayerBytes& bytes, KvDtype dtype) {
  const bool is_mla = variant.kind == VariantKind::mla;
  switch (dtype) {
    case KvDtype::fp8_ds_mla:
      return fmt::format("d_c * 1 B + ceil(d_c / 128) * 4 B + d_R * 2 B = {} + {} * 4 + {} * 2 = {} B",
                         variant.kv_lora_rank, ceil_div(variant.kv_lora_rank, kDsMlaTileSize),
                         variant.qk_rope_head_dim, bytes.value_bytes);
    case KvDtype::nvfp4: {
      if (variant.v_head_dim != 0 && !is_mla) {
        auto packed = [](std::uint64_t d) { return ceil_div(d, 2) + ceil_div(d, kNvfp4BlockSize); };
        return fmt::format("{} heads * (K ceil({} / 2) + ceil({} / 16) B + V ceil({} / 2) + ceil({} / 16) B) = {} * ({} + "
                           "{}) = {} B",
                           variant.kv_heads, variant.head_dim, variant.head_dim, variant.v_head_dim, variant.v_head_dim,
                           variant.kv_heads, packed(variant.head_dim), packed(variant.v_head_dim), bytes.value_bytes);
      }
      std::uint64_t dim = is_mla ? bytes.scalars : variant.head_dim;
      return fmt::format("{} vector{} * (ceil({} / 2) B values + ceil({} / 16) B fp8 scales) = {} * ({} + {}) = {} B",
                         bytes.vectors, bytes.vectors == 1 ? "" : "s", dim, dim, bytes.vectors,
                         ceil_div(dim, 2), ceil_div(dim, kNvfp4BlockSize), bytes.value_bytes);
    }
    default:
      return fmt::format("{} scalars * {} B = {} B", bytes.scalars, bytes.value_bytes / bytes.scalars,
                         bytes.value_bytes);
  }
}

// A state layer's bytes, the same for every variant (vLLM's MambaStateShapeCalculator at TP 1).
std::string state_layer_formula(const ModelShape& shape, const SizeRequest& request) {
  const StateDims& state = *shape.state;
  const StateBytes bytes = state_bytes_per_rank(state, shape.torch_dtype, 1, request.mamba_ssm_cache_dtype);
  if (state.mixer == StateMixer::mamba1) {
    // mamba1_state_shape: both states run over the mixer's channels.
    return fmt::format("conv channels * (kernel - 1) = {} * {} * {} B + SSM channels * state = {} * {} * {} B = {} B",
                       state.channels, bytes.conv_window, bytes.conv_dtype_bytes, state.channels, state.state_size,
                       bytes.recurrent_dtype_bytes, bytes.total());
  }
  const bool mamba = state.mixer == StateMixer::mamba2;
  return fmt::format("conv (heads * head_dim + 2 * {} * state) * (kernel - 1) = ({} * {} + 2 * {} * {}) * {} * {} B "
                     "+ {} heads * head_dim * state = {} * {} * {} * {} B = {} B",
                     mamba ? "groups" : "key_heads", state.num_heads, state.head_dim, state.n_groups,
                     state.state_size, bytes.conv_window, bytes.conv_dtype_bytes, mamba ? "SSM" : "recurrent",
                     state.num_heads, state.head_dim, state.state_size, bytes.recurrent_dtype_bytes, bytes.total());
}

void explain_variant(const VariantSize& size, const SizeReport& report, const ModelShape& shape, UnitSystem units,
                     std::ostream& out) {
  const Variant& variant = size.variant.variant;
  const TokenLayerBytes& bytes = size.token_layer;
  const SizeRequest& request = report.request;
  auto line = [&](std::string_view label, const std::string& text) {
    out << fmt::format("  {:<30} = {}\n", label, text);
  };
  auto with_units = [&](std::uint64_t value) {
    return fmt::format("{} B = {}", value, format_bytes_both(Bytes{value}, units));
  };
  out << fmt::format("\n{}{}: {}\n", variant.name(), size.variant.native ? " (native)" : "", size.variant.rule);
  auto per_token_layer = [&](const Variant& layer_variant, const TokenLayerBytes& layer_bytes) {
    std::string text = value_bytes_formula(layer_variant, layer_bytes, size.dtype);
    if (layer_bytes.scale_bytes > 0) {
      text += fmt::format(", + {} vectors * 4 B fp32 scales = {} B + {} B = {} B", layer_bytes.vectors,
                          layer_bytes.value_bytes, layer_bytes.scale_bytes, layer_bytes.value_bytes + layer_bytes.scale_bytes);
    }
    if (layer_bytes.indexer_bytes > 0) {
      text += fmt::format(", + indexer key (index_head_dim * 1 B + index_head_dim / 128 * 4 B) {} B = {} B",
                          layer_bytes.indexer_bytes, layer_bytes.total());
    }
    return text;
  };
  const std::string layer_kind = size.full_token_layer ? " sliding layer" : " layer";
  line("scalars per token per" + layer_kind, fmt::format("{} = {}", scalar_formula(variant), bytes.scalars));
  line("bytes per token per" + layer_kind, per_token_layer(variant, bytes));
  std::string per_token_sum = fmt::format("{} B * {} layers", bytes.total(), size.cached_layers);
  // Sparse MLA with the indexer on some layers only (GLM-5.2): their keys are a term of their own.
  const bool some_keys = shape.indexer && !shape.indexer->on_every_layer();
  const std::uint64_t keys = some_keys ? shape.indexer->key_layers(shape.num_hidden_layers, 0) : 0;
  const std::uint64_t key_bytes = some_keys ? shape.indexer->bytes_per_token() : 0;
  // Gemma-4's kinds and GLM-5.2's MTP layers (each with a key) differ per group: the sum goes group by group.
  auto sum_by_group = [&] {
    std::string text;
    for (const LayerGroup& group : size.groups) {
      if (group.attention == LayerAttention::state) continue;
      text += fmt::format("{}{} B * {} {}", text.empty() ? "" : " + ", group.token_layer.total(), group.layers,
                          some_keys && group.mtp ? "MTP layers (with an indexer key)" : "layers");
    }
    return text;
  };
  if (some_keys) {
    per_token_sum = sum_by_group() + fmt::format(" + indexer key {} B * {} layers with one", key_bytes, keys);
    line("layers with an indexer key", fmt::format("{} of {} ({}): the others reuse an earlier layer's top-k", keys,
                                                   shape.num_hidden_layers,
                                                   "DeepseekV32Attention.__init__, index_topk_freq / index_topk_pattern"));
  }
  if (size.full_token_layer) {
    // Gemma-4 and MiMo-V2-Flash: the full layers' own K/V heads (KvGeometry).
    const Variant full = full_layer_variant(variant, size.variant.native, shape);
    line("scalars per token per full layer", fmt::format("{} = {}", scalar_formula(full), size.full_token_layer->scalars));
    line("bytes per token per full layer", per_token_layer(full, *size.full_token_layer));
    per_token_sum = sum_by_group();
  }
  line("bytes per token (all layers)", fmt::format("{} = {}", per_token_sum, with_units(size.per_token.value)));
  std::string sum, terms;
  for (const LayerGroup& group : size.groups) {
    if (group.attention == LayerAttention::state) {
      line("per state layer, one sequence", state_layer_formula(shape, request) + " (constant in ctx)");
      sum += fmt::format("{}{} B * {} state layer{}", sum.empty() ? "" : " + ", group.per_layer_per_sequence.value,
                         group.layers, group.layers == 1 ? "" : "s");
      continue;
    }
    const bool local = group.attention != LayerAttention::full;
    std::string kind = group.mtp                                        ? "MTP layer"
                       : group.attention == LayerAttention::sliding ? "sliding layer"
                       : group.attention == LayerAttention::chunked ? "chunked layer"
                                                                    : "full layer";
    std::string tokens = local ? fmt::format("min({}, {}) = {} tokens", request.ctx.value, group.tokens_held.value,
                                             group.tokens_held.value)
                               : fmt::format("{} tokens", group.tokens_held.value);
    if (local && group.tokens_held.value == request.ctx.value) {
      tokens = fmt::format("{} tokens ({} >= ctx)", group.tokens_held.value,
                           group.attention == LayerAttention::sliding ? "window" : "chunk");
    }
    line("per " + kind + ", one sequence",
         fmt::format("{} B * {} = {}", group.token_layer.total(), tokens, with_units(group.per_layer_per_sequence.value)));
    sum += fmt::format("{}{} B * {} {}{}", sum.empty() ? "" : " + ", group.per_layer_per_sequence.value,
                       group.layers, kind, group.layers == 1 ? "" : "s");
  }
  if (some_keys) {
    sum += fmt::format(" + {} B * {} tokens * {} indexer keys", key_bytes, request.ctx.value, keys);
  }
  line("per sequence", fmt::format("{} = {}", sum, with_units(size.per_sequence.value)));
  line("per batch", fmt::format("{} B * {} = {}", size.per_sequence.value, request.batch,
                                with_units(size.per_batch.value)));
  line("MHA / this", fmt::format("{} B / {} B = {:.4f}", report.mha_per_sequence.value, size.per_sequence.value,
                                 size.mha_ratio));
}

}  // namespace

void write_size_explanation(const ModelLabel& model, const ModelShape& shape, const SizeReport& report,
                            UnitSystem units, std::ostream& out) {
  const SizeRequest& request = report.request;
  out << "\nHow these numbers are computed\n\n";
  explain_model(model, shape, out);
  out << fmt::format("Request: ctx N = {} tokens, batch B = {}, kv dtype {} ({}), scales {}{}\n",
                     request.ctx.value, request.batch, to_string(request.dtype), layout_description(request.dtype),
                     to_string(request.scales),
                     request.scales == KvScales::per_tensor ? " (a few floats per layer: not counted)" : "");
  out << "Units: " << describe_units(units) << '\n';
  for (const VariantSize& size : report.variants) explain_variant(size, report, shape, units, out);
}

}  // namespace kvplan::report

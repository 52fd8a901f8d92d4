#include "report/size_document.h"

#include <fmt/format.h>

#include <cmath>

#include "report/format.h"

namespace kvplan::report {
namespace {

// Rounded so that CSV and JSON show 56.8889, not 56.888888888888886.
double rounded_ratio(double ratio) { return std::round(ratio * 1e4) / 1e4; }

const LayerGroup* find_group(const VariantSize& size, LayerAttention attention) {
  for (const LayerGroup& group : size.groups) {
    if (group.attention == attention && !group.mtp) return &group;
  }
  return nullptr;
}

}  // namespace

Document size_document(const ModelLabel& model, const ModelShape& shape, const SizeReport& report,
                       UnitSystem units) {
  const SizeRequest& request = report.request;
  Document document;
  document.command = "size";
  document.title = "KV cache of " + model.name + " at " + format_count(request.ctx.value) + " tokens";
  document.facts = {
      {"model", "model", Cell::of(model.name + (model.hf_id.empty() ? "" : " (" + model.hf_id + ")"), model.name)},
      {"source", "source", Cell::of(model.source)},
      {"shape", "shape", Cell::of(describe_shape(shape))},
      {"ctx_tokens", "context", Cell::of(format_count(request.ctx.value) + " tokens", request.ctx.value)},
      {"batch", "batch", Cell::of(format_count(request.batch) + (request.batch == 1 ? " sequence" : " sequences"),
                                  request.batch)},
      {"kv_dtype", "kv dtype",
       Cell::of(std::string(to_string(request.dtype)) + " (" + std::string(layout_description(request.dtype)) + ")",
                std::string(to_string(request.dtype)))},
      {"kv_scales", "kv scales", Cell::of(std::string(to_string(request.scales)))},
      {"mtp_layers_counted", "MTP layers",
       Cell::of(request.include_mtp ? std::to_string(shape.num_nextn_predict_layers) + " counted (--mtp)"
                                    : "not counted",
                request.include_mtp ? std::uint64_t{shape.num_nextn_predict_layers} : std::uint64_t{0})},
      {"units", "units", Cell::of(describe_units(units), std::string(units == UnitSystem::iec ? "iec" : "si"))},
  };
  const bool has_sliding = shape.sliding_layer_count() > 0;
  const bool has_chunked = shape.layer_count(LayerAttention::chunked) > 0;
  const bool has_state = shape.layer_count(LayerAttention::state) > 0;
  // Gemma-4: full layers with their own K/V heads get their own per-token column.
  const bool full_differs = shape.full_layer_kv.has_value();
  std::uint32_t layers = report.variants.empty() ? 0 : report.variants.front().cached_layers;
  document.columns = {
      {"model", "model", Align::left, true},
      {"ctx_tokens", "ctx", Align::right, true},
      {"batch", "batch", Align::right, true},
      {"kv_dtype", "kv dtype", Align::left, true},
      {"variant", "variant", Align::left},
      {"native", "native", Align::left, true},
      {"scalars_per_token_per_layer", "scalars/token/layer", Align::right, true},
      {"bytes_per_token_per_layer", full_differs ? "per token per sliding layer" : "per token per layer"},
  };
  if (full_differs) {
    document.columns.push_back({"full_layer_scalars_per_token", "scalars/token/full layer", Align::right, true});
    document.columns.push_back({"bytes_per_token_per_full_layer", "per token per full layer"});
  }
  document.columns.push_back({"bytes_per_token", "per token (" + std::to_string(layers) + " layers)"});
  document.columns.push_back(
      {"bytes_per_layer_per_sequence", has_sliding || has_chunked ? "per full layer (1 seq)" : "per layer (1 seq)"});
  if (has_sliding) {
    document.columns.push_back({"bytes_per_sliding_layer_per_sequence", "per sliding layer (1 seq)"});
  }
  if (has_chunked) {
    document.columns.push_back({"bytes_per_chunked_layer_per_sequence", "per chunked layer (1 seq)"});
  }
  if (has_state) {
    document.columns.push_back({"bytes_per_state_layer_per_sequence", "per state layer (1 seq)"});
  }
  document.columns.push_back({"bytes_per_sequence", "per sequence"});
  document.columns.push_back({"bytes_per_batch", "per batch (" + std::to_string(request.batch) + ")"});
  document.columns.push_back({"mha_ratio", "MHA / this"});

  auto bytes_cell = [&](Bytes bytes) { return Cell::of(format_bytes(bytes, units), bytes.value); };
  for (const VariantSize& size : report.variants) {
    const ResolvedVariant& variant = size.variant;
    const LayerGroup* full = find_group(size, LayerAttention::full);
    const LayerGroup* sliding = find_group(size, LayerAttention::sliding);
    const LayerGroup* chunked = find_group(size, LayerAttention::chunked);
    const LayerGroup* state = find_group(size, LayerAttention::state);
    std::vector<Cell> row = {
        Cell::of(model.name),
        Cell::of(request.ctx.value),
        Cell::of(request.batch),
        Cell::of(std::string(to_string(size.dtype))),
        Cell::of(variant.variant.name() + (variant.native ? " (native)" : ""), variant.variant.name()),
        Cell::of(variant.native ? "yes" : "no", variant.native),
        Cell::of(size.token_layer.scalars),
        Cell::of(std::to_string(size.token_layer.total()) + " B", size.token_layer.total()),
    };
    if (full_differs) {
      const TokenLayerBytes& full_layer = size.full_token_layer.value_or(size.token_layer);
      row.push_back(Cell::of(full_layer.scalars));
      row.push_back(Cell::of(std::to_string(full_layer.total()) + " B", full_layer.total()));
    }
    row.push_back(bytes_cell(size.per_token));
    row.push_back(full ? bytes_cell(full->per_layer_per_sequence) : Cell::of("-", Cell::Raw{}));
    if (has_sliding) row.push_back(bytes_cell(sliding->per_layer_per_sequence));
    if (has_chunked) row.push_back(bytes_cell(chunked->per_layer_per_sequence));
    if (has_state) row.push_back(bytes_cell(state->per_layer_per_sequence));
    row.push_back(bytes_cell(size.per_sequence));
    row.push_back(bytes_cell(size.per_batch));
    row.push_back(Cell::of(format_ratio(size.mha_ratio), rounded_ratio(size.mha_ratio)));
    document.rows.push_back(std::move(row));
  }

  document.notes = report.notes;
  if (has_sliding) {
    document.notes.push_back("sliding-window layers hold min(ctx, " + std::to_string(*shape.sliding_window) +
                             ") tokens (" + shape.sliding_rule + ")");
  }
  if (has_chunked) {
    document.notes.push_back("chunked layers hold min(ctx, " + std::to_string(*shape.attention_chunk_size) +
                             ") tokens: one chunk of local attention (" + shape.sliding_rule + ")");
  }
  if (has_state) {
    const LayerGroup* state = report.variants.empty() ? nullptr : find_group(report.variants.front(), LayerAttention::state);
    const std::uint32_t count = shape.layer_count(LayerAttention::state);
    document.notes.push_back(
        fmt::format("{} state layers ({}) keep one state per sequence, {} each, {} in all whatever the context; "
                    "the variants change the {} attention layers only ({})",
                    count, state_mixer_name(shape.state->mixer),
                    state ? format_bytes(state->per_layer_per_sequence, units) : "?",
                    state ? format_bytes(Bytes{state->per_layer_per_sequence.value * count}, units) : "?",
                    shape.attention_layer_count(), shape.sliding_rule));
  }
  if (report.mha_dtype != request.dtype) {
    document.notes.push_back("MHA / this compares with MHA in " + std::string(to_string(report.mha_dtype)) +
                             ", since " + std::string(to_string(request.dtype)) + " is MLA-only");
  }
  document.notes.push_back("'per token' is one token held by every layer; 'per sequence' is what one " +
                           std::to_string(request.ctx.value) + "-token request holds; --explain shows the arithmetic");
  return document;
}

}  // namespace kvplan::report

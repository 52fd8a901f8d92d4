#include "report/compressed_size_document.h"

#include <fmt/format.h>

#include <ostream>

#include "report/format.h"

namespace kvplan::report {
namespace {

std::string unit_text(const CompressedCache& cache) {
  return cache.tokens_per_state == 1 ? "token" : fmt::format("{} tokens", cache.tokens_per_state);
}

std::string held_text(const CompressedCache& cache) {
  if (cache.window) return fmt::format("last {} tokens", *cache.window);
  return cache.tokens_per_state == 1 ? "every token" : fmt::format("every complete group of {}", cache.tokens_per_state);
}

}  // namespace

Document compressed_size_document(const ModelLabel& model, const ModelShape& shape, const CompressedSizeQuery& query,
                                  const CompressedSize& size, UnitSystem units) {
  Document document;
  document.command = "size";
  document.title = "KV cache of " + model.name + " at " + format_count(query.ctx) + " tokens";
  document.facts = {
      {"model", "model", Cell::of(model.name + (model.hf_id.empty() ? "" : " (" + model.hf_id + ")"), model.name)},
      {"source", "source", Cell::of(model.source)},
      {"shape", "shape", Cell::of(describe_shape(shape))},
      {"ctx_tokens", "context", Cell::of(format_count(query.ctx) + " tokens", query.ctx)},
      {"batch", "batch", Cell::of(format_count(query.batch) + (query.batch == 1 ? " sequence" : " sequences"), query.batch)},
      {"kv_dtype", "kv dtype", Cell::of(std::string(to_string(query.dtype)))},
      {"mtp_layers_counted", "MTP layers",
       Cell::of(query.mtp_layers > 0 ? std::to_string(query.mtp_layers) + " counted (--mtp)" : "not counted",
                std::uint64_t{query.mtp_layers})},
      {"units", "units", Cell::of(describe_units(units), std::string(units == UnitSystem::iec ? "iec" : "si"))},
  };
  document.columns = {
      {"model", "model", Align::left, true},
      {"ctx_tokens", "ctx", Align::right, true},
      {"cache", "cache", Align::left},
      {"layers", "layers"},
      {"bytes_per_state", "bytes per state"},
      {"tokens_per_state", "one state per", Align::left},
      {"held", "holds", Align::left},
      {"states_per_layer", "states (1 seq)"},
      {"bytes_per_layer_per_sequence", "per layer (1 seq)"},
      {"bytes_per_sequence", "all its layers (1 seq)"},
  };
  auto bytes_cell = [&](std::uint64_t bytes) { return Cell::of(format_bytes(Bytes{bytes}, units), bytes); };
  for (const CompressedCacheSize& one : size.caches) {
    const CompressedCache& cache = one.cache;
    document.rows.push_back({Cell::of(model.name), Cell::of(query.ctx), Cell::of(cache.name), Cell::of(cache.layers),
                             Cell::of(std::to_string(cache.state_bytes) + " B", cache.state_bytes),
                             Cell::of(unit_text(cache), std::uint64_t{cache.tokens_per_state}), Cell::of(held_text(cache)),
                             Cell::of(one.states_per_layer), bytes_cell(one.bytes_per_layer),
                             bytes_cell(one.bytes_all_layers)});
  }
  document.rows.push_back({Cell::of(model.name), Cell::of(query.ctx), Cell::of("total per sequence"),
                           Cell::of("-", Cell::Raw{}), Cell::of("-", Cell::Raw{}), Cell::of("-", Cell::Raw{}),
                           Cell::of("-", Cell::Raw{}), Cell::of("-", Cell::Raw{}), Cell::of("-", Cell::Raw{}),
                           bytes_cell(size.per_sequence)});
  if (query.batch > 1) {
    document.rows.push_back({Cell::of(model.name), Cell::of(query.ctx),
                             Cell::of("total per batch of " + std::to_string(query.batch)), Cell::of("-", Cell::Raw{}),
                             Cell::of("-", Cell::Raw{}), Cell::of("-", Cell::Raw{}), Cell::of("-", Cell::Raw{}),
                             Cell::of("-", Cell::Raw{}), Cell::of("-", Cell::Raw{}), bytes_cell(size.per_batch)});
  }
  document.notes = {
      "compressed sparse attention: one latent of head_dim " + std::to_string(shape.compressed_mla->head_dim) +
          " shared by all heads, so there are no MHA/GQA/MQA/MLA variants to compare; every cache is whole on "
          "every TP rank in vLLM (one K/V head, max_tp_shards 1)",
      "a compressed cache holds the complete groups of its ratio; the tokens of the group still filling wait in "
      "the compressor state, a window of coff x ratio tokens (coff 2 for CSA, 1 for HCA)",
      "vLLM 0.33 stores the latents as fp8_ds_mla by default (584 B: --kv-dtype fp8_ds_mla); bf16 and fp8 rows "
      "are FlashInfer's DSV4 backend on Blackwell; the indexer keys and compressor states are the same in every "
      "dtype",
  };
  return document;
}

void write_compressed_size_explanation(const ModelShape& shape, const CompressedSizeQuery& query,
                                       const CompressedSize& size, UnitSystem units, std::ostream& out) {
  const CompressedMlaDims& dims = *shape.compressed_mla;
  out << "\nHow these numbers are computed\n\n";
  out << fmt::format("Model: head_dim {} (qk_rope_head_dim {}), index_head_dim {}, sliding_window {}; {}\n",
                     dims.head_dim, dims.rope_head_dim, dims.index_head_dim, dims.sliding_window, shape.sliding_rule);
  for (const std::string& assumption : shape.assumptions) out << "  assumed: " << assumption << '\n';
  out << fmt::format("Request: ctx N = {} tokens, batch B = {}, kv dtype {}\n", query.ctx, query.batch,
                     to_string(query.dtype));
  out << fmt::format("Latent row: {} B ({})\n", compressed_latent_bytes(dims, query.dtype),
                     query.dtype == KvDtype::fp8_ds_mla ? "448 fp8 NoPE values + 64 x 2 B RoPE + 8 B scales"
                                                         : fmt::format("{} values in {}", dims.head_dim,
                                                                       to_string(query.dtype)));
  std::string sum;
  for (const CompressedCacheSize& one : size.caches) {
    const CompressedCache& cache = one.cache;
    const std::string states =
        cache.window ? fmt::format("min({}, {}) / {}", query.ctx, *cache.window, cache.tokens_per_state)
                     : fmt::format("floor({} / {})", query.ctx, cache.tokens_per_state);
    out << fmt::format("  {:<30} = {} = {} states x {} B x {} layers = {}  (vLLM 0.33: {}, blocks of {} tokens)\n",
                       cache.name, states, one.states_per_layer, cache.state_bytes, cache.layers,
                       format_bytes_both(Bytes{one.bytes_all_layers}, units), cache.vllm_source, cache.vllm_block);
    sum += fmt::format("{}{}", sum.empty() ? "" : " + ", one.bytes_all_layers);
  }
  out << fmt::format("  {:<30} = {} = {}\n", "per sequence", sum, format_bytes_both(Bytes{size.per_sequence}, units));
  out << fmt::format("  {:<30} = {} B x {} = {}\n", "per batch", size.per_sequence, query.batch,
                     format_bytes_both(Bytes{size.per_batch}, units));
}

}  // namespace kvplan::report

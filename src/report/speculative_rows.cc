#include "report/speculative_rows.h"

#include <algorithm>

#include <fmt/format.h>

#include "core/checked.h"
#include "report/format.h"

namespace kvplan::report {
namespace {

void add_row(Document& document, std::string key, std::string item, Cell value, std::string unit, std::string rule) {
  document.rows.push_back({Cell::of(std::move(key)), Cell::of(std::string(" ")), Cell::of(std::move(item)),
                           std::move(value), Cell::of(std::move(unit)), Cell::of(std::move(rule))});
}

std::string method_name(SpeculativeMethod method) {
  return method == SpeculativeMethod::eagle3 ? "EAGLE-3" : method == SpeculativeMethod::eagle ? "EAGLE" : "";
}

// "1 sliding (window 128)", "1 full", "2 full + 1 sliding (window 128)".
std::string draft_kinds(const DraftShape& draft) {
  const auto sliding = static_cast<std::uint32_t>(
      std::count(draft.layer_kinds.begin(), draft.layer_kinds.end(), LayerAttention::sliding));
  const std::uint32_t full = draft.layers - sliding;
  std::string text = full > 0 ? fmt::format("{} full", full) : "";
  if (sliding > 0) text += fmt::format("{}{} sliding (window {})", full > 0 ? " + " : "", sliding, draft.sliding_window);
  return text;
}

// The draft's layers, the groups they join and the padding vLLM adds, and their KV per request.
void add_draft_rows(Document& document, const FitRequest& request, const FitResult& result, UnitSystem units) {
  const SpeculativeDecoding& speculative = request.speculative;
  const DraftShape& draft = *speculative.draft;
  const std::uint32_t cached = static_cast<std::uint32_t>(result.stage_layers.back());
  const std::uint32_t target = cached - draft.layers;
  const auto slots = static_cast<std::uint32_t>(result.groups.size()) * result.group_size;
  const std::string padding =
      slots > cached ? fmt::format("; {} x {} = {} slots for {} layers: vLLM adds {} padding layer{} "
                                   "(_get_kv_cache_groups_uniform_page_size logs 'Add N padding layers' per kind)",
                                   result.groups.size(), result.group_size, slots, cached, slots - cached,
                                   slots - cached == 1 ? "" : "s")
                     : "";
  add_row(document, "draft_layers", method_name(speculative.method) + " draft layers cached",
          Cell::of(format_count(draft.layers) + (draft.layers == 1 ? " layer" : " layers"), std::uint64_t{draft.layers}),
          "layers",
          fmt::format("the draft's num_hidden_layers ({}: {}) register beside the target's {} cached layers "
                      "(SpecDecodeBaseProposer.load_model) with the target's page, so vLLM groups them with the "
                      "target's layers of their kind: {} layers in {} group{} of {}{}",
                      speculative.draft_path, draft_kinds(draft), target, cached, result.groups.size(),
                      result.groups.size() == 1 ? "" : "s", result.group_size, padding));
  // Each draft layer holds a page in as many blocks as a request needs in a group of its kind.
  std::uint64_t bytes = 0;
  std::string terms;
  for (LayerAttention kind : {LayerAttention::full, LayerAttention::sliding}) {
    const auto layers = static_cast<std::uint64_t>(std::count(draft.layer_kinds.begin(), draft.layer_kinds.end(), kind));
    if (layers == 0) continue;
    auto group = std::find_if(result.groups.begin(), result.groups.end(), [&](const KvGroup& g) { return g.attention == kind; });
    const std::uint64_t blocks = group != result.groups.end() ? group->blocks_per_request : 0;
    bytes = checked_add(bytes, checked_mul(checked_mul(layers, result.page_bytes.value, "draft KV"), blocks, "draft KV"),
                        "draft KV");
    terms += fmt::format("{}{} {} layer{} x {} B page x {} blocks (a {} group's blocks per request)", terms.empty() ? "" : " + ",
                         layers, kind == LayerAttention::full ? "full" : "sliding", layers == 1 ? "" : "s",
                         result.page_bytes.value, blocks, kind == LayerAttention::full ? "full-attention" : "sliding");
  }
  add_row(document, "draft_kv_bytes_per_request_per_rank", "draft KV per request per rank",
          Cell::of(format_bytes(Bytes{bytes}, units), bytes), "B",
          terms + ": pages a request holds, counted in the blocks per request above");
}

}  // namespace

void add_speculative_rows(Document& document, const FitRequest& request, const FitResult& result, UnitSystem units) {
  const SpeculativeDecoding& speculative = request.speculative;
  if (speculative.method == SpeculativeMethod::none || result.engine != Engine::vllm) return;
  const std::uint64_t len = request.max_model_len.value;
  const std::uint32_t block = result.block_size;
  if (const std::uint32_t draft = draft_cached_layers(speculative); draft > 0) add_draft_rows(document, request, result, units);
  const std::uint64_t lookahead = lookahead_tokens(speculative);
  if (lookahead == 0) {
    add_row(document, "lookahead_tokens", "lookahead slots per request", Cell::of("0 tokens", std::uint64_t{0}),
            "tokens",
            "ngram: no draft model, so no draft KV and no lookahead slots (VllmConfig.num_lookahead_tokens is 0); the "
            "plan is the target's alone");
    return;
  }
  const std::uint64_t probe = 1024;  // a short request whose tokens end on a block boundary
  add_row(document, "lookahead_tokens", "lookahead slots per request",
          Cell::of(format_count(lookahead) + " tokens", lookahead), "tokens",
          fmt::format("num_speculative_tokens {} (VllmConfig.num_lookahead_tokens for {}): allocate_slots asks for "
                      "min(tokens + {}, max_model_len {}) slots, so a {}-token request still needs ceil({} / {}) = {} "
                      "blocks per full-attention group and the start-up concurrency above has no lookahead; a shorter "
                      "one may hold one block more (a {}-token request: ceil({} / {}) = {} instead of {})",
                      lookahead, to_string(speculative.method), lookahead, len, len, len, block, ceil_div(len, block),
                      probe, probe + lookahead, block, ceil_div(probe + lookahead, block), ceil_div(probe, block)));
}

}  // namespace kvplan::report

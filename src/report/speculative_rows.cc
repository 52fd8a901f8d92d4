#include "report/speculative_rows.h"

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

}  // namespace

void add_speculative_rows(Document& document, const FitRequest& request, const FitResult& result, UnitSystem units) {
  const SpeculativeDecoding& speculative = request.speculative;
  if (speculative.method == SpeculativeMethod::none || result.engine != Engine::vllm) return;
  const std::uint64_t len = request.max_model_len.value;
  const std::uint32_t block = result.block_size;
  if (const std::uint32_t draft = draft_cached_layers(speculative); draft > 0) {
    const std::uint32_t target = static_cast<std::uint32_t>(result.stage_layers.back()) - draft;
    add_row(document, "draft_layers", method_name(speculative.method) + " draft layers cached",
            Cell::of(format_count(draft) + (draft == 1 ? " layer" : " layers"), std::uint64_t{draft}), "layers",
            fmt::format("the draft's num_hidden_layers ({}, {}) register beside the target's {} cached layers "
                        "(SpecDecodeBaseProposer.load_model) with the target's page, so vLLM groups them with the "
                        "target's: {} layers in {} group{} of {}",
                        draft, speculative.draft_path, target, target + draft, result.groups.size(),
                        result.groups.size() == 1 ? "" : "s", result.group_size));
    const std::uint64_t blocks = ceil_div(len, block);
    const std::uint64_t bytes = checked_mul(checked_mul(draft, result.page_bytes.value, "draft KV"), blocks, "draft KV");
    add_row(document, "draft_kv_bytes_per_request_per_rank", "draft KV per request per rank",
            Cell::of(format_bytes(Bytes{bytes}, units), bytes), "B",
            fmt::format("{} layer{} x {} B page x ceil({} / {}) = {} blocks: a full-attention layer's pages, charged "
                        "in every block of the pool (in the blocks per request above)",
                        draft, draft == 1 ? "" : "s", result.page_bytes.value, len, block, blocks));
  }
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

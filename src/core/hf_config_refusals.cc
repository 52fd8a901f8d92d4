// model_type values whose vLLM 0.33 model class was read and whose caches kvplan cannot plan yet:
// the refusal names what is missing instead of calling the type unknown (docs/engines-frontier.md).
#include "core/hf_config_hybrid.h"

#include <array>

namespace kvplan::detail {
namespace {

struct Refusal {
  std::string_view model_type;
  std::string_view reason;
};

// A ring of not-yet-compressed tokens or index keys, one block per request (vLLM's CircularBufferSpec).
constexpr std::string_view kRing =
    "kvplan has no layer kind for vLLM 0.33's CircularBufferSpec (a ring of not-yet-compressed rows, one "
    "block per request), which this model caches beside its attention";

constexpr std::array<Refusal, 6> kRefusals{{
    {"deepseek_v41", kRing},
    {"glm5_next_text", kRing},
    {"qwen4_exp_text", kRing},
    {"step5",
     "vLLM 0.33's Step-5 caches, with DSA (sparse_config), a CircularBufferSpec ring beside its attention, and "
     "without it heads per attention type (attention_other_setting); kvplan reads neither"},
    {"hy_v4",
     "vLLM 0.33's HYV4 model has sparse MLA layers whose indexers are chosen by indexer_types (some layers share "
     "another layer's top-k) beside dense MLA layers; kvplan does not read those fields"},
    {"minimax_m3_text",
     "vLLM 0.33's MiniMax-M3 caches an index key (sparse_index_dim) beside GQA layers; kvplan prices index keys "
     "beside MLA only"},
}};

}  // namespace

std::optional<std::string_view> refused_model_type(std::string_view model_type) {
  for (const Refusal& refusal : kRefusals) {
    if (refusal.model_type == model_type) return refusal.reason;
  }
  return std::nullopt;
}

}  // namespace kvplan::detail

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

constexpr std::array<Refusal, 1> kRefusals{{
    {"mimo_v2_flash",
     "vLLM 0.33's MiMoV2Attention caches keys of head_dim and values of v_head_dim (192 and 128 in "
     "MiMo-V2-Flash) through its DiffKV backends (FLASH_ATTN_DIFFKV, TRITON_ATTN_DIFFKV), with "
     "swa_num_key_value_heads on the sliding layers and num_key_value_heads on the full ones "
     "(hybrid_layer_pattern); kvplan's caches have one width for K and V and it does not model the DiffKV "
     "backends' block sizes"},
}};

}  // namespace

std::optional<std::string_view> refused_model_type(std::string_view model_type) {
  for (const Refusal& refusal : kRefusals) {
    if (refusal.model_type == model_type) return refusal.reason;
  }
  return std::nullopt;
}

}  // namespace kvplan::detail

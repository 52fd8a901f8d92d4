// SGLang 0.5.23's state pool (docs/engines-sglang.md, "State pools").
#include "core/sglang_state.h"

#include <algorithm>
#include <cmath>

#include "core/checked.h"
#include "core/error.h"
#include "core/fit_internal.h"

namespace kvplan::detail {
namespace {

// arg_groups/fields/schedule.py: --mamba-full-memory-ratio, resolved to 0.9 when unset (only
// Inkling overrides it): state memory / full KV memory.
constexpr double kMambaFullMemoryRatio = 0.9;

// kv_cache_configurator.py:_calculate_mamba_ratio: MAMBA_CACHE_SIZE_MAX_RUNNING_REQUESTS_RATIO (3)
// plus allocation_sizing.py:get_mamba_tracking_slots, 2 for the extra_buffer strategy with the
// overlap scheduler. overrides.py:_mamba_radix_cache_resolution picks extra_buffer for "auto"
// when the overlap scheduler is on (the default) and the architecture supports it
// (_MAMBA_EXTRA_BUFFER_ARCHS holds Qwen3NextForCausalLM, the Qwen3_5 architectures and
// NemotronHForCausalLM).
constexpr std::uint32_t kBaseSlotsPerRequest = 3;
constexpr std::uint32_t kExtraBufferTrackingSlots = 2;

}  // namespace

bool sglang_qwen3_next_config(const ModelShape& shape) {
  return shape.model_type == "qwen3_next" || shape.model_type == "qwen3_5_text" || shape.model_type == "qwen3_5_moe_text";
}

bool sglang_plans_state(const ModelShape& shape) {
  return sglang_qwen3_next_config(shape) || shape.model_type == "nemotron_h";
}

double python_floordiv(double a, double b) {
  const double mod = std::fmod(a, b);
  const double div = (a - mod) / b;
  double floor_div = std::floor(div);
  if (div - floor_div > 0.5) floor_div += 1;
  return floor_div;
}

SglangStatePool sglang_state_pool(const ModelShape& shape, const FitRequest& request, std::uint32_t attn_tp,
                                  double memory_gib) {
  const StateDims& state = *shape.state;
  SglangStatePool pool;
  // configs/mamba_utils.py:mamba2_state_dtype: the conv state in SGLANG_MAMBA_CONV_DTYPE
  // (bfloat16), the SSM state in --mamba-ssm-dtype, else the config's mamba_ssm_dtype, else
  // float32. Nemotron-H's mamba_ssm_cache_dtype (vLLM's field) is not read.
  std::string ssm = request.options.mamba_ssm_cache_dtype;
  pool.dtype_rule = "--mamba-ssm-cache-dtype (SGLang's --mamba-ssm-dtype)";
  if (ssm.empty() && sglang_qwen3_next_config(shape) && !state.ssm_cache_dtype.empty()) {
    ssm = state.ssm_cache_dtype;
    pool.dtype_rule = "the config's mamba_ssm_dtype";
  }
  if (ssm.empty()) {
    ssm = "float32";
    pool.dtype_rule = "SGLang's default SSM dtype (mamba_utils.py:mamba2_state_dtype; the config's mamba_ssm_dtype "
                      "is unset)";
  }
  // Mamba2StateShape.create: the same conv width (heads x head_dim + 2 x groups x state, groups
  // raised to TP when they do not divide) and SSM shape (heads / TP, head_dim, state) as vLLM's.
  pool.per_layer = state_bytes_per_rank(state, "bfloat16", attn_tp, ssm);
  pool.state_layers = shape.layer_count(LayerAttention::state);
  pool.bytes_per_slot = checked_mul(pool.per_layer.total(), pool.state_layers, "state bytes per request");
  pool.slots_per_request = kBaseSlotsPerRequest + kExtraBufferTrackingSlots;

  // _handle_max_mamba_cache, the ratio path, in SGLang's float GiB:
  // K = int((budget x 2^30 - per_req) // per_req), then (K + 1) slots leave the pool.
  pool.memory_gib = memory_gib;
  pool.state_budget_gib = memory_gib * kMambaFullMemoryRatio / (1 + kMambaFullMemoryRatio);
  const double per_slot = static_cast<double>(pool.bytes_per_slot);
  const double slots = python_floordiv(pool.state_budget_gib * static_cast<double>(kGiB) - per_slot, per_slot);
  if (!(slots > 0)) {
    throw Error("SGLang's state pool holds no request: " + fmt_double(pool.state_budget_gib, 2) + " GiB for states of " +
                std::to_string(pool.bytes_per_slot) + " B each (\"Not enough GPU memory for hybrid "
                "(mamba/linear-attention) state cache\"); use more GPUs, --mamba-ssm-cache-dtype bfloat16 or --mem-util");
  }
  pool.slots = static_cast<std::uint64_t>(slots);
  pool.state_bytes = checked_mul(pool.slots + 1, pool.bytes_per_slot, "state pool bytes");
  pool.rest_gib = memory_gib - static_cast<double>(pool.state_bytes) / static_cast<double>(kGiB);
  return pool;
}

std::uint64_t sglang_max_running_requests(std::uint64_t kv_tokens, std::uint64_t context_len,
                                          const SglangStatePool& pool) {
  const double estimate = static_cast<double>(kv_tokens) / static_cast<double>(context_len) * 512;
  const std::uint64_t estimated =
      std::max<std::uint64_t>(std::min<std::uint64_t>(static_cast<std::uint64_t>(estimate), 4096), 2048);
  const std::uint64_t by_tokens = std::min(estimated, kv_tokens / 2);
  return std::min(by_tokens, pool.slots / pool.slots_per_request);
}

}  // namespace kvplan::detail

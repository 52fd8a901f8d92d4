#include "core/state_bytes.h"

#include "core/checked.h"
#include "core/error.h"

namespace kvplan {
namespace {

struct NamedDtype {
  std::string name;
  std::uint32_t bytes;
};

NamedDtype state_dtype(const std::string& name, const char* what) {
  if (name == "float32") return {name, 4};
  if (name == "bfloat16" || name == "float16") return {name, 2};
  throw Error(std::string(what) + " must be float32, bfloat16 or float16; got '" + name + "'");
}

}  // namespace

StateBytes state_bytes_per_rank(const StateDims& state, const std::string& model_dtype, std::uint32_t tp,
                                const std::string& ssm_override) {
  const char* mixer = state_mixer_name(state.mixer);
  StateBytes bytes;
  if (state.mixer == StateMixer::mamba1) {
    // mamba1_state_shape: conv (K - 1, channels / TP), SSM (channels / TP, d_state); its divide()
    // asserts that the channels split evenly.
    if (state.channels % tp != 0) {
      throw Error(std::string(mixer) + " state layers need their " + std::to_string(state.channels) +
                  " channels to divide over TP " + std::to_string(tp) + ", as vLLM requires; pick a --tp that divides them");
    }
    bytes.conv_channels = state.channels / tp;
    bytes.recurrent_elements = checked_mul(bytes.conv_channels, state.state_size, "recurrent state");
  }
  // MambaMixer2 asserts num_heads % tp == 0 and (n_groups % tp == 0 or n_groups == 1); the Gated
  // DeltaNet and KDA layers split their key and value heads over the ranks.
  const bool groups_split = state.n_groups % tp == 0 || (state.mixer == StateMixer::mamba2 && state.n_groups == 1);
  if (state.mixer != StateMixer::mamba1 && (state.num_heads % tp != 0 || !groups_split)) {
    throw Error(std::string(mixer) + " state layers need their " + std::to_string(state.num_heads) + " heads and " +
                std::to_string(state.n_groups) + " groups to divide over TP " + std::to_string(tp) +
                ", as vLLM's mixer requires; pick a --tp that divides both");
  }
  // mamba2_state_shape: a single B/C group is replicated on every rank (extra_groups_for_head_shards).
  if (state.mixer != StateMixer::mamba1) {
    const std::uint64_t groups = state.n_groups % tp == 0 ? state.n_groups : tp;
    const std::uint64_t conv_dim = checked_add(checked_mul(state.num_heads, state.head_dim, "state conv width"),
                                               checked_mul(2 * groups, state.state_size, "state conv width"),
                                               "state conv width");
    bytes.conv_channels = conv_dim / tp;
    bytes.recurrent_elements = checked_mul(checked_mul(state.num_heads / tp, state.head_dim, "recurrent state"),
                                           state.state_size, "recurrent state");
  }
  bytes.conv_window = state.conv_kernel - 1;
  // MambaStateDtypeCalculator: the conv state in the model's dtype ("auto"); the recurrent state in
  // mamba_ssm_cache_dtype, which defaults to the conv state's.
  const NamedDtype conv = state_dtype(model_dtype.empty() || model_dtype == "float32" ? "bfloat16" : model_dtype,
                                      "the model's torch_dtype");
  const std::string& ssm_name = !ssm_override.empty() ? ssm_override : state.ssm_cache_dtype;
  const NamedDtype recurrent = ssm_name.empty() ? conv : state_dtype(ssm_name, "--mamba-ssm-cache-dtype");
  // MambaStateDtypeCalculator.kda_state_dtype refuses any recurrent dtype but float32 and bfloat16.
  if (state.mixer == StateMixer::kda && recurrent.name == "float16") {
    throw Error("--mamba-ssm-cache-dtype float16: vLLM keeps a KDA recurrent state in float32 or bfloat16 only");
  }
  bytes.conv_dtype = conv.name;
  bytes.conv_dtype_bytes = conv.bytes;
  bytes.recurrent_dtype = recurrent.name;
  bytes.recurrent_dtype_bytes = recurrent.bytes;
  // Checked once here so that the accessors' products cannot wrap.
  checked_add(checked_mul(checked_mul(bytes.conv_channels, bytes.conv_window, "conv state"), conv.bytes, "conv state"),
              checked_mul(bytes.recurrent_elements, recurrent.bytes, "recurrent state"), "state bytes per sequence");
  return bytes;
}

std::string parse_mamba_ssm_cache_dtype(const std::string& text) {
  if (text.empty() || text == "auto") return "";
  state_dtype(text, "--mamba-ssm-cache-dtype");
  return text;
}

std::string state_formula(const StateDims& state, const StateBytes& bytes) {
  const bool mamba = state.mixer != StateMixer::gated_deltanet;
  return "conv " + std::to_string(bytes.conv_channels) + " x " + std::to_string(bytes.conv_window) + " x " +
         std::to_string(bytes.conv_dtype_bytes) + " B (" + bytes.conv_dtype + ") + " + (mamba ? "SSM " : "recurrent ") +
         std::to_string(bytes.recurrent_elements) + " x " + std::to_string(bytes.recurrent_dtype_bytes) + " B (" +
         bytes.recurrent_dtype + ")";
}

}  // namespace kvplan

#include "core/vllm_mxfp4.h"

#include <string_view>

#include "core/checked.h"
#include "core/params.h"
#include "core/vllm_rules.h"

namespace kvplan {
namespace {

std::uint64_t round_up(std::uint64_t value, std::uint64_t multiple) { return ceil_div(value, multiple) * multiple; }

// oracle/mxfp4.py:mxfp4_round_up_hidden_size_and_intermediate_size: the TRITON backend pads the
// intermediate size per rank to 64.
constexpr std::uint64_t kTritonIntermediateAlign = 64;
// hopper_value.py:HopperMXValueLayout.swizzle_data packs rows in 16s and byte columns in 32s.
constexpr std::uint64_t kValueRowPack = 16;
constexpr std::uint64_t kValueColumnPack = 32;
// hopper_scale.py:HopperMXScaleLayout.swizzle_data pads scale rows to 2 x num_warps (8) x 2 x 8.
constexpr std::uint64_t kScaleRowAlign = 256;
// One 8-bit scale per 32 values (OCP MX block).
constexpr std::uint64_t kMxBlock = 32;

// One swizzled matrix of `rows` x `columns` 4-bit values: its values and block scales.
void add_matrix(std::uint64_t experts, std::uint64_t rows, std::uint64_t columns, const VllmMxfp4Hopper& layout,
                Mxfp4LayerBytes& bytes) {
  constexpr std::string_view what = "MXFP4 expert bytes";
  const std::uint64_t value_rows = round_up(round_up(rows, layout.value_pad), kValueRowPack);
  const std::uint64_t value_columns = round_up(round_up(columns / 2, layout.value_pad), kValueColumnPack);
  bytes.values = checked_add(bytes.values, checked_mul(checked_mul(experts, value_rows, what), value_columns, what), what);
  const std::uint64_t groups = columns / kMxBlock;
  const std::uint64_t swizzled = checked_mul(checked_mul(experts, round_up(rows, kScaleRowAlign), what),
                                             round_up(groups, layout.scale_group_align), what);
  bytes.swizzled_scales = checked_add(bytes.swizzled_scales, swizzled, what);
  if (layout.keeps_original_scales) {
    bytes.original_scales = checked_add(bytes.original_scales, checked_mul(checked_mul(experts, rows, what), groups, what), what);
  }
}

}  // namespace

Mxfp4LayerBytes mxfp4_layer_bytes(const ModelShape& shape, const Parallelism& parallel, const VllmRules& rules) {
  const MoeDims& moe = *shape.moe;
  const bool whole_experts = parallel.expert_parallel || parallel.expert_dp > 1;
  Mxfp4LayerBytes bytes;
  // FusedMoE: with expert parallelism each rank holds whole experts, else a TP slice of every one.
  bytes.experts = whole_experts ? moe.num_experts / parallel.expert_ranks() : moe.num_experts;
  bytes.intermediate =
      round_up(whole_experts ? moe.moe_intermediate_size : moe.moe_intermediate_size / parallel.tp, kTritonIntermediateAlign);
  const std::uint64_t hidden = shape.hidden_size;
  // w13: gate and up, 2 x intermediate rows of hidden; w2: hidden rows of intermediate.
  add_matrix(bytes.experts, 2 * bytes.intermediate, hidden, rules.mxfp4_hopper, bytes);
  add_matrix(bytes.experts, hidden, bytes.intermediate, rules.mxfp4_hopper, bytes);
  bytes.biases = checked_mul(checked_mul(bytes.experts, 2 * bytes.intermediate + hidden, "MXFP4 expert bytes"), 4,
                             "MXFP4 expert bytes");
  return bytes;
}

std::optional<Bytes> vllm_mxfp4_weights(const ModelShape& shape, const GpuSpec& gpu, const FitRequest& request,
                                        const VllmRules& rules, std::string* rule) {
  const Parallelism& parallel = request.parallel;
  if (request.weights_dtype != "mxfp4+bf16" || !rules.mxfp4_hopper.modelled ||
      gpu.architecture != GpuArchitecture::hopper || parallel.pp != 1 || shape.checkpoint || !shape.moe ||
      !shape.params_total || shape.model_type != "gpt_oss") {
    return std::nullopt;
  }
  const MoeDims& moe = *shape.moe;
  const bool whole_experts = parallel.expert_parallel || parallel.expert_dp > 1;
  if ((whole_experts && moe.num_experts % parallel.expert_ranks() != 0) ||
      (!whole_experts && moe.moe_intermediate_size % parallel.tp != 0) || moe.moe_intermediate_size % kMxBlock != 0 ||
      shape.hidden_size % kMxBlock != 0) {
    return std::nullopt;
  }
  const Mxfp4LayerBytes layer = mxfp4_layer_bytes(shape, parallel, rules);
  const std::uint64_t experts = checked_mul(layer.total(), moe.moe_layers, "MXFP4 expert bytes");
  // The rest (attention, router, embeddings, LM head, norms) in bf16 over TP, as kvplan sizes any
  // checkpoint; the experts' weights and biases are counted above.
  const std::uint64_t expert_biases = checked_mul(checked_mul(moe.moe_layers, moe.num_experts, "expert biases"),
                                                 2 * moe.moe_intermediate_size + shape.hidden_size, "expert biases");
  const std::uint64_t expert_params = checked_add(routed_expert_params(shape), expert_biases, "expert parameters");
  if (expert_params >= *shape.params_total) return std::nullopt;
  const std::uint64_t rest = ceil_div(checked_mul(*shape.params_total - expert_params, 2, "weights"), parallel.tp);
  if (rule != nullptr) {
    *rule = "vLLM " + std::string(rules.version) + " on Hopper (TRITON MXFP4 MoE backend): " + std::to_string(moe.moe_layers) +
            " MoE layers x " + std::to_string(layer.experts) + " experts, intermediate " +
            std::to_string(layer.intermediate) + " per rank (padded to 64): values " + std::to_string(layer.values) +
            " B + swizzled scales " + std::to_string(layer.swizzled_scales) + " B" +
            (layer.original_scales > 0 ? " + original scales " + std::to_string(layer.original_scales) + " B" : "") +
            " + fp32 biases " + std::to_string(layer.biases) + " B = " + std::to_string(layer.total()) +
            " B per layer; + the other " + std::to_string(*shape.params_total - expert_params) + " params x 2 B / TP " +
            std::to_string(parallel.tp);
  }
  return Bytes{checked_add(experts, rest, "weights")};
}

}  // namespace kvplan

#include "core/vllm_mxfp4.h"

#include <string_view>

#include "core/checked.h"
#include "core/params.h"
#include "core/vllm_rules.h"

namespace kvplan {
namespace {

constexpr std::string_view kWhat = "MXFP4 expert bytes";

std::uint64_t round_up(std::uint64_t value, std::uint64_t multiple) { return checked_round_up(value, multiple, kWhat); }
std::uint64_t mul(std::uint64_t a, std::uint64_t b) { return checked_mul(a, b, kWhat); }
std::uint64_t add(std::uint64_t a, std::uint64_t b) { return checked_add(a, b, kWhat); }

// hopper_value.py:HopperMXValueLayout.swizzle_data packs rows in 16s and byte columns in 32s;
// hopper_scale.py:HopperMXScaleLayout.swizzle_data pads scale rows to 2 x num_warps (8) x 2 x 8.
constexpr std::uint64_t kValueRowPack = 16;
constexpr std::uint64_t kValueColumnPack = 32;
constexpr std::uint64_t kScaleRowAlign = 256;
// One 8-bit scale per 32 values (OCP MX block).
constexpr std::uint64_t kMxBlock = 32;

// One matrix of `rows` x `columns` 4-bit values per expert: its values and block scales as held.
void add_matrix(std::uint64_t experts, std::uint64_t rows, std::uint64_t columns, const VllmMxfp4Layout& layout,
                Mxfp4LayerBytes& bytes) {
  const std::uint64_t groups = columns / kMxBlock;
  std::uint64_t value_rows = rows;
  std::uint64_t value_columns = columns / 2;
  std::uint64_t scale_rows = rows;
  if (layout.triton_layouts) {
    value_rows = round_up(round_up(rows, layout.value_pad), kValueRowPack);
    value_columns = round_up(round_up(columns / 2, layout.value_pad), kValueColumnPack);
    scale_rows = round_up(rows, kScaleRowAlign);
  }
  bytes.values = add(bytes.values, mul(mul(experts, value_rows), value_columns));
  bytes.swizzled_scales = add(bytes.swizzled_scales, mul(mul(experts, scale_rows), round_up(groups, layout.scale_group_align)));
  if (layout.keeps_original_scales) bytes.original_scales = add(bytes.original_scales, mul(mul(experts, rows), groups));
}

// FusedMoE: with expert parallelism (or vLLM's DP, which implies it) each rank holds whole experts,
// else a TP slice of every one.
std::string architecture_name(GpuArchitecture architecture) {
  switch (architecture) {
    case GpuArchitecture::ampere: return "Ampere";
    case GpuArchitecture::hopper: return "Hopper";
    default: return "Blackwell";
  }
}

bool whole_experts(const Parallelism& parallel) { return parallel.expert_parallel || parallel.expert_dp > 1; }

const VllmMxfp4Layout* layout_for(const VllmRules& rules, const GpuSpec& gpu) {
  if (gpu.architecture == GpuArchitecture::ampere && rules.mxfp4.ampere.modelled) return &rules.mxfp4.ampere;
  if (gpu.architecture == GpuArchitecture::hopper && rules.mxfp4.hopper.modelled) return &rules.mxfp4.hopper;
  if (gpu.architecture == GpuArchitecture::blackwell && rules.mxfp4.blackwell.modelled) return &rules.mxfp4.blackwell;
  return nullptr;
}

}  // namespace

Mxfp4LayerBytes mxfp4_layer_bytes(const ModelShape& shape, const Parallelism& parallel, const VllmMxfp4Layout& layout) {
  const MoeDims& moe = *shape.moe;
  const bool whole = whole_experts(parallel);
  Mxfp4LayerBytes bytes;
  // oracle/mxfp4.py:mxfp4_round_up_hidden_size_and_intermediate_size pads for the backend's kernel.
  bytes.experts = whole ? moe.num_experts / parallel.expert_ranks() : moe.num_experts;
  bytes.intermediate =
      round_up(whole ? moe.moe_intermediate_size : moe.moe_intermediate_size / parallel.tp, layout.intermediate_align);
  bytes.hidden = round_up(shape.hidden_size, layout.hidden_align);
  // w13: gate and up, 2 x intermediate rows of hidden; w2: hidden rows of intermediate.
  add_matrix(bytes.experts, 2 * bytes.intermediate, bytes.hidden, layout, bytes);
  add_matrix(bytes.experts, bytes.hidden, bytes.intermediate, layout, bytes);
  bytes.biases = mul(mul(bytes.experts, 2 * bytes.intermediate + bytes.hidden), layout.bias_bytes);
  return bytes;
}

std::optional<Bytes> vllm_mxfp4_weights(const ModelShape& shape, const GpuSpec& gpu, const FitRequest& request,
                                        const VllmRules& rules, std::string* rule) {
  const Parallelism& parallel = request.parallel;
  const VllmMxfp4Layout* layout = layout_for(rules, gpu);
  if (request.weights_dtype != "mxfp4+bf16" || layout == nullptr || parallel.pp != 1 || shape.checkpoint ||
      !shape.moe || !shape.params_total || shape.model_type != "gpt_oss") {
    return std::nullopt;
  }
  const MoeDims& moe = *shape.moe;
  const bool whole = whole_experts(parallel);
  if ((whole && moe.num_experts % parallel.expert_ranks() != 0) || (!whole && moe.moe_intermediate_size % parallel.tp != 0) || moe.moe_intermediate_size % kMxBlock != 0 ||
      shape.hidden_size % kMxBlock != 0) {
    return std::nullopt;
  }
  const Mxfp4LayerBytes layer = mxfp4_layer_bytes(shape, parallel, *layout);
  const std::uint64_t experts = mul(layer.total(), moe.moe_layers);
  // The rest (attention, router, embeddings, LM head, norms) in bf16 over TP, as kvplan sizes any
  // checkpoint; the experts' weights and biases are counted above, unpadded in params.total.
  const std::uint64_t expert_biases = mul(mul(moe.moe_layers, moe.num_experts), 2 * moe.moe_intermediate_size + shape.hidden_size);
  const std::uint64_t expert_params = add(routed_expert_params(shape), expert_biases);
  if (expert_params >= *shape.params_total) return std::nullopt;
  const std::uint64_t rest = ceil_div(mul(*shape.params_total - expert_params, 2), parallel.tp);
  if (rule != nullptr) {
    *rule = "vLLM " + std::string(rules.version) + " on " +
            architecture_name(gpu.architecture) + " (" + std::string(layout->backend) +
            " MXFP4 MoE backend): " + std::to_string(moe.moe_layers) + " MoE layers x " + std::to_string(layer.experts) +
            " experts, intermediate " + std::to_string(layer.intermediate) + " per rank and hidden " +
            std::to_string(layer.hidden) + " as padded for the kernel: values " + std::to_string(layer.values) +
            " B + scales " + std::to_string(layer.swizzled_scales) + " B" +
            (layer.original_scales > 0 ? " + loaded scales " + std::to_string(layer.original_scales) + " B" : "") +
            (layout->bias_bytes == 4 ? " + fp32 biases " : " + bf16 biases ") + std::to_string(layer.biases) + " B = " +
            std::to_string(layer.total()) +
            " B per layer; + the other " + std::to_string(*shape.params_total - expert_params) + " params x 2 B / TP " +
            std::to_string(parallel.tp);
  }
  return Bytes{add(experts, rest)};
}

}  // namespace kvplan

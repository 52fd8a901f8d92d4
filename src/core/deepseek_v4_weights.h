// DeepSeek-V4's weights as vLLM 0.33 allocates them on one TP rank (models/deepseek_v4/nvidia/model.py,
// attention.py, compressor.py, quant_config.py): fp8 linears in 128x128 blocks, MXFP4 routed experts,
// bf16 embeddings, LM head, routers and compressors, fp32 hyper-connections. docs/model.md,
// "DeepSeek-V4's weights".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/model_shape.h"
#include "core/parallel.h"
#include "core/quantized_weights.h"

namespace kvplan {

// Why kvplan cannot count this deepseek_v4 model's parameters (a field config.json omits), or "".
std::string deepseek_v4_shape_gap(const ModelShape& shape);

// Why kvplan cannot size its checkpoint's weights (the shape gap, expert_dtype fp8, a
// quantization_config without fp8 128x128 blocks), or "" when deepseek_v4_weight_parts can.
std::string deepseek_v4_weights_gap(const ModelShape& shape);

// The weights one rank holds at TP `tp`, part by part: WeightPart::bytes per rank of the fp4
// checkpoint (deepseek_v4_weights_gap says whether the model is one), params the whole model's. Experts split over the ranks either way (a slice of every expert, or whole experts with
// --enable-expert-parallel: the same bytes). Throws kvplan::Error for a gap above, or a TP vLLM
// refuses (one that does not divide the heads, o_groups or the experts' widths).
std::vector<WeightPart> deepseek_v4_weight_parts(const ModelShape& shape, std::uint32_t tp);

// One GPU's bytes (the parts at parallel.tp), and the rule --explain prints with each part. Throws
// kvplan::Error for DP > 1: with --data-parallel-size and expert parallelism vLLM runs DeepSeek-V4's
// MoE sequence-parallel (nvidia/model.py:_use_sequence_parallel), replicating the shared experts.
std::uint64_t deepseek_v4_rank_bytes(const ModelShape& shape, const Parallelism& parallel);
std::string deepseek_v4_weights_rule(const ModelShape& shape, const Parallelism& parallel);

}  // namespace kvplan

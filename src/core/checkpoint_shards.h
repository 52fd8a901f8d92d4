// How vLLM splits a checkpoint's tensors over TP ranks and PP stages, as bytes per GPU. The rules
// are its layers' (docs/checkpoints.md): column-parallel linears split their output rows over TP,
// row-parallel ones their input columns, K/V projections stop splitting once TP exceeds the K/V
// heads (each rank keeps a whole head), vocabulary-parallel embeddings and the LM head pad the
// vocabulary to a multiple of 64 and split it, norms and routers are replicated, MoE experts
// split over TP, or with vLLM's DP over TP x DP ranks (Parallelism::expert_ranks), sliced or whole.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/checkpoint.h"
#include "core/model_shape.h"
#include "core/parallel.h"
#include "core/units.h"
#include "core/weights.h"

namespace kvplan {

enum class TensorRole { embedding, lm_head, column, kv_column, row, expert, replicated, not_loaded };

std::string_view to_string(TensorRole role);

// Where a tensor goes: its role, and the decoder layer it belongs to (none for embeddings, the
// final norm, vision towers).
struct TensorPlacement {
  TensorRole role = TensorRole::replicated;
  bool in_layer = false;
  std::uint32_t layer = 0;
  bool last_stage = false;  // the final norm and the LM head sit on the last PP stage
};
TensorPlacement place_tensor(const std::string& name, const ModelShape& shape);

// One GPU's share of the checkpoint on PP stage `stage`.
struct RankWeights {
  std::uint64_t bytes = 0;
  std::map<std::string, std::uint64_t> by_dtype;  // "bf16", "fp8_e4m3", "u8"
  std::map<std::string, std::uint64_t> by_role;   // to_string(TensorRole)
  std::uint64_t not_loaded_bytes = 0;  // MTP layers, rotary tables: in the files, not in memory
  std::uint32_t not_loaded_tensors = 0;
};
RankWeights checkpoint_stage_weights(const ModelShape& shape, const Parallelism& parallel, std::uint32_t stage);

// The stage with the most bytes per GPU (the first of equals), and its share: what an engine that
// sizes every GPU alike (SGLang, TensorRT-LLM) must hold room for.
std::uint32_t checkpoint_widest_stage(const ModelShape& shape, const Parallelism& parallel);
Bytes checkpoint_weights_per_rank(const ModelShape& shape, const Parallelism& parallel);

// "from the checkpoint's safetensors headers: ..." with the bytes per dtype and per role.
std::string checkpoint_weights_rule(const ModelShape& shape, const Parallelism& parallel, std::uint32_t stage);

// The checkpoint's dtypes as one name ("bf16", "fp8_e4m3+bf16") and its mean bytes per parameter
// (what the decode bound reads per active parameter).
WeightsDtype checkpoint_weights_dtype(const Checkpoint& checkpoint);

// "bf16" for "BF16", "fp8_e4m3" for "F8_E4M3": kvplan's names for safetensors' dtypes.
std::string dtype_label(const std::string& safetensors_dtype);

}  // namespace kvplan

// The tensors of a safetensors checkpoint as their headers describe them: what `fit` sizes the
// weights from when --model names a checkpoint (a folder, the Hugging Face cache, the hub)
// instead of a preset. docs/checkpoints.md describes where the headers come from.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kvplan {

struct CheckpointTensor {
  std::string name;                  // "model.layers.0.self_attn.q_proj.weight"
  std::string dtype;                 // safetensors' name: "BF16", "F8_E4M3", "U8"
  std::vector<std::uint64_t> shape;  // as stored (packed 4-bit values are U8 of half the width)
  std::uint64_t elements = 0;        // product of shape
  std::uint64_t bytes = 0;           // data_offsets end - begin = elements x the dtype's bits / 8
};

struct Checkpoint {
  std::string origin;        // where the headers were read, for --explain
  std::string quant_method;  // config.json's quantization_config.quant_method, "" when none
  std::uint32_t files = 0;   // safetensors files whose headers were read
  std::vector<CheckpointTensor> tensors;
};

}  // namespace kvplan

// A checkpoint's quantization_config, as far as it decides how many bytes each weight takes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kvplan {

class ConfigFields;

struct WeightQuantization {
  std::string method;                   // quant_method: fp8, compressed-tensors, mxfp4, ...
  std::uint32_t bits = 0;               // bits per stored weight value (8, 4); 0 when not read
  std::string type;                     // "float" or "int" (compressed-tensors weights.type)
  std::string strategy;                 // "block", "channel", "group" or "tensor"
  std::uint64_t block_rows = 0;         // weight_block_size / block_structure: [rows, cols]
  std::uint64_t block_cols = 0;
  std::uint64_t group_size = 0;         // strategy "group": values per scale along a row
  std::uint32_t scale_bytes = 0;        // bytes per stored scale
  std::string scale_why;                // where scale_bytes comes from, for --explain
  std::vector<std::string> ignore;      // modules left unquantized: names, or "re:" patterns
  std::string why_unsized;              // set when kvplan cannot size this scheme: the reason
};

// `quantization_config` as fp8 (vLLM's Fp8Config) and compressed-tensors checkpoints write it.
// `checkpoint_dtype_bytes` is the size of the model's unquantized dtype, which vLLM gives the
// scales of weight-only integer schemes.
WeightQuantization read_weight_quantization(const ConfigFields& quantization_config, std::uint32_t checkpoint_dtype_bytes);

}  // namespace kvplan

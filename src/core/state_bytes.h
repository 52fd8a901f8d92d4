// What one state layer (Mamba-2, Gated DeltaNet) keeps per sequence on one TP rank: a
// convolution window and a recurrent state, both constant in the context length. Shapes and
// dtypes follow vLLM 0.33's MambaStateShapeCalculator and MambaStateDtypeCalculator
// (docs/model.md, "State layers").
#pragma once

#include <cstdint>
#include <string>

#include "core/model_shape.h"

namespace kvplan {

struct StateBytes {
  std::uint64_t conv_channels = 0;       // conv_dim / TP
  std::uint64_t conv_window = 0;         // conv_kernel - 1 inputs kept
  std::uint64_t recurrent_elements = 0;  // heads / TP x head_dim x state_size
  std::uint32_t conv_dtype_bytes = 2;
  std::uint32_t recurrent_dtype_bytes = 2;
  std::string conv_dtype;                // "bfloat16"
  std::string recurrent_dtype;           // "float32" for Nemotron-H
  std::uint64_t conv_bytes() const { return conv_channels * conv_window * conv_dtype_bytes; }
  std::uint64_t recurrent_bytes() const { return recurrent_elements * recurrent_dtype_bytes; }
  std::uint64_t total() const { return conv_bytes() + recurrent_bytes(); }
};

// The model's conv-state dtype is its own ("auto"): `model_dtype` is config.json's torch_dtype
// (bf16 when empty). `ssm_override` is a --mamba-ssm-cache-dtype value, "" for the config's or
// the model's. Throws kvplan::Error (exit 2) when the heads or groups do not divide over TP, as
// vLLM's mixers refuse.
StateBytes state_bytes_per_rank(const StateDims& state, const std::string& model_dtype, std::uint32_t tp,
                                const std::string& ssm_override = "");

// A --mamba-ssm-cache-dtype value: "" or "auto" (the config's or the model's dtype, returned as
// ""), float32, bfloat16 or float16. Throws kvplan::Error (exit 2) naming the flag otherwise.
std::string parse_mamba_ssm_cache_dtype(const std::string& text);

// "conv 8192 x 3 x 2 B (bfloat16) + recurrent 32 x 128 x 128 x 2 B (bfloat16)".
std::string state_formula(const StateDims& state, const StateBytes& bytes);

}  // namespace kvplan

// gpt-oss's MXFP4 experts as vLLM holds them after loading (docs/engines.md, "MXFP4 experts as vLLM
// loads them"): on Hopper with the TRITON MoE backend, the intermediate size per rank padded for the
// kernel, values and block scales re-laid out by triton_kernels' Hopper layouts (with their
// padding), and in 0.19 the loaded scales kept beside the swizzled ones; on Blackwell with FlashInfer's
// TRT-LLM kernels, the intermediate and hidden sizes padded; the expert biases in fp32 on both. The
// checkpoint's 4.25 bits per parameter undercount these bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/capacity.h"

namespace kvplan {

struct VllmRules;
struct VllmMxfp4Layout;

// One MoE layer's expert tensors on one rank, in bytes.
struct Mxfp4LayerBytes {
  std::uint64_t experts = 0;               // experts on the rank
  std::uint64_t intermediate = 0;          // intermediate size per rank after the backend's padding
  std::uint64_t hidden = 0;                // hidden size after the backend's padding
  std::uint64_t values = 0;                // w13 and w2, 4-bit values as swizzled
  std::uint64_t swizzled_scales = 0;       // their block scales as the kernel holds them
  std::uint64_t original_scales = 0;       // the loaded scales, kept by vLLM 0.19
  std::uint64_t biases = 0;                // w13 and w2 biases in fp32
  std::uint64_t total() const { return values + swizzled_scales + original_scales + biases; }
};

// The weights per rank of an MXFP4 (gpt-oss) checkpoint served by `rules`' release on `gpu`, when
// kvplan models that release's layout there (Hopper and Blackwell, vLLM 0.19 and 0.33, PP 1); nullopt
// otherwise.
// `rule` receives the arithmetic for --explain.
std::optional<Bytes> vllm_mxfp4_weights(const ModelShape& shape, const GpuSpec& gpu, const FitRequest& request,
                                        const VllmRules& rules, std::string* rule);

// One MoE layer's bytes on one rank (exposed for the tests).
Mxfp4LayerBytes mxfp4_layer_bytes(const ModelShape& shape, const Parallelism& parallel, const VllmMxfp4Layout& layout);

}  // namespace kvplan

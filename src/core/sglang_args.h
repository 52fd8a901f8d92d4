// SGLang's server-argument defaults that decide its KV pool (0.5.23's, or an older release's row of
// sglang_rules.h where they differ): the memory bucket
// (chunked prefill size, decode CUDA-graph batch size), the reserve for activations and CUDA
// graphs, mem_fraction_static, the attention backend and the page size it forces. Each rule
// and its SGLang source (file:function) is in docs/engines-sglang.md.
#pragma once

#include <cstdint>
#include <string>

#include "core/capacity.h"

namespace kvplan::detail {

struct SglangArgs {
  double gpu_memory_mib = 0;        // G: nvidia-smi's total (or the CUDA total in whole MiB)
  std::string gpu_memory_rule;      // where G came from
  std::uint64_t chunked_prefill_size = 0;
  std::uint32_t decode_graph_max_bs = 0;  // cuda_graph_config.decode.max_bs
  std::uint32_t attn_dp_size = 1;         // --attn-dp-size: TP with --dp-attention, else 1
  bool prefill_graph = false;             // breakable prefill CUDA graph, captured or not
  std::string prefill_graph_rule;         // why it is off, when it is
  bool multimodal = false;                // SGLang's ModelConfig.is_multimodal (images enabled)
  std::string multimodal_rule;
  std::uint32_t prefill_graph_sizes = 0;  // token counts it captures (non-MLA reserve: 8 MiB each)
  double reserved_mib = 0;          // R
  std::string reserved_rule;
  double mem_fraction_static = 0;
  std::string fraction_rule;
  std::string attention_backend;    // SGLang's name: fa3, trtllm_mha, trtllm_mla, flashinfer, aiter, ...
  std::string backend_rule;
  std::uint32_t page_size = 1;
  std::string page_rule;
};

// The defaults SGLang resolves for this model, GPU and request; the request's own knobs
// (--mem-util, --block-size, --max-num-batched-tokens as --chunked-prefill-size) win where
// SGLang lets them.
SglangArgs resolve_sglang_args(const ModelShape& shape, const GpuSpec& gpu, const FitRequest& request);

// memory_hook.py:adjust_mem_fraction_for_vlm's factor on a multimodal model's default fraction.
double sglang_vlm_factor(const ModelShape::Multimodal& multimodal);

// The breakable prefill CUDA graph's captured token counts up to max_bs
// (cuda_graph_hook.py:generate_prefill_cuda_graph_batch_sizes): 4..32 by 4, 48..256 by 16,
// 288..512 by 32, 576..1024 by 64, 1280..4096 by 256, 4608.. by 512.
std::uint32_t prefill_graph_size_count(std::uint64_t max_bs);

}  // namespace kvplan::detail

// The parts of vLLM's start-up accounting that changed between releases, as one table: a row per
// release kvplan follows, a column per rule. The accounting (fit_vllm.cc) reads the row it is
// given and never checks a version itself. docs/engines.md gives each rule's source and history.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace kvplan {

// How the release logs the KV capacity at start-up.
enum class VllmLogFormat {
  gpu_blocks,  // V0: "# GPU blocks: N, # CPU blocks: M" and "Maximum concurrency ... X.XXx" from N x block size
  two_lines,   // V1: "GPU KV cache size: N tokens" with N = blocks / groups x block size, then the concurrency
  one_line,    // "GPU KV cache size: N tokens, Maximum concurrency for L tokens per request: X.XXx", N = int(X x L)
};

// How the release picks the KV block size for MLA models.
enum class VllmMlaBlockRule {
  flashmla_or_cutlass,  // FlashMLA's 64 on Hopper, CUTLASS MLA's 128 on Blackwell, whatever the cache dtype
  backend_priorities,   // the first valid backend in platforms/cuda.py's priority list, its preferred size
};

// Which layers share a block table (kv_cache_utils / kv_cache_planning).
enum class VllmGrouping {
  none,            // V0: one block table; sliding layers are cached like full ones
  fewest_in_runs,  // groups of the fewest layers of a kind, consecutive layers together
  strided,         // groups of the fewest (or the most, under 1.5x the fewest), layer i to group i mod n,
                   // formed over the whole model and projected onto each PP stage
};

// What the one-request check compares with the stage's KV memory.
enum class VllmFitCheck {
  gpu_blocks,         // V0: max_model_len <= num_gpu_blocks x block_size
  layer_sum,          // each layer's own need, summed
  group_blocks,       // whole blocks of every group, padding included
  group_blocks_null,  // the same against the KV memory less the pool's null block
};

// max_num_batched_tokens by GPU memory tier and entry point (EngineArgs' batch defaults).
struct VllmBatchDefaults {
  std::uint64_t large_tier_min_gib = 0;  // 0: no large tier; else GPUs with at least this much use `large`
  std::uint64_t large = 0;
  std::uint64_t serve_high = 0;          // `vllm serve` on >= 70 GiB GPUs that are not A100s
  std::uint64_t offline_high = 0;        // the offline LLM class on those GPUs
  std::uint64_t serve_low = 0;           // `vllm serve` elsewhere
  std::uint64_t offline_low = 0;
  std::uint64_t seqs_high = 1024;  // max_num_seqs on the high tiers, which sizes the sampler's profile
  std::uint64_t seqs_low = 256;
  bool v0_chunked_prefill = false;  // V0 instead: 2048 with chunked prefill (on above 32k tokens without a
                                    // sliding window), else max(max_model_len, 2048)
};

// How kvplan models what the profile run subtracts besides the weights (vllm_profile.h).
enum class VllmProfileModel {
  rough,            // one formula for the activations, 0.5 / 1 GiB of non-torch memory (not checked
                    // against this release's logs)
  sampler_profile,  // the profile run's forward pass and sampler, as the release's code allocates
                    // them, and the non-torch memory its logs show per communication pattern
};

// Non-torch memory the profile run adds (non_torch_increase in utils/mem_utils.memory_profiling):
// sized by NCCL and the kernels' libraries, not by the model, so it is taken from the release's
// own start-up logs, by how the ranks communicate.
struct VllmNonTorch {
  std::uint64_t single_gpu = 0;       // TP 1, PP 1
  std::uint64_t tensor_parallel = 0;  // TP > 1
  std::uint64_t pipeline_only = 0;    // PP > 1 with TP 1
  std::string_view source;            // the logs the figures come from
};

// How the release holds MXFP4 experts after loading on one GPU architecture, or not modelled
// (core/vllm_mxfp4.h; docs/engines.md, "MXFP4 experts as vLLM loads them").
struct VllmMxfp4Layout {
  bool modelled = false;
  std::string_view backend;              // the MoE backend vLLM picks for gpt-oss there
  std::uint32_t intermediate_align = 1;  // the intermediate size per rank padded to this
  std::uint32_t hidden_align = 1;        // the experts' hidden size padded to this
  bool triton_layouts = false;           // triton_kernels' Hopper value and scale layouts (with their padding)
  std::uint32_t value_pad = 1;           // both dims of the swizzled values padded to this first (0.19: 64)
  std::uint32_t scale_group_align = 1;   // scale groups per row padded to this
  bool keeps_original_scales = false;    // 0.19's TRITON branch deletes the loaded weights, not their scales
  std::uint32_t bias_bytes = 4;          // the expert biases: fp32 (TRITON, TRT-LLM) or the model dtype (Marlin)
};

struct VllmMxfp4 {
  VllmMxfp4Layout ampere;  // SM 8.x (A100, A10G): the presets' ada class mixes SM 8.9 and 12.0, which differ
  VllmMxfp4Layout hopper;
  VllmMxfp4Layout blackwell;
};

struct VllmRules {
  std::string_view version;       // "0.33"
  double gpu_memory_utilization;  // the default fraction of total memory vLLM may use
  VllmLogFormat log_format;
  bool async_scheduling;      // on by default: the scheduler keeps one more batch in flight
  bool v2_model_runner;       // the default runner keeps async scheduling under PP (PP + 1 batches in flight)
  VllmGrouping grouping;
  bool chunked_hybrid;        // chunked local attention keeps its own groups (else the hybrid allocator is
                              // off for the model and those layers are cached like full ones)
  bool sliding_in_flight;     // a sliding layer holds W - 1 + in-flight tokens (else W - 1 + max_num_batched_tokens)
  VllmFitCheck fit_check;
  VllmMlaBlockRule mla_blocks;
  std::uint32_t mla_as_mha_head_size;  // 0; V0 had no MLA cache: K and V per head, padded to this size
  bool state_layers;          // kvplan models this release's hybrid allocator for Mamba / Gated DeltaNet layers
  bool sparse_mla;            // kvplan models this release's sparse MLA backends and indexer cache (DeepSeek-V3.2)
  bool kind_kv_heads = false; // kvplan models this release's full layers with their own K/V heads (Gemma-4)
  bool decode_context_parallel = false;  // kvplan models this release's --decode-context-parallel-size
  VllmBatchDefaults batch;
  VllmProfileModel profile = VllmProfileModel::rough;
  bool cuda_graph_memory_subtracted = false;  // the worker also subtracts its CUDA-graph estimate
                                              // (VLLM_MEMORY_PROFILER_ESTIMATE_CUDAGRAPHS on)
  VllmNonTorch non_torch;  // used with VllmProfileModel::sampler_profile
  VllmMxfp4 mxfp4 = {};
};

// The rules of one release: "" or "0.33" for the newest, or an older one kvplan knows. Throws
// kvplan::Error (exit 2) naming the known releases for any other.
const VllmRules& vllm_rules(std::string_view version);

// "0.33 (default), 0.19, 0.10, 0.6", for help texts and errors.
std::string known_vllm_versions();

// True for the release `--engine vllm` means (the table's first row): the features kvplan has read
// in that release only (speculative decoding, the prefix cache, KV offloading) check this.
bool newest_vllm_release(std::string_view version);

}  // namespace kvplan

// DeepSeek-V4's compressed sparse attention (deepseek_v4): the caches each layer keeps, their
// bytes per sequence, and how vLLM 0.33 pages and groups them (docs/engines.md, "Compressed
// sparse attention"). Every layer keeps a sliding window of latents; a layer with compress ratio r
// (4: CSA, 128: HCA) also keeps one latent per r tokens and a compressor state for the tokens not
// yet compressed; CSA layers add the lightning indexer's key per compressed latent and the
// indexer's own compressor state.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/model_shape.h"

namespace kvplan {

// One kind of cache, the same in each of `layers` layers.
struct CompressedCache {
  std::string name;                 // "sliding-window latents", "C4 compressed latents", ...
  std::uint32_t layers = 0;
  std::uint32_t tokens_per_state = 1;   // tokens one state stands for (the compress ratio for latents)
  std::uint64_t state_bytes = 0;        // bytes of one state (a latent row, an indexer key, a compressor state)
  std::optional<std::uint64_t> window;  // the last `window` tokens only (sliding latents, compressor states)
  // vLLM 0.33's spec: SlidingWindowMLASpec (windowed) or MLAAttentionSpec, block of `vllm_block` tokens.
  std::uint32_t vllm_block = 0;
  std::string vllm_source;              // the class that builds the spec, for --explain

  // States one sequence of `ctx` tokens holds in one layer: a windowed cache the last
  // min(ctx, window) tokens, a compressed one the floor(ctx / ratio) complete groups (the rest
  // waits in the compressor state).
  std::uint64_t states_held(std::uint64_t ctx) const;
};

// The latent's layout per cache dtype: bf16 or fp16 (FlashInfer's DSV4 backend, Blackwell), fp8
// (plain e4m3 rows, the same backend), fp8_ds_mla (FlashMLA: 448 fp8 NoPE values, 64 bf16 RoPE
// values and 8 B of scales, 584 B). Throws kvplan::Error (exit 2) for other dtypes.
std::uint64_t compressed_latent_bytes(const CompressedMlaDims& dims, KvDtype dtype);

// Every cache of the model, in vLLM's registration order (indexer key, indexer compressor,
// sliding latents, compressed latents, compressor states).
std::vector<CompressedCache> compressed_caches(const CompressedMlaDims& dims, KvDtype dtype);

// One sequence of `ctx` tokens (and a batch of them): each cache's states and bytes. With
// `include_mtp` the MTP layers add window-only layers (vLLM gives them compress ratio 1).
struct CompressedCacheSize {
  CompressedCache cache;
  std::uint64_t states_per_layer = 0;
  std::uint64_t bytes_per_layer = 0;     // states x state bytes
  std::uint64_t bytes_all_layers = 0;    // x layers
};
struct CompressedSize {
  std::vector<CompressedCacheSize> caches;
  std::uint64_t per_sequence = 0;
  std::uint64_t per_batch = 0;
};
CompressedSize compressed_size(const CompressedMlaDims& dims, KvDtype dtype, std::uint64_t ctx, std::uint64_t batch,
                               std::uint32_t mtp_layers);

// vLLM 0.33's plan for one GPU (the whole cache is replicated on every TP rank: one KV head,
// max_tp_shards 1).
struct CompressedVllmGroup {
  std::string kind;             // "sliding", "compressed", "compressor"
  std::uint32_t block = 0;      // tokens per block
  std::uint64_t layers = 0;     // cache layers in the group
  std::uint64_t bytes = 0;      // the group's pages in one block
  std::uint64_t blocks_per_request = 0;
};
struct CompressedVllmPlan {
  std::vector<CompressedVllmGroup> groups;
  std::uint32_t repeats_per_group = 0;  // 0 when no bucket repeats a pattern
  std::uint64_t bytes_per_block = 0;    // the widest group
  std::uint64_t blocks_per_request = 0; // sum over groups
  std::uint64_t alignment = 0;          // pages are padded to a multiple of it
};
// `tokens_in_flight`: VllmConfig.max_in_flight_tokens, which windowed groups reserve beside W - 1.
CompressedVllmPlan plan_compressed_vllm(const CompressedMlaDims& dims, KvDtype dtype, std::uint64_t max_model_len,
                                        std::uint64_t tokens_in_flight);

}  // namespace kvplan

// SGLang 0.5.23's hybrid SWA pool (model_executor/pool_configurator.py:HybridSWAPoolConfigurator):
// the full layers get a pool of max_total_num_tokens, the sliding layers one of
// swa_full_tokens_ratio (0.8) as many, each at its own bytes per token
// (docs/engines-sglang.md, "Hybrid SWA pool").
#pragma once

#include <cstdint>
#include <string>

#include "core/capacity.h"
#include "core/fit_internal.h"

namespace kvplan::detail {

// configs/model_config.py:is_hybrid_swa_model: of the models kvplan reads, gpt-oss, Step-3.5 /
// Step-3.7, MiMo-V2-Flash, Gemma-4 and Llama-4 as Llama4ForConditionalGeneration, whatever their layers.
bool hybrid_swa_architecture(const ModelShape& shape);

// Llama-4 under its multimodal architecture, the one SGLang lists (a text-only Llama4ForCausalLM
// has a plain pool).
bool sglang_llama4_hybrid(const ModelShape& shape);

// The pool SGLang gives `layer` rows in: sliding (the SWA pool), full (the full pool, or the one
// pool of a model that is not hybrid), or state / none (no per-token rows).
LayerAttention sglang_layer_pool(const ModelShape& shape, std::uint32_t layer);
std::uint32_t sglang_swa_layer_count(const ModelShape& shape);

// A hybrid SWA architecture with SWA layers: without any, HybridSWAPoolConfigurator asserts.
bool uses_hybrid_swa_pool(const ModelShape& shape);

// The tokens an SWA layer keeps: sliding_window, or Llama-4's attention_chunk_size.
std::uint64_t sglang_swa_window(const ModelShape& shape);

// The window SGLang's runner reports (load_model_utils.py:resolve_sliding_window_size), which its
// SWA admission floor uses: the model's get_attention_sliding_window_size where it has one (gpt-oss
// and Gemma-4: sliding_window - 1, an exclusive bound), else sglang_swa_window.
std::uint64_t sglang_runner_window(const ModelShape& shape);

// Per-token bytes of one full and one sliding layer on one attention rank.
struct SwaCell {
  std::uint64_t full = 0;     // _full_per_token: get_num_kv_heads x (head_dim + v_head_dim) x dtype
  std::uint64_t sliding = 0;  // _swa_per_token: get_swa_num_kv_heads x (swa_head_dim + swa_v_head_dim) x dtype
  // Their K and V rows apart, where values are narrower than keys (the pools log K and V sizes).
  std::uint64_t full_k = 0, full_v = 0, sliding_k = 0, sliding_v = 0;
};

// The cell of `attention` (the request on the attention ranks): the sliding layers at the
// variant's heads, full layers with K/V heads of their own (MiMo-V2-Flash) at theirs, max(1,
// heads // attn_tp) per rank. Sets result's per-rank full-layer rows when they differ.
SwaCell sglang_swa_cell(const ModelShape& shape, const FitRequest& attention, FitResult& result);

// _recompute_cell_size and max_total_num_tokens: budget // (full x full layers + 0.8 x sliding x
// sliding layers), in Python's float arithmetic.
std::uint64_t sglang_swa_stage_tokens(Bytes budget, const SwaCell& cell, const StageLayers& layers);

// The two pools, their groups, one request's bytes and the note, for `tokens` full-pool tokens on
// the binding stage. Throws kvplan::Error (exit 2) where SGLang refuses to start: an SWA pool that
// cannot hold sliding_window_size + page_size tokens.
void set_sglang_swa_pools(const ModelShape& shape, const SwaCell& cell, const StageLayers& binding, std::uint64_t tokens,
                          std::uint64_t page, std::uint64_t max_model_len, std::uint64_t request_slots,
                          const std::string& dtype, FitResult& result);

}  // namespace kvplan::detail

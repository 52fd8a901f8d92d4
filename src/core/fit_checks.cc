#include "core/fit_checks.h"

#include <string>

#include "core/checked.h"
#include "core/error.h"
#include "core/sglang_state.h"
#include "core/sglang_swa.h"

namespace kvplan::detail {

void check_memory_options(const ModelShape& shape, const GpuSpec& gpu, const FitRequest& request) {
  const EngineOptions& options = request.options;
  const Bytes total = gpu.memory_total;
  // Built only for a message: a sweep runs these checks a million times.
  auto gpu_text = [&] { return "the " + gpu.device_name + "'s " + gib_text(total) + " (" + std::to_string(total.value) + " B)"; };
  if (options.max_num_batched_tokens && (*options.max_num_batched_tokens == 0 || *options.max_num_batched_tokens > kMaxTokens)) {
    throw Error("--max-num-batched-tokens " + std::to_string(*options.max_num_batched_tokens) + " is outside 1 to " +
                std::to_string(kMaxTokens) + " tokens");
  }
  if (options.reserve && options.kv_cache_memory) {
    // vLLM's kv_cache_memory_bytes skips the profile run, so there is no budget to reserve from;
    // accepting both would show a --reserve that changes nothing.
    throw Error("--reserve and --kv-cache-memory exclude each other: --kv-cache-memory sets the KV memory directly, "
                "so --reserve would change nothing; give one of them");
  }
  if (options.reserve && options.reserve->value >= total.value) {
    throw Error("--reserve " + gib_text(*options.reserve) + " (" + std::to_string(options.reserve->value) +
                " B) leaves nothing of " + gpu_text());
  }
  if (!options.kv_cache_memory) return;
  const Bytes kv = *options.kv_cache_memory;
  if (kv.value == 0) throw Error("--kv-cache-memory must be more than 0 bytes");
  if (kv.value > total.value) {
    throw Error("--kv-cache-memory " + gib_text(kv) + " (" + std::to_string(kv.value) + " B) is more than " + gpu_text());
  }
  // Every engine loads the weights beside the cache, whichever way the cache was sized.
  const Bytes weights = weights_per_rank(shape, request);
  if (weights.value > total.value - kv.value) {
    throw Error("--kv-cache-memory " + gib_text(kv) + " plus " + gib_text(weights) + " of weights per GPU exceed " +
                gpu_text() + "; lower --kv-cache-memory, use more GPUs (--tp/--pp) or a smaller --weights-dtype");
  }
}

void check_engine_layer_kinds(const ModelShape& shape, const FitRequest& request) {
  if (shape.full_layer_kv && request.variant.name() != native_variant(shape).name()) {
    throw Error("--variant " + request.variant.name() + ": fit plans the model's own attention (sliding and full layers "
                "with different K/V heads); 'kvplan size' compares the variants");
  }
  if (request.options.engine == Engine::trtllm && shape.layer_count(LayerAttention::chunked) > 0) {
    throw Error("--engine trtllm: kvplan plans chunked local attention (Llama-4) with vLLM's and SGLang's rules "
                "only; use --engine vllm or --engine sglang");
  }
  // Llama4ForConditionalGeneration is hybrid whatever its config, and without attention_chunk_size
  // the runner has no window for the SWA pool (load_model_utils.py:resolve_sliding_window_size).
  if (request.options.engine == Engine::sglang && sglang_llama4_hybrid(shape) && !shape.attention_chunk_size) {
    throw Error("--engine sglang: attention_chunk_size is null, so SGLang's hybrid SWA pool for "
                "Llama4ForConditionalGeneration has no window to keep; kvplan does not model it, use --engine vllm");
  }
  if (request.options.engine != Engine::vllm && shape.indexer) {
    throw Error("--engine " + std::string(to_string(request.options.engine)) +
                ": kvplan plans sparse MLA (DeepSeek-V3.2's indexer cache) with vLLM's rules only; use --engine vllm");
  }
  if (request.options.engine == Engine::trtllm && shape.layer_count(LayerAttention::state) > 0) {
    throw Error("--engine trtllm: kvplan plans state layers (Mamba-2, Gated DeltaNet) with vLLM's hybrid allocator "
                "and SGLang's state pool only; use --engine vllm or --engine sglang");
  }
  if (request.options.engine == Engine::sglang && shape.layer_count(LayerAttention::state) > 0 &&
      !sglang_plans_state(shape)) {
    throw Error("--engine sglang: kvplan plans SGLang's state pool for Qwen3-Next, Qwen3.5 / Qwen3.6 (qwen3_next, "
                "qwen3_5_text, qwen3_5_moe_text) and Nemotron-H (nemotron_h) only, not " + shape.model_type +
                "; use --engine vllm");
  }
  // Qwen3NextConfig.layers_block_type: SGLang places full attention on every
  // full_attention_interval-th layer whatever layer_types lists.
  if (request.options.engine == Engine::sglang && sglang_qwen3_next_config(shape) && shape.full_attention_interval > 0) {
    for (std::uint32_t layer = 0; layer < shape.num_hidden_layers; ++layer) {
      const bool full = (layer + 1) % shape.full_attention_interval == 0;
      if (full != (shape.layer_attention[layer] != LayerAttention::state)) {
        throw Error("--engine sglang: layer_types makes layer " + std::to_string(layer) + " " +
                    (full ? "a state layer" : "full attention") + ", but SGLang builds " + shape.model_type +
                    " from full_attention_interval (" + std::to_string(shape.full_attention_interval) +
                    ": Qwen3NextConfig.layers_block_type), which does not; use --engine vllm");
      }
    }
  }
  if (request.options.engine != Engine::vllm && shape.compressed_mla) {
    throw Error("--engine " + std::string(to_string(request.options.engine)) +
                ": kvplan plans DeepSeek-V4's compressed sparse attention with vLLM's rules only; use --engine vllm");
  }
  if (request.options.engine == Engine::sglang && hybrid_swa_architecture(shape) && sglang_swa_layer_count(shape) == 0) {
    throw Error("--engine sglang: SGLang serves " + shape.model_type + " with its hybrid SWA pool, which asserts "
                "\"Hybrid SWA model must have at least one SWA layer\" (pool_configurator.py), and this config has "
                "no sliding layer; use --engine vllm");
  }
  // SGLang prices each kind at its own heads and widths in its hybrid SWA pool only.
  const bool sglang_swa = request.options.engine == Engine::sglang && uses_hybrid_swa_pool(shape);
  if (request.options.engine != Engine::vllm && (shape.full_layer_kv || shape.v_head_dim != 0) && !sglang_swa) {
    throw Error("--engine " + std::string(to_string(request.options.engine)) + ": kvplan plans per-kind K/V heads and "
                "narrower values with vLLM and SGLang only (Gemma-4, MiMo-V2-Flash)");
  }
}

}  // namespace kvplan::detail

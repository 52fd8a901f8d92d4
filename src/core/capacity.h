// How many tokens and requests fit on one model replica, computed the way the serving engines
// compute it at start-up (docs/engines.md): the per-GPU memory budget, weights per rank, the KV cache
// per rank with TP replication and PP stages, block rounding, sliding-window groups, and the
// engine's "maximum concurrency" for requests of max_model_len tokens.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/gpu_spec.h"
#include "core/kv_bytes.h"
#include "core/model_shape.h"
#include "core/parallel.h"
#include "core/speculative.h"
#include "core/units.h"
#include "core/variant.h"

namespace kvplan {

enum class Engine { vllm, sglang, trtllm };

Engine parse_engine(std::string_view text);
std::string_view to_string(Engine engine);

// "vllm", "vllm@0.19", "sglang": the engine and the release whose rules to follow ("" = the
// newest kvplan knows). Throws kvplan::Error (exit 2) for an unknown engine or release.
struct EngineRelease {
  Engine engine = Engine::vllm;
  std::string version;
};
EngineRelease parse_engine_release(std::string_view text);

// Engine knobs a user may set; unset ones take the engine's default.
struct EngineOptions {
  Engine engine = Engine::vllm;
  std::string engine_version;  // the release whose rules apply; "" = the newest kvplan knows
  std::optional<double> mem_util;                       // vLLM gpu_memory_utilization, SGLang
                                                        // mem_fraction_static, TRT free_gpu_memory_fraction
  std::optional<std::uint32_t> block_size;              // tokens per KV block (page)
  std::optional<std::uint64_t> max_num_batched_tokens;  // prefill chunk; sizes the profile run
  std::optional<Bytes> reserve;          // activation peak + non-torch memory, instead of the estimate
  std::optional<Bytes> kv_cache_memory;  // KV memory per GPU, bypassing the budget (vLLM's option)
  std::vector<Bytes> kv_cache_memory_per_stage;  // vLLM with PP: one value per stage instead
  std::optional<std::string> attention_backend;  // vLLM's --attention-backend name
  bool offline = false;                  // vLLM's offline LLM class instead of `vllm serve` (batch defaults)
  bool async_scheduling = true;          // vLLM: --no-async-scheduling turns it off
  bool dp_attention = false;             // SGLang --attn-dp-size TP: attention data-parallel across the TP ranks
  bool hybrid_allocator = true;          // vLLM: --disable-hybrid-kv-cache-manager turns it off
  bool prefix_caching = true;            // vLLM: --no-enable-prefix-caching turns it off (state layers: mamba_cache_mode none)
  std::string mamba_ssm_cache_dtype;     // vLLM --mamba-ssm-cache-dtype (SGLang --mamba-ssm-dtype); "" = the default
};

struct FitRequest {
  Variant variant;  // the attention to cache (native or a counterfactual)
  KvDtype kv_dtype = KvDtype::bf16;
  KvScales kv_scales = KvScales::per_tensor;
  double weight_bytes_per_param = 2;
  double routed_expert_bytes = 0;  // the whole model's routed experts, within params x bytes per param
  double attention_weight_bytes = 0;  // and its attention projections (whole per rank under SGLang's DP attention)
  std::string weights_dtype;  // how the weights are stored, for messages ("bf16", "fp8")
  bool deepseek_v4_weights = false;  // DeepSeek-V4's checkpoint, sized per rank (core/deepseek_v4_weights.h)
  Tokens max_model_len;
  Parallelism parallel;
  EngineOptions options;
  bool include_mtp = false;
  SpeculativeDecoding speculative;  // vLLM --speculative-config: a draft's cached layers and weights
  // The budget lines and notes that say how the numbers came about. A sweep prints only the
  // numbers, and building these texts for every row cost more than the arithmetic. vLLM's rules
  // skip them when false; the other engines build them regardless.
  bool explanations = true;
};

// One line of the per-GPU budget: what it is, its size, and the rule with values substituted.
struct BudgetLine {
  std::string item;
  Bytes bytes;
  std::string rule;
  char sign = ' ';  // '-' subtracted from the line above, '=' a result, ' ' a starting figure
};

// Layers that share blocks (vLLM's KV cache groups): all full-attention layers of a dense
// model form one group; hybrid models get groups of equal size per attention type.
struct KvGroup {
  LayerAttention attention = LayerAttention::full;
  std::uint32_t layers = 0;              // layers in this group (the group size, padded)
  std::uint64_t blocks_per_request = 0;  // blocks one max_model_len request needs in it
};

// One PP stage's own budget: vLLM sizes each worker's cache from its own free memory and keeps
// the smallest block count.
struct StageBudget {
  std::uint32_t layers = 0;       // cached layers on the stage (incl. MTP on the last)
  Bytes weights;                  // weights per rank of the stage
  Bytes draft_weights;            // an EAGLE draft's weights per rank (the last stage)
  Bytes rope_cache;               // vLLM's RoPE cos/sin tables, loaded with the model (rope_cache.h)
  Bytes mla_copies;               // vLLM: 16-bit copies of a quantized MLA kv_b_proj (W_UK_T, W_UV)
  Bytes eplb;                     // vLLM: EPLB's expert buffer and load statistics (vllm_eplb.h)
  Bytes reserve;                  // activation peak + non-torch memory (or --reserve)
  Bytes kv_budget;                // KV memory per GPU of the stage
  Bytes bytes_per_block;          // one block across the stage's widest group
  std::uint64_t num_blocks = 0;   // kv_budget / bytes_per_block
  // vLLM, sparse MLA with the indexer on some layers only (GLM-5.2): the stage's layers caching an
  // indexer key, whose pages the block holds beside the latents' (page_bytes is then a latent's).
  std::uint32_t indexer_keys = 0;
};

// One of SGLang's KV pools: the whole cache, or the full-attention and sliding-window parts of
// its hybrid SWA pool, each logged at start-up ("KV Cache is allocated", "Full KV Cache ...",
// "SWA KV Cache ...").
struct TokenPool {
  std::string label;         // "", "Full" or "SWA"
  std::uint64_t tokens = 0;  // token slots (SGLang allocates one page more)
  std::uint32_t layers = 0;  // layers on the binding stage that use this pool
  std::string dtype;         // as SGLang logs it: "torch.bfloat16"
  // Bytes of one token's K and V rows per layer on one rank where they differ (MiMo-V2-Flash's
  // 192 / 128, its full and SWA pools' heads); 0: the cell's halves.
  std::uint64_t k_bytes = 0;
  std::uint64_t v_bytes = 0;
};

// SGLang with state layers: the state pool kv_cache_configurator.py:_handle_max_mamba_cache sizes
// before the KV pool, and the running requests its slots allow.
struct StatePool {
  std::uint64_t slots = 0;                 // max_mamba_cache_size (one more is allocated as padding)
  std::uint32_t slots_per_request = 0;     // state slots one running request may hold
  std::uint32_t layers = 0;                // state layers on a rank
  std::uint64_t conv_bytes_per_layer = 0;  // one slot of one layer
  std::uint64_t ssm_bytes_per_layer = 0;
  std::uint64_t max_running_requests = 0;  // per pool (attention-DP rank)
  std::string rule;                        // the split and the cap, values substituted
};

struct FitResult {
  Engine engine = Engine::vllm;
  std::string engine_version;              // the release whose rules were followed
  std::string attention_backend;           // vLLM's backend, which decided block_size
  std::string attention_backend_why;
  std::uint64_t max_in_flight_tokens = 0;  // vLLM: concurrent batches x max_num_batched_tokens
  std::uint32_t concurrent_batches = 0;
  std::vector<StageBudget> stages;         // vLLM, one per PP stage
  double mem_util = 0;
  std::uint32_t block_size = 0;
  std::uint64_t max_num_batched_tokens = 0;
  std::vector<BudgetLine> budget;
  Bytes kv_budget;                         // KV memory per GPU of the tightest rank

  std::uint32_t kv_heads_per_rank = 0;     // 1 for MLA
  bool kv_replicated = false;              // H_kv < TP / DCP (or MLA with TP / DCP > 1): ranks hold copies
  TokenLayerBytes token_layer_per_rank;    // bytes per token per layer on one rank
  // vLLM, Gemma-4: the full layers' own K/V heads per rank, their bytes per token per layer and
  // their block after page unification (block_size is then the sliding layers').
  std::optional<TokenLayerBytes> full_token_layer_per_rank;
  std::uint32_t full_kv_heads_per_rank = 0;
  std::uint32_t full_block_size = 0;
  std::string page_rule;                   // how the kinds' pages were unified, for --explain
  std::string blocks_rule;                 // DeepSeek-V4: each packed group's blocks per request
  std::vector<std::uint32_t> stage_layers; // cached layers per PP stage (incl. MTP on the last)
  std::uint32_t binding_stage = 0;         // the stage with the fewest blocks
  Bytes page_bytes;                        // one block of one layer
  Bytes indexer_page_bytes;                // sparse MLA, indexer on some layers: one block of one key
  std::vector<KvGroup> groups;             // vLLM: the whole model's groups (group sizes before PP)
  std::uint32_t group_size = 0;
  std::uint64_t num_blocks = 0;            // per rank, min over stages
  std::uint64_t blocks_per_request = 0;    // sum over groups
  Bytes bytes_per_request_per_rank;        // KV one max_model_len request holds on one rank

  std::uint64_t kv_tokens = 0;             // "GPU KV cache size: N tokens", as the engine's release logs it
  std::uint64_t kv_tokens_combined = 0;    // TensorRT-LLM: its "Estimated max tokens in KV cache"
  double max_concurrency = 0;              // "Maximum concurrency for L tokens per request: X.XXx"
  std::uint64_t requests_per_replica = 0;  // floor(max_concurrency), x DP ranks with --dp-attention
  std::uint64_t fleet_requests = 0;        // requests_per_replica x replicas
  std::uint32_t attention_dp = 1;          // SGLang --dp-attention: pools per replica, each with its own requests

  KvDtype kv_cache_dtype = KvDtype::bf16;  // what the cache stores (vLLM's FLASHMLA_SPARSE turns fp8 into fp8_ds_mla)

  // vLLM with state layers: one sequence's state per rank before padding, and how the block was aligned.
  Bytes state_bytes_per_rank;
  std::string state_rule;
  bool state_align_mode = true;             // mamba_cache_mode align (prefix caching) or none
  std::uint32_t state_speculative_blocks = 0;  // state blocks per group held for drafted tokens

  std::vector<TokenPool> token_pools;      // SGLang's pools, as it logs them
  std::optional<StatePool> state_pool;     // SGLang with state layers
  std::vector<std::string> notes;          // rules applied that a reader should know
};

// Throws kvplan::Error (exit 2) when the weights do not fit, when not even one request of
// max_model_len fits (naming how much is missing and the longest context that would), and for
// inconsistent parallelism.
FitResult fit(const ModelShape& shape, const GpuSpec& gpu, const FitRequest& request);

// Weights per GPU, the average PP stage: params.total x bytes per param over TP x PP, the routed
// experts over TP x expert_dp x PP (vLLM with DP), or a checkpoint's tensors placed one by one.
Bytes weights_per_rank(const ModelShape& shape, const FitRequest& request);

// vLLM spans each MoE layer over all DP ranks of a deployment (Parallelism::expert_dp = dp); the
// other engines' DP replicas, and dense models' under vLLM, are independent (expert_dp = 1).
void set_engine_expert_span(Parallelism& parallel, Engine engine, const ModelShape& shape);

}  // namespace kvplan

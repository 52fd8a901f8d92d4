// Pieces shared by the engines' fit rules (fit_vllm.cc, fit_sglang.cc, fit_trtllm.cc).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/capacity.h"

namespace kvplan::detail {

// The cached layers of one PP stage by kind. MTP layers run after the last hidden layer, so they
// sit on the last stage.
struct StageLayers {
  std::uint32_t full = 0;
  std::uint32_t sliding = 0;
  std::uint32_t mtp = 0;
  std::uint32_t total() const { return full + sliding + mtp; }
};
std::vector<StageLayers> split_stages(const ModelShape& shape, std::uint32_t pp, bool include_mtp);

// The engines' middle tier of defaults (vLLM's EngineArgs.get_batch_defaults: >= 70 GiB and
// not an A100).
bool high_memory_tier(const GpuSpec& gpu);

// Peak activation memory of the engine's profile run over `tokens` tokens, per rank. An
// estimate (documented in capacity.cc); --reserve replaces it.
Bytes activation_estimate(const ModelShape& shape, std::uint64_t tokens, std::uint64_t seqs, std::uint32_t tp,
                          std::string* rule);

// Adds the budget lines for activations and non-torch memory (--reserve, or the two estimates
// for a profile run of `tokens` tokens and `seqs` sampled sequences) and returns their sum.
Bytes add_reserve_lines(const ModelShape& shape, const FitRequest& request, std::uint64_t tokens, std::uint64_t seqs,
                        FitResult& result);

// The same sum without the lines: what one PP stage sets aside.
Bytes reserve_estimate(const ModelShape& shape, const FitRequest& request, std::uint64_t tokens, std::uint64_t seqs);

// Weights per rank of one PP stage: its layers' share of the parameters, the embedding on the
// first stage and the LM head on the last (a copy of the embedding when they are tied), over TP.
// With PP 1 it is weights_per_rank.
Bytes weights_per_stage(const ModelShape& shape, const FitRequest& request, std::uint32_t stage);
std::string weights_rule_for_stage(const ModelShape& shape, const FitRequest& request, std::uint32_t stage);

// Memory outside PyTorch's allocator: the CUDA context, cuBLAS workspaces, NCCL buffers when
// ranks communicate, CUDA graphs. An estimate; --reserve replaces it together with activations.
Bytes non_torch_estimate(const Parallelism& parallel, std::string* rule);

// "8030261248 params x 2 B (bf16) / (TP 1 x PP 1)".
std::string weights_rule(const ModelShape& shape, const FitRequest& request);

// Records every stage's cached layers in `result` and returns the largest count; the stage
// holding it binds (token-pool engines give every layer the same tokens).
std::uint32_t fullest_stage(const std::vector<StageLayers>& stages, FitResult& result);

// The per-rank cache: K/V heads divided over TP (at least 1; fewer heads than ranks are
// replicated), MLA's latent whole on every rank. Sets kv_heads_per_rank, kv_replicated and
// token_layer_per_rank.
void set_per_rank_cache(const FitRequest& request, FitResult& result);
// The same for full layers with K/V heads of their own (Gemma-4, MiMo-V2-Flash): max(1, heads // TP)
// per rank, as Gemma4Attention and MiMoV2Attention shard them (fewer heads than ranks are replicated).
void set_full_layer_cache(const ModelShape& shape, const FitRequest& request, FitResult& result);

// Throws kvplan::Error (exit 2) naming how much is missing when the weights per rank do not fit
// in `usable` (described as `usable_name` in the message).
void check_weights_fit(Bytes usable, Bytes weights, const std::string& usable_name);

// The longest context whose one request needs at most `available` bytes, as vLLM's "not even one
// request fits" error estimates it: bisection over `needed(len)`, which grows with len.
template <class Needed>
std::uint64_t longest_fitting_context(const Needed& needed, std::uint64_t available, std::uint64_t max_model_len) {
  std::uint64_t low = 0, high = max_model_len;
  while (low < high) {
    const std::uint64_t mid = low + (high - low + 1) / 2;
    if (needed(mid) <= available) low = mid;
    else high = mid - 1;
  }
  return low;
}

std::string fmt_double(double value, int decimals);
std::string fmt_trimmed(double value);  // 2, 0.5, 0.5625: no trailing zeros

// kvplan::fit's checks of the request, before any engine's rules (capacity.cc).
void check_fit_request(const ModelShape& shape, const GpuSpec& gpu, const FitRequest& request);

FitResult fit_vllm(const ModelShape& shape, const GpuSpec& gpu, const FitRequest& request);

// fit_vllm in two steps (fit_start.h): start_vllm does what does not depend on max_model_len (the
// release's rules, backend and block size, each stage's budget, the per-rank cache, the groups),
// except where start_vllm_reads_max_model_len (V0's default batch size reads it). finish_vllm
// does the rest for requests of `max_model_len` tokens; `request` is the one the start was made
// from.
struct VllmStart;
bool start_vllm_reads_max_model_len(const FitRequest& request);
std::shared_ptr<const VllmStart> start_vllm(const ModelShape& shape, const GpuSpec& gpu, const FitRequest& request);
FitResult finish_vllm(const VllmStart& start, const ModelShape& shape, const GpuSpec& gpu, const FitRequest& request,
                      std::uint64_t max_model_len);

FitResult fit_sglang(const ModelShape& shape, const GpuSpec& gpu, const FitRequest& request);
FitResult fit_trtllm(const ModelShape& shape, const GpuSpec& gpu, const FitRequest& request);

}  // namespace kvplan::detail

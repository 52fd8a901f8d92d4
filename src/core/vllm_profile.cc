#include "core/vllm_profile.h"

#include <algorithm>
#include <bit>

#include "core/checked.h"
#include "core/fit_internal.h"

namespace kvplan::detail {
namespace {

constexpr std::uint64_t round_up_256(std::uint64_t bytes) { return (bytes + 255) / 256 * 256; }

std::string n(std::uint64_t value) { return std::to_string(value); }

// PyTorch's cuBLAS workspace, allocated through its caching allocator at the first matmul of the
// profile run (CublasHandlePool.cpp's default: 4096 KiB x 8 from Hopper on, 4096 KiB x 2 +
// 16 KiB x 8 before).
std::uint64_t cublas_workspace(const GpuSpec& gpu) {
  const bool hopper_or_newer = gpu.architecture == GpuArchitecture::hopper || gpu.architecture == GpuArchitecture::blackwell;
  return hopper_or_newer ? 32 * kMiB : 4096 * 1024 * 2 + 16 * 1024 * 8;
}

// The fused-MoE workspace (modular_kernel._allocate_buffers through the v1 WorkspaceManager): one
// allocation kept for the life of the worker, so it is still held when the sampler peaks. Triton
// experts (fused_moe.py workspace_shapes) over M tokens: workspace13 (M, topk, max(I, K)) shared
// with the output (M, K), and workspace2 (M, topk, max(2I, K)), I the experts' intermediate size
// per TP rank, K the hidden size. MXFP4 experts run OAI's monolithic Triton kernel
// (gpt_oss_triton_kernels_moe.py), which allocates inside the kernel.
std::uint64_t moe_workspace(const ModelShape& shape, const FitRequest& request, std::uint64_t tokens, std::uint64_t act,
                            std::string& rule) {
  if (!shape.moe || shape.weight_quantization == "mxfp4") return 0;
  const std::uint64_t topk = shape.moe->num_experts_per_tok;
  const std::uint64_t inter = shape.moe->moe_intermediate_size / request.parallel.tp;
  const std::uint64_t hidden = shape.hidden_size;
  const std::string what = "fused-MoE workspace (kept)";
  const std::uint64_t ws13 = std::max(checked_mul(checked_mul(tokens, topk, what), std::max(inter, hidden), what),
                                      checked_mul(tokens, hidden, what));
  const std::uint64_t ws2 = checked_mul(checked_mul(tokens, topk, what), std::max(2 * inter, hidden), what);
  rule += " + MoE workspace (max(" + n(tokens) + " x " + n(topk) + " x max(" + n(inter) + ", " + n(hidden) + "), " +
          n(tokens) + " x " + n(hidden) + ") + " + n(tokens) + " x " + n(topk) + " x max(2 x " + n(inter) + ", " +
          n(hidden) + ")) x " + n(act) + " B";
  return checked_add(round_up_256(checked_mul(ws13, act, what)), round_up_256(checked_mul(ws2, act, what)), what);
}

// _dummy_sampler_run on the last stage, peak inside TopKTopPSampler.forward_native: the logits of
// min(max_num_seqs, tokens) requests in the model dtype (held by the caller), their fp32 copy
// (the same tensor for an fp32 model), the softmax probabilities and the exponential noise of
// random_sample, all fp32; the Triton top-k/top-p kernel's buffer of one row per program
// (min(next power of 2 of the programs, SMs), programs = min(SMs, requests)), kept in a cache;
// and the dummy run's hidden states, the requests' last hidden states and their rand_like copy.
std::uint64_t sampler_phase(const ModelShape& shape, const GpuSpec& gpu, std::uint64_t tokens, std::uint64_t seqs,
                            std::uint64_t act, std::string& rule) {
  const std::string what = "the sampler's profile";
  const std::uint64_t reqs = std::min(seqs, tokens);
  const std::uint64_t per_logit = (act == 4 ? 0 : act) + 3 * 4;
  std::uint64_t programs = reqs;
  std::string rows_rule;
  if (gpu.multiprocessors) {
    programs = std::min<std::uint64_t>(*gpu.multiprocessors, reqs);
    programs = std::min<std::uint64_t>(std::bit_ceil(programs), *gpu.multiprocessors);
    rows_rule = n(programs) + " rows (" + n(*gpu.multiprocessors) + " SMs)";
  } else {
    rows_rule = n(programs) + " rows (upper bound: the GPU preset gives no SM count)";
  }
  const std::uint64_t logits = checked_mul(checked_mul(reqs, shape.vocab_size, what), per_logit, what);
  const std::uint64_t topk_buffer = checked_mul(checked_mul(programs, shape.vocab_size, what), 4, what);
  const std::uint64_t hidden = checked_mul(checked_mul(tokens + 2 * reqs, shape.hidden_size, what), act, what);
  rule = "sampler: " + n(reqs) + " requests x " + n(shape.vocab_size) + " vocab x " + n(per_logit) +
         " B (logits" + (act == 4 ? "" : " " + n(act) + " B + fp32 copy") + ", probs, noise) + top-k/top-p buffer " +
         rows_rule + " x " + n(shape.vocab_size) + " x 4 B + (" + n(tokens) + " + 2 x " + n(reqs) + ") x " +
         n(shape.hidden_size) + " hidden x " + n(act) + " B";
  return checked_add(checked_add(logits, topk_buffer, what), hidden, what);
}

// The forward pass of `tokens` tokens, one layer at a time (an estimate: PyTorch's allocator and
// torch.compile decide the exact set of live tensors): the MLP's gate/up output and activation
// (3 x I / TP; MoE layers use the kept workspace instead) and four hidden-wide tensors (residual,
// normed input, layer output, the embedding).
std::uint64_t forward_phase(const ModelShape& shape, const FitRequest& request, std::uint64_t tokens, std::uint64_t act,
                            std::string& rule) {
  const std::uint64_t mlp = shape.moe ? 0 : 3 * shape.intermediate_size / request.parallel.tp;
  const std::uint64_t width = mlp + 4 * shape.hidden_size;
  rule = "forward (estimate): " + n(tokens) + " tokens x (" + (shape.moe ? "" : "3 x " + n(shape.intermediate_size) +
         " / TP " + n(request.parallel.tp) + " + ") + "4 x " + n(shape.hidden_size) + ") x " + n(act) + " B";
  return checked_mul(checked_mul(tokens, width, "the forward pass's activations"), act, "the forward pass's activations");
}

}  // namespace

ProfileTerm vllm_activation_peak(const ModelShape& shape, const GpuSpec& gpu, const FitRequest& request,
                                 std::uint64_t batched_tokens, std::uint64_t max_seqs, StagePlace place) {
  // The model computes in its dtype: fp32 weights in fp32, every other scheme in 16 bits.
  const std::uint64_t act = request.weights_dtype == "fp32" ? 4 : 2;
  ProfileTerm term;
  std::string forward_rule, sampler_rule;
  const std::uint64_t forward = forward_phase(shape, request, batched_tokens, act, forward_rule);
  const std::uint64_t sampler = place.last ? sampler_phase(shape, gpu, batched_tokens, max_seqs, act, sampler_rule) : 0;
  std::uint64_t peak = std::max(forward, sampler);
  term.rule = "max(" + forward_rule + (place.last ? "; " + sampler_rule : "") + ")";
  const std::uint64_t cublas = cublas_workspace(gpu);
  term.rule += " + cuBLAS workspace " + n(cublas / 1024) + " KiB";
  peak = checked_add(peak, cublas, "activation peak");
  peak = checked_add(peak, moe_workspace(shape, request, batched_tokens, act, term.rule), "activation peak");
  if (!place.first) {
    // Later stages keep a receive buffer for the previous stage's hidden states and residual.
    const std::uint64_t receive = checked_mul(checked_mul(2 * batched_tokens, shape.hidden_size, "PP buffers"), act, "PP buffers");
    term.rule += " + PP receive buffers 2 x " + n(batched_tokens) + " x " + n(shape.hidden_size) + " x " + n(act) + " B";
    peak = checked_add(peak, receive, "activation peak");
  }
  term.bytes = Bytes{peak};
  return term;
}

ProfileTerm vllm_non_torch(const VllmRules& rules, const Parallelism& parallel) {
  const VllmNonTorch& table = rules.non_torch;
  if (parallel.tp > 1) return {Bytes{table.tensor_parallel}, std::string(table.source) + ": TP > 1 (NCCL and all-reduce buffers)"};
  if (parallel.pp > 1) return {Bytes{table.pipeline_only}, std::string(table.source) + ": PP > 1, TP 1 (send/receive only)"};
  return {Bytes{table.single_gpu}, std::string(table.source) + ": one GPU (cuBLAS and kernel workspaces)"};
}

}  // namespace kvplan::detail

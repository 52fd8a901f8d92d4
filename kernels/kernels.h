// The host API of kvplan's attention kernels. Each kernel family is a trio: a CPU reference in
// kernels/reference.cc (double accumulation, always built), the CUDA kernel in kernels/*.cu, and a
// launcher that checks its arguments. Families so far: decode attention for MHA/GQA/MQA, prefill
// (kernels/prefill.h) and MLA decode (kernels/mla.h), both included at the end.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "kernels/split_schedule.h"

namespace kvplan::kernels {

// Element types of the cache. Queries and outputs are bf16, except with an fp16 cache (fp16).
enum class KvType { bf16, fp16, fp8_e4m3 };

std::string_view to_string(KvType type);
int element_bytes(KvType type);        // 2, 2, 1
KvType query_type(KvType cache);       // bf16 for bf16 and fp8 caches, fp16 for fp16

inline constexpr std::array<int, 3> kDecodeHeadDims = {64, 128, 256};  // instantiated head dims

// Decode attention: one new query token per sequence attends to the sequence's cached K/V.
// The cache is paged as vLLM lays it out (FlashAttention backend): page p, slot r of KV head h
// starts at ((p * page_size + r) * n_kv_heads + h) * head_dim. Without a block table the cache is
// contiguous: sequence b is page b, and page_size is the tokens reserved per sequence.
struct DecodeParams {
  const void* q = nullptr;              // [batch, n_q_heads, head_dim] query_type(kv_type)
  const void* k_cache = nullptr;        // [num_pages, page_size, n_kv_heads, head_dim] kv_type
  const void* v_cache = nullptr;        // [num_pages, page_size, n_kv_heads, head_dim] kv_type
  const std::int32_t* block_table = nullptr;  // [batch, max_pages_per_seq] page ids; null: contiguous
  const std::int32_t* seq_lens = nullptr;     // [batch] cached tokens, each in [1, max_seq_len]
  void* out = nullptr;                  // [batch, n_q_heads, head_dim] query_type(kv_type)
  float* workspace = nullptr;           // decode_workspace_bytes(): partial o and lse per piece
  const std::int32_t* schedule = nullptr;  // the plan's schedule.words where the kernel reads them
                                        // (device memory); the host model uses its own plan's

  int batch = 0;
  int n_q_heads = 0;
  int n_kv_heads = 0;                   // divides n_q_heads; group size = n_q_heads / n_kv_heads
  int head_dim = 0;                     // one of kDecodeHeadDims
  int num_pages = 0;
  int page_size = 0;                    // tokens per page (16 in vLLM); per sequence if contiguous
  int max_pages_per_seq = 0;            // block_table row length
  int max_seq_len = 0;                  // >= every seq_lens[b]
  KvType kv_type = KvType::bf16;
  float softmax_scale = 0;              // 1/sqrt(head_dim) in the models kvplan knows
  float k_scale = 1;                    // fp8 only: stored K * k_scale is the real K
  float v_scale = 1;                    // fp8 only: stored V * v_scale is the real V

  int group_size() const { return n_q_heads / n_kv_heads; }
};

// Throws kvplan::Error (bad input) naming the first field that is out of range. The launcher, the
// host model and the reference all call it.
void check_decode_params(const DecodeParams& params);

// How the launcher splits a problem on a GPU with `num_sms` multiprocessors: the kernel instance,
// and the schedule of the batch's work, computed from each sequence's real length.
struct DecodePlan {
  int heads_per_cta = 0;  // query heads one CTA holds in registers (the kernel instance): 1, 2, 4 or 8
  int head_chunks = 0;    // CTAs per KV head that share its tokens
  SplitSchedule schedule; // parts x (n_kv_heads x head_chunks) CTAs; blocks of tokens_per_iter tokens
};
// host_seq_lens: the batch's lengths in host memory (params.seq_lens may be device memory).
DecodePlan plan_decode(const DecodeParams& params, const std::int32_t* host_seq_lens, int num_sms);
// The partial outputs and log-sum-exps of the plan's split sequences (0 when none is split).
std::size_t decode_workspace_bytes(const DecodeParams& params, const DecodePlan& plan);

// CPU oracle: attention in double for the (sequence, query head) pairs in `rows` (all when empty),
// from host copies of the inputs. Returns [rows, head_dim] outputs.
struct DecodeRow {
  int batch_index;
  int q_head;
};
std::vector<double> decode_reference(const DecodeParams& params, const std::vector<DecodeRow>& rows);

// The kernel's algorithm run on the CPU in float: same tiling, schedule (plan_decode from
// params.seq_lens), accumulation order, per-group online softmax, CTA merge, per-sequence combine
// and fp8 scaling as the CUDA kernel. Reads host copies of the inputs and writes params.out
// (query_type) on the host.
void decode_host_model(const DecodeParams& params, int num_sms);

// The CUDA kernel (kernels/decode_attention.cu): device pointers, asynchronous on `stream` (a
// cudaStream_t), params.schedule a device copy of plan.schedule.words. Checks its arguments first.
// Only in builds with CUDA.
void launch_decode(const DecodeParams& params, const DecodePlan& plan, void* stream);

// One instantiation per (cache type, head dim); kernels/decode_attention.cu instantiates
// kDecodeHeadDims for each KvType.
template <KvType kType, int kHeadDim>
void launch_decode_typed(const DecodeParams& params, const DecodePlan& plan, void* stream);

}  // namespace kvplan::kernels

#include "kernels/prefill.h"  // IWYU pragma: export
#include "kernels/mla.h"  // IWYU pragma: export

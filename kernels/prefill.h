// The prefill family of kernels.h: causal flash attention over whole prompts for MHA/GQA/MQA (the
// K/V rows go into the paged cache the decode kernels read, in the same pass) and for MLA on
// decompressed K/V (d_qk 192, d_v 128), plus the MLA latent cache write. Each kernel is a trio: a
// CPU reference (kernels/reference.cc), the CUDA kernel (kernels/prefill_attention.cu) and a
// launcher that checks its arguments; the attention kernel also has a host model
// (kernels/prefill_model.cc) with the tiling of kernels/prefill_tiling.h.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace kvplan::kernels {

enum class KvType;

// (d_qk, d_v) pairs with a kernel: MHA/GQA/MQA at 64 and 128, MLA's decompressed heads at 192/128.
inline constexpr std::array<std::pair<int, int>, 3> kPrefillHeadDims = {{{64, 64}, {128, 128}, {192, 128}}};

// Causal attention of `batch` prompts packed one after another (FlashAttention's varlen layout):
// sequence b is tokens [seq_starts[b], seq_starts[b + 1]) of q, k, v and out, and its token t
// attends to its tokens 0..t. Strides are in elements, so q/k/v can be views into one fused QKV
// projection. With k_cache set, K and V (query_type(kv_type), so bf16 or fp16) are also written,
// converted to kv_type, into the paged cache exactly where DecodeParams reads token t of sequence b.
struct PrefillParams {
  const void* q = nullptr;               // [tokens, n_q_heads, head_dim_qk] query_type(kv_type)
  const void* k = nullptr;               // [tokens, n_kv_heads, head_dim_qk] query_type(kv_type)
  const void* v = nullptr;               // [tokens, n_kv_heads, head_dim_v] query_type(kv_type)
  const std::int32_t* seq_starts = nullptr;  // [batch + 1] first token of each sequence; [batch] = tokens
  void* out = nullptr;                   // [tokens, n_q_heads, head_dim_v] query_type(kv_type)
  void* k_cache = nullptr;               // [num_pages, page_size, n_kv_heads, head_dim] kv_type; null: none
  void* v_cache = nullptr;               // [num_pages, page_size, n_kv_heads, head_dim] kv_type
  const std::int32_t* block_table = nullptr;  // [batch, max_pages_per_seq]; null: contiguous cache

  int batch = 0;
  int n_q_heads = 0;
  int n_kv_heads = 0;                    // divides n_q_heads
  int head_dim_qk = 0;                   // with head_dim_v, one of kPrefillHeadDims
  int head_dim_v = 0;
  int max_seq_len = 0;                   // >= every sequence's length
  long long q_token_stride = 0, q_head_stride = 0;      // elements; packed: n_q_heads * d_qk, d_qk
  long long k_token_stride = 0, k_head_stride = 0;      // packed: n_kv_heads * d_qk, d_qk
  long long v_token_stride = 0, v_head_stride = 0;      // packed: n_kv_heads * d_v, d_v
  long long out_token_stride = 0, out_head_stride = 0;  // packed: n_q_heads * d_v, d_v
  int num_pages = 0;                     // cache fields as in DecodeParams
  int page_size = 0;
  int max_pages_per_seq = 0;
  KvType kv_type{};                      // the cache's type; q/k/v/out are query_type(kv_type)
  float softmax_scale = 0;               // 1/sqrt(head_dim_qk)
  float k_scale = 1;                     // fp8 cache: stored K * k_scale is the real K
  float v_scale = 1;

  int group_size() const { return n_q_heads / n_kv_heads; }
  // Packed strides for the head counts and dims already set.
  void set_packed_strides();
};

// Throws kvplan::Error naming the first field out of range (the launcher, model and reference call it).
void check_prefill_params(const PrefillParams& params);
std::string prefill_head_dims_text();  // "64, 128, 192/128": kPrefillHeadDims for messages

// The grid the launcher uses: query tiles of the longest sequence x query heads x sequences.
struct PrefillPlan {
  int query_tiles = 0;
  int heads = 0;
  int sequences = 0;
};
PrefillPlan plan_prefill(const PrefillParams& params);

// CPU oracle in double for the (sequence, token, query head) rows asked for (all when empty):
// softmax over the keys 0..t of q . k * scale, times V. Returns [rows, head_dim_v].
struct PrefillRow {
  int batch_index;
  int token;  // position in the sequence
  int q_head;
};
std::vector<double> prefill_reference(const PrefillParams& params, const std::vector<PrefillRow>& rows);

// The kernel's algorithm on the CPU in float: the CTAs, warps and lanes of the grid, tiles taken in
// the kernel's order, the diagonal tiles masked through acc_row/acc_col, online softmax in base 2
// with the kernel's guard for rows that have seen only masked keys, P rounded to the input type
// before P.V, per-lane row sums reduced across the quad at the end, and the cache written from the
// K/V tiles of each CTA's own rows. Writes params.out and the cache on the host.
// `fault` plants one known bug, so that tests can show they catch it; kernels never take it.
enum class PrefillFault { none, no_rescale, no_mask, mask_off_by_one, no_masked_row_guard, skip_last_tile };
void prefill_host_model(const PrefillParams& params, PrefillFault fault = PrefillFault::none);

// The CUDA kernel (device pointers, asynchronous on `stream`, a cudaStream_t). Only with CUDA.
void launch_prefill(const PrefillParams& params, void* stream);

// MLA's cache: per token the latent c_KV and the rotated shared key k_R, [kv_lora_rank + rope_dim]
// wide, one row per token (FlashMLA's [num_blocks, block_size, 1, 576], block 64). The rows come
// from the down projection's output, after RoPE. A bf16 or fp16 cache stores the 16-bit values as
// they are; an fp8_e4m3 cache stores fp8_ds_mla rows, the layout the MLA decode kernels read
// (kernels/mla.h): 512 e4m3 codes, one fp32 scale per 128 latent values, the 64 RoPE dims in bf16,
// 656 bytes. Each tile's scale is max(amax / 448, FLT_MIN) and each code round(value / scale), as
// vLLM's concat_and_cache_ds_mla_kernel computes them; so an fp8 cache needs width 576 and bf16 input.
struct LatentCacheParams {
  const void* latent = nullptr;          // [tokens, width] at token_stride, query_type(kv_type)
  const std::int32_t* seq_starts = nullptr;  // [batch + 1]
  void* cache = nullptr;                 // [num_pages, page_size, latent_row_bytes()] bytes
  const std::int32_t* block_table = nullptr;  // [batch, max_pages_per_seq]; null: contiguous
  int batch = 0;
  int width = 0;                         // kv_lora_rank + rope dim: 576; a multiple of 8
  long long token_stride = 0;            // elements between tokens of `latent`
  int max_seq_len = 0;
  int num_pages = 0;
  int page_size = 0;                     // 64 in FlashMLA
  int max_pages_per_seq = 0;
  KvType kv_type{};
};

void check_latent_cache_params(const LatentCacheParams& params);
// Bytes of one cached row: 2 * width (bf16, fp16) or 656 (fp8_ds_mla).
int latent_row_bytes(const LatentCacheParams& params);
// One row as the kernel stores it: `width` 16-bit inputs (bit patterns) -> latent_row_bytes() bytes.
void encode_latent_row(const LatentCacheParams& params, const std::uint16_t* input, std::uint8_t* row);
// The reference: every row of every sequence, encoded and placed (host pointers).
void latent_cache_reference(const LatentCacheParams& params);
void launch_latent_cache_write(const LatentCacheParams& params, void* stream);

}  // namespace kvplan::kernels

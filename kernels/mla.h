// The MLA decode family of kernels.h (DeepSeek-V2 §2.1): one new token per sequence attends to a
// cache that holds, per token, one latent row shared by every head (c_KV: kv_lora_rank 512, then
// the rotated RoPE key k_R: 64). Two paths compute the same function:
//   naive     up-project the latent to per-head K (qk_nope 128, plus the shared RoPE 64) and V (128)
//             with cuBLAS, then decode attention over all query heads (kernels/mla_naive.cu);
//   absorbed  fold W_UK into the query (cuBLAS), attend over the 576-wide latent rows directly on
//             the tensor cores, the first 512 dims reused as V, then apply W_UV (cuBLAS)
//             (kernels/mla_absorbed.cu).
// Each is a trio: the CPU reference (kernels/reference.cc), the host model with the kernels' tiling
// (kernels/mla_model.cc, kernels/mla_tiling.h) and the launcher, which checks its arguments.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "kernels/split_schedule.h"

namespace kvplan::kernels {

enum class MlaCache { bf16, fp8_ds_mla };
enum class MlaPath { naive, absorbed };

std::string_view to_string(MlaCache cache);
std::string_view to_string(MlaPath path);
int mla_row_bytes(MlaCache cache);  // bytes of one cached token row: 1152 (bf16), 656 (fp8_ds_mla)

// The cache is paged as FlashMLA lays it out: page p, slot r starts at byte
// (p * page_size + r) * mla_row_bytes(cache); block 64 in FlashMLA, any page size here. Without a
// block table it is contiguous: sequence b is page b and page_size the tokens reserved per sequence.
// Per row: bf16 [latent 512 | rope 64]; fp8_ds_mla [512 e4m3 | 4 fp32 scales | 64 bf16 rope].
struct MlaParams {
  const void* q = nullptr;               // [batch, n_heads, 192] bf16: q_nope (128), then q_rope (64)
  const void* kv_cache = nullptr;        // [num_pages, page_size, mla_row_bytes(cache)] bytes
  const void* w_kv_b = nullptr;          // [n_heads, 256, 512] bf16: DeepSeek's kv_b_proj, per head
                                         // W_UK (128 rows: K nope) then W_UV (128 rows: V)
  const std::int32_t* block_table = nullptr;  // [batch, max_pages_per_seq] page ids; null: contiguous
  const std::int32_t* seq_lens = nullptr;     // [batch] cached tokens, each in [1, max_seq_len]
  void* out = nullptr;                   // [batch, n_heads, 128] bf16
  void* workspace = nullptr;             // mla_workspace_bytes(): intermediates and split partials
  const std::int32_t* schedule = nullptr;  // plan_mla()'s packed_schedules() where the kernels read
                                         // them (device memory); the host models use their own plan's

  int batch = 0;
  int n_heads = 0;                       // query heads: a multiple of 16 in [16, 128]
  int num_pages = 0;
  int page_size = 0;                     // tokens per page (64 in FlashMLA); per sequence if contiguous
  int max_pages_per_seq = 0;             // block_table row length
  int max_seq_len = 0;                   // >= every seq_lens[b]
  MlaCache cache = MlaCache::bf16;
  float softmax_scale = 0;               // both paths: 1/sqrt(qk_nope + rope) = 1/sqrt(192) in DeepSeek
  int naive_chunk = 0;                   // naive: sequences up-projected per pass (0: all); bounds
                                         // its workspace, which holds their K and V for every head
  int max_smem_per_cta = 232448;         // the device's opt-in shared memory per block (H100, B200:
                                         // 232448; A100: 166912; sm_86/89/120: 101376): absorbed picks
                                         // the most heads per CTA whose tiles fit
};

// Throws kvplan::Error (bad input) naming the first field out of range. The launchers, the host
// models and the reference all call it.
void check_mla_params(const MlaParams& params);
bool mla_heads_supported(int n_heads);

// How a path splits the problem on a GPU with `num_sms` multiprocessors. Both paths take their
// splits from schedules (kernels/split_schedule.h) built from each sequence's real length: the
// absorbed path one for the batch in tiles of 64 tokens; the naive path one per chunk of sequences
// (its up-projection pass) in its attention kernel's 16-token iterations.
struct MlaPlan {
  int num_sms = 0;           // the GPU planned for
  int heads_per_cta = 0;     // absorbed: 16, 32 or 64 heads in the MMA M dimension; naive: 1
  int head_blocks = 0;       // CTAs per range of work: n_heads / heads_per_cta
  int chunk_sequences = 0;   // naive: sequences per up-projection pass; absorbed: batch
  std::vector<SplitSchedule> schedules;  // one per chunk (absorbed: one chunk, the batch)

  // Every schedule's words one after the other: what params.schedule points to on the device.
  std::vector<std::int32_t> packed_schedules() const;
  // Where chunk c's words start in packed_schedules().
  std::size_t schedule_offset(int chunk) const;
};
// host_seq_lens: the batch's lengths in host memory (params.seq_lens may be device memory).
MlaPlan plan_mla(const MlaParams& params, const std::int32_t* host_seq_lens, MlaPath path, int num_sms);
std::size_t mla_workspace_bytes(const MlaParams& params, MlaPath path, const MlaPlan& plan);

// CPU oracle in double for the (sequence, head) rows asked for (all when empty): softmax over the
// sequence's tokens of (q_nope . W_UK c + q_rope . k_R) * scale, then W_UV times the weighted sum of
// the latents c, with the cache dequantised (fp8 code x its tile's scale). Returns [rows, 128].
struct MlaRow {
  int batch_index;
  int head;
};
std::vector<double> mla_reference(const MlaParams& params, const std::vector<MlaRow>& rows);

// The kernels' algorithm on the CPU in float, writing params.out on the host. Absorbed: q W_UK
// rounded to bf16, each tile dequantised to bf16, S and O accumulated one m16n8k16 step at a time
// in the kernel's order, the row max reduced across score slices, per-lane row sums, P rounded to
// bf16, the schedule's pieces and their per-sequence combine, W_UV on the bf16 latent output.
// Naive: the gather, the up-projection rounded to bf16, the attention kernel's token groups (as the
// decode model) over each chunk's schedule, the combine, in chunks of naive_chunk sequences.
// `fault` plants one known bug, so that tests show they catch it; kernels never take it.
enum class MlaFault { none, no_rescale, no_rope, skip_last_tile };
void mla_host_model(const MlaParams& params, MlaPath path, int num_sms, MlaFault fault = MlaFault::none);

// The CUDA kernels and cuBLAS calls of a path (device pointers, asynchronous on `stream`, a
// cudaStream_t; params.schedule a device copy of plan.packed_schedules()). Checks its arguments
// first. Only in builds with CUDA.
void launch_mla(const MlaParams& params, MlaPath path, const MlaPlan& plan, void* stream);

}  // namespace kvplan::kernels

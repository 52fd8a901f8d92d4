// Random prefill problems for the tests and the bench: ragged prompt lengths packed one after
// another, q/k/v either packed or views into one fused QKV buffer (as the layer's projection writes
// them), a paged cache with pages in shuffled order, every cache slot and every output poisoned
// with NaN before each run. Values come from kernels/random_values.h, as in decode problems.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/decode_problem.h"
#include "kernels/kernels.h"

namespace kvplan::kernels {

struct PrefillShape {
  std::vector<int> seq_lens;      // [batch] prompt lengths
  int n_q_heads = 1;
  int n_kv_heads = 1;
  int head_dim_qk = 128;
  int head_dim_v = 128;
  KvType kv_type = KvType::bf16;  // the cache's type; inputs are query_type(kv_type)
  bool write_cache = true;        // MHA/GQA/MQA only (d_qk = d_v)
  int page_size = 16;             // 0: contiguous cache
  bool fused_qkv = false;         // q, k, v as strided views into one [tokens, q | k | v] buffer
  int latent_width = 0;           // MLA (device bench): also write a latent of this width per token

  int tokens() const;
  std::uint64_t cache_elements() const;  // K or V (or the latent), paged as make_decode_layout pages it
};

// Device memory a bench of `shape` allocates (inputs, output, caches, indices), for the checks
// that a shape fits before anything is allocated.
std::uint64_t prefill_device_bytes(const PrefillShape& shape);

// fp8 caches store K/64 and V/64: inputs in [-1, 1] land in E4M3's normal range.
inline constexpr float kPrefillFp8Scale = 1.0f / 64;

class HostPrefillProblem {
 public:
  HostPrefillProblem(const PrefillShape& shape, std::uint64_t seed);

  const PrefillShape& shape() const { return shape_; }
  int tokens() const { return seq_starts_.back(); }
  // Host pointers; out, k_cache and v_cache poisoned with NaN again.
  PrefillParams params();
  std::vector<double> output() const;  // [tokens, n_q_heads, head_dim_v] widened to double
  // The cache's block table and page layout, as decode reads it (k/v/q pointers not set).
  DecodeParams cache_params() const;
  const std::vector<std::uint8_t>& k_cache() const { return k_cache_; }
  const std::vector<std::uint8_t>& v_cache() const { return v_cache_; }

 private:
  void poison();

  PrefillShape shape_;
  std::vector<std::int32_t> seq_starts_;
  DecodeLayout cache_layout_;
  long long token_stride_ = 0;                 // of the buffer that holds q (and k, v when fused)
  std::vector<std::uint8_t> q_, k_, v_, out_;  // raw bytes; with fused_qkv, q_ holds all three
  std::vector<std::uint8_t> k_cache_, v_cache_;
};

// The tokens of a prompt of `len` whose output rows a device run checks: the tile edges, the middle,
// the end, and a few between.
std::vector<int> checked_tokens(int len);

// Relative L2 thresholds against the double reference: bf16 1e-2, fp16 5e-3 (the outputs' own
// rounding plus P rounded to 16 bits before P.V; see reports/kernels/NOTES.md).
double prefill_error_threshold(KvType cache_type);

}  // namespace kvplan::kernels

// Random decode problems for tests and the bench: ragged sequence lengths, pages in shuffled
// order, unused pages and unused cache slots poisoned with NaN, the output poisoned with NaN
// before every run. Values come from kernels/random_values.h, so a GPU can fill the same cache in
// place and the host can rebuild any slice of it for the reference.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/kernels.h"
#include "kernels/paged_cache.h"

namespace kvplan::kernels {

struct DecodeShape {
  int batch = 1;
  int n_q_heads = 1;
  int n_kv_heads = 1;
  int head_dim = 128;
  KvType kv_type = KvType::bf16;
  int page_size = 16;             // 0: contiguous cache
  std::vector<int> seq_lens;      // [batch]
};

// Where every token lives: the block table (paged) or the per-sequence capacity (contiguous).
struct DecodeLayout : PagedLayout {
  DecodeShape shape;
  std::uint64_t seed = 0;

  std::size_t cache_elements() const {
    return static_cast<std::size_t>(num_pages) * page_size * shape.n_kv_heads * shape.head_dim;
  }
  std::size_t q_elements() const {
    return static_cast<std::size_t>(shape.batch) * shape.n_q_heads * shape.head_dim;
  }
  // seed + 0, 1, 2 draw q, K and V.
  std::uint64_t q_seed() const { return seed; }
  std::uint64_t k_seed() const { return seed + 1; }
  std::uint64_t v_seed() const { return seed + 2; }
};

// `spare_pages` pages are allocated but referenced by no sequence (poisoned in host problems).
DecodeLayout make_decode_layout(const DecodeShape& shape, std::uint64_t seed, int spare_pages = 0);

// Parameters for `layout` with null buffers; the caller points them at host or device memory.
DecodeParams decode_params_for(const DecodeLayout& layout);

// One of the q/K/V values at a flat element index, in its storage format (bf16/fp16 bits or an
// fp8 code, zero-extended).
std::uint16_t random_element(KvType type, std::uint64_t seed, std::size_t index);

// A problem with every buffer on the host.
class HostDecodeProblem {
 public:
  explicit HostDecodeProblem(DecodeLayout layout);

  // Sequence b's tokens for KV head `kv_head` and its query heads only, as a contiguous cache of
  // its own with the same values: what the reference checks of a shape too large to check whole.
  static HostDecodeProblem slice(const DecodeLayout& layout, int b, int kv_head);

  const DecodeLayout& layout() const { return layout_; }
  DecodeParams params();                 // host pointers; out poisoned with NaN again
  std::vector<double> output() const;    // out widened to double, [batch, n_q_heads, head_dim]

 private:
  HostDecodeProblem() = default;
  void poison_output();

  DecodeLayout layout_;
  std::vector<std::int32_t> seq_lens_;
  std::vector<std::uint8_t> q_, k_, v_, out_;  // raw bytes in their formats
};

// ||got - want|| / ||want||, and NaN if any value is NaN (NaN never passes).
double relative_l2_error(const std::vector<double>& got, const std::vector<double>& want);

// What kvplan accepts, by cache type: bf16 1e-2, fp16 5e-3, fp8 2e-2 (see reports/kernels/NOTES.md).
double decode_error_threshold(KvType type);

}  // namespace kvplan::kernels

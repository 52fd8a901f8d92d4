// Random MLA decode problems for tests and the bench: ragged sequence lengths, pages in shuffled
// order, every cache row no sequence owns poisoned with NaN (spare pages, slots past the end), the
// output poisoned before every run. Values come from kernels/random_values.h and
// kernels/mla_values.h, so a GPU can fill the same problem in place and the host can rebuild any
// sequence of it for the reference.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/mla.h"
#include "kernels/paged_cache.h"

namespace kvplan::kernels {

struct MlaShape {
  int batch = 1;
  int n_heads = 16;
  MlaCache cache = MlaCache::bf16;
  int page_size = 64;             // 0: contiguous cache
  std::vector<int> seq_lens;      // [batch]
};

struct MlaLayout : PagedLayout {
  MlaShape shape;
  std::uint64_t seed = 0;

  std::size_t cache_rows() const { return static_cast<std::size_t>(num_pages) * page_size; }
  std::size_t cache_bytes() const { return cache_rows() * static_cast<std::size_t>(mla_row_bytes(shape.cache)); }
  std::size_t q_elements() const;    // batch x n_heads x 192
  std::size_t w_elements() const;    // n_heads x 256 x 512
  std::size_t out_elements() const;  // batch x n_heads x 128
  // seed + 0: q; + 1: kv_b_proj; + 2 (and + 3, + 4 for fp8 scales and RoPE): the cache.
  std::uint64_t q_seed() const { return seed; }
  std::uint64_t w_seed() const { return seed + 1; }
  std::uint64_t cache_seed() const { return seed + 2; }
};

// `spare_pages` pages are allocated but referenced by no sequence (poisoned in host problems).
MlaLayout make_mla_layout(const MlaShape& shape, std::uint64_t seed, int spare_pages = 0);

// Parameters for `layout` with null buffers; softmax_scale = 1/sqrt(192), as DeepSeek's.
MlaParams mla_params_for(const MlaLayout& layout);

// The bf16 bits of q and kv_b_proj at a flat index (kernels/mla_values.h).
std::uint16_t mla_q_bits(std::uint64_t seed, std::size_t index);
std::uint16_t mla_w_bits(std::uint64_t seed, std::size_t index);

// A problem with every buffer on the host.
class HostMlaProblem {
 public:
  explicit HostMlaProblem(MlaLayout layout);

  // Sequence b alone, with every head, as a contiguous cache of its own with the same values:
  // what the reference checks of a shape too large to check whole.
  static HostMlaProblem slice(const MlaLayout& layout, int b);

  const MlaLayout& layout() const { return layout_; }
  MlaParams params();                    // host pointers; out poisoned with NaN again
  std::vector<double> output() const;    // out widened to double, [batch, n_heads, 128]

 private:
  HostMlaProblem() = default;
  void fill_row(std::size_t row_in_problem, std::size_t row_in_values);

  MlaLayout layout_;
  std::vector<std::int32_t> seq_lens_;
  std::vector<std::uint8_t> q_, w_, cache_, out_;
};

// Relative L2 threshold against the double reference: 1e-2 for both caches. The host models land
// near 3e-3: bf16 roundings of q W_UK, P, the latent output and the output itself (the fp8 cache's
// dequantisation into bf16 adds little); reports/kernels/NOTES.md, MLA section.
double mla_error_threshold(MlaCache cache);

}  // namespace kvplan::kernels

// The paged cache both decode families read (vLLM's block table; FlashMLA's, with pages of 64): its
// geometry, the checks their launchers, models and references share, and the random layouts of the
// test and bench problems. Contiguous is the special case page = sequence.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kvplan::kernels {

struct PagedLayout {
  int max_seq_len = 0;
  int page_size = 0;              // as the params take it (capacity per sequence when contiguous)
  int num_pages = 0;
  int max_pages_per_seq = 0;
  std::vector<std::int32_t> block_table;  // [batch, max_pages_per_seq]; empty when contiguous; unused entries -1
};

// Pages handed out in a random order (from `seed`), as an allocator that has run for a while does;
// `spare_pages` more are allocated but referenced by no sequence. page_size 0: contiguous, each
// sequence reserving a little more than the longest needs, as engines do.
PagedLayout make_paged_layout(const std::vector<int>& seq_lens, int page_size, std::uint64_t seed, int spare_pages);

// Throws kvplan::Error ("<family>: ...") for a geometry that cannot hold max_seq_len tokens per sequence.
void check_paged_cache(const std::string& family, bool has_block_table, int batch, int max_seq_len, int page_size,
                       int max_pages_per_seq, int num_pages);

}  // namespace kvplan::kernels

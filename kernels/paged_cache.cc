#include "kernels/paged_cache.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <numeric>
#include <random>
#include <string>

#include "core/error.h"

namespace kvplan::kernels {

PagedLayout make_paged_layout(const std::vector<int>& seq_lens, int page_size, std::uint64_t seed, int spare_pages) {
  PagedLayout layout;
  const int batch = static_cast<int>(seq_lens.size());
  layout.max_seq_len = *std::max_element(seq_lens.begin(), seq_lens.end());
  if (page_size == 0) {
    layout.page_size = layout.max_seq_len + 3;
    layout.num_pages = batch + spare_pages;
    return layout;
  }
  layout.page_size = page_size;
  auto pages_for = [page_size](int len) { return (std::int64_t{len} + page_size - 1) / page_size; };
  layout.max_pages_per_seq = static_cast<int>(pages_for(layout.max_seq_len));
  // Summed in 64 bits: batch x pages per sequence passes 2^31 long before memory runs out on the
  // host side of a large shape (65535 sequences of 1M tokens in pages of 16 are 4.3e9 pages).
  std::int64_t used = 0;
  for (int len : seq_lens) used += pages_for(len);
  const std::int64_t total = used + spare_pages;
  if (total > std::numeric_limits<std::int32_t>::max()) {
    throw Error("the paged cache needs " + std::to_string(total) + " pages of " + std::to_string(page_size) +
                " tokens; block-table entries are 32-bit page ids (vLLM's and FlashMLA's), at most 2147483647 pages");
  }
  layout.num_pages = static_cast<int>(total);
  std::vector<std::int32_t> pages(static_cast<std::size_t>(layout.num_pages));
  std::iota(pages.begin(), pages.end(), 0);
  std::shuffle(pages.begin(), pages.end(), std::mt19937_64(seed));
  layout.block_table.assign(static_cast<std::size_t>(batch) * layout.max_pages_per_seq, -1);
  std::size_t next = 0;
  for (int b = 0; b < batch; ++b) {
    const std::int64_t need = pages_for(seq_lens[static_cast<std::size_t>(b)]);
    for (std::int64_t i = 0; i < need; ++i) layout.block_table[static_cast<std::size_t>(b) * layout.max_pages_per_seq + i] = pages[next++];
  }
  return layout;
}

void check_paged_cache(const std::string& family, bool has_block_table, int batch, int max_seq_len, int page_size,
                       int max_pages_per_seq, int num_pages) {
  auto require = [&](bool ok, const char* what) {
    if (!ok) throw Error(family + ": " + what);
  };
  require(max_seq_len >= 1, "max_seq_len must be at least 1");
  require(page_size >= 1, "page_size must be at least 1");
  if (has_block_table) {
    require(max_pages_per_seq >= (std::int64_t{max_seq_len} + page_size - 1) / page_size,
            "max_pages_per_seq is too small to hold max_seq_len tokens");
    require(num_pages >= 1, "num_pages must be at least 1");
  } else {
    require(page_size >= max_seq_len, "contiguous cache: page_size must be at least max_seq_len");
    require(num_pages >= batch, "contiguous cache: num_pages must be at least batch");
  }
}

}  // namespace kvplan::kernels

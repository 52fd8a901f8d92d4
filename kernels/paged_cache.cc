#include "kernels/paged_cache.h"

#include <algorithm>
#include <numeric>
#include <random>

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
  layout.max_pages_per_seq = (layout.max_seq_len + page_size - 1) / page_size;
  int used = 0;
  for (int len : seq_lens) used += (len + page_size - 1) / page_size;
  layout.num_pages = used + spare_pages;
  std::vector<std::int32_t> pages(static_cast<std::size_t>(layout.num_pages));
  std::iota(pages.begin(), pages.end(), 0);
  std::shuffle(pages.begin(), pages.end(), std::mt19937_64(seed));
  layout.block_table.assign(static_cast<std::size_t>(batch) * layout.max_pages_per_seq, -1);
  std::size_t next = 0;
  for (int b = 0; b < batch; ++b) {
    const int need = (seq_lens[static_cast<std::size_t>(b)] + page_size - 1) / page_size;
    for (int i = 0; i < need; ++i) layout.block_table[static_cast<std::size_t>(b) * layout.max_pages_per_seq + i] = pages[next++];
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
    require(max_pages_per_seq >= (max_seq_len + page_size - 1) / page_size, "max_pages_per_seq is too small to hold max_seq_len tokens");
    require(num_pages >= 1, "num_pages must be at least 1");
  } else {
    require(page_size >= max_seq_len, "contiguous cache: page_size must be at least max_seq_len");
    require(num_pages >= batch, "contiguous cache: num_pages must be at least batch");
  }
}

}  // namespace kvplan::kernels

#include "core/compressed_mla.h"

#include <algorithm>
#include <map>

#include "core/checked.h"
#include "core/error.h"

namespace kvplan {

std::uint64_t CompressedCache::states_held(std::uint64_t ctx) const {
  if (window) return std::min(ctx, *window) / tokens_per_state;
  return ctx / tokens_per_state;
}

std::uint64_t compressed_latent_bytes(const CompressedMlaDims& dims, KvDtype dtype) {
  switch (dtype) {
    case KvDtype::bf16:
    case KvDtype::fp16: return std::uint64_t{dims.head_dim} * 2;
    case KvDtype::fp8_e4m3: return dims.head_dim;
    case KvDtype::fp8_ds_mla:
      // FlashMLA's DSV4 row: the NoPE part in fp8 with one UE8M0 scale per 64 values (padded to
      // 8 B), the RoPE part in bf16. Only the 512 / 64 split exists in its kernels.
      if (dims.head_dim != 512 || dims.rope_head_dim != 64) {
        throw Error("--kv-dtype fp8_ds_mla: FlashMLA's DeepSeek-V4 layout is for head_dim 512 with qk_rope_head_dim 64; "
                    "this config has " + std::to_string(dims.head_dim) + " and " + std::to_string(dims.rope_head_dim));
      }
      return 448 + 64 * 2 + 8;
    default:
      throw Error("--kv-dtype " + std::string(to_string(dtype)) + ": vLLM 0.33 stores DeepSeek-V4's latents as "
                  "fp8_ds_mla (FlashMLA, the default), or bf16 / fp8 (FlashInfer's DSV4 backend on Blackwell)");
  }
}

std::vector<CompressedCache> compressed_caches(const CompressedMlaDims& dims, KvDtype dtype) {
  const std::uint64_t latent = compressed_latent_bytes(dims, dtype);
  std::map<std::uint32_t, std::uint32_t> layers_by_ratio;
  for (std::uint32_t ratio : dims.compress_ratio) ++layers_by_ratio[ratio];
  const std::uint32_t all = static_cast<std::uint32_t>(dims.compress_ratio.size());
  // DeepseekCompressor: a compressor keeps coff x ratio tokens (coff 2 for overlapping CSA
  // groups, 1 for HCA) of 2 x coff x width fp32 values; its cache block is 4 (CSA) or 8 (HCA).
  auto compressor = [](std::uint32_t ratio, std::uint32_t width) {
    const std::uint64_t coff = ratio == 4 ? 2 : 1;
    return std::pair{coff * ratio, 2 * coff * width * 4};
  };
  std::vector<CompressedCache> caches;
  const std::uint64_t index_key = dims.index_head_dim + dims.index_head_dim / 128 * 4;
  if (const std::uint32_t csa = layers_by_ratio.count(4) ? layers_by_ratio[4] : 0; csa > 0) {
    caches.push_back({"C4 indexer keys", csa, 4, index_key, std::nullopt, 256, "DeepseekV4IndexerCache"});
    auto [window, bytes] = compressor(4, dims.index_head_dim);
    caches.push_back({"C4 indexer compressor state", csa, 1, bytes, window, 4, "CompressorStateCache"});
  }
  caches.push_back({"sliding-window latents", all, 1, latent, dims.sliding_window, 64, "DeepseekV4SWACache"});
  for (auto [ratio, layers] : layers_by_ratio) {
    if (ratio == 1) continue;
    const std::string tag = "C" + std::to_string(ratio);
    caches.push_back({tag + " compressed latents", layers, ratio, latent, std::nullopt, 256, "DeepseekV4Attention"});
    auto [window, bytes] = compressor(ratio, dims.head_dim);
    caches.push_back({tag + " compressor state", layers, 1, bytes, window, ratio == 4 ? 4u : 8u, "CompressorStateCache"});
  }
  return caches;
}

CompressedSize compressed_size(const CompressedMlaDims& dims, KvDtype dtype, std::uint64_t ctx, std::uint64_t batch,
                               std::uint32_t mtp_layers) {
  CompressedMlaDims with_mtp = dims;
  with_mtp.compress_ratio.insert(with_mtp.compress_ratio.end(), mtp_layers, 1);
  CompressedSize size;
  for (const CompressedCache& cache : compressed_caches(with_mtp, dtype)) {
    CompressedCacheSize one{cache, cache.states_held(ctx), 0, 0};
    one.bytes_per_layer = checked_mul(one.states_per_layer, cache.state_bytes, "bytes per layer per sequence");
    one.bytes_all_layers = checked_mul(one.bytes_per_layer, cache.layers, "bytes per sequence");
    size.per_sequence = checked_add(size.per_sequence, one.bytes_all_layers, "bytes per sequence");
    size.caches.push_back(one);
  }
  size.per_batch = checked_mul(size.per_sequence, batch, "bytes per batch (per sequence x --batch)");
  return size;
}

namespace {

// One bucket of UniformTypeKVCacheSpecs.is_uniform_type: same spec class, block and window.
struct Bucket {
  bool sliding = false;
  std::uint32_t block = 0;
  std::optional<std::uint64_t> window;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> layers_by_page;  // page bytes -> layers, first seen first
  std::uint64_t layers() const {
    std::uint64_t total = 0;
    for (const auto& [page, count] : layers_by_page) total += count;
    return total;
  }
  std::uint64_t most_layers_of_a_page() const {
    std::uint64_t most = 0;
    for (const auto& [page, count] : layers_by_page) most = std::max(most, count);
    return most;
  }
  bool balanced() const {
    for (const auto& [page, count] : layers_by_page) {
      if (count != layers_by_page.front().second) return false;
    }
    return true;
  }
  // Page bytes of the widest of n groups the bucket splits into.
  std::uint64_t widest_group_bytes(std::uint64_t n) const {
    std::uint64_t bytes = 0;
    for (const auto& [page, count] : layers_by_page) bytes += ceil_div(count, n) * page;
    return bytes;
  }
};

// kv_cache_planning.py::_approximate_gcd: the d in [lower_bound, max] that pads the values least
// when each is rounded up to a multiple of d; ties go to the larger d.
std::uint64_t approximate_gcd(const std::vector<std::uint64_t>& values, std::uint64_t lower_bound) {
  const std::uint64_t low = std::max<std::uint64_t>(1, lower_bound);
  const std::uint64_t high = *std::max_element(values.begin(), values.end());
  if (low > high) return low;
  std::uint64_t best = low, best_pad = ~0ull;
  for (std::uint64_t d = low; d <= high; ++d) {
    std::uint64_t pad = 0;
    for (std::uint64_t x : values) pad += (d - x % d) % d;
    if (pad < best_pad || (pad == best_pad && d > best)) {
      best_pad = pad;
      best = d;
    }
  }
  return best;
}

}  // namespace

CompressedVllmPlan plan_compressed_vllm(const CompressedMlaDims& dims, KvDtype dtype, std::uint64_t max_model_len,
                                        std::uint64_t tokens_in_flight) {
  CompressedVllmPlan plan;
  // _apply_alignment_padding: pages are padded to the row alignment of the cache layout.
  plan.alignment = dtype == KvDtype::fp8_ds_mla ? 576 : 512;
  std::vector<Bucket> buckets;
  for (const CompressedCache& cache : compressed_caches(dims, dtype)) {
    const std::uint64_t page = ceil_div(cache.vllm_block / cache.tokens_per_state * cache.state_bytes, plan.alignment) *
                               plan.alignment;
    auto bucket = std::find_if(buckets.begin(), buckets.end(), [&](const Bucket& b) {
      return b.sliding == cache.window.has_value() && b.block == cache.vllm_block && b.window == cache.window;
    });
    if (bucket == buckets.end()) {
      buckets.push_back({cache.window.has_value(), cache.vllm_block, cache.window, {}});
      bucket = buckets.end() - 1;
    }
    auto same_page = std::find_if(bucket->layers_by_page.begin(), bucket->layers_by_page.end(),
                                  [&](const auto& entry) { return entry.first == page; });
    if (same_page == bucket->layers_by_page.end()) bucket->layers_by_page.push_back({page, cache.layers});
    else same_page->second += cache.layers;
  }
  // _get_packed_kv_cache_groups: balanced buckets (as many layers of each page size) repeat a
  // pattern; the largest one mixing page sizes sets the fewest repeats a group may hold, and the
  // repeats per group minimise the padding over all balanced buckets.
  std::uint64_t min_repeats = 0;
  std::vector<std::uint64_t> balanced_counts;
  for (const Bucket& bucket : buckets) {
    if (!bucket.balanced()) continue;
    balanced_counts.push_back(bucket.most_layers_of_a_page());
    if (bucket.layers_by_page.size() > 1) min_repeats = std::max(min_repeats, bucket.most_layers_of_a_page());
  }
  const std::uint64_t repeats = min_repeats > 0 ? approximate_gcd(balanced_counts, min_repeats) : 0;
  plan.repeats_per_group = static_cast<std::uint32_t>(repeats);
  auto groups_of = [&](const Bucket& bucket) -> std::uint64_t {
    return bucket.balanced() && repeats > 0 ? ceil_div(bucket.most_layers_of_a_page(), repeats) : 1;
  };
  // Without a repeat pattern a sliding bucket may split down to one layer per group.
  auto is_state = [&](const Bucket& bucket) { return repeats == 0 && bucket.sliding; };
  std::uint64_t anchor = 0;
  for (const Bucket& bucket : buckets) {
    anchor = std::max(anchor, bucket.widest_group_bytes(is_state(bucket) ? bucket.layers() : groups_of(bucket)));
  }
  for (const Bucket& bucket : buckets) {
    std::uint64_t groups = groups_of(bucket);
    if (anchor > 0 && is_state(bucket)) {
      const std::uint64_t per_block = std::max<std::uint64_t>(anchor / bucket.layers_by_page.front().first, 1);
      groups = std::max(groups, ceil_div(bucket.layers(), per_block));
    }
    // SlidingWindowSpec.max_admission_blocks_per_request / MLAAttentionSpec: the window and the
    // tokens in flight, or every token.
    const std::uint64_t blocks =
        bucket.sliding ? ceil_div(std::min(checked_add(*bucket.window - 1, tokens_in_flight, "tokens in flight"),
                                           max_model_len),
                                  bucket.block) +
                             1
                       : ceil_div(max_model_len, bucket.block);
    const std::string kind = !bucket.sliding ? "compressed" : bucket.block == 64 ? "sliding" : "compressor";
    if (groups == 1) {
      plan.groups.push_back({kind, bucket.block, bucket.layers(), bucket.widest_group_bytes(1), blocks});
    } else {
      // Group i takes the pattern's repeats i, i + n, i + 2n, ... (one layer of each page size each).
      std::uint64_t repeat_count = ~0ull, repeat_bytes = 0;
      for (const auto& [page, count] : bucket.layers_by_page) {
        repeat_count = std::min(repeat_count, count);
        repeat_bytes += page;
      }
      for (std::uint64_t i = 0; i < groups; ++i) {
        const std::uint64_t taken = repeat_count > i ? ceil_div(repeat_count - i, groups) : 0;
        plan.groups.push_back({kind, bucket.block, taken * bucket.layers_by_page.size(), taken * repeat_bytes, blocks});
      }
    }
  }
  for (const CompressedVllmGroup& group : plan.groups) {
    plan.bytes_per_block = std::max(plan.bytes_per_block, group.bytes);
    plan.blocks_per_request = checked_add(plan.blocks_per_request, group.blocks_per_request, "blocks per request");
  }
  return plan;
}

}  // namespace kvplan

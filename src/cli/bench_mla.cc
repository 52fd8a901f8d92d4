#include "cli/bench_mla.h"

#include <tuple>
#include <utility>

#include "cli/bench_plan.h"
#include "kernels/mla_tiling.h"

namespace kvplan::cli {
namespace {

// The per-head dims the latent is up-projected to: the model's own, or d_h for a counterfactual.
std::pair<std::uint32_t, std::uint32_t> up_dims(const ModelShape& shape) {
  if (shape.mla) return {shape.mla->qk_nope_head_dim, shape.mla->v_head_dim};
  return {shape.head_dim, shape.head_dim};
}

}  // namespace

std::string mla_unsupported(const Variant& variant, const ModelShape& shape, const std::string& model_name, KvDtype dtype) {
  namespace mla = kernels::mla;
  const std::string who = model_name == "custom" ? "the custom shape" : model_name;
  if (variant.kv_lora_rank != mla::kLatentDim || variant.qk_rope_head_dim != mla::kRopeDim) {
    return "--variant " + variant.name() + ": the MLA kernels are built for kv_lora_rank 512 and qk_rope_head_dim 64 "
           "(DeepSeek-V2/V3, Kimi-K2), i.e. mla:512:64";
  }
  const auto [nope, v] = up_dims(shape);
  if (nope != mla::kNopeDim || v != mla::kVDim) {
    return "--variant " + variant.name() + ": " + who + " up-projects the latent to qk_nope_head_dim " +
           std::to_string(nope) + " and v_head_dim " + std::to_string(v) + " per head; the MLA kernels are built for 128 and 128";
  }
  if (!kernels::mla_heads_supported(static_cast<int>(shape.num_attention_heads))) {
    return "--variant " + variant.name() + ": " + who + " has " + std::to_string(shape.num_attention_heads) +
           " query heads; the MLA kernels take 16 to 128 in multiples of 16";
  }
  if (dtype != KvDtype::bf16 && dtype != KvDtype::fp8_ds_mla) {
    return "--variant " + variant.name() + " with --kv-dtype " + std::string(to_string(dtype)) +
           ": the MLA kernels read bf16 and fp8_ds_mla (FlashMLA's 656-byte rows) caches";
  }
  return "";
}

std::vector<report::KernelRow> mla_rows(const Variant& variant, const ModelShape& shape, std::uint64_t batch, Tokens ctx,
                                        const std::vector<std::uint64_t>& seq_lens, KvDtype dtype,
                                        const report::BenchCeilings& ceilings) {
  std::vector<report::KernelRow> rows;
  for (MlaDecodePath path : {MlaDecodePath::naive, MlaDecodePath::absorbed}) {
    report::KernelRow row;
    row.phase = "decode";
    row.mla_path = path;
    row.shape = {variant, shape.num_attention_heads, batch, ctx, dtype, kMlaPageSize};
    row.shape.seq_lens = seq_lens;
    std::tie(row.shape.qk_nope_head_dim, row.shape.v_head_dim) = up_dims(shape);
    // The head dims each path attends with: 192/128 up-projected, 576/512 over the latent rows.
    const bool naive = path == MlaDecodePath::naive;
    row.qk_head_dim = naive ? row.shape.qk_nope_head_dim + variant.qk_rope_head_dim : variant.kv_lora_rank + variant.qk_rope_head_dim;
    row.v_head_dim = naive ? row.shape.v_head_dim : variant.kv_lora_rank;
    row.cost = mla_decode_cost(row.shape, path);
    row.floor = roofline_floor(row.cost, ceilings.bandwidth_bytes_per_s, ceilings.peaks());
    rows.push_back(row);
  }
  return rows;
}

kernels::MlaBenchResult run_mla(const kernels::GpuInfo& gpu, const report::KernelRow& row, int iters, std::uint64_t seed,
                                const kernels::Progress& progress) {
  const DecodeAttentionShape& s = row.shape;
  kernels::MlaShape shape;
  shape.batch = static_cast<int>(s.batch);
  shape.n_heads = static_cast<int>(s.n_q_heads);
  shape.cache = s.dtype == KvDtype::fp8_ds_mla ? kernels::MlaCache::fp8_ds_mla : kernels::MlaCache::bf16;
  shape.page_size = static_cast<int>(s.page_size);
  shape.seq_lens = row_lengths(s);
  const kernels::MlaPath path = *row.mla_path == MlaDecodePath::naive ? kernels::MlaPath::naive : kernels::MlaPath::absorbed;
  return kernels::bench_mla(gpu, shape, path, iters, seed, progress);
}

}  // namespace kvplan::cli

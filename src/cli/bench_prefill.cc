#include "cli/bench_prefill.h"

#include <fmt/format.h>

#include "core/attention_cost.h"
#include "core/error.h"
#include "core/variant.h"
#include "kernels/kernels.h"

namespace kvplan::cli {
namespace {

// K/V heads take d_h for queries and keys, d_v (d_h unless narrower) for values.
// MLA's attention runs on decompressed heads: d_qk = nope + rope, d_v; the model's own or
// DeepSeek's 128 nope and 128 v for a counterfactual MLA.
std::pair<std::uint32_t, std::uint32_t> head_dims(const Variant& v, const ModelShape& shape) {
  if (v.kind != VariantKind::mla) return {v.head_dim, v.value_dim()};
  const std::uint32_t nope = shape.mla ? shape.mla->qk_nope_head_dim : 128;
  const std::uint32_t d_v = shape.mla ? shape.mla->v_head_dim : 128;
  return {nope + v.qk_rope_head_dim, d_v};
}

void check_built(std::pair<std::uint32_t, std::uint32_t> dims, const Variant& v, const std::string& model) {
  for (auto [qk, dv] : kernels::kPrefillHeadDims) {
    if (static_cast<std::uint32_t>(qk) == dims.first && static_cast<std::uint32_t>(dv) == dims.second) {
      const bool mla_pair = qk != dv;
      if (mla_pair == (v.kind == VariantKind::mla)) return;
    }
  }
  const std::string dims_text = dims.first == dims.second ? std::to_string(dims.first)
                                                          : fmt::format("{}/{}", dims.first, dims.second);
  throw Error((model == "custom" ? std::string("--head-dim ") : model + " " + v.name() + " has head dims ") + dims_text +
              ": the prefill kernels are built for head dims " + kernels::prefill_head_dims_text() +
              " (192/128: MLA's decompressed heads)");
}

kernels::KvType kernel_type(KvDtype dtype) {
  return dtype == KvDtype::fp16 ? kernels::KvType::fp16
         : dtype == KvDtype::fp8_e4m3 ? kernels::KvType::fp8_e4m3 : kernels::KvType::bf16;
}

}  // namespace

std::vector<PrefillRowPlan> plan_prefill_rows(const std::string& phase, const std::string& variant_text,
                                              const std::string& model_name, const ModelShape& shape, KvDtype dtype,
                                              std::uint64_t batch, Tokens ctx, std::uint32_t page_size) {
  auto requests = parse_variants(variant_text == "all" ? "mha,gqa,mqa,mla" : variant_text);
  std::vector<std::string> skipped;
  std::vector<PrefillRowPlan> plans;
  for (const ResolvedVariant& resolved : resolve_variants(requests, shape, &skipped)) {
    const Variant& v = resolved.variant;
    const bool mla = v.kind == VariantKind::mla;
    const auto dims = head_dims(v, shape);
    check_built(dims, v, model_name);
    // FlashMLA's latent cache comes in blocks of 64 tokens.
    const std::uint32_t page = mla && page_size != 0 ? 64 : page_size;
    PrefillRowPlan plan;
    report::KernelRow& row = plan.row;
    row.phase = phase;
    row.shape = {v, shape.num_attention_heads, batch, ctx, dtype, page};
    row.qk_head_dim = dims.first;
    row.v_head_dim = dims.second;
    const PrefillAttentionShape attention{v, shape.num_attention_heads, batch, ctx, dtype, page, dims.first, dims.second};
    const std::uint64_t hidden = shape.hidden_size ? shape.hidden_size : std::uint64_t{shape.num_attention_heads} * shape.head_dim;
    const std::uint32_t q_lora = shape.mla && shape.mla->q_lora_rank ? *shape.mla->q_lora_rank : 0;
    row.cost = phase == "layer" ? layer_cost({attention, hidden, mla ? q_lora : 0}) : prefill_attention_cost(attention);

    kernels::PrefillShape& k = plan.kernel.attention;
    k.seq_lens.assign(batch, static_cast<int>(ctx.value));
    k.n_q_heads = static_cast<int>(shape.num_attention_heads);
    k.n_kv_heads = mla ? k.n_q_heads : static_cast<int>(v.kv_heads);
    k.head_dim_qk = static_cast<int>(dims.first);
    k.head_dim_v = static_cast<int>(dims.second);
    k.kv_type = kernel_type(dtype);
    k.write_cache = !mla;
    k.page_size = static_cast<int>(page);
    k.latent_width = mla ? static_cast<int>(v.kv_lora_rank + v.qk_rope_head_dim) : 0;
    plan.kernel.hidden_size = static_cast<int>(hidden);
    plan.kernel.mla = mla;
    plan.kernel.q_lora_rank = mla ? static_cast<int>(q_lora) : 0;
    plan.kernel.rope_dim = mla ? static_cast<int>(v.qk_rope_head_dim) : 0;
    plan.device_bytes = phase == "layer" ? kernels::layer_device_bytes(plan.kernel) : kernels::prefill_device_bytes(k);
    plans.push_back(std::move(plan));
  }
  return plans;
}

void check_fits(const std::vector<PrefillRowPlan>& rows, std::uint64_t memory_bytes, const std::string& device) {
  for (const PrefillRowPlan& plan : rows) {
    if (plan.device_bytes > memory_bytes) {
      throw Error(fmt::format("bench: the {} {} run needs {:.1f} GiB of device memory and {} has {:.1f} GiB; lower --batch or --ctx",
                              plan.row.shape.variant.name(), plan.row.phase, static_cast<double>(plan.device_bytes) / (1ull << 30),
                              device, static_cast<double>(memory_bytes) / (1ull << 30)));
    }
  }
}

report::BenchMeasurement measure_prefill_row(const kernels::GpuInfo& gpu, const PrefillRowPlan& plan, int iters,
                                             std::uint64_t seed, const kernels::Progress& progress) {
  kernels::PhaseBenchResult result = plan.row.phase == "layer"
                                         ? kernels::bench_layer(gpu, plan.kernel, iters, seed, progress)
                                         : kernels::bench_prefill(gpu, plan.kernel.attention, iters, seed, progress);
  report::BenchMeasurement m;
  m.correct = result.correct;
  m.rel_l2_error = result.rel_l2_error;
  m.threshold = result.threshold;
  m.checked_rows = result.checked_rows;
  m.checked_elements = result.elements.elements;
  m.element_mismatches = result.elements.mismatches;
  m.first_mismatches = result.elements.first_mismatches;
  if (result.correct) m.median_s = result.median_s;
  return m;
}

}  // namespace kvplan::cli

#include "core/deepseek_v4_weights.h"

#include <cstdio>

#include "core/checked.h"
#include "core/error.h"

namespace kvplan {
namespace {

constexpr std::string_view kWhat = "DeepSeek-V4's weights";
std::uint64_t mul(std::uint64_t a, std::uint64_t b) { return checked_mul(a, b, kWhat); }
std::uint64_t add(std::uint64_t a, std::uint64_t b) { return checked_add(a, b, kWhat); }
std::uint64_t round_up(std::uint64_t value, std::uint64_t step) { return checked_round_up(value, step, kWhat); }

// Fp8LinearMethod.create_weights with weight_block_size [128, 128]: one fp8 byte per value and
// (create_fp8_scale_parameter) one scale per 128x128 block, float8_e8m0fnu because expert_dtype fp4
// sets DeepseekV4FP8Config.is_scale_e8m0.
std::uint64_t fp8_block_bytes(std::uint64_t rows, std::uint64_t cols) {
  return add(mul(rows, cols), mul(ceil_div(rows, 128), ceil_div(cols, 128)));
}

// Adds `params` (the whole model's) and `bytes` (one rank's) to a part.
void count(WeightPart& part, std::uint64_t params, std::uint64_t bytes) {
  part.params = add(part.params, params);
  part.bytes += static_cast<double>(bytes);
}

void require_divides(std::uint64_t whole, std::uint32_t tp, const std::string& what) {
  if (whole % tp != 0) {
    throw Error("--tp " + std::to_string(tp) + ": vLLM 0.33 splits DeepSeek-V4's " + what + " (" +
                std::to_string(whole) + ") evenly over the TP ranks, and " + std::to_string(tp) + " does not divide it");
  }
}

}  // namespace

std::string deepseek_v4_shape_gap(const ModelShape& shape) {
  if (!shape.compressed_mla) return "a model that is not a deepseek_v4 model";
  const CompressedMlaDims& dims = *shape.compressed_mla;
  const bool missing = dims.q_lora_rank == 0 || dims.o_lora_rank == 0 || dims.o_groups == 0 || dims.hc_mult == 0 ||
                       dims.index_n_heads == 0 || !shape.moe || shape.moe->num_experts == 0 || shape.moe->moe_intermediate_size == 0 ||
                       shape.hidden_size == 0 || shape.vocab_size == 0 || shape.num_attention_heads == 0;
  if (missing) {
    return "a DeepSeek-V4 config.json without q_lora_rank, o_lora_rank, o_groups, hc_mult, index_n_heads, "
           "n_routed_experts, moe_intermediate_size, hidden_size and vocab_size";
  }
  return "";
}

std::string deepseek_v4_weights_gap(const ModelShape& shape) {
  if (std::string gap = deepseek_v4_shape_gap(shape); !gap.empty()) return gap;
  const CompressedMlaDims& dims = *shape.compressed_mla;
  if (dims.expert_dtype != "fp4") {
    return "DeepSeek-V4 experts stored as expert_dtype '" + dims.expert_dtype +
           "' (kvplan sizes the fp4 checkpoints, whose experts vLLM loads as MXFP4)";
  }
  if (shape.quantization.method != "fp8" || shape.quantization.strategy != "block" ||
      shape.quantization.block_rows != 128 || shape.quantization.block_cols != 128) {
    return "a DeepSeek-V4 checkpoint without fp8 128x128 blocks in its quantization_config";
  }
  return "";
}

std::vector<WeightPart> deepseek_v4_weight_parts(const ModelShape& shape, std::uint32_t tp) {
  if (std::string gap = deepseek_v4_shape_gap(shape); !gap.empty()) {
    throw Error("--weights-dtype auto: kvplan cannot size " + gap + "; pass --weights-dtype");
  }
  const CompressedMlaDims& dims = *shape.compressed_mla;
  const MoeDims& moe = *shape.moe;
  const std::uint64_t hidden = shape.hidden_size;
  const std::uint64_t heads = shape.num_attention_heads;
  const std::uint64_t head_dim = dims.head_dim;
  const std::uint64_t q_lora = dims.q_lora_rank;
  const std::uint64_t o_width = mul(dims.o_groups, dims.o_lora_rank);  // wo_a's output, wo_b's input
  const std::uint64_t experts = moe.num_experts;
  const std::uint64_t expert_width = moe.moe_intermediate_size;
  require_divides(heads, tp, "attention heads");
  require_divides(dims.o_groups, tp, "output groups (o_groups; DeepseekV4Attention.n_local_groups)");
  require_divides(expert_width, tp, "expert width (moe_intermediate_size)");

  WeightPart routed{"routed experts", 0, "MXFP4: 4-bit values + one e8m0 byte per 32 (Mxfp4MoEMethod)", 0};
  WeightPart attention{"attention projections", 0, "fp8, one e8m0 scale per 128x128 block", 0};
  WeightPart shared{"shared experts", 0, "fp8, one e8m0 scale per 128x128 block", 0};
  WeightPart compressors{"compressors, indexer weights_proj", 0, "bf16 (ape fp32), whole on every rank", 0};
  WeightPart vocab{"embeddings, LM head", 0, "bf16, vocabulary padded to 64 and split", 0};
  WeightPart rest{"routers, hash tables, norms, hyper-connections, sinks", 0, "bf16 / fp32 / int32, whole on every rank", 0};

  // VocabParallelEmbedding and ParallelLMHead: the vocabulary padded to a multiple of 64, split.
  const std::uint64_t vocab_rows = round_up(shape.vocab_size, 64) / tp;
  count(vocab, mul(mul(2, shape.vocab_size), hidden), mul(mul(2, vocab_rows), mul(hidden, 2)));

  // DeepseekV4Model: hc_head_fn (hc x hc*hidden), hc_head_base (hc), hc_head_scale (1), fp32; the final norm.
  const std::uint64_t hc = dims.hc_mult;
  const std::uint64_t head_params = add(add(mul(hc, mul(hc, hidden)), hc), 1);
  count(rest, add(head_params, hidden), add(mul(head_params, 4), mul(hidden, 2)));

  // DeepseekV4DecoderLayer: hc_attn_fn and hc_ffn_fn ((2 + hc) x hc rows of hc x hidden), their
  // bases ((2 + hc) x hc) and scales (3), fp32; attn_norm and ffn_norm in bf16.
  const std::uint64_t mix = mul(2 + hc, hc);
  const std::uint64_t hc_layer = mul(2, add(add(mul(mix, mul(hc, hidden)), mix), 3));
  // FlashMLA's sparse decode kernel takes 64 or 128 query heads: attn_sink is padded to that, fp32.
  const std::uint64_t local_heads = heads / tp;
  const std::uint64_t sink_rows = local_heads <= 64 ? 64 : 128;
  // The shared experts' width is padded to whole 128-blocks per rank (DeepseekV4MLP).
  const std::uint64_t shared_width = mul(ceil_div(mul(expert_width, moe.num_shared_experts) / 128, tp), 128 * std::uint64_t{tp});
  // Mxfp4MoEMethod.maybe_roundup_sizes on Hopper (Marlin) and Blackwell (TRT-LLM): each rank's expert
  // width to 128, hidden to 256.
  const std::uint64_t expert_hidden = round_up(hidden, 256);
  const std::uint64_t expert_rank_width = round_up(expert_width / tp, 128);
  const std::uint64_t expert_rank_values = mul(mul(3, expert_hidden), expert_rank_width);
  const std::uint64_t expert_rank_bytes = mul(experts, add(expert_rank_values / 2, expert_rank_values / 32));

  for (std::uint32_t layer = 0; layer < shape.num_hidden_layers; ++layer) {
    const std::uint64_t ratio = dims.compress_ratio[layer];
    count(rest, add(hc_layer, mul(2, hidden)), add(mul(hc_layer, 4), mul(mul(2, hidden), 2)));
    count(rest, heads, mul(sink_rows, 4));
    // Attention: fused_wqa_wkv (wq_a and wkv, replicated), wq_b (column-parallel), wo_a (grouped,
    // column-parallel over the groups), wo_b (row-parallel); q_norm and kv_norm in bf16.
    const std::uint64_t wqa_rows = q_lora + head_dim;
    const std::uint64_t q_width = mul(heads, head_dim);
    count(attention, mul(wqa_rows, hidden), fp8_block_bytes(wqa_rows, hidden));
    count(attention, mul(q_width, q_lora), fp8_block_bytes(q_width / tp, q_lora));
    count(attention, mul(o_width, q_width / dims.o_groups), fp8_block_bytes(o_width / tp, q_width / dims.o_groups));
    count(attention, mul(hidden, o_width), fp8_block_bytes(hidden, o_width / tp));
    count(rest, q_lora + head_dim, mul(q_lora + head_dim, 2));
    if (ratio > 1) {
      // DeepseekCompressor: ape (ratio x coff*head_dim, fp32), fused_wkv_wgate (2 x coff*head_dim rows,
      // bf16: built without a quant_config), its norm; coff is 2 for the overlapping 4x compressor.
      const std::uint64_t coff = ratio == 4 ? 2 : 1;
      const std::uint64_t ape = mul(ratio, mul(coff, head_dim));
      const std::uint64_t wkv = mul(mul(2, mul(coff, head_dim)), hidden);
      count(compressors, add(add(ape, wkv), head_dim), add(add(mul(ape, 4), mul(wkv, 2)), mul(head_dim, 2)));
    }
    if (ratio == 4) {
      // DeepseekV4Indexer (CSA layers): wq_b (fp8, replicated), weights_proj (bf16), and its own
      // 4x compressor of index_head_dim.
      const std::uint64_t index_width = mul(dims.index_n_heads, dims.index_head_dim);
      count(attention, mul(index_width, q_lora), fp8_block_bytes(index_width, q_lora));
      const std::uint64_t ape = mul(4, mul(2, dims.index_head_dim));
      const std::uint64_t wkv = mul(mul(4, dims.index_head_dim), hidden);
      const std::uint64_t proj = mul(dims.index_n_heads, hidden);
      count(compressors, add(add(ape, wkv), add(proj, dims.index_head_dim)),
            add(add(mul(ape, 4), mul(add(wkv, proj), 2)), mul(dims.index_head_dim, 2)));
    }
    // DeepseekV4MoE: the router (GateLinear, bf16); hash layers route by tid2eid (vocab x top-k,
    // int32), the others add e_score_correction_bias (fp32).
    count(rest, mul(experts, hidden), mul(mul(experts, hidden), 2));
    if (layer < dims.num_hash_layers) {
      count(rest, 0, mul(mul(shape.vocab_size, moe.num_experts_per_tok), 4));
    } else {
      count(rest, experts, mul(experts, 4));
    }
    count(shared, mul(mul(3, mul(expert_width, moe.num_shared_experts)), hidden),
          add(fp8_block_bytes(mul(2, shared_width / tp), hidden), fp8_block_bytes(hidden, shared_width / tp)));
    count(routed, mul(experts, mul(mul(3, hidden), expert_width)), expert_rank_bytes);
  }
  return {routed, attention, shared, compressors, vocab, rest};
}

namespace {

std::vector<WeightPart> rank_parts(const ModelShape& shape, const Parallelism& parallel) {
  if (parallel.expert_dp > 1 || parallel.dp > 1) {
    throw Error("--dp " + std::to_string(parallel.dp) + ": with DP vLLM 0.33 runs DeepSeek-V4's MoE sequence-parallel "
                "(shared experts whole on every rank), which kvplan does not size; plan one DP rank (--dp 1)");
  }
  return deepseek_v4_weight_parts(shape, parallel.tp);
}

}  // namespace

std::uint64_t deepseek_v4_rank_bytes(const ModelShape& shape, const Parallelism& parallel) {
  std::uint64_t bytes = 0;
  // Each part is a whole number of bytes well below 2^53, exact in a double.
  for (const WeightPart& part : rank_parts(shape, parallel)) bytes = add(bytes, static_cast<std::uint64_t>(part.bytes));
  return bytes;
}

std::string deepseek_v4_weights_rule(const ModelShape& shape, const Parallelism& parallel) {
  std::string rule = "DeepSeek-V4 as vLLM 0.33 allocates it on one TP-" + std::to_string(parallel.tp) + " rank" +
                     (parallel.expert_parallel ? " (whole experts with --enable-expert-parallel: the same bytes)" : "") +
                     ":";
  std::string separator = " ";
  for (const WeightPart& part : rank_parts(shape, parallel)) {
    char line[200];
    std::snprintf(line, sizeof line, "%s %.0f B (%s)", part.what.c_str(), part.bytes, part.format.c_str());
    rule += separator + line;
    separator = " + ";
  }
  return rule;
}

}  // namespace kvplan

#include "core/kv_size.h"

#include <doctest/doctest.h>

#include "core/error.h"
#include "core/shapes.h"

using namespace kvplan;
using kvplan::testing::deepseek_v2_shape;
using kvplan::testing::dense_shape;

namespace {

constexpr std::uint64_t GiB = 1ull << 30;

SizeReport sizes(const ModelShape& shape, std::string_view variants, std::uint64_t ctx,
                 KvDtype dtype = KvDtype::bf16, std::uint64_t batch = 1, bool mtp = false) {
  SizeRequest request;
  request.ctx = Tokens{ctx};
  request.batch = batch;
  request.dtype = dtype;
  request.include_mtp = mtp;
  return compute_kv_size(shape, resolve_variants(parse_variants(variants), shape), request);
}

}  // namespace

TEST_CASE("a worked example: Llama-3-70B's shape at 128k in bf16") {
  // L=80, n_h=64, d_h=128, G=8, d_c=512, d_R=64, N=131072.
  ModelShape shape = dense_shape(80, 64, 8, 128);
  SizeReport report = sizes(shape, "mha,mqa,gqa:8,mla:512:64", 131072);
  REQUIRE(report.variants.size() == 4);
  const std::uint64_t N = 131072, L = 80;
  // Per layer for one sequence: 32 KiB * N = 4 GiB, 0.5 KiB * N = 64 MiB, 4 KiB * N = 512 MiB,
  // 1.125 KiB * N = 144 MiB.
  CHECK(report.variants[0].groups[0].per_layer_per_sequence.value == 32 * 1024 * N);
  CHECK(report.variants[0].groups[0].per_layer_per_sequence.value == 4 * GiB);
  CHECK(report.variants[1].groups[0].per_layer_per_sequence.value == 64ull << 20);
  CHECK(report.variants[2].groups[0].per_layer_per_sequence.value == 512ull << 20);
  CHECK(report.variants[3].groups[0].per_layer_per_sequence.value == 144ull << 20);
  // Whole model: 320 / 5 / 40 / 11.25 GiB (GiB, not GB: 2^30 bytes each).
  CHECK(report.variants[0].per_sequence.value == 32 * 1024 * N * L);
  CHECK(report.variants[0].per_sequence.value == 320 * GiB);
  CHECK(report.variants[1].per_sequence.value == 5 * GiB);
  CHECK(report.variants[2].per_sequence.value == 40 * GiB);
  CHECK(report.variants[3].per_sequence.value == 45 * GiB / 4);  // 11.25 GiB
  // Per token, all layers: 32 KiB * 80 = 2.5 MiB.
  CHECK(report.variants[0].per_token.value == 32 * 1024 * 80);
  // Ratios to MHA: 1, 64, 8, 16384/576.
  CHECK(report.variants[1].mha_ratio == doctest::Approx(64.0));
  CHECK(report.variants[2].mha_ratio == doctest::Approx(8.0));
  CHECK(report.variants[3].mha_ratio == doctest::Approx(16384.0 / 576.0));
}

TEST_CASE("DeepSeek-V2 at 128k: 515.4 GB MHA-equivalent vs 9.06 GB MLA, 56.9x") {
  SizeReport report = sizes(deepseek_v2_shape(), "mha,native", 131072);
  REQUIRE(report.variants.size() == 2);
  // MHA counterfactual with d_h = v_head_dim = 128: 2 * 128 * 128 * 2 B * 60 layers * 131072.
  const std::uint64_t mha = 2ull * 128 * 128 * 2 * 60 * 131072;
  const std::uint64_t mla = (512ull + 64) * 2 * 60 * 131072;
  CHECK(mha == 515'396'075'520ull);  // 515.4 GB
  CHECK(mla == 9'059'696'640ull);    // 9.06 GB
  CHECK(report.variants[0].per_sequence.value == mha);
  CHECK(report.variants[1].per_sequence.value == mla);
  CHECK(report.variants[1].variant.native);
  CHECK(report.variants[1].mha_ratio == doctest::Approx(56.89).epsilon(1e-4));
}

TEST_CASE("batch multiplies the per-sequence cache") {
  SizeReport report = sizes(dense_shape(32, 32, 8, 128), "native", 8192, KvDtype::bf16, 64);
  const std::uint64_t per_sequence = 4096ull * 32 * 8192;  // 4 KiB/token/layer, 32 layers
  CHECK(report.variants[0].per_sequence.value == per_sequence);
  CHECK(report.variants[0].per_batch.value == 64 * per_sequence);
}

TEST_CASE("sliding-window layers hold min(ctx, window) tokens") {
  // Mistral-7B-v0.1: every one of 32 layers keeps the last 4096 tokens.
  ModelShape mistral = dense_shape(32, 32, 8, 128);
  mistral.sliding_window = 4096;
  mistral.layer_attention.assign(32, LayerAttention::sliding);
  SizeReport long_ctx = sizes(mistral, "native", 32768);
  CHECK(long_ctx.variants[0].per_sequence.value == 4096ull * 4096 * 32);
  SizeReport short_ctx = sizes(mistral, "native", 2048);
  CHECK(short_ctx.variants[0].per_sequence.value == 4096ull * 2048 * 32);
  // Per token still counts every layer: a token inside the window is in every layer's cache.
  CHECK(long_ctx.variants[0].per_token.value == 4096ull * 32);
}

TEST_CASE("alternating sliding layers (Gemma-2-27B) split the sequence cache in two groups") {
  ModelShape gemma = dense_shape(46, 32, 16, 128);
  gemma.sliding_window = 4096;
  for (std::uint32_t layer = 0; layer < 46; layer += 2) gemma.layer_attention[layer] = LayerAttention::sliding;
  SizeReport report = sizes(gemma, "native", 8192);
  const std::uint64_t per_token_layer = 2ull * 16 * 128 * 2;  // 8 KiB
  CHECK(report.variants[0].token_layer.total() == per_token_layer);
  REQUIRE(report.variants[0].groups.size() == 2);
  CHECK(report.variants[0].groups[0].layers == 23);  // global layers 1, 3, ..., 45
  CHECK(report.variants[0].groups[1].layers == 23);  // local layers 0, 2, ..., 44
  CHECK(report.variants[0].groups[1].tokens_held.value == 4096);
  CHECK(report.variants[0].per_sequence.value == per_token_layer * (23 * 8192 + 23 * 4096));
}

TEST_CASE("MTP layers count only when asked") {
  ModelShape v3 = deepseek_v2_shape();
  v3.num_hidden_layers = 61;
  v3.layer_attention.assign(61, LayerAttention::full);
  v3.num_nextn_predict_layers = 1;
  SizeReport without = sizes(v3, "native", 4096);
  SizeReport with = sizes(v3, "native", 4096, KvDtype::bf16, 1, true);
  CHECK(without.variants[0].per_sequence.value == 1152ull * 4096 * 61);
  CHECK(with.variants[0].per_sequence.value == 1152ull * 4096 * 62);
  CHECK(with.variants[0].cached_layers == 62);
  CHECK(without.notes.size() == 1);  // says the MTP layer is not counted
}

TEST_CASE("fp8_ds_mla compares with MHA in fp8") {
  SizeReport report = sizes(deepseek_v2_shape(), "native", 1024, KvDtype::fp8_ds_mla);
  CHECK(report.mha_dtype == KvDtype::fp8_e4m3);
  CHECK(report.variants[0].per_sequence.value == 656ull * 60 * 1024);
  CHECK(report.mha_per_sequence.value == 2ull * 128 * 128 * 1 * 60 * 1024);
}

TEST_CASE("sizes that overflow 64 bits are an error, not a wrapped number") {
  // 10M tokens x 10^6 sequences x 3.75 MiB per token is ~4e22 B.
  CHECK_THROWS_AS(sizes(deepseek_v2_shape(), "mha", 10ull << 20, KvDtype::bf16, 1'000'000), Error);
}

TEST_CASE("a context beyond max_position_embeddings is noted") {
  ModelShape shape = dense_shape(32, 32, 8, 128);
  shape.max_position_embeddings = 8192;
  CHECK(sizes(shape, "native", 8192).notes.empty());
  CHECK(sizes(shape, "native", 8193).notes.size() == 1);
}

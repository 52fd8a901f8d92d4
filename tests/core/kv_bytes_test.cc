// The unified per-token, per-layer formula and every cache dtype. Expected values are written
// out as arithmetic from the definitions in docs/model.md.
#include "core/kv_bytes.h"

#include <doctest/doctest.h>

#include "core/error.h"

using namespace kvplan;

namespace {
Variant mha(std::uint32_t heads, std::uint32_t dim) { return {VariantKind::mha, heads, dim, 0, 0}; }
Variant gqa(std::uint32_t groups, std::uint32_t dim) { return {VariantKind::gqa, groups, dim, 0, 0}; }
Variant mqa(std::uint32_t dim) { return {VariantKind::mqa, 1, dim, 0, 0}; }
Variant mla(std::uint32_t d_c, std::uint32_t d_r) { return {VariantKind::mla, 0, 0, d_c, d_r}; }
std::uint64_t bytes(const Variant& v, KvDtype dtype, KvScales scales = KvScales::per_tensor) {
  return bytes_per_token_per_layer(v, dtype, scales).total();
}
}  // namespace

TEST_CASE("scalars per token per layer: 2*n_h*d_h, 2*d_h, 2*G*d_h, d_c+d_R") {
  CHECK(scalars_per_token_per_layer(mha(64, 128)) == 2 * 64 * 128);
  CHECK(scalars_per_token_per_layer(mqa(128)) == 2 * 1 * 128);
  CHECK(scalars_per_token_per_layer(gqa(8, 128)) == 2 * 8 * 128);
  CHECK(scalars_per_token_per_layer(mla(512, 64)) == 512 + 64);
}

TEST_CASE("a worked example: Llama-3-70B's shape in bf16, per token per layer") {
  // 32 KiB / 0.5 KiB / 4 KiB / 1.125 KiB.
  CHECK(bytes(mha(64, 128), KvDtype::bf16) == 32 * 1024);
  CHECK(bytes(mqa(128), KvDtype::bf16) == 512);
  CHECK(bytes(gqa(8, 128), KvDtype::bf16) == 4 * 1024);
  CHECK(bytes(mla(512, 64), KvDtype::bf16) == 1152);  // 1.125 * 1024, not 1024 (text 002's error)
}

TEST_CASE("element sizes: fp32 4 B, bf16/fp16 2 B, fp8/int8 1 B") {
  Variant v = gqa(8, 128);  // 2048 scalars
  CHECK(bytes(v, KvDtype::fp32) == 2048 * 4);
  CHECK(bytes(v, KvDtype::bf16) == 2048 * 2);
  CHECK(bytes(v, KvDtype::fp16) == 2048 * 2);
  CHECK(bytes(v, KvDtype::fp8_e4m3) == 2048);
  CHECK(bytes(v, KvDtype::fp8_e5m2) == 2048);
  CHECK(bytes(v, KvDtype::int8) == 2048);
  CHECK(bytes(mla(512, 64), KvDtype::fp8_e4m3) == 576);
}

TEST_CASE("per-token-head scales add one fp32 per cached vector") {
  // GQA-8: 8 K and 8 V vectors -> 2 * 4 * 8 = 64 B of scales.
  TokenLayerBytes b = bytes_per_token_per_layer(gqa(8, 128), KvDtype::fp8_e4m3, KvScales::per_token_head);
  CHECK(b.vectors == 16);
  CHECK(b.scale_bytes == 2 * 4 * 8);
  CHECK(b.total() == 2048 + 64);
  // MLA caches one latent vector per token: one scale.
  CHECK(bytes(mla(512, 64), KvDtype::int8, KvScales::per_token_head) == 576 + 4);
  // Per-tensor scales are not counted.
  CHECK(bytes(gqa(8, 128), KvDtype::fp8_e4m3, KvScales::per_tensor) == 2048);
}

TEST_CASE("scales are refused where they mean nothing") {
  CHECK_THROWS_AS(bytes(gqa(8, 128), KvDtype::bf16, KvScales::per_token_head), Error);
  CHECK_THROWS_AS(bytes(mla(512, 64), KvDtype::fp8_ds_mla, KvScales::per_token_head), Error);
  CHECK_THROWS_AS(bytes(gqa(8, 128), KvDtype::nvfp4, KvScales::per_token_head), Error);
}

TEST_CASE("fp8_ds_mla is FlashMLA's 656-byte layout, MLA only") {
  // 512 fp8 latent values + 4 fp32 scales (one per 128 values) + 64 bf16 RoPE values.
  CHECK(bytes(mla(512, 64), KvDtype::fp8_ds_mla) == 512 * 1 + 4 * 4 + 64 * 2);
  CHECK(bytes(mla(512, 64), KvDtype::fp8_ds_mla) == 656);
  CHECK_THROWS_WITH_AS(bytes(gqa(8, 128), KvDtype::fp8_ds_mla), doctest::Contains("not MLA"), Error);
}

TEST_CASE("nvfp4: half a byte per value plus one fp8 scale per 16 values") {
  // d_h = 128: 64 B of values + 8 B of scales per vector = 0.5625 B per scalar.
  CHECK(bytes(gqa(8, 128), KvDtype::nvfp4) == 16 * (128 / 2 + 128 / 16));
  CHECK(bytes(gqa(8, 128), KvDtype::nvfp4) * 16 == 2048 * 9);  // 2048 * 0.5625
  // MLA: one vector of 576: 288 + 36.
  CHECK(bytes(mla(512, 64), KvDtype::nvfp4) == 576 / 2 + 576 / 16);
  // A dim that is not a multiple of 16 still needs a scale for its last partial block.
  CHECK(bytes(mqa(72), KvDtype::nvfp4) == 2 * (72 / 2 + 5));
}

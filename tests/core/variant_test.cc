#include "core/variant.h"

#include <doctest/doctest.h>

#include "core/error.h"
#include "core/shapes.h"

using namespace kvplan;
using kvplan::testing::deepseek_v2_shape;
using kvplan::testing::dense_shape;

namespace {
std::vector<std::string> names(const std::vector<ResolvedVariant>& variants) {
  std::vector<std::string> result;
  for (const ResolvedVariant& v : variants) result.push_back(v.variant.name() + (v.native ? "*" : ""));
  return result;
}
std::vector<std::string> resolve(std::string_view text, const ModelShape& shape) {
  return names(resolve_variants(parse_variants(text), shape));
}
}  // namespace

TEST_CASE("the native variant follows the config") {
  CHECK(native_variant(dense_shape(32, 32, 8, 128)).name() == "gqa:8");
  CHECK(native_variant(dense_shape(32, 32, 32, 128)).name() == "mha");
  CHECK(native_variant(dense_shape(32, 32, 1, 128)).name() == "mqa");
  CHECK(native_variant(deepseek_v2_shape()).name() == "mla:512:64");
}

TEST_CASE("all = mha, gqa, mqa, mla, with the native one marked and not repeated") {
  CHECK(resolve("all", dense_shape(80, 64, 8, 128)) ==
        std::vector<std::string>{"mha", "gqa:8*", "mqa", "mla:512:64"});
  CHECK(resolve("all", deepseek_v2_shape()) == std::vector<std::string>{"mha", "gqa:8", "mqa", "mla:512:64*"});
  CHECK(resolve("native,all", dense_shape(80, 64, 8, 128)) ==
        std::vector<std::string>{"gqa:8*", "mha", "mqa", "mla:512:64"});
}

TEST_CASE("counterfactuals keep the model's query heads and head dim") {
  auto variants = resolve_variants(parse_variants("mha,gqa:4,mqa"), dense_shape(32, 32, 8, 128));
  CHECK(variants[0].variant.kv_heads == 32);
  CHECK(variants[0].variant.head_dim == 128);
  CHECK(variants[1].variant.kv_heads == 4);
  CHECK(variants[2].variant.kv_heads == 1);
  // On an MLA model, d_h of the counterfactuals is v_head_dim.
  auto mla_model = resolve_variants(parse_variants("mha"), deepseek_v2_shape());
  CHECK(mla_model[0].variant.head_dim == 128);
  CHECK(mla_model[0].variant.kv_heads == 128);
}

TEST_CASE("mla defaults to d_c = 512, d_R = 64 on non-MLA models, overridable") {
  CHECK(resolve("mla", dense_shape(32, 32, 8, 128)) == std::vector<std::string>{"mla:512:64"});
  CHECK(resolve("mla:256", dense_shape(32, 32, 8, 128)) == std::vector<std::string>{"mla:256:64"});
  CHECK(resolve("mla:256:32", dense_shape(32, 32, 8, 128)) == std::vector<std::string>{"mla:256:32"});
  CHECK(resolve("mla:256", deepseek_v2_shape()) == std::vector<std::string>{"mla:256:64"});
}

TEST_CASE("GQA groups must divide the query heads - the error lists the valid ones") {
  CHECK_THROWS_WITH_AS(resolve("gqa:7", dense_shape(80, 64, 8, 128)),
                       doctest::Contains("valid G: 1, 2, 4, 8, 16, 32, 64"), Error);
  CHECK_THROWS_AS(resolve("gqa:128", dense_shape(80, 64, 8, 128)), Error);
}

TEST_CASE("plain gqa picks 8 groups, else the largest divisor of the heads up to 8") {
  CHECK(resolve("gqa", dense_shape(32, 32, 32, 128)) == std::vector<std::string>{"gqa:8"});
  // 28 heads (Qwen2.5-7B's): 8 does not divide, 7 does.
  CHECK(resolve("gqa", dense_shape(28, 28, 28, 128)) == std::vector<std::string>{"gqa:7"});
  CHECK(resolve("gqa", dense_shape(2, 4, 4, 64)) == std::vector<std::string>{"gqa:2"});
  // 13 heads have no grouping between MQA and MHA.
  CHECK_THROWS_WITH_AS(resolve("gqa", dense_shape(2, 13, 13, 64)), doctest::Contains("1, 13"), Error);
}

TEST_CASE("variants that make no sense for the shape are refused") {
  // A latent at least as large as the full K/V of MHA: 2 * 8 * 64 = 1024 scalars.
  CHECK_THROWS_WITH_AS(resolve("mla:1024", dense_shape(4, 8, 8, 64)), doctest::Contains("not smaller"), Error);
  // Asked for by `all`, the same variant is skipped with the reason instead.
  std::vector<std::string> skipped;
  auto variants = resolve_variants(parse_variants("all"), dense_shape(2, 4, 4, 64), &skipped);
  CHECK(names(variants) == std::vector<std::string>{"mha*", "gqa:2", "mqa"});
  REQUIRE(skipped.size() == 1);
  CHECK(skipped[0].find("not smaller") != std::string::npos);
}

TEST_CASE("malformed --variant text") {
  for (const char* text : {"", "gqa:", "gqa:x", "gqa:0", "gqa:8:2", "mla:512:64:1", "mha:2", "all:1", "bogus",
                           "mha,,mqa", "gqa:-8"}) {
    CAPTURE(text);
    CHECK_THROWS_AS(parse_variants(text), Error);
  }
}

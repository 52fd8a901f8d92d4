// The safetensors header parser: the 8-byte length, the tensors' bytes from dtype x shape, and the
// malformed headers it must refuse (every number checked before it is used).
#include <doctest/doctest.h>

#include <string>

#include "core/error.h"
#include "hub/hub_fixtures.h"
#include "io/safetensors_header.h"

using namespace kvplan;
using kvplan::testing::safetensors_header;

namespace {

std::string le64(std::uint64_t value) {
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i) bytes[static_cast<std::size_t>(i)] = static_cast<char>((value >> (8 * i)) & 0xff);
  return bytes;
}

std::string error_of(std::string_view header, std::optional<std::uint64_t> data_bytes = std::nullopt) {
  try {
    io::parse_safetensors_header(header, data_bytes, "f.safetensors");
  } catch (const Error& error) {
    return error.what();
  }
  return "";
}

}  // namespace

TEST_CASE("safetensors header length: little-endian u64, capped at the format's 100 MB") {
  CHECK(io::safetensors_header_length(le64(0x0102), "f") == 258);
  CHECK(io::safetensors_header_length(le64(100'000'000), "f") == 100'000'000);
  CHECK_THROWS_WITH_AS(io::safetensors_header_length(le64(100'000'001), "f"),
                       "f: safetensors header length 100000001 B is over the 100000000 B the format allows (not a "
                       "safetensors file?)",
                       Error);
  CHECK_THROWS_WITH_AS(io::safetensors_header_length("abc", "f"),
                       "f: truncated safetensors file: 3 B where the 8-byte header length should be", Error);
  CHECK_THROWS_AS(io::safetensors_header_length(le64(0), "f"), Error);
  CHECK_THROWS_AS(io::safetensors_header_length(le64(~0ull), "f"), Error);
}

TEST_CASE("safetensors header: each tensor's bytes are its dtype's bits x the product of its shape") {
  const std::string file = safetensors_header({{"a.weight", "BF16", {2, 3}}, {"b.weight_scale", "F32", {}},
                                               {"c.weight", "F8_E4M3", {4, 8}}, {"d.blocks", "U8", {5}}});
  const std::vector<CheckpointTensor> tensors =
      io::parse_safetensors_header(std::string_view(file).substr(8), std::nullopt, "f");
  REQUIRE(tensors.size() == 4);
  CHECK(tensors[0].name == "a.weight");
  CHECK(tensors[0].bytes == 2 * 3 * 2);
  CHECK(tensors[0].elements == 6);
  CHECK(tensors[1].bytes == 4);  // a scalar: the empty product is 1
  CHECK(tensors[1].shape.empty());
  CHECK(tensors[2].bytes == 4 * 8);
  CHECK(tensors[3].dtype == "U8");
  CHECK(tensors[3].bytes == 5);
  // The data after the header is 12 + 4 + 32 + 5 = 53 B: 52 is one short.
  CHECK(io::parse_safetensors_header(std::string_view(file).substr(8), 53, "f").size() == 4);
  CHECK(error_of(std::string_view(file).substr(8), 52).find("past the file's 52 B of data") != std::string::npos);
}

TEST_CASE("safetensors header: 4-bit values pack two to a byte, and an odd count does not fill bytes") {
  CHECK(io::parse_safetensors_header(R"({"x": {"dtype": "F4", "shape": [3, 2], "data_offsets": [0, 3]}})", std::nullopt, "f")
            .front()
            .bytes == 3);
  CHECK(error_of(R"({"x": {"dtype": "F4", "shape": [3], "data_offsets": [0, 2]}})").find("do not fill whole bytes") !=
        std::string::npos);
}

TEST_CASE("safetensors header: malformed headers are refused, naming the file and the tensor") {
  CHECK(error_of("{\"x\": {\"dtype\": \"BF16\", \"shape\": [2]").find("f.safetensors: malformed JSON") != std::string::npos);
  CHECK(error_of("[1, 2]") == "f.safetensors: the safetensors header is not a JSON object");
  CHECK(error_of(R"({"x": {"dtype": "Q4", "shape": [2], "data_offsets": [0, 1]}})") ==
        "f.safetensors: tensor 'x': unknown dtype 'Q4'");
  CHECK(error_of(R"({"x": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 5]}})") ==
        "f.safetensors: tensor 'x': data_offsets [0, 5] hold 5 B, but BF16 x shape is 4 B");
  CHECK(error_of(R"({"x": {"dtype": "BF16", "shape": [2], "data_offsets": [9, 5]}})").find("a negative size") !=
        std::string::npos);
  // 2^32 x 2^32 overflows 64 bits: refused, not wrapped to 0.
  CHECK(error_of(R"({"x": {"dtype": "U8", "shape": [4294967296, 4294967296], "data_offsets": [0, 0]}})")
            .find("the product of its shape") != std::string::npos);
  // 2^62 two-byte values: the element count fits, the bits do not.
  CHECK(error_of(R"({"x": {"dtype": "BF16", "shape": [4611686018427387904], "data_offsets": [0, 0]}})")
            .find("its size in bits") != std::string::npos);
  CHECK(error_of(R"({"x": {"dtype": "BF16", "shape": [-2], "data_offsets": [0, 4]}})").find("shape must be a whole number") !=
        std::string::npos);
  CHECK(error_of(R"({"x": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 18446744073709551615]}})")
            .find("got 18446744073709551615") != std::string::npos);
  CHECK(error_of(R"({"x": {"dtype": "BF16", "shape": [2], "data_offsets": [0]}})").find("[begin, end]") != std::string::npos);
  CHECK(error_of(R"({"x": {"dtype": "BF16", "shape": [1], "data_offsets": [0, 2]},
                     "x": {"dtype": "BF16", "shape": [1], "data_offsets": [2, 4]}})")
            .find("duplicate key 'x'") != std::string::npos);
}

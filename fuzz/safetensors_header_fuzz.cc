// libFuzzer target: any bytes as the start of a safetensors file, through the header length and
// the header parser, with the rest of the input as the file's data. kvplan::Error is the expected
// answer to bad input; every offset and shape product is checked arithmetic.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/error.h"
#include "io/safetensors_header.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view file(reinterpret_cast<const char*>(data), size);
  try {
    const std::uint64_t length = kvplan::io::safetensors_header_length(file, "fuzz.safetensors");
    if (length > file.size() - 8) return 0;
    kvplan::io::parse_safetensors_header(file.substr(8, length), file.size() - 8 - length, "fuzz.safetensors");
  } catch (const kvplan::Error&) {
  }
  return 0;
}

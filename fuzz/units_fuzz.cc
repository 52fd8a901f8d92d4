// libFuzzer target: any text through the unit parsers (`--ctx 128k`, `--kv-cache-memory 80GiB`,
// `--batch 8`). kvplan::Error is the expected answer to bad input; an accepted value must lie
// within the limits each parser promises.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/error.h"
#include "core/units.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const kvplan::Tokens tokens = kvplan::parse_tokens(text, "--ctx");
    if (tokens.value == 0 || tokens.value > kvplan::kMaxTokens) std::abort();
  } catch (const kvplan::Error&) {
  }
  try {
    if (kvplan::parse_count(text, "--batch") == 0) std::abort();
  } catch (const kvplan::Error&) {
  }
  try {
    kvplan::gib_text(kvplan::parse_bytes(text, "--kv-cache-memory"));
  } catch (const kvplan::Error&) {
  }
  return 0;
}

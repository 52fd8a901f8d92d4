// libFuzzer target: any bytes as a Hugging Face config.json, through import, the parameter
// estimate and the size arithmetic. kvplan::Error is the expected answer to bad input.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/error.h"
#include "core/hf_config.h"
#include "core/kv_size.h"
#include "core/params.h"
#include "core/variant.h"
#include "io/json_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    kvplan::ModelShape shape = kvplan::shape_from_hf_config(kvplan::io::read_json(text, "config.json"));
    kvplan::SizeRequest request;
    request.ctx = kvplan::Tokens{1u << 20};
    request.batch = 1024;
    auto variants = kvplan::resolve_variants(kvplan::parse_variants("all"), shape);
    kvplan::compute_kv_size(shape, variants, request);
    kvplan::estimate_params(shape, shape.tie_word_embeddings);
  } catch (const kvplan::Error&) {
  }
  return 0;
}

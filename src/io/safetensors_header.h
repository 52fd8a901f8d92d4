// A safetensors file begins with 8 bytes, the little-endian length N of the JSON header that
// follows; the header maps each tensor's name to its dtype, shape and data_offsets (begin, end)
// within the data after it. Pure parsing, no I/O: the readers in src/hub fetch the bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/checkpoint.h"

namespace kvplan::io {

// The safetensors library refuses headers over 100 MB (MAX_HEADER_SIZE); the largest real ones
// (DeepSeek-V3's shards) are under 1 MB.
inline constexpr std::uint64_t kMaxSafetensorsHeaderBytes = 100'000'000;

// The header length from the file's first 8 bytes. Throws kvplan::Error naming `file` when fewer
// than 8 bytes came, or the length is 0 or over the cap.
std::uint64_t safetensors_header_length(std::string_view first_bytes, const std::string& file);

// The tensors of a header. `data_bytes`, when known (the file's size less 8 + N), bounds every
// data_offsets end. Throws kvplan::Error naming `file` and the tensor for malformed JSON, an
// unknown dtype, a shape whose product overflows 64 bits, or offsets that disagree with
// dtype x shape.
std::vector<CheckpointTensor> parse_safetensors_header(std::string_view header, std::optional<std::uint64_t> data_bytes,
                                                       const std::string& file);

}  // namespace kvplan::io

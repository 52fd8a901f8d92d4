#include "io/safetensors_header.h"

#include <map>

#include "core/checked.h"
#include "core/error.h"
#include "io/json_reader.h"

namespace kvplan::io {
namespace {

// Bits per element of each dtype the safetensors format names (its Dtype enum, 0.6).
std::optional<std::uint64_t> dtype_bits(const std::string& dtype) {
  static const std::map<std::string, std::uint64_t> kBits = {
      {"BOOL", 8},    {"U8", 8},      {"I8", 8},       {"F8_E4M3", 8},  {"F8_E5M2", 8},  {"F8_E8M0", 8},
      {"I16", 16},    {"U16", 16},    {"F16", 16},     {"BF16", 16},    {"I32", 32},     {"U32", 32},
      {"F32", 32},    {"I64", 64},    {"U64", 64},     {"F64", 64},     {"F4", 4},       {"F6_E2M3", 6},
      {"F6_E3M2", 6}, {"C64", 64}};
  auto found = kBits.find(dtype);
  if (found == kBits.end()) return std::nullopt;
  return found->second;
}

std::uint64_t unsigned_field(const ConfigNode& value, const std::string& where) {
  const auto* number = std::get_if<std::int64_t>(&value.value);
  if (number == nullptr || *number < 0) {
    throw Error(where + " must be a whole number from 0 to 2^63 - 1; got " +
                (value.written.empty() ? value.describe() : value.written));
  }
  return static_cast<std::uint64_t>(*number);
}

CheckpointTensor read_tensor(const ConfigEntry& field, std::optional<std::uint64_t> data_bytes, const std::string& file) {
  const std::string where = file + ": tensor '" + field.key + "'";
  const ConfigNode& entry = field.node;
  if (!entry.is_map()) throw Error(where + " is not an object");
  CheckpointTensor tensor{field.key, "", {}, 1, 0};
  const ConfigNode* dtype = entry.find("dtype");
  if (dtype == nullptr || dtype->as_string() == nullptr) throw Error(where + " has no dtype");
  tensor.dtype = *dtype->as_string();
  const std::optional<std::uint64_t> bits = dtype_bits(tensor.dtype);
  if (!bits) throw Error(where + ": unknown dtype '" + tensor.dtype + "'");
  const ConfigNode* shape = entry.find("shape");
  if (shape == nullptr || shape->as_list() == nullptr) throw Error(where + " has no shape");
  for (const ConfigNode& dim : *shape->as_list()) {
    tensor.shape.push_back(unsigned_field(dim, where + " shape"));
    tensor.elements = checked_mul(tensor.elements, tensor.shape.back(), where + ": the product of its shape");
  }
  const std::uint64_t bit_count = checked_mul(tensor.elements, *bits, where + ": its size in bits");
  if (bit_count % 8 != 0) {
    throw Error(where + ": " + std::to_string(tensor.elements) + " " + tensor.dtype + " values do not fill whole bytes");
  }
  tensor.bytes = bit_count / 8;
  const ConfigNode* offsets = entry.find("data_offsets");
  if (offsets == nullptr || offsets->as_list() == nullptr || offsets->as_list()->size() != 2) {
    throw Error(where + ": data_offsets must be [begin, end]");
  }
  const std::uint64_t begin = unsigned_field(offsets->as_list()->at(0), where + " data_offsets");
  const std::uint64_t end = unsigned_field(offsets->as_list()->at(1), where + " data_offsets");
  if (end < begin || end - begin != tensor.bytes) {
    throw Error(where + ": data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) + "] hold " +
                (end < begin ? "a negative size" : std::to_string(end - begin) + " B") + ", but " + tensor.dtype +
                " x shape is " + std::to_string(tensor.bytes) + " B");
  }
  if (data_bytes && end > *data_bytes) {
    throw Error(where + ": data_offsets end " + std::to_string(end) + " is past the file's " + std::to_string(*data_bytes) +
                " B of data (a truncated file?)");
  }
  return tensor;
}

}  // namespace

std::uint64_t safetensors_header_length(std::string_view first_bytes, const std::string& file) {
  if (first_bytes.size() < 8) {
    throw Error(file + ": truncated safetensors file: " + std::to_string(first_bytes.size()) +
                " B where the 8-byte header length should be");
  }
  std::uint64_t length = 0;
  for (int i = 7; i >= 0; --i) length = (length << 8) | static_cast<unsigned char>(first_bytes[static_cast<std::size_t>(i)]);
  if (length < 2 || length > kMaxSafetensorsHeaderBytes) {
    throw Error(file + ": safetensors header length " + std::to_string(length) + " B is " +
                (length < 2 ? "too small for a JSON object" : "over the 100000000 B the format allows") +
                " (not a safetensors file?)");
  }
  return length;
}

std::vector<CheckpointTensor> parse_safetensors_header(std::string_view header, std::optional<std::uint64_t> data_bytes,
                                                       const std::string& file) {
  // read_json refuses duplicate keys (two tensors of one name), deep nesting and NUL bytes.
  const ConfigNode root = read_json(header, file);
  if (!root.is_map()) throw Error(file + ": the safetensors header is not a JSON object");
  std::vector<CheckpointTensor> tensors;
  for (const ConfigEntry& field : *root.as_map()) {
    if (field.key == "__metadata__") continue;  // free-form strings (format, total_size)
    tensors.push_back(read_tensor(field, data_bytes, file));
  }
  return tensors;
}

}  // namespace kvplan::io

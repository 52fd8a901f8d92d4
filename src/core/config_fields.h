// Typed reads of one map of a ConfigNode tree. Every failure is a kvplan::Error that names the
// place (`presets/models/x.yaml:12:`), the field and what was wrong, so a user can fix the file.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/config_node.h"

namespace kvplan {

// Limits on what a config or preset may state. Each is far beyond any real model or GPU and
// keeps the products kvplan forms from them (params x bytes, layers x tokens x bytes) inside
// 64 bits, so that a hostile or mistyped file is refused by name instead of wrapping around.
inline constexpr std::uint64_t kMaxDim = 1ull << 24;          // heads, layers, widths, vocabulary
inline constexpr std::uint64_t kMaxParams = 1ull << 50;       // about 10^15 parameters
inline constexpr std::uint64_t kMaxGpuMemory = 1ull << 50;    // 1 PiB per GPU

class ConfigFields {
 public:
  // `map` must be a map node; `what` names it in errors ("config", "params").
  ConfigFields(const ConfigNode& map, std::string what);

  // The field, or nullptr when it is absent or null (config.json writes null for "not used").
  const ConfigNode* get(std::string_view key) const;
  bool has(std::string_view key) const { return get(key) != nullptr; }
  // True when the config writes the field as null (get() treats that like an absent field).
  bool is_null(std::string_view key) const {
    const ConfigNode* node = map_.find(key);
    return node != nullptr && node->is_null();
  }

  std::optional<std::uint64_t> optional_positive(std::string_view key) const;
  std::uint64_t required_positive(std::string_view key) const;
  std::optional<std::uint64_t> optional_non_negative(std::string_view key) const;
  // A whole number >= 0 (>= 1 when `positive`) of at most `limit`; the error names the field
  // and the limit.
  std::optional<std::uint64_t> optional_bounded(std::string_view key, std::uint64_t limit, bool positive) const;
  // A positive count of at most kMaxDim, so it fits the 32-bit fields of a shape (heads, layers,
  // widths, vocabulary).
  std::optional<std::uint32_t> optional_dim(std::string_view key) const;
  // The same, >= 0 (MTP layers, shared experts, leading dense layers).
  std::uint32_t dim_or_zero(std::string_view key) const;
  std::uint32_t required_dim(std::string_view key) const;
  std::optional<double> optional_positive_number(std::string_view key) const;
  std::optional<bool> optional_bool(std::string_view key) const;
  std::optional<std::string> optional_string(std::string_view key) const;
  std::string required_string(std::string_view key) const;

  // An error at `node` (or at this map when null), prefixed with its location.
  [[noreturn]] void fail(const ConfigNode* node, std::string_view message) const;
  const ConfigNode& node() const { return map_; }

 private:
  const ConfigNode& map_;
  std::string what_;
};

}  // namespace kvplan

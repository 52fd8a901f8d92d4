// Typed reads of one map of a ConfigNode tree. Every failure is a kvplan::Error that names the
// place (`presets/models/x.yaml:12:`), the field and what was wrong, so a user can fix the file.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/config_node.h"

namespace kvplan {

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
  // A positive count that must also fit the 32-bit fields of a shape (heads, layers, dims).
  std::optional<std::uint32_t> optional_dim(std::string_view key) const;
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

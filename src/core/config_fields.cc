#include "core/config_fields.h"

#include <cmath>
#include <limits>

#include "core/error.h"

namespace kvplan {

ConfigFields::ConfigFields(const ConfigNode& map, std::string what)
    : map_(map), what_(std::move(what)) {
  if (!map_.is_map()) fail(&map_, what_ + " must be a map of fields, got " + map_.describe());
}

void ConfigFields::fail(const ConfigNode* node, std::string_view message) const {
  const std::string& where = node != nullptr && !node->where.empty() ? node->where : map_.where;
  throw Error(where.empty() ? std::string(message) : where + ": " + std::string(message));
}

const ConfigNode* ConfigFields::get(std::string_view key) const {
  const ConfigNode* node = map_.find(key);
  return node == nullptr || node->is_null() ? nullptr : node;
}

std::optional<std::uint64_t> ConfigFields::optional_non_negative(std::string_view key) const {
  const ConfigNode* node = get(key);
  if (node == nullptr) return std::nullopt;
  if (const auto* integer = std::get_if<std::int64_t>(&node->value)) {
    if (*integer >= 0) return static_cast<std::uint64_t>(*integer);
  } else if (const auto* real = std::get_if<double>(&node->value)) {
    // config.json sometimes writes counts as 4096.0; accept a float only if it is whole.
    if (*real >= 0 && *real < 0x1p63 && std::floor(*real) == *real) {
      return static_cast<std::uint64_t>(*real);
    }
  }
  fail(node, std::string(key) + " must be a whole number >= 0; got " + node->describe());
}

std::optional<std::uint64_t> ConfigFields::optional_positive(std::string_view key) const {
  std::optional<std::uint64_t> value = optional_non_negative(key);
  if (value && *value == 0) fail(get(key), std::string(key) + " must be at least 1; got 0");
  return value;
}

std::uint64_t ConfigFields::required_positive(std::string_view key) const {
  std::optional<std::uint64_t> value = optional_positive(key);
  if (!value) fail(map_.find(key), what_ + " needs " + std::string(key) + " (a positive integer)");
  return *value;
}

std::optional<std::uint64_t> ConfigFields::optional_bounded(std::string_view key, std::uint64_t limit,
                                                            bool positive) const {
  std::optional<std::uint64_t> value = positive ? optional_positive(key) : optional_non_negative(key);
  if (value && *value > limit) {
    fail(get(key), std::string(key) + " = " + get(key)->describe() + " is more than kvplan plans for (limit " +
                       std::to_string(limit) + ")");
  }
  return value;
}

std::optional<std::uint32_t> ConfigFields::optional_dim(std::string_view key) const {
  std::optional<std::uint64_t> value = optional_bounded(key, kMaxDim, true);
  if (!value) return std::nullopt;
  return static_cast<std::uint32_t>(*value);
}

std::uint32_t ConfigFields::dim_or_zero(std::string_view key) const {
  return static_cast<std::uint32_t>(optional_bounded(key, kMaxDim, false).value_or(0));
}

std::uint32_t ConfigFields::required_dim(std::string_view key) const {
  std::optional<std::uint32_t> value = optional_dim(key);
  if (!value) fail(map_.find(key), what_ + " needs " + std::string(key) + " (a positive integer)");
  return *value;
}

std::optional<double> ConfigFields::optional_positive_number(std::string_view key) const {
  const ConfigNode* node = get(key);
  if (node == nullptr) return std::nullopt;
  double value = std::numeric_limits<double>::quiet_NaN();
  if (const auto* integer = std::get_if<std::int64_t>(&node->value)) {
    value = static_cast<double>(*integer);
  } else if (const auto* real = std::get_if<double>(&node->value)) {
    value = *real;
  }
  if (!(value > 0) || !std::isfinite(value)) {
    fail(node, std::string(key) + " must be a positive finite number; got " + node->describe());
  }
  return value;
}

std::optional<bool> ConfigFields::optional_bool(std::string_view key) const {
  const ConfigNode* node = get(key);
  if (node == nullptr) return std::nullopt;
  if (const auto* flag = std::get_if<bool>(&node->value)) return *flag;
  fail(node, std::string(key) + " must be true or false; got " + node->describe());
}

std::optional<std::string> ConfigFields::optional_string(std::string_view key) const {
  const ConfigNode* node = get(key);
  if (node == nullptr) return std::nullopt;
  if (const std::string* text = node->as_string()) return *text;
  fail(node, std::string(key) + " must be a string; got " + node->describe());
}

std::string ConfigFields::required_string(std::string_view key) const {
  std::optional<std::string> value = optional_string(key);
  if (!value || value->empty()) {
    fail(map_.find(key), what_ + " needs " + std::string(key) + " (a non-empty string)");
  }
  return *value;
}

}  // namespace kvplan

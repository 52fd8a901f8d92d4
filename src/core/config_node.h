// A JSON-like tree read from a YAML preset or a Hugging Face config.json. The readers in src/io
// build it; src/core interprets it, so the same Hugging Face conventions apply to both sources.
// Every node remembers where it was read (`file:line` for YAML, `file: a.b.c` for JSON), so
// errors can name the place.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace kvplan {

struct ConfigNode {
  struct Null {
    bool operator==(const Null&) const = default;
  };
  using List = std::vector<ConfigNode>;
  using Map = std::vector<std::pair<std::string, ConfigNode>>;  // in file order

  std::variant<Null, bool, std::int64_t, double, std::string, List, Map> value;
  std::string where;

  bool is_null() const { return std::holds_alternative<Null>(value); }
  bool is_map() const { return std::holds_alternative<Map>(value); }
  const Map* as_map() const { return std::get_if<Map>(&value); }
  const List* as_list() const { return std::get_if<List>(&value); }
  const std::string* as_string() const { return std::get_if<std::string>(&value); }

  // The child for `key` in a map, or nullptr (also when this is not a map).
  const ConfigNode* find(std::string_view key) const {
    if (const Map* map = as_map()) {
      for (const auto& [name, child] : *map) {
        if (name == key) return &child;
      }
    }
    return nullptr;
  }

  // Short text of a scalar for error messages: 'abc', 7, 1.5, true, null, [list], {map}.
  std::string describe() const;
};

}  // namespace kvplan

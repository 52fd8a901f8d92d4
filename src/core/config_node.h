// A JSON-like tree read from a YAML preset or a Hugging Face config.json. The readers in src/io
// build it; src/core interprets it, so the same Hugging Face conventions apply to both sources.
// Every node remembers where it was read (`file:line` for YAML, `file: a.b.c` for JSON), so
// errors can name the place.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace kvplan {

// Configs are a few levels deep; readers refuse deeper input so that recursive code over the
// tree (copies, destruction) cannot run out of stack on hostile files.
inline constexpr std::size_t kMaxConfigDepth = 64;

struct ConfigEntry;

struct ConfigNode {
  struct Null {
    bool operator==(const Null&) const = default;
  };
  using List = std::vector<ConfigNode>;
  using Map = std::vector<ConfigEntry>;  // in file order

  std::variant<Null, bool, std::int64_t, double, std::string, List, Map> value;
  std::string where;
  // A number as the file wrote it: messages quote 18446744073709551615, not the double it became.
  std::string written;

  // Defined below the class: ConfigNode must be complete before its variant is inspected.
  bool is_null() const;
  bool is_map() const;
  const Map* as_map() const;
  const List* as_list() const;
  const std::string* as_string() const;

  // The child for `key` in a map, or nullptr (also when this is not a map).
  const ConfigNode* find(std::string_view key) const;

  // Short text of a scalar for error messages: 'abc', 7, 1.5, true, null, [list], {map}.
  std::string describe() const;
};

// One field of a map. (A named struct, not std::pair: clang needs the element complete where
// std::pair's constructors are checked, and ConfigNode is not complete inside its own body.)
struct ConfigEntry {
  std::string key;
  ConfigNode node;
};

inline bool ConfigNode::is_null() const { return std::holds_alternative<Null>(value); }
inline bool ConfigNode::is_map() const { return std::holds_alternative<Map>(value); }
inline const ConfigNode::Map* ConfigNode::as_map() const { return std::get_if<Map>(&value); }
inline const ConfigNode::List* ConfigNode::as_list() const { return std::get_if<List>(&value); }
inline const std::string* ConfigNode::as_string() const { return std::get_if<std::string>(&value); }

inline const ConfigNode* ConfigNode::find(std::string_view key) const {
  if (const Map* map = as_map()) {
    for (const ConfigEntry& entry : *map) {
      if (entry.key == key) return &entry.node;
    }
  }
  return nullptr;
}

}  // namespace kvplan

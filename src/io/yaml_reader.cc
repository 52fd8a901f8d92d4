#include "io/yaml_reader.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <optional>
#include <set>

#include "core/error.h"

namespace kvplan::io {
namespace {

std::string location(const std::string& file, const YAML::Mark& mark) {
  if (mark.is_null()) return file;
  return file + ":" + std::to_string(mark.line + 1);
}

const ConfigNode::Null kNull;

std::optional<std::int64_t> parse_whole(const std::string& text) {
  const char* begin = text.data() + (text[0] == '+');
  const char* end = text.data() + text.size();
  std::int64_t value = 0;
  auto [stop, ec] = std::from_chars(begin, end, value);
  if (ec != std::errc() || stop != end) return std::nullopt;
  return value;
}

// Decimal and exponent forms ("1.5", "2e9", "1e+20" beyond int64), and .inf / .nan, which
// fields then reject as non-finite.
std::optional<double> parse_real(const std::string& text) {
  if (text == ".nan" || text == ".NaN" || text == ".NAN") return std::nan("");
  if (text == ".inf" || text == ".Inf" || text == "+.inf") return HUGE_VAL;
  if (text == "-.inf" || text == "-.Inf") return -HUGE_VAL;
  const char* begin = text.data() + (text[0] == '+');
  const char* end = text.data() + text.size();
  // from_chars would also read "inf" and "nan"; in YAML those are plain strings.
  const char* digits = begin + (begin < end && *begin == '-');
  if (digits == end || !(std::isdigit(static_cast<unsigned char>(*digits)) || *digits == '.')) {
    return std::nullopt;
  }
  double value = 0;
  auto [stop, ec] = std::from_chars(begin, end, value, std::chars_format::general);
  if (stop != end || (ec != std::errc() && ec != std::errc::result_out_of_range)) return std::nullopt;
  if (ec == std::errc::result_out_of_range) return HUGE_VAL;
  return value;
}

// Plain (unquoted) scalars are typed as the YAML 1.2 core schema says.
ConfigNode typed_scalar(const YAML::Node& node, std::string where) {
  const std::string& text = node.Scalar();
  ConfigNode result{std::string(text), std::move(where), ""};
  if (node.Tag() == "!") return result;  // quoted: always a string
  if (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL") {
    result.value = kNull;
  } else if (text == "true" || text == "True" || text == "TRUE") {
    result.value = true;
  } else if (text == "false" || text == "False" || text == "FALSE") {
    result.value = false;
  } else if (auto integer = parse_whole(text)) {
    result.value = *integer;
  } else if (auto real = parse_real(text)) {
    result.value = *real;
    result.written = text;
  }
  return result;
}

// An alias (*name) re-uses its anchor's node, so a few lines of anchors that alias each other
// expand to billions of values; the count of values after expansion is capped.
constexpr std::size_t kMaxYamlValues = 100000;

ConfigNode convert(const YAML::Node& node, const std::string& file, std::size_t depth, std::size_t& values) {
  std::string where = location(file, node.Mark());
  if (++values > kMaxYamlValues) {
    throw Error(file + ": more than " + std::to_string(kMaxYamlValues) +
                " values once aliases (*name) are expanded; a preset has a few dozen");
  }
  if (depth > kMaxConfigDepth) {
    throw Error(where + ": nested more than " + std::to_string(kMaxConfigDepth) + " levels deep; a preset is a few "
                "levels deep");
  }
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined: return ConfigNode{kNull, where, ""};
    case YAML::NodeType::Scalar: return typed_scalar(node, where);
    case YAML::NodeType::Sequence: {
      ConfigNode::List list;
      for (const YAML::Node& item : node) list.push_back(convert(item, file, depth + 1, values));
      return ConfigNode{std::move(list), where, ""};
    }
    case YAML::NodeType::Map: {
      ConfigNode::Map map;
      std::set<std::string> seen;
      for (const auto& entry : node) {
        if (!entry.first.IsScalar()) {
          throw Error(location(file, entry.first.Mark()) + ": map keys must be plain names");
        }
        const std::string& key = entry.first.Scalar();
        if (!seen.insert(key).second) {
          throw Error(location(file, entry.first.Mark()) + ": duplicate key '" + key +
                      "'; each field may appear once");
        }
        map.push_back(ConfigEntry{key, convert(entry.second, file, depth + 1, values)});
      }
      return ConfigNode{std::move(map), where, ""};
    }
  }
  return ConfigNode{kNull, where, ""};
}

// The byte offset of the first byte that is not valid UTF-8, or npos. Presets are text; a stray
// Latin-1 byte would otherwise reach the terminal and the JSON output.
std::size_t invalid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    auto byte = static_cast<unsigned char>(text[i]);
    std::size_t length = byte < 0x80 ? 1 : (byte >> 5) == 0x6 ? 2 : (byte >> 4) == 0xE ? 3 : (byte >> 3) == 0x1E ? 4 : 0;
    if (length == 0 || i + length > text.size()) return i;
    for (std::size_t k = 1; k < length; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return i;
    }
    i += length;
  }
  return std::string_view::npos;
}

}  // namespace

ConfigNode read_yaml(std::string_view text, const std::string& file) {
  if (std::size_t bad = invalid_utf8(text); bad != std::string_view::npos) {
    std::size_t line = 1 + static_cast<std::size_t>(std::count(text.begin(), text.begin() + static_cast<long>(bad), '\n'));
    throw Error(file + ":" + std::to_string(line) + ": not valid UTF-8 (byte " + std::to_string(bad) +
                "); save the file as UTF-8");
  }
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    throw Error(location(file, e.mark) + ":" + std::to_string(e.mark.column + 1) +
                ": YAML syntax error: " + e.msg);
  }
  if (!root.IsDefined() || root.IsNull()) throw Error(file + ": empty YAML document");
  std::size_t values = 0;
  return convert(root, file, 0, values);
}

}  // namespace kvplan::io

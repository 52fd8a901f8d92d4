// A small XML well-formedness check for the SVG charts: every tag closed in order, attributes
// quoted, '&' only in entities, one root element. Enough to catch a writer bug without an XML
// library; tests/render_charts.sh also renders the charts with a real SVG renderer.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

namespace kvplan::testing {

// Returns an empty string when `xml` is well formed, else what is wrong and where.
inline std::string xml_problem(const std::string& xml) {
  std::vector<std::string> open;
  int roots = 0;
  std::size_t i = 0;
  auto name_at = [&](std::size_t at) {
    std::size_t end = xml.find_first_of(" \t\n/>", at);
    return xml.substr(at, end - at);
  };
  while (i < xml.size()) {
    if (xml[i] == '&') {
      std::size_t semicolon = xml.find(';', i);
      std::string entity = xml.substr(i, semicolon == std::string::npos ? 8 : semicolon - i + 1);
      if (entity != "&amp;" && entity != "&lt;" && entity != "&gt;" && entity != "&quot;" && entity != "&apos;") {
        return "bad entity at " + std::to_string(i);
      }
      ++i;
      continue;
    }
    if (xml[i] != '<') {
      ++i;
      continue;
    }
    std::size_t close = xml.find('>', i);
    if (close == std::string::npos) return "unclosed tag at " + std::to_string(i);
    std::string tag = xml.substr(i + 1, close - i - 1);
    if (tag.empty()) return "empty tag at " + std::to_string(i);
    if (tag[0] == '/') {
      if (open.empty() || open.back() != name_at(i + 2)) return "mismatched </" + name_at(i + 2) + "> at " + std::to_string(i);
      open.pop_back();
    } else if (tag[0] != '?' && tag[0] != '!') {
      if (open.empty()) ++roots;
      // Attribute values must be quoted: every '=' is followed by '"'.
      for (std::size_t eq = tag.find('='); eq != std::string::npos; eq = tag.find('=', eq + 1)) {
        bool inside_value = std::count(tag.begin(), tag.begin() + static_cast<long>(eq), '"') % 2 == 1;
        if (!inside_value && (eq + 1 >= tag.size() || tag[eq + 1] != '"')) return "unquoted attribute in <" + tag + ">";
      }
      if (std::count(tag.begin(), tag.end(), '"') % 2 != 0) return "unbalanced quotes in <" + tag + ">";
      if (tag.back() != '/') open.push_back(name_at(i + 1));
    }
    i = close + 1;
  }
  if (!open.empty()) return "unclosed <" + open.back() + ">";
  if (roots != 1) return std::to_string(roots) + " root elements";
  return "";
}

}  // namespace kvplan::testing

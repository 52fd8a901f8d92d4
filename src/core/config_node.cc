#include "core/config_node.h"

#include <sstream>

namespace kvplan {

std::string ConfigNode::describe() const {
  if (!written.empty()) return written;
  struct Describe {
    std::string operator()(const Null&) const { return "null"; }
    std::string operator()(bool b) const { return b ? "true" : "false"; }
    std::string operator()(std::int64_t i) const { return std::to_string(i); }
    std::string operator()(double d) const {
      std::ostringstream out;
      out << d;
      return out.str();
    }
    std::string operator()(const std::string& s) const { return "'" + s + "'"; }
    std::string operator()(const List&) const { return "a list"; }
    std::string operator()(const Map&) const { return "a map"; }
  };
  return std::visit(Describe{}, value);
}

}  // namespace kvplan

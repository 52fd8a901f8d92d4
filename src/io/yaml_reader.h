// YAML text -> ConfigNode, with `file:line` on every node. Scalars get YAML 1.2 core-schema
// types (null, true/false, integers, floats); quoted scalars stay strings.
#pragma once

#include <string>
#include <string_view>

#include "core/config_node.h"

namespace kvplan::io {

// Throws kvplan::Error ("file:line:col: ...") on a syntax error, a duplicate key, or a document
// that is empty.
ConfigNode read_yaml(std::string_view text, const std::string& file);

}  // namespace kvplan::io

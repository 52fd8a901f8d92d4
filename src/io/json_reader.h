// JSON text (a Hugging Face config.json, a bench results file) -> ConfigNode. Each node's
// `where` is "file: path.to.field", since JSON parsers do not report lines for values.
#pragma once

#include <string>
#include <string_view>

#include "core/config_node.h"

namespace kvplan::io {

// Throws kvplan::Error naming the file and, for syntax errors, the line and column; also for
// duplicate keys, which JSON parsers otherwise resolve silently. Python's NaN, Infinity and
// -Infinity are read as json.loads reads them (python_json_literals.h), into non-finite doubles
// that every typed read of ConfigFields refuses by the field's name.
ConfigNode read_json(std::string_view text, const std::string& file);

// Input files are configs, presets and bench results of a few KiB; the cap keeps a wrong path
// (a disk image, a log) from filling memory.
inline constexpr std::size_t kMaxInputFileBytes = 16u << 20;

// Reads a whole regular file of at most kMaxInputFileBytes; errors name `what` (the flag) and the
// path (missing, a directory, a pipe or device, too large, unreadable).
std::string read_text_file(const std::string& path, std::string_view what);

}  // namespace kvplan::io

// Writing a folder of files all-or-nothing: into a temporary sibling first, then renamed into
// place, so a failed run leaves no half-written report behind.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kvplan::io {

// Replaces `dir` (created if absent) with exactly these files. Throws kvplan::Error (exit 2)
// naming the path when the parent is missing or not writable, or `dir` is a file.
void write_folder_atomically(const std::filesystem::path& dir,
                             const std::vector<std::pair<std::string, std::string>>& files);

// Writes one file whole or not at all: a regular file (or a new one) through a temporary sibling
// renamed into place; anything else (/dev/stdout, a pipe) directly. Throws kvplan::Error (exit 2)
// naming `flag` and the path when it cannot be written, /dev/full included.
void write_file(const std::filesystem::path& path, const std::string& contents, std::string_view flag);

}  // namespace kvplan::io

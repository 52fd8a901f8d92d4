// Running kvplan from tests: in-process through cli::run, or as the built binary.
#pragma once

#include <string>
#include <vector>

namespace kvplan::testing {

struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

CliResult run_cli(const std::vector<std::string>& args);
CliResult run_binary(const std::vector<std::string>& args);

// Lines in `text` (a final line without '\n' counts).
std::size_t line_count(const std::string& text);

std::string read_file(const std::string& path);

}  // namespace kvplan::testing

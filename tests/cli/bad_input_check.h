// The contract every bad-input table checks (bad_input_*_test.cc): exit code 2, nothing on
// stdout, exactly one stderr line that names what was wrong, no terminal escapes, and no file
// left behind in the folder the case could write to.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "cli/cli_runner.h"
#include "temp_dir.h"

namespace kvplan::testing {

// One class of bad input: the command line, and part of the one stderr line it must give.
struct BadInput {
  const char* what;               // the class of bad input
  std::vector<std::string> args;  // "{dir}" is replaced by the table's folder of files
  const char* expected;
};

// The files a table's cases read: each a path under the table's folder, and its contents.
using TableFiles = std::vector<std::pair<std::string, std::string>>;

inline void write_files(const TempDir& dir, const TableFiles& files) {
  for (const auto& [name, contents] : files) dir.write(name, contents);
}

// Every path under `dir`, sorted, so a case can show it left nothing behind.
inline std::vector<std::string> listing(const std::filesystem::path& dir) {
  std::vector<std::string> paths;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) paths.push_back(entry.path().string());
  std::sort(paths.begin(), paths.end());
  return paths;
}

inline std::string with_dir(std::string arg, const std::string& dir) {
  if (const std::size_t at = arg.find("{dir}"); at != std::string::npos) arg.replace(at, 5, dir);
  return arg;
}

inline void check_refused(const CliResult& result, const std::string& expected) {
  CHECK(result.exit_code == 2);
  CHECK(result.out.empty());
  CHECK(line_count(result.err) == 1);
  CHECK_MESSAGE(result.err.find(expected) != std::string::npos, result.err);
  CHECK(result.err.find('\x1b') == std::string::npos);
}

// Runs each case with "{dir}" set to `dir` and checks the contract, and that `dir` is unchanged.
inline void check_bad_inputs(const std::vector<BadInput>& cases, const std::filesystem::path& dir) {
  const std::vector<std::string> files = listing(dir);
  for (const BadInput& bad : cases) {
    const std::string what = bad.what;  // a string, so that a failure prints the class, not a pointer
    CAPTURE(what);
    std::vector<std::string> args;
    for (const std::string& arg : bad.args) args.push_back(with_dir(arg, dir.string()));
    check_refused(run_cli(args), bad.expected);
    CHECK(listing(dir) == files);
  }
}

}  // namespace kvplan::testing

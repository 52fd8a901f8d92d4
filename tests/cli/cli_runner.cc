#include "cli/cli_runner.h"

#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "cli/run.h"
#include "temp_dir.h"

namespace kvplan::testing {

CliResult run_cli(const std::vector<std::string>& args) {
  std::vector<const char*> argv = {"kvplan"};
  for (const std::string& arg : args) argv.push_back(arg.c_str());
  std::ostringstream out, err;
  CliResult result;
  result.exit_code = cli::run(static_cast<int>(argv.size()), argv.data(), out, err);
  result.out = out.str();
  result.err = err.str();
  return result;
}

namespace {
std::string shell_quoted(const std::string& arg) {
  std::string quoted = "'";
  for (char c : arg) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}
}  // namespace

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

CliResult run_binary(const std::vector<std::string>& args) {
  TempDir dir;
  std::string command = shell_quoted(KVPLAN_BINARY);
  for (const std::string& arg : args) command += " " + shell_quoted(arg);
  std::string out = (dir.path() / "out").string(), err = (dir.path() / "err").string();
  command += " >" + shell_quoted(out) + " 2>" + shell_quoted(err);
  int status = std::system(command.c_str());
  CliResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = read_file(out);
  result.err = read_file(err);
  return result;
}

std::size_t line_count(const std::string& text) {
  std::size_t lines = 0;
  for (char c : text) lines += c == '\n';
  return lines + (!text.empty() && text.back() != '\n');
}

}  // namespace kvplan::testing

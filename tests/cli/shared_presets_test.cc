// cli::run with a registry of the embedded presets kept across calls (the argv fuzz target's way
// of parsing each preset once) answers as a fresh registry does, and --presets DIR still adds the
// user's presets for that call only.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cli/cli_runner.h"
#include "cli/run.h"
#include "io/preset_registry.h"
#include "temp_dir.h"

using namespace kvplan::testing;

namespace {

CliResult run_shared(const std::vector<std::string>& args, const kvplan::io::PresetRegistry& embedded) {
  std::vector<const char*> argv = {"kvplan"};
  for (const std::string& arg : args) argv.push_back(arg.c_str());
  std::ostringstream out, err;
  CliResult result;
  result.exit_code = kvplan::cli::run(static_cast<int>(argv.size()), argv.data(), out, err, &embedded);
  result.out = out.str();
  result.err = err.str();
  return result;
}

}  // namespace

TEST_CASE("a shared registry of the embedded presets answers as a fresh one") {
  const kvplan::io::PresetRegistry embedded;
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"size", "--model", "deepseek-v2", "--ctx", "128k"},
        std::vector<std::string>{"fit", "--model", "llama-3-70b", "--gpu", "h100-sxm", "--gpus", "8", "--ctx", "32k"},
        std::vector<std::string>{"size", "--model", "llama-3-8", "--ctx", "4k"}}) {
    const CliResult fresh = run_cli(args);
    for (int call = 0; call < 2; ++call) {  // the second call finds the presets already parsed
      const CliResult shared = run_shared(args, embedded);
      CHECK(shared.exit_code == fresh.exit_code);
      CHECK(shared.out == fresh.out);
      CHECK(shared.err == fresh.err);
    }
  }
}

TEST_CASE("with a shared registry, --presets DIR adds the user's presets to that call only") {
  const kvplan::io::PresetRegistry embedded;
  TempDir dir;
  std::ifstream source(std::string(KVPLAN_SOURCE_DIR) + "/presets/gpus/h100-sxm.yaml");
  std::ostringstream text;
  text << source.rdbuf();
  std::string yaml = text.str();
  yaml.replace(yaml.find("name: h100-sxm"), 14, "name: my-gpu");
  dir.write("my-gpu.yaml", yaml);
  const CliResult with_dir = run_shared({"show", "--presets", dir.path().string(), "--gpu", "my-gpu"}, embedded);
  CHECK(with_dir.exit_code == 0);
  CHECK(with_dir.out.find("my-gpu") != std::string::npos);
  const CliResult without = run_shared({"show", "--gpu", "my-gpu"}, embedded);
  CHECK(without.exit_code == 2);
  CHECK(without.err.find("unknown GPU 'my-gpu'") != std::string::npos);
}

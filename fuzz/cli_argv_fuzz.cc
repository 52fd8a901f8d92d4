// libFuzzer target: any bytes as kvplan's argument vector (split at NUL bytes), through the whole
// command line in-process. Every outcome must be an exit code kvplan documents with the streams
// it promises: 0 with no error line, 2 or 3 with exactly one line on stderr and nothing on
// stdout. Exit 1 (an internal error) is a bug.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "cli/run.h"
#include "io/preset_registry.h"

namespace {

std::size_t lines(const std::string& text) {
  std::size_t count = 0;
  for (char c : text) count += c == '\n';
  return count;
}

}  // namespace

// --model org/name would reach for the Hugging Face hub: the fuzzer stays offline, with an empty cache.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  setenv("HF_HUB_OFFLINE", "1", 1);
  setenv("HF_HUB_CACHE", "/nonexistent/kvplan-fuzz-cache", 1);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> args = {"kvplan"};
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find('\0', start);
    if (end == std::string::npos) end = text.size();
    args.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  for (const std::string& arg : args) {
    // Files are written only where the fuzzer names them; a run must not litter the work folder,
    // nor run the GPU benchmarks for real.
    if (arg.find("--out") != std::string::npos || arg == "bench" || arg.size() > 256) return 0;
  }
  std::vector<const char*> argv;
  for (const std::string& arg : args) argv.push_back(arg.c_str());
  std::ostringstream out, err;
  // The embedded presets are parsed once for the whole run, not once per input: parsing YAML
  // under the sanitizers costs far more than the command it serves.
  static const kvplan::io::PresetRegistry embedded;
  const int code = kvplan::cli::run(static_cast<int>(argv.size()), argv.data(), out, err, &embedded);
  const bool help = code == 0 && err.str().empty();
  const bool failed = (code == 2 || code == 3) && out.str().empty() && lines(err.str()) == 1;
  const bool warned = code == 0 && err.str().find("kvplan: error") == std::string::npos;
  if (!help && !failed && !warned) std::abort();
  return 0;
}

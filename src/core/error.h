// The one exception type kvplan throws for conditions a user can cause, and the exit codes the
// CLI turns them into. Bugs are not Errors: they escape as other exceptions and exit 1.
#pragma once

#include <stdexcept>
#include <string>

namespace kvplan {

enum class ExitCode : int {
  ok = 0,
  internal = 1,     // a bug in kvplan
  bad_input = 2,    // usage, unknown name, invalid shape, malformed file
  cannot_run = 3,   // valid request this machine cannot serve (no GPU, no CUDA in the build)
};

class Error : public std::runtime_error {
 public:
  explicit Error(std::string message, ExitCode code = ExitCode::bad_input)
      : std::runtime_error(std::move(message)), code_(code) {}
  ExitCode code() const { return code_; }

 private:
  ExitCode code_;
};

}  // namespace kvplan

// The whole command line as a function, so tests can run kvplan in-process.
#pragma once

#include <iosfwd>

namespace kvplan::io {
class PresetRegistry;
}

namespace kvplan::cli {

// Parses argv, runs the chosen subcommand, writes results to `out` and messages to `err`, and
// returns the process exit code (0 ok, 1 internal error, 2 bad input, 3 cannot run here).
// `embedded_presets`: a registry of the embedded presets kept across calls, so a caller that
// runs many commands parses each preset once (without it, each call builds its own).
int run(int argc, const char* const* argv, std::ostream& out, std::ostream& err,
        const io::PresetRegistry* embedded_presets = nullptr);

}  // namespace kvplan::cli

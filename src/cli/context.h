// What every subcommand shares: the output streams, the presets, and the option parsing helpers
// that turn user text into the types src/core expects.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <iosfwd>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "core/model_shape.h"
#include "core/sweep.h"
#include "core/units.h"
#include "io/preset_registry.h"
#include "report/document.h"
#include "report/model_label.h"

namespace kvplan::cli {

class Context {
 public:
  // `embedded`, when given, is a registry of the embedded presets to use instead of building one:
  // a process that runs many commands (the argv fuzz target) then parses each preset once.
  Context(std::ostream& out_stream, std::ostream& err_stream, const io::PresetRegistry* embedded = nullptr)
      : out(buffer_), err(err_stream), stdout_(out_stream), embedded_(embedded) {}

  // A command's results: held until it succeeds, so a command that fails prints nothing on
  // stdout (a half table followed by an error would read as a result).
  std::ostream& out;
  std::ostream& err;
  std::string presets_dir;  // --presets

  // Embedded presets plus --presets DIR, built on first use (the shared embedded registry when
  // there is no --presets DIR).
  const io::PresetRegistry& registry();

  // For a command whose output is too large to hold (sweep): what `out` holds so far, then the
  // real stdout. Call it only once every input has been checked, since what is written there
  // stays written.
  std::ostream& stream_out();
  // Writes what `out` holds to stdout and flushes it; throws kvplan::Error (exit 2) when stdout
  // cannot be written (a full disk, /dev/full).
  void finish();

 private:
  std::ostringstream buffer_;
  std::ostream& stdout_;
  const io::PresetRegistry* embedded_;
  std::unique_ptr<io::PresetRegistry> registry_;
};

// `text` on one line for the terminal: newlines become spaces and other control characters
// \xNN, so a name echoed from the command line or a file cannot move the cursor or recolour it.
std::string printable_line(std::string_view text);

// A subcommand's work, run after the whole command line parsed cleanly.
using Action = std::function<void()>;
struct Command {
  CLI::App* app;
  Action action;
};

// --format and --units, which every command takes.
struct OutputOptions {
  std::string format = "table";
  std::string units = "iec";
  report::Format parsed_format() const { return report::parse_format(format); }
  UnitSystem parsed_units() const { return parse_unit_system(units); }
};
void add_output_options(CLI::App& command, OutputOptions& options);

// --mamba-ssm-cache-dtype, which size and fit take for state layers.
void add_mamba_ssm_cache_dtype_option(CLI::App& command, std::string& dtype);

// --model NAME (a preset, a Hugging Face id or a checkpoint folder), --revision, or --config
// path/to/config.json.
struct ModelOption {
  std::string name;
  std::string config;
  std::string revision;  // a branch, tag or commit of the Hugging Face repository
};
void add_model_option(CLI::App& command, ModelOption& option);

struct SelectedModel {
  report::ModelLabel label;
  ModelShape shape;
};
SelectedModel select_model(Context& context, const ModelOption& option);

// "a,b,c" -> {"a", "b", "c"}; an empty item is an error naming `flag`.
std::vector<std::string> split_list(const std::string& text, std::string_view flag);
// "h100-sxm" (1 GPU), "h100-sxm:8" (8 GPUs, TP 8), "h100-sxm:8:tp4" (TP 4 x DP 2),
// "h100-sxm:16:tp8:pp2", "h200:8:tp8:dcp8" (decode context parallel 8 within TP 8). The GPU count,
// tp, pp and dcp are each at most kMaxFleetGpus and given once. Errors name `option`.
inline constexpr std::uint64_t kMaxFleetGpus = 4096;
SweepFleet parse_fleet(const std::string& text, Context& context, std::string_view option = "--gpus");

void add_size_command(CLI::App& app, Context& context, std::vector<Command>& commands);
void add_fit_command(CLI::App& app, Context& context, std::vector<Command>& commands);
void add_sweep_command(CLI::App& app, Context& context, std::vector<Command>& commands);
void add_report_command(CLI::App& app, Context& context, std::vector<Command>& commands);
void add_preset_commands(CLI::App& app, Context& context, std::vector<Command>& commands);
void add_bench_command(CLI::App& app, Context& context, std::vector<Command>& commands);
void add_disagg_command(CLI::App& app, Context& context, std::vector<Command>& commands);

}  // namespace kvplan::cli

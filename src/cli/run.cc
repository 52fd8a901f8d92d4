#include "cli/run.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "cli/context.h"
#include "core/error.h"
#include "core/suggest.h"

namespace kvplan::cli {
namespace {

constexpr const char* kDescription =
    "kvplan: KV-cache capacity planner and attention microbenchmarks.\n"
    "Sizes the KV cache of MHA, MQA, GQA and MLA models the way vLLM, SGLang and TensorRT-LLM\n"
    "account for it.";

constexpr const char* kFooter =
    "\nExamples:\n"
    "  kvplan size --model deepseek-v2 --ctx 128k\n"
    "  kvplan size --model llama-3-70b --ctx 32k --variant all --kv-dtype fp8 --explain\n"
    "  kvplan models\n"
    "  kvplan bench --model llama-3-8b --ctx 128k --dry-run --gpu h100-sxm\n"
    "\nSizes: 128k = 131072 tokens, 1M = 1048576; memory 80GB = 80*10^9 B, 80GiB = 80*2^30 B.\n"
    "Exit codes: 0 ok, 1 internal error, 2 bad input, 3 cannot run here (no GPU).";

// An empty value (--ctx "") would read as "not given" and quietly take the default.
void refuse_empty_values(const CLI::App& command) {
  for (const CLI::Option* option : command.get_options()) {
    if (option->get_type_size_min() == 0 || option->count() == 0) continue;  // a flag, or not given
    for (const std::string& value : option->results()) {
      if (value.empty()) {
        throw Error(option->get_name() + ": empty value; give a value, or leave the option out for its default");
      }
    }
  }
  for (const CLI::App* subcommand : command.get_subcommands()) refuse_empty_values(*subcommand);
}

}  // namespace

int run(int argc, const char* const* argv, std::ostream& out, std::ostream& err,
        const io::PresetRegistry* embedded_presets) {
  Context context(out, err, embedded_presets);
  CLI::App app(kDescription, "kvplan");
  app.footer(kFooter);
  app.require_subcommand(1);
  app.fallthrough();
  app.add_option("--presets", context.presets_dir,
                 "Directory of your own YAML presets (models and GPUs); they override embedded ones");
  std::vector<Command> commands;
  add_size_command(app, context, commands);
  add_fit_command(app, context, commands);
  add_sweep_command(app, context, commands);
  add_report_command(app, context, commands);
  add_preset_commands(app, context, commands);
  add_bench_command(app, context, commands);
  add_disagg_command(app, context, commands);

  if (argc > 1 && argv[1][0] != '-') {
    std::vector<std::string> names;
    for (const Command& command : commands) names.push_back(command.app->get_name());
    if (std::find(names.begin(), names.end(), argv[1]) == names.end()) {
      std::optional<std::string> nearest = nearest_name(argv[1], names);
      std::string list;
      for (const std::string& name : names) list += (list.empty() ? "" : ", ") + name;
      err << "kvplan: error: unknown command '" << printable_line(argv[1]) << "'"
          << (nearest ? "; did you mean '" + *nearest + "'?" : "") << " (commands: " << list << ")\n";
      return static_cast<int>(ExitCode::bad_input);
    }
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    CLI::App* chosen = &app;
    for (const Command& command : commands) {
      if (command.app->parsed()) chosen = command.app;
    }
    out << chosen->help();
    return static_cast<int>(ExitCode::ok);
  } catch (const CLI::CallForAllHelp&) {
    out << app.help("", CLI::AppFormatMode::All);
    return static_cast<int>(ExitCode::ok);
  } catch (const CLI::ParseError& e) {
    std::string command = "kvplan";
    for (const Command& known : commands) {
      if (known.app->parsed()) command += " " + known.app->get_name();
    }
    err << "kvplan: error: " << printable_line(e.what()) << " (see '" << command << " --help')\n";
    return static_cast<int>(ExitCode::bad_input);
  }

  try {
    refuse_empty_values(app);
    for (const Command& command : commands) {
      if (command.app->parsed()) command.action();
    }
    context.finish();
    return static_cast<int>(ExitCode::ok);
  } catch (const Error& e) {
    err << "kvplan: error: " << printable_line(e.what()) << '\n';
    return static_cast<int>(e.code());
  } catch (const std::exception& e) {
    err << "kvplan: internal error: " << printable_line(e.what()) << " (please report it)\n";
    return static_cast<int>(ExitCode::internal);
  }
}

}  // namespace kvplan::cli

// kvplan's entry point. Everything happens in cli::run (src/cli/run.cc), which builds the
// command line from one add_*_command per subcommand:
//   size     cli/size_command.cc     -> core/kv_size.h, core/kv_bytes.h, report/size_document.h
//   models, gpus, show   cli/preset_commands.cc -> io/preset_registry.h
//   bench    cli/bench_command.cc    -> core/attention_cost.h, kernels/gpu.h, report/bench_document.h
#include <iostream>

#include "cli/run.h"

int main(int argc, char** argv) { return kvplan::cli::run(argc, argv, std::cout, std::cerr); }

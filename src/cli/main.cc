// kvplan's entry point. Everything happens in cli::run (src/cli/run.cc), which builds the
// command line from one add_*_command per subcommand and turns kvplan::Error into exit codes.
// Where each command's numbers come from:
//   size    cli/size_command.cc   -> core/kv_bytes.h (the per-token formula per variant and dtype),
//                                    core/kv_size.h (layers, sliding windows, MTP, batch),
//                                    core/hf_config.h (config.json conventions), report/size_*.cc
//   fit     cli/fit_command.cc    -> core/capacity.h (budget, TP/PP, per-rank cache), core/fit_vllm.cc,
//                                    core/fit_sglang.cc (defaults: core/sglang_args.h, rules:
//                                    docs/engines-sglang.md), core/fit_trtllm.cc, core/fleet.h (decode
//                                    roofline, smallest fleet), report/fit_document.cc, launch_command.cc
//   sweep   cli/sweep_command.cc  -> core/sweep.h, report/sweep_document.cc
//   report  cli/report_command.cc -> report/capacity_report.cc, report/charts/, io/output_dir.h
//   bench   cli/bench_command.cc  -> core/attention_cost.h (bytes, FLOPs, floor), kernels/kernels.h,
//                                    kernels/gpu.h, report/bench_document.cc
//   disagg  cli/disagg_command.cc -> core/disagg.h (KV moved per rank, P:D ratio), core/links.h,
//                                    core/prefill_bound.h, core/fleet.h (decode bound), report/disagg_document.cc
//   models, gpus, show  cli/preset_commands.cc -> io/preset_registry.h, presets/*.yaml
#include <iostream>

#include "cli/run.h"

int main(int argc, char** argv) { return kvplan::cli::run(argc, argv, std::cout, std::cerr); }

#include "cli/parallel_options.h"

#include "core/error.h"
#include "core/units.h"

namespace kvplan::cli {

void add_parallel_options(CLI::App& command, ParallelOptions& options) {
  command.add_option("--gpus", options.gpus, "GPUs in the fleet (= TP x PP x DP; default TP x PP x DP)");
  command.add_option("--tp", options.tp, "Tensor-parallel size (default: --gpus / --pp, else 1)");
  command.add_option("--pp", options.pp, "Pipeline-parallel size (default 1)");
  command.add_option("--dp", options.dp, "Data-parallel replicas (default: --gpus / (TP x PP))");
  command.add_option("--dcp,--decode-context-parallel-size", options.dcp,
                     "Decode context parallel size (vLLM's --decode-context-parallel-size, SGLang's --dcp-size): "
                     "groups of DCP TP ranks each cache 1/DCP of every request's tokens (divides TP; adds no GPU; "
                     "default 1)");
  command.add_flag("--enable-expert-parallel", options.expert_parallel,
                   "MoE: each rank holds whole experts instead of a slice of each. vLLM splits the experts over "
                   "TP x DP ranks whenever DP > 1, with or without it");
  command.add_option("--ep", options.ep,
                     "Expert-parallel size: vLLM's is TP x DP (--ep 8 with --dp 8 --tp 1 is DP attention + EP 8), "
                     "SGLang's --ep-size equals TP; implies --enable-expert-parallel");
  command.add_flag("--enable-eplb", options.enable_eplb,
                   "vLLM's expert-parallel load balancer: every rank keeps a buffer of one MoE layer's experts and "
                   "the load statistics (eplb_state.py), taken from the KV cache budget. Needs expert parallelism");
  command.add_option("--num-redundant-experts", options.redundant_experts,
                     "With --enable-eplb (vLLM's eplb_config.num_redundant_experts; default 0): N physical experts "
                     "more than the model's, replicas of the busiest, spread over the EP ranks with them (rank 0 "
                     "holds ceil((E + N) / EP))");
}

std::uint32_t parse_small_count(const std::string& text, std::string_view flag) {
  std::uint64_t value = parse_count(text, flag);
  if (value > 4096) throw Error(std::string(flag) + ": " + text + " is more than kvplan plans for (4096)");
  return static_cast<std::uint32_t>(value);
}

Parallelism resolve_parallelism(const ParallelOptions& options) {
  Parallelism parallel;
  if (!options.tp.empty()) parallel.tp = parse_small_count(options.tp, "--tp");
  if (!options.pp.empty()) parallel.pp = parse_small_count(options.pp, "--pp");
  if (!options.dp.empty()) parallel.dp = parse_small_count(options.dp, "--dp");
  if (!options.dcp.empty()) parallel.dcp = parse_small_count(options.dcp, "--dcp");
  if (options.gpus.empty()) return parallel;
  const std::uint32_t gpus = parse_small_count(options.gpus, "--gpus");
  if (options.tp.empty() && options.dp.empty()) {
    // One replica over all the GPUs, the usual single-node deployment.
    if (gpus % parallel.pp != 0) throw Error("--gpus " + options.gpus + " is not a multiple of --pp " + options.pp);
    parallel.tp = gpus / parallel.pp;
    return parallel;
  }
  if (options.dp.empty()) {
    if (gpus % (parallel.tp * parallel.pp) != 0) {
      throw Error("--gpus " + options.gpus + " is not a multiple of TP " + std::to_string(parallel.tp) + " x PP " +
                  std::to_string(parallel.pp) + "; choose --gpus = TP x PP x DP");
    }
    parallel.dp = gpus / (parallel.tp * parallel.pp);
  }
  if (parallel.gpus() != gpus) {
    throw Error("--gpus " + options.gpus + " does not equal TP x PP x DP = " + std::to_string(parallel.gpus()));
  }
  return parallel;
}

void apply_expert_parallel(const ParallelOptions& options, const SelectedModel& model, FitRequest& request) {
  Parallelism& parallel = request.parallel;
  set_engine_expert_span(parallel, request.options.engine, model.shape);
  if (!options.expert_parallel && options.ep.empty()) {
    if (options.enable_eplb) {
      throw Error("--enable-eplb: vLLM's EPLB needs expert parallelism (ParallelConfig: 'enable_expert_parallel must be "
                  "True to use EPLB'); add --enable-expert-parallel");
    }
    if (!options.redundant_experts.empty()) {
      throw Error("--num-redundant-experts: vLLM's redundant experts are EPLB's; add --enable-eplb and "
                  "--enable-expert-parallel");
    }
    return;
  }
  const std::string flag = options.ep.empty() ? "--enable-expert-parallel" : "--ep " + options.ep;
  if (!model.shape.moe) throw Error(flag + ": " + model.label.name + " has no routed experts to split (a dense model); drop it");
  if (!options.ep.empty()) {
    const std::uint64_t ep = parse_count(options.ep, "--ep");
    switch (request.options.engine) {
      case Engine::vllm:
        if (ep != std::uint64_t{parallel.tp} * parallel.dp) {
          throw Error("--ep " + options.ep + ": vLLM's expert-parallel size is TP x DP = " + std::to_string(parallel.tp) +
                      " x " + std::to_string(parallel.dp) + " = " + std::to_string(parallel.tp * parallel.dp) +
                      " (fused_moe/config.py); give --ep " + std::to_string(parallel.tp * parallel.dp) +
                      " or change --tp/--dp");
        }
        break;
      case Engine::sglang:
        if (ep != parallel.tp) {
          throw Error("--ep " + options.ep + ": kvplan plans SGLang's --ep-size equal to TP (" +
                      std::to_string(parallel.tp) + "), every expert whole on one rank of the TP group");
        }
        break;
      case Engine::trtllm: throw Error("--ep: kvplan plans expert parallelism for vllm and sglang only");
    }
  }
  parallel.expert_parallel = true;
  if (!options.enable_eplb) {
    if (!options.redundant_experts.empty()) {
      throw Error("--num-redundant-experts: vLLM's redundant experts are EPLB's (ParallelConfig refuses them without "
                  "it); add --enable-eplb");
    }
    return;
  }
  // config/parallel.py:ParallelConfig: EPLB needs expert parallelism over more than one rank, and
  // eplb_state.py caps the redundancy at 1023 replicas.
  const std::uint64_t redundant =
      options.redundant_experts.empty() || options.redundant_experts == "0"
          ? 0
          : parse_count(options.redundant_experts, "--num-redundant-experts");
  if (request.options.engine != Engine::vllm) {
    throw Error("--enable-eplb: kvplan plans vLLM's EPLB only (SGLang's --enable-eplb and --ep-num-redundant-experts are "
                "not modelled); add --engine vllm");
  }
  if (redundant > 1023) {
    throw Error("--num-redundant-experts " + options.redundant_experts + ": vLLM's EPLB allows at most 1023 "
                "(eplb_state.py: MAX_EXPERT_REDUNDANCY)");
  }
  if (parallel.expert_ranks() < 2) {
    throw Error("--enable-eplb: vLLM's EPLB needs TP or DP above 1 (ParallelConfig: 'EPLB requires tensor, "
                "prefill-context, or data parallelism'); raise --tp or --dp");
  }
  if (parallel.pp > 1) {
    throw Error("--enable-eplb with --pp " + std::to_string(parallel.pp) + ": kvplan does not model how EPLB counts "
                "a stage's MoE layers; use --pp 1");
  }
  parallel.eplb = true;
  parallel.redundant_experts = static_cast<std::uint32_t>(redundant);
}

}  // namespace kvplan::cli

// Beyond one replica: the decode roofline of a plan, and the smallest fleet that holds a target
// number of concurrent requests.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/capacity.h"

namespace kvplan {

// A bandwidth bound, not a promise: each decode step reads the active weights of a rank and
// the KV cache of every request in the batch (each at max_model_len), at the datasheet HBM
// bandwidth; compute, communication and scheduling only add time.
struct DecodeBound {
  std::uint64_t batch = 0;            // concurrent requests per replica
  Bytes weights_per_step;             // active weights read per rank per step
  Bytes kv_per_step;                  // KV read per rank per step
  double step_seconds = 0;
  double tokens_per_second = 0;       // whole fleet (all replicas)
  std::optional<double> usd_per_million_tokens;
};

DecodeBound decode_bound(const ModelShape& shape, const GpuSpec& gpu, const FitRequest& request,
                         const FitResult& result, std::optional<double> usd_per_gpu_hour);

// One way to lay a deployment out, and how many of them hold the target.
struct FleetOption {
  std::string layout;                  // "TP 8", "TP 8 + DCP 8", "TP 1 x DP 8 + EP 8", "TP 2 x PP 4"
  Parallelism deployment;              // one deployment; dp > 1 only for vLLM's DP over a MoE model
  bool dp_attention = false;           // SGLang --dp-attention: each TP rank its own pool and requests
  std::uint64_t requests_per_rank = 0;        // full-length requests one DP rank (TP x PP group) holds
  std::uint64_t requests_per_deployment = 0;  // x its DP ranks
  Bytes kv_per_request_per_rank;       // what one request caches on one rank
  std::uint64_t deployments = 0;       // needed for the target
  std::uint64_t holds = 0;             // requests the fleet holds
  std::uint64_t gpus() const { return deployments * deployment.gpus(); }
};

struct FleetSearch {
  std::optional<FleetOption> best;     // fewest GPUs; among equals the smallest deployment, then the most requests
  std::vector<FleetOption> options;    // every layout that fits, in the order tried
  std::vector<std::string> rejected;   // "TP 1 x PP 1: the weights do not fit ..."
};

// Tries, for deployments of at most `max_tp` GPUs per TP group:
// - TP in {1, 2, 4, 8} x PP in {1, 2, 4, 8}, with the request's DCP;
// - with vLLM and no --dcp: TP + DCP = TP (each rank caches 1/TP of every request's tokens);
// - with vLLM and a MoE model: TP x DP with the experts over TP x DP ranks (DP attention + EP),
//   DP in {2, 4, 8, 16, 32}, at most 64 GPUs a deployment;
// - with SGLang: TP with --dp-attention (--attn-dp-size TP), each rank its own pool;
// as many deployments as the target needs.
FleetSearch smallest_fleet(const ModelShape& shape, const GpuSpec& gpu, const FitRequest& request,
                           std::uint64_t concurrency, std::uint32_t max_tp = 8);

// "TP 1 x DP 8 + EP 8", "TP 8 + DP attention": how a deployment is laid out (PP and DP only when
// above 1).
std::string layout_name(const Parallelism& deployment, bool dp_attention = false);

}  // namespace kvplan

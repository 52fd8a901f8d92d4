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

struct FleetOption {
  Parallelism parallel;                // dp = number of replicas
  std::uint64_t requests_per_replica = 0;
  std::uint64_t holds = 0;             // requests the fleet holds
};

struct FleetSearch {
  std::optional<FleetOption> best;     // fewest GPUs; among equals, the smallest replica
  std::vector<FleetOption> options;    // every replica shape that fits, for the table
  std::vector<std::string> rejected;   // "TP 1 x PP 1: the weights do not fit ..."
};

// Tries TP in {1, 2, 4, 8} (at most `max_tp`, the GPUs of one node) and PP in {1, 2, 4, 8}, as
// many replicas as needed, each with the request's DCP.
FleetSearch smallest_fleet(const ModelShape& shape, const GpuSpec& gpu, const FitRequest& request,
                           std::uint64_t concurrency, std::uint32_t max_tp = 8);

}  // namespace kvplan

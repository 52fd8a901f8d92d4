#include "core/fleet.h"

#include "core/checked.h"
#include "core/error.h"

namespace kvplan {

DecodeBound decode_bound(const ModelShape& shape, const GpuSpec& gpu, const FitRequest& request,
                         const FitResult& result, std::optional<double> usd_per_gpu_hour) {
  DecodeBound bound;
  const Parallelism& parallel = request.parallel;
  bound.batch = result.requests_per_replica;
  const std::uint64_t active = shape.params_active.value_or(shape.params_total.value_or(0));
  bound.weights_per_step = Bytes{static_cast<std::uint64_t>(static_cast<double>(active) * request.weight_bytes_per_param /
                                                            (parallel.tp * parallel.pp))};
  // Each rank reads its stage's share of every request's cache.
  bound.kv_per_step = Bytes{checked_mul(result.bytes_per_request_per_rank.value, bound.batch, "KV read per step")};
  bound.step_seconds = static_cast<double>(bound.weights_per_step.value + bound.kv_per_step.value) /
                       gpu.hbm_bandwidth_bytes_per_s;
  bound.tokens_per_second = static_cast<double>(bound.batch * parallel.dp) / bound.step_seconds;
  if (usd_per_gpu_hour && bound.batch > 0) {
    double usd_per_second = *usd_per_gpu_hour * parallel.gpus() / 3600.0;
    bound.usd_per_million_tokens = usd_per_second / bound.tokens_per_second * 1e6;
  }
  return bound;
}

FleetSearch smallest_fleet(const ModelShape& shape, const GpuSpec& gpu, const FitRequest& request,
                           std::uint64_t concurrency, std::uint32_t max_tp) {
  FleetSearch search;
  for (std::uint32_t tp : {1u, 2u, 4u, 8u}) {
    if (tp > max_tp) continue;
    for (std::uint32_t pp : {1u, 2u, 4u, 8u}) {
      FitRequest attempt = request;
      attempt.parallel = Parallelism{tp, pp, 1};
      // The request's DCP stays: a TP it does not divide is rejected by the fit, with the reason.
      attempt.parallel.dcp = request.parallel.dcp;
      std::string label = "TP " + std::to_string(tp) + " x PP " + std::to_string(pp) +
                          (attempt.parallel.dcp > 1 ? " (DCP " + std::to_string(attempt.parallel.dcp) + ")" : "");
      try {
        FitResult result = fit(shape, gpu, attempt);
        // SGLang starts with a pool shorter than the context; such a replica holds no full request.
        if (result.requests_per_replica == 0) throw Error("not one request of the context fits");
        FleetOption option;
        option.requests_per_replica = result.requests_per_replica;
        std::uint64_t replicas = ceil_div(concurrency, result.requests_per_replica);
        if (replicas > 100000) throw Error("more than 100000 replicas");
        option.parallel = Parallelism{tp, pp, static_cast<std::uint32_t>(replicas)};
        option.parallel.dcp = attempt.parallel.dcp;
        option.holds = replicas * result.requests_per_replica;
        search.options.push_back(option);
        const std::uint64_t gpus = option.parallel.gpus();
        if (!search.best || gpus < search.best->parallel.gpus() ||
            (gpus == search.best->parallel.gpus() && tp * pp < search.best->parallel.tp * search.best->parallel.pp)) {
          search.best = option;
        }
      } catch (const Error& e) {
        search.rejected.push_back(label + ": " + e.what());
      }
    }
  }
  return search;
}

}  // namespace kvplan

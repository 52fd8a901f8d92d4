#include "core/fleet.h"

#include <algorithm>

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

std::string layout_name(const Parallelism& deployment, bool dp_attention) {
  std::string name = "TP " + std::to_string(deployment.tp);
  if (deployment.pp > 1) name += " x PP " + std::to_string(deployment.pp);
  if (deployment.dp > 1) name += " x DP " + std::to_string(deployment.dp);
  if (deployment.dcp > 1) name += " + DCP " + std::to_string(deployment.dcp);
  if (deployment.expert_parallel) name += " + EP " + std::to_string(deployment.tp * deployment.dp);
  if (dp_attention) name += " + DP attention";
  return name;
}

namespace {

constexpr std::uint64_t kMaxDeployments = 100000;
constexpr std::uint32_t kMaxDeploymentGpus = 64;

struct Layout {
  Parallelism parallel;
  bool dp_attention = false;
};

// The deployments to try, in order.
std::vector<Layout> candidate_layouts(const ModelShape& shape, const FitRequest& request, std::uint32_t max_tp) {
  std::vector<Layout> layouts;
  const bool vllm = request.options.engine == Engine::vllm;
  const bool sglang = request.options.engine == Engine::sglang;
  for (std::uint32_t tp : {1u, 2u, 4u, 8u}) {
    if (tp > max_tp) continue;
    for (std::uint32_t pp : {1u, 2u, 4u, 8u}) {
      Parallelism layout{tp, pp, 1};
      // The request's DCP stays: a TP it does not divide is rejected by the fit, with the reason.
      layout.dcp = request.parallel.dcp;
      layouts.push_back({layout, request.options.dp_attention});
    }
    if (vllm && request.parallel.dcp == 1 && tp > 1) {
      Parallelism layout{tp, 1, 1};
      layout.dcp = tp;
      layouts.push_back({layout});
    }
    // SGLang's DCP group must hold the same K/V heads on each rank: the whole MLA latent, or GQA
    // heads at most TP / dcp, so the widest group is TP / heads.
    const std::uint32_t sglang_dcp =
        request.variant.kind == VariantKind::mla ? tp : tp / std::max<std::uint32_t>(1, request.variant.kv_heads);
    if (sglang && !request.options.dp_attention && request.parallel.dcp == 1 && sglang_dcp > 1) {
      Parallelism layout{tp, 1, 1};
      layout.dcp = sglang_dcp;
      layouts.push_back({layout});
    }
    if (sglang && !request.options.dp_attention && tp > 1) layouts.push_back({Parallelism{tp, 1, 1}, true});
    if (vllm && shape.moe) {
      for (std::uint32_t dp : {2u, 4u, 8u, 16u, 32u}) {
        if (tp * dp > kMaxDeploymentGpus) continue;
        Parallelism layout{tp, 1, dp};
        layout.expert_dp = dp;
        layout.expert_parallel = true;
        layout.dcp = request.parallel.dcp;
        layouts.push_back({layout});
      }
    }
  }
  return layouts;
}

bool better(const FleetOption& a, const FleetOption& b) {
  if (a.gpus() != b.gpus()) return a.gpus() < b.gpus();
  if (a.deployment.gpus() != b.deployment.gpus()) return a.deployment.gpus() < b.deployment.gpus();
  return a.holds > b.holds;
}

}  // namespace

FleetSearch smallest_fleet(const ModelShape& shape, const GpuSpec& gpu, const FitRequest& request,
                           std::uint64_t concurrency, std::uint32_t max_tp) {
  FleetSearch search;
  for (const Layout& candidate : candidate_layouts(shape, request, max_tp)) {
    const Parallelism& layout = candidate.parallel;
    FitRequest attempt = request;
    attempt.parallel = layout;
    attempt.options.dp_attention = candidate.dp_attention;
    attempt.explanations = false;
    const std::string label = layout_name(layout, candidate.dp_attention);
    try {
      FitResult result = fit(shape, gpu, attempt);
      // SGLang starts with a pool shorter than the context; such a replica holds no full request.
      if (result.requests_per_replica == 0) throw Error("not one request of the context fits");
      FleetOption option;
      option.layout = label;
      option.deployment = layout;
      option.dp_attention = candidate.dp_attention;
      option.requests_per_rank = result.requests_per_replica;
      option.requests_per_deployment = checked_mul(result.requests_per_replica, layout.dp, "requests per deployment");
      option.kv_per_request_per_rank = result.bytes_per_request_per_rank;
      option.deployments = ceil_div(concurrency, option.requests_per_deployment);
      if (option.deployments > kMaxDeployments) throw Error("more than 100000 deployments");
      option.holds = option.deployments * option.requests_per_deployment;
      search.options.push_back(option);
      if (!search.best || better(option, *search.best)) search.best = option;
    } catch (const Error& e) {
      search.rejected.push_back(label + ": " + e.what());
    }
  }
  return search;
}

}  // namespace kvplan

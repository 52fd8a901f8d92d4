#include "core/disagg_sweep.h"

#include <algorithm>
#include <string_view>

#include "core/capacity.h"
#include "core/checked.h"
#include "core/error.h"
#include "core/variant.h"

namespace kvplan {
namespace {

FitRequest pool_request(const SweepFleet& fleet, const ModelShape& shape, const DisaggSetup& setup, std::uint64_t ctx) {
  FitRequest request;
  request.variant = native_variant(shape);
  request.kv_dtype = setup.kv_dtype;
  request.parallel = fleet.parallel;
  set_engine_expert_span(request.parallel, Engine::vllm, shape);
  set_request_weights(request, setup.weights);
  request.max_model_len = Tokens{ctx};
  return request;
}

// fit's error, with the flag of the pool it came from.
FitResult fit_pool(const ModelShape& shape, const SweepFleet& fleet, const FitRequest& request, const std::string& flag) {
  try {
    return fit(shape, *fleet.gpu, request);
  } catch (const Error& error) {
    throw Error(flag + " " + fleet.label + ": " + error.what());
  }
}

// plan_disagg names the pools as `kvplan disagg` spells its flags; other callers have their own.
std::string with_setup_flags(const std::string& message, const DisaggSetup& setup) {
  if (message.starts_with("--prefill")) return setup.prefill_flag + message.substr(std::string_view("--prefill").size());
  if (message.starts_with("--decode")) return setup.decode_flag + message.substr(std::string_view("--decode").size());
  return message;
}

}  // namespace

DisaggPlan plan_disagg_at(const ModelShape& shape, std::uint64_t isl, std::uint64_t osl, const DisaggSetup& setup) {
  const std::uint64_t ctx = checked_add(isl, osl, "ISL + OSL");
  DisaggPools pools;
  pools.prefill_gpu = setup.prefill->gpu;
  pools.prefill_request = pool_request(*setup.prefill, shape, setup, ctx);
  pools.prefill_fit = fit_pool(shape, *setup.prefill, pools.prefill_request, setup.prefill_flag);
  pools.decode_gpu = setup.decode->gpu;
  pools.decode_request = pool_request(*setup.decode, shape, setup, ctx);
  pools.decode_fit = fit_pool(shape, *setup.decode, pools.decode_request, setup.decode_flag);
  try {
    return plan_disagg(shape, isl, osl, pools, setup.link);
  } catch (const Error& error) {
    throw Error(with_setup_flags(error.what(), setup));
  }
}

std::vector<std::uint64_t> default_disagg_isls(std::uint64_t osl, const ModelShape& shape) {
  std::vector<std::uint64_t> isls;
  for (std::uint64_t tokens = 1024; tokens <= (std::uint64_t{1} << 17); tokens *= 2) {
    if (shape.max_position_embeddings == 0 || tokens + osl <= shape.max_position_embeddings) isls.push_back(tokens);
  }
  return isls;
}

DisaggSweep sweep_disagg(const ModelShape& shape, std::vector<std::uint64_t> isls, std::uint64_t osl,
                         const DisaggSetup& setup) {
  std::sort(isls.begin(), isls.end());
  isls.erase(std::unique(isls.begin(), isls.end()), isls.end());
  DisaggSweep sweep;
  for (std::uint64_t isl : isls) {
    try {
      sweep.plans.push_back(plan_disagg_at(shape, isl, osl, setup));
    } catch (const Error& error) {
      sweep.skipped.push_back("ISL " + std::to_string(isl) + " left out: " + error.what());
    }
  }
  return sweep;
}

}  // namespace kvplan

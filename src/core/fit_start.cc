#include "core/fit_start.h"

#include "core/error.h"
#include "core/fit_internal.h"

namespace kvplan {

FitStart start_fit(const ModelShape& shape, const GpuSpec& gpu, const FitRequest& request) {
  FitStart start{&shape, &gpu, request, std::nullopt, nullptr};
  // vLLM's accounting is the one split in two; the other engines' fit runs whole at each context.
  if (request.options.engine != Engine::vllm) return start;
  // Any context of at least 1 token: the request's checks read it only to refuse 0, which fit_at
  // hands to the whole fit.
  FitRequest any_context = request;
  any_context.max_model_len = Tokens{1};
  try {
    detail::check_fit_request(shape, gpu, any_context);
    if (detail::start_vllm_reads_max_model_len(request)) return start;
    start.vllm = detail::start_vllm(shape, gpu, any_context);
  } catch (const Error& e) {
    start.refusal = e.what();
  }
  return start;
}

FitOutcome fit_at(const FitStart& start, Tokens max_model_len) {
  FitOutcome outcome;
  // With 0 tokens fit refuses the context itself, unless an earlier check refuses first.
  if (start.refusal && max_model_len.value > 0) {
    outcome.refusal = *start.refusal;
    return outcome;
  }
  try {
    if (start.vllm && max_model_len.value > 0) {
      outcome.result = detail::finish_vllm(*start.vllm, *start.shape, *start.gpu, start.request, max_model_len.value);
    } else {
      FitRequest request = start.request;
      request.max_model_len = max_model_len;
      outcome.result = fit(*start.shape, *start.gpu, request);
    }
  } catch (const Error& e) {
    outcome.refusal = e.what();
  }
  return outcome;
}

}  // namespace kvplan

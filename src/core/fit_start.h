// fit for one model, GPU and request at many contexts, as `kvplan sweep` asks it. The part of the
// engine's accounting that no context changes (the checks of the request, the attention backend
// and block size, each PP stage's budget, the per-rank cache, the groups) runs once per fleet;
// each context only finishes it. A refusal that holds for every context (weights that do not fit,
// no backend for the cache dtype, a TP that does not divide the heads) is found once, instead of
// being built and thrown again for every context: in a sweep such rows are common, and an
// exception with its message cost more than the whole fit of a row that fits.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "core/capacity.h"

namespace kvplan {

namespace detail {
struct VllmStart;
}

struct FitStart {
  const ModelShape* shape = nullptr;  // the caller's, which must outlive the start
  const GpuSpec* gpu = nullptr;
  FitRequest request;
  std::optional<std::string> refusal;               // fit's error for every context of at least 1 token
  std::shared_ptr<const detail::VllmStart> vllm;     // empty: fit_at runs the whole fit at each context
};

// Never throws kvplan::Error: a refusal is kept in the start. request.max_model_len is not read.
FitStart start_fit(const ModelShape& shape, const GpuSpec& gpu, const FitRequest& request);

// What fit(shape, gpu, request with max_model_len) gives: its result, or its Error's message.
struct FitOutcome {
  std::optional<FitResult> result;
  std::string refusal;  // when result is empty
};
FitOutcome fit_at(const FitStart& start, Tokens max_model_len);

}  // namespace kvplan

// `fit --disable-hybrid-kv-cache-manager`: the capacity the hybrid allocator's absence costs, as
// rows of the fit table beside the plan with it on (vLLM's default).
#pragma once

#include "core/capacity.h"
#include "report/document.h"

namespace kvplan::report {

// `off` is the plan with the allocator off (the table above), `on` the same request with it on.
void add_hybrid_off_rows(Document& document, const FitResult& off, const FitResult& on);

}  // namespace kvplan::report

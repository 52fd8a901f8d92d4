// fit's rows for vLLM speculative decoding: the draft's cached layers and KV, and the lookahead
// slots each request asks for (docs/engines.md, "Speculative decoding").
#pragma once

#include "core/capacity.h"
#include "report/document.h"

namespace kvplan::report {

void add_speculative_rows(Document& document, const FitRequest& request, const FitResult& result, UnitSystem units);

}  // namespace kvplan::report

// `fit --shared-prefix`: the block arithmetic of prefix sharing as rows of the fit table (shared
// blocks, unique blocks per request, the concurrency beside the one without sharing), a fact
// naming the prefixes, and the notes on what the engine keeps cached.
#pragma once

#include "core/prefix_sharing.h"
#include "report/document.h"

namespace kvplan::report {

void add_prefix_sharing_fact(Document& document, const PrefixSharing& sharing);
void add_prefix_sharing_rows(Document& document, const PrefixSharing& sharing, const ModelShape& shape,
                             const FitRequest& request, const FitResult& result);

}  // namespace kvplan::report

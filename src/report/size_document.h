// `kvplan size` results as a Document (for every --format) and as the --explain walkthrough.
#pragma once

#include <iosfwd>

#include "core/kv_size.h"
#include "core/model_shape.h"
#include "core/units.h"
#include "report/document.h"
#include "report/model_label.h"

namespace kvplan::report {

Document size_document(const ModelLabel& model, const ModelShape& shape, const SizeReport& report,
                       UnitSystem units);

// The worked derivation: every formula with its values substituted and the result with units.
void write_size_explanation(const ModelLabel& model, const ModelShape& shape, const SizeReport& report,
                            UnitSystem units, std::ostream& out);

}  // namespace kvplan::report

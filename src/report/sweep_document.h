// `kvplan sweep` rows as a Document: one row per combination.
#pragma once

#include <vector>

#include "core/sweep.h"
#include "core/units.h"
#include "report/document.h"

namespace kvplan::report {

Document sweep_document(const std::vector<SweepRow>& rows, Engine engine, UnitSystem units);

}  // namespace kvplan::report

// `kvplan sweep` rows as a Document: one row per combination.
#pragma once

#include <vector>

#include "core/sweep.h"
#include "core/units.h"
#include "report/document.h"

namespace kvplan::report {

Document sweep_document(const std::vector<SweepRow>& rows, const EngineRelease& engine, UnitSystem units);

// The same Document in parts, for a sweep written row by row (report/row_stream.h): its title,
// columns and notes without rows, and the cells of one row.
Document sweep_head(std::uint64_t row_count, const EngineRelease& engine);
// `with_text` false leaves every Cell::text empty, for writers that read the raw values only.
std::vector<Cell> sweep_cells(const SweepRow& row, UnitSystem units, bool with_text = true);

}  // namespace kvplan::report

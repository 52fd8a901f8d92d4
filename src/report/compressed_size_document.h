// `kvplan size` for DeepSeek-V4's compressed sparse attention: one row per cache (window latents,
// compressed latents per ratio, indexer keys, compressor states) instead of one per variant, and
// the --explain walkthrough of each.
#pragma once

#include <iosfwd>

#include "core/compressed_mla.h"
#include "core/units.h"
#include "report/document.h"
#include "report/model_label.h"

namespace kvplan::report {

struct CompressedSizeQuery {
  std::uint64_t ctx = 0;
  std::uint64_t batch = 1;
  KvDtype dtype = KvDtype::bf16;
  std::uint32_t mtp_layers = 0;
};

Document compressed_size_document(const ModelLabel& model, const ModelShape& shape, const CompressedSizeQuery& query,
                                  const CompressedSize& size, UnitSystem units);

void write_compressed_size_explanation(const ModelShape& shape, const CompressedSizeQuery& query,
                                       const CompressedSize& size, UnitSystem units, std::ostream& out);

}  // namespace kvplan::report

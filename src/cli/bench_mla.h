// The MLA rows of `kvplan bench`: which MLA variants the kernels (kernels/mla.h) can run, the two
// rows (naive, absorbed) each one gets, and running them on the GPU.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/model_shape.h"
#include "core/variant.h"
#include "kernels/gpu.h"
#include "report/bench_document.h"

namespace kvplan::cli {

inline constexpr std::uint32_t kMlaPageSize = 64;  // FlashMLA's block

// Why the MLA kernels cannot run `variant` for `model_name`'s shape with this cache; empty when they can.
std::string mla_unsupported(const Variant& variant, const ModelShape& shape, const std::string& model_name, KvDtype dtype);

// The naive and absorbed decode rows of an MLA variant, with their costs and floors.
// seq_lens: each sequence's length (--lengths ragged), or empty: every sequence holds ctx.
std::vector<report::KernelRow> mla_rows(const Variant& variant, const ModelShape& shape, std::uint64_t batch, Tokens ctx,
                                        const std::vector<std::uint64_t>& seq_lens, KvDtype dtype,
                                        const report::BenchCeilings& ceilings);

// Checks and times the row's path on the GPU (kernels::bench_mla).
kernels::MlaBenchResult run_mla(const kernels::GpuInfo& gpu, const report::KernelRow& row, int iters, std::uint64_t seed,
                                const kernels::Progress& progress);

}  // namespace kvplan::cli

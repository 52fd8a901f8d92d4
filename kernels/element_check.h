// Per-element validation of a kernel's output against the double reference (llm.c style): every
// element must lie within its own tolerance, and the first mismatches are described, so one wrong
// head or token cannot hide inside a pooled error over many right ones.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/kernels.h"

namespace kvplan::kernels {

// |got - want| <= rtol * |want| + atol * rms(want over its row). The rms term is the row's scale:
// an attention output is a weighted mean of V rows, so an element near zero is the difference of
// terms of the row's size and carries their rounding, not its own.
struct ElementTolerance {
  double rtol = 0;
  double atol = 0;
};

// Output rounding to the 16-bit type is the kernels' largest error next to the double reference
// (which reads the same stored cache values): half a unit in the last place, 2^-9 of the value in
// bf16, 2^-12 in fp16. Four of those (2^-7, 2^-10), relative and against the row's rms, leave room
// for the fp32 accumulation and exp2's approximation. The fp8 cache outputs bf16: as bf16.
ElementTolerance decode_element_tolerance(KvType type);
// MLA rounds q W_UK, P, the latent output and the output to bf16, and their errors add up: its host
// models, which round as the kernels do, land up to ~1.3x a 2^-7 tolerance on random shapes (seen
// in tests/kernels/element_check_test.cc with 2^-7), so 2^-5 leaves ~3x for cuBLAS's summation order.
ElementTolerance mla_element_tolerance();

// Prefill outputs the query type (bf16, or fp16 with an fp16 cache) and rounds P to it before
// P V on the tensor cores: two roundings of the 16-bit type where decode has one, each within the
// decode tolerance's budget of four half-units, so the decode tolerance applies. Its host model,
// which rounds as the kernel does, stays inside it on random shapes
// (tests/kernels/element_check_test.cc).
ElementTolerance prefill_element_tolerance(KvType cache_type);

struct ElementCheck {
  std::int64_t elements = 0;
  std::int64_t mismatches = 0;                 // NaN is always a mismatch
  std::vector<std::string> first_mismatches;   // at most kReportedMismatches
};
inline constexpr int kReportedMismatches = 5;

// got and want: rows of `row_length` elements each; `row_names[r]` says which (sequence, head) row
// r is, for the report ("b 3 h 17"). Adds to `check`.
void check_elements(const std::vector<double>& got, const std::vector<double>& want, int row_length,
                    const std::vector<std::string>& row_names, ElementTolerance tolerance, ElementCheck& check);

}  // namespace kvplan::kernels

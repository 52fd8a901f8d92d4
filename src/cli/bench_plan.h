// The sequence lengths of `kvplan bench --lengths uniform|ragged`, and what the split schedule of
// each decode row does with them (kernels/split_schedule.h): how many CTAs share the batch's work
// and how evenly, printed as notes by a dry run with --sms and by every run on a GPU.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/bench_lengths.h"
#include "report/bench_document.h"

namespace kvplan::cli {

// --lengths: "uniform" or "ragged" (any other text: an error naming the flag).
kernels::BenchLengths parse_bench_lengths(const std::string& text);

// The lengths a row's kernels get: each sequence's own (seq_lens) or ctx for all.
std::vector<std::int32_t> row_lengths(const DecodeAttentionShape& shape);

// One note per decode row: its schedule's parts and balance; `sms`: the GPU's multiprocessors.
std::vector<std::string> plan_notes(const std::vector<report::KernelRow>& rows, int sms);

// What a ragged batch holds: the formula of the lengths and their sum and spread.
std::string lengths_note(const std::vector<std::uint64_t>& lengths, std::uint64_t seed);

}  // namespace kvplan::cli

// "Did you mean" for unknown names, as ninja and git do it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kvplan {

// Optimal-string-alignment edit distance, case-insensitive.
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate nearest to `query` if it is near enough to be a plausible typo: within a third
// of the query's length, or a candidate that contains the query (e.g. "70b").
std::optional<std::string> nearest_name(std::string_view query, const std::vector<std::string>& candidates);

}  // namespace kvplan

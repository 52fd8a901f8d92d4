#include "core/suggest.h"

#include <algorithm>
#include <cctype>

namespace kvplan {
namespace {

char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

std::string lowered(std::string_view text) {
  std::string result(text);
  std::transform(result.begin(), result.end(), result.begin(), lower);
  return result;
}

}  // namespace

std::size_t edit_distance(std::string_view a_in, std::string_view b_in) {
  const std::string a = lowered(a_in), b = lowered(b_in);
  // Three rows of the table (the transposition looks two rows back), not the whole table: a
  // mistyped name can be as long as the command line allows, and this runs for every candidate.
  std::vector<std::size_t> before(b.size() + 1), above(b.size() + 1), row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) above[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      row[j] = std::min({above[j] + 1, row[j - 1] + 1, above[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        row[j] = std::min(row[j], before[j - 2] + 1);  // transposed neighbours
      }
    }
    std::swap(before, above);
    std::swap(above, row);
  }
  return above[b.size()];
}

std::optional<std::string> nearest_name(std::string_view query,
                                        const std::vector<std::string>& candidates) {
  std::optional<std::string> best;
  std::size_t best_distance = std::max<std::size_t>(2, query.size() / 3) + 1;
  for (const std::string& candidate : candidates) {
    // Each edit changes the length by at most one, so the length difference bounds the distance
    // from below: a candidate that far off cannot be nearer, and its table is not worth filling.
    const std::size_t length_gap = std::max(query.size(), candidate.size()) - std::min(query.size(), candidate.size());
    if (length_gap >= best_distance) continue;
    std::size_t distance = edit_distance(query, candidate);
    if (distance < best_distance) {
      best_distance = distance;
      best = candidate;
    }
  }
  if (!best && query.size() >= 3) {
    const std::string needle = lowered(query);
    for (const std::string& candidate : candidates) {
      if (lowered(candidate).find(needle) != std::string::npos) return candidate;
    }
  }
  return best;
}

}  // namespace kvplan

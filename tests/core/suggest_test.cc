#include "core/suggest.h"

#include <doctest/doctest.h>

using namespace kvplan;

TEST_CASE("edit distance counts insertions, deletions, substitutions and swaps") {
  CHECK(edit_distance("llama-3-8b", "llama-3-8b") == 0);
  CHECK(edit_distance("llama3-8b", "llama-3-8b") == 1);
  CHECK(edit_distance("lalma-3-8b", "llama-3-8b") == 1);  // swapped neighbours
  CHECK(edit_distance("LLAMA-3-8B", "llama-3-8b") == 0);
  CHECK(edit_distance("", "abc") == 3);
  CHECK(edit_distance("abc", "") == 3);
  CHECK(edit_distance("abcd", "badc") == 2);       // two swaps
  CHECK(edit_distance("kitten", "sitting") == 3);  // k->s, e->i, +g
}

TEST_CASE("nearest name skips candidates whose length alone puts them too far") {
  std::vector<std::string> names = {"h100-sxm", "h200"};
  // 9 characters: within 9/3 = 3 edits; "h200" is 5 shorter, "h100-sxm" one shorter and 1 edit.
  CHECK(nearest_name("h100-sxm5", names) == "h100-sxm");
  CHECK_FALSE(nearest_name(std::string(10000, 'h'), names).has_value());
}

TEST_CASE("nearest name suggests plausible typos only") {
  std::vector<std::string> names = {"llama-3-8b", "llama-3-70b", "deepseek-v2", "deepseek-v3", "h100-sxm"};
  CHECK(nearest_name("llama3-8b", names) == "llama-3-8b");
  CHECK(nearest_name("deepseek-v4", names) == "deepseek-v2");
  CHECK(nearest_name("h100", names) == "h100-sxm");
  CHECK_FALSE(nearest_name("gpt-4", names).has_value());
}

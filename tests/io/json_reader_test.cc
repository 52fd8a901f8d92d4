#include "io/json_reader.h"

#include <doctest/doctest.h>

#include "core/error.h"
#include "temp_dir.h"

using namespace kvplan;
using kvplan::testing::TempDir;

TEST_CASE("JSON values keep their types and their path") {
  ConfigNode root = io::read_json(R"({"a": 1, "b": [2.5, {"c": null}], "d": "x", "e": true, "f": 18446744073709551615})",
                                  "config.json");
  CHECK(std::get<std::int64_t>(root.find("a")->value) == 1);
  const ConfigNode::List& list = *root.find("b")->as_list();
  CHECK(std::get<double>(list[0].value) == 2.5);
  CHECK(list[1].find("c")->is_null());
  CHECK(list[1].find("c")->where == "config.json: b[1]");  // the map holding c
  CHECK(*root.find("d")->as_string() == "x");
  CHECK(std::get<bool>(root.find("e")->value));
  CHECK(std::holds_alternative<double>(root.find("f")->value));  // beyond int64: not wrapped
  CHECK(root.find("a")->where == "config.json");
}

TEST_CASE("malformed, truncated and duplicate-key JSON are errors naming the file") {
  CHECK_THROWS_WITH_AS(io::read_json("{\"a\": 1,\n \"b\": }", "config.json"),
                       doctest::Contains("config.json: malformed JSON at line 2"), Error);
  CHECK_THROWS_WITH_AS(io::read_json("{\"num_hidden_layers\": 3", "config.json"),
                       doctest::Contains("config.json: malformed JSON"), Error);
  CHECK_THROWS_WITH_AS(io::read_json("", "config.json"), doctest::Contains("config.json: malformed JSON"), Error);
  CHECK_THROWS_WITH_AS(io::read_json(R"({"a": {"b": 1, "b": 2}})", "config.json"),
                       "config.json: duplicate key 'b' in a; each field may appear once", Error);
}

TEST_CASE("reading files: missing, a directory") {
  TempDir dir;
  CHECK_THROWS_WITH_AS(io::read_text_file((dir.path() / "none.json").string(), "--config"),
                       doctest::Contains("--config: cannot open"), Error);
  CHECK_THROWS_WITH_AS(io::read_text_file(dir.path().string(), "--config"), doctest::Contains("is a directory"), Error);
  CHECK(io::read_text_file(dir.write("x.json", "{}").string(), "--config") == "{}");
}

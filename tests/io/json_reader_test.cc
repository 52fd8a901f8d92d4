#include "io/json_reader.h"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>

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

TEST_CASE("Python's NaN, Infinity and -Infinity: read as json.loads reads them, whole tokens outside strings") {
  // Nemotron-H's configs write "time_step_limit": [0.0, Infinity] (json.dump's allow_nan).
  ConfigNode root = io::read_json(R"({"a": [0.0, Infinity, -Infinity, NaN, 7], "s": "NaN Infinity", "n": 1.5})",
                                  "config.json");
  const ConfigNode::List& list = *root.find("a")->as_list();
  CHECK(std::get<double>(list[0].value) == 0.0);
  CHECK(std::get<double>(list[1].value) == std::numeric_limits<double>::infinity());
  CHECK(std::get<double>(list[2].value) == -std::numeric_limits<double>::infinity());
  CHECK(std::isnan(std::get<double>(list[3].value)));
  CHECK(std::get<std::int64_t>(list[4].value) == 7);
  CHECK(list[1].describe() == "Infinity");
  CHECK(list[2].describe() == "-Infinity");
  CHECK(list[3].describe() == "NaN");
  CHECK(*root.find("s")->as_string() == "NaN Infinity");  // inside a string: text
  CHECK(std::get<double>(root.find("n")->value) == 1.5);
  // A string with an escaped quote before a literal: the literal is still outside the string.
  ConfigNode escaped = io::read_json(R"({"k\"": -Infinity})", "config.json");
  CHECK(std::get<double>(escaped.find("k\"")->value) == -std::numeric_limits<double>::infinity());
  // json.loads refuses these spellings, and so does kvplan; the column still points at the token.
  for (const char* bad : {R"({"a": nan})", R"({"a": +Infinity})", R"({"a": NaNx})", R"({"a": -NaN})", R"({"a": inf})"}) {
    CHECK_THROWS_WITH_AS(io::read_json(bad, "config.json"), doctest::Contains("config.json: malformed JSON"), Error);
  }
  // The stand-in is as long as the literal: a later syntax error is reported where it is in the file.
  const auto message = [](const char* text) {
    try {
      io::read_json(text, "config.json");
    } catch (const Error& error) {
      return std::string(error.what());
    }
    return std::string();
  };
  CHECK(message("{\"a\": NaN, \"b\": }") == message("{\"a\": 1.0, \"b\": }"));
  CHECK(message("{\"a\": -Infinity, \"b\": }") == message("{\"a\": 123456789, \"b\": }"));
}

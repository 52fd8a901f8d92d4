#include "io/yaml_reader.h"

#include <doctest/doctest.h>

#include <cmath>

#include "core/error.h"

using namespace kvplan;

TEST_CASE("plain scalars get YAML 1.2 core types - quoted ones stay strings") {
  ConfigNode root = io::read_yaml("a: 12\nb: -3\nc: 1.5\nd: true\ne: null\nf: ~\ng: '12'\nh: text\ni: 2e9\nj: inf\n",
                                  "x.yaml");
  CHECK(std::get<std::int64_t>(root.find("a")->value) == 12);
  CHECK(std::get<std::int64_t>(root.find("b")->value) == -3);
  CHECK(std::get<double>(root.find("c")->value) == 1.5);
  CHECK(std::get<bool>(root.find("d")->value));
  CHECK(root.find("e")->is_null());
  CHECK(root.find("f")->is_null());
  CHECK(*root.find("g")->as_string() == "12");
  CHECK(*root.find("h")->as_string() == "text");
  CHECK(std::get<double>(root.find("i")->value) == 2e9);
  CHECK(*root.find("j")->as_string() == "inf");  // YAML's infinity is .inf
}

TEST_CASE("every node knows its file and line") {
  ConfigNode root = io::read_yaml("name: x\nconfig:\n  num_hidden_layers: 32\n", "presets/models/x.yaml");
  CHECK(root.find("config")->find("num_hidden_layers")->where == "presets/models/x.yaml:3");
}

TEST_CASE("syntax errors, duplicate keys and empty documents name file and line") {
  CHECK_THROWS_WITH_AS(io::read_yaml("a: [1, 2\n", "bad.yaml"), doctest::Contains("bad.yaml:"), Error);
  CHECK_THROWS_WITH_AS(io::read_yaml("a: 1\nb: 2\na: 3\n", "dup.yaml"),
                       "dup.yaml:3: duplicate key 'a'; each field may appear once", Error);
  CHECK_THROWS_WITH_AS(io::read_yaml("", "empty.yaml"), "empty.yaml: empty YAML document", Error);
  CHECK_THROWS_WITH_AS(io::read_yaml("# only a comment\n", "empty.yaml"), "empty.yaml: empty YAML document", Error);
}

TEST_CASE("huge integers do not wrap") {
  ConfigNode root = io::read_yaml("a: 99999999999999999999\n", "x.yaml");
  CHECK(std::holds_alternative<double>(root.find("a")->value));
}

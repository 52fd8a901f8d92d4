// Python's json module writes NaN, Infinity and -Infinity for non-finite floats (json.dump's
// allow_nan, on by default) and json.loads reads them back, so Hugging Face configs carry them
// (Nemotron-H's "time_step_limit": [0.0, Infinity]) and transformers loads those configs.
// nlohmann refuses them; this pass lets read_json accept them where json.loads does.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace kvplan::io {

// One of Python's literals, found at the `number_index`-th number token of the text (counting
// from 0 over every number, the literals included), in order.
struct PythonLiteral {
  std::size_t number_index = 0;
  double value = 0;
  std::string_view written;  // "NaN", "Infinity" or "-Infinity"
};

struct LiteralFreeJson {
  std::string text;  // the input with each literal replaced by a finite number of the same length
  std::vector<PythonLiteral> literals;
};

// Replaces NaN, Infinity and -Infinity where json.loads reads them: as whole tokens outside
// strings ("NaNx", "+Infinity", "nan" and "Infinity" inside a string stay as they are, and the
// JSON parser refuses the first three). Each stand-in is as long as the literal, so the parser's
// line and column numbers still point into the file; a parser that counts number tokens in text
// order puts each literal back by its number_index.
LiteralFreeJson replace_python_literals(std::string_view text);

}  // namespace kvplan::io

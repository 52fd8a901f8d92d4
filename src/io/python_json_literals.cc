#include "io/python_json_literals.h"

#include <cctype>
#include <limits>

namespace kvplan::io {
namespace {

// Characters of a bare token: literals (true, NaN) and numbers (-1.5e+3). JSON separates values
// by , : [ ] { } or whitespace, none of which is here, so in valid JSON every number is a whole
// run of these and every run that starts with a digit or '-' is exactly one number.
bool token_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.' || c == '+' || c == '-';
}

struct Literal {
  std::string_view written;
  double value;
  std::string_view stand_in;  // a finite number as long as `written`
};

constexpr Literal kLiterals[] = {
    {"NaN", std::numeric_limits<double>::quiet_NaN(), "0.0"},
    {"Infinity", std::numeric_limits<double>::infinity(), "0.000000"},
    {"-Infinity", -std::numeric_limits<double>::infinity(), "-0.000000"},
};

}  // namespace

LiteralFreeJson replace_python_literals(std::string_view text) {
  LiteralFreeJson result{std::string(text), {}};
  std::size_t numbers = 0;
  std::size_t at = 0;
  while (at < text.size()) {
    if (text[at] == '"') {  // a string or key: skip to its closing quote, past escaped quotes
      for (++at; at < text.size() && text[at] != '"'; ++at) {
        if (text[at] == '\\') ++at;
      }
      ++at;
      continue;
    }
    if (!token_char(text[at])) {
      ++at;
      continue;
    }
    std::size_t end = at;
    while (end < text.size() && token_char(text[end])) ++end;
    const std::string_view token = text.substr(at, end - at);
    bool literal = false;
    for (const Literal& known : kLiterals) {
      if (token != known.written) continue;
      result.text.replace(at, token.size(), known.stand_in);
      result.literals.push_back({numbers++, known.value, known.written});
      literal = true;
    }
    if (!literal && (std::isdigit(static_cast<unsigned char>(token.front())) != 0 || token.front() == '-')) ++numbers;
    at = end;
  }
  return result;
}

}  // namespace kvplan::io

#include "core/units.h"

#include <doctest/doctest.h>

#include "core/checked.h"
#include "core/error.h"

using namespace kvplan;

TEST_CASE("context sizes parse with binary suffixes, as engines mean 128k") {
  CHECK(parse_tokens("4096", "--ctx").value == 4096);
  CHECK(parse_tokens("128k", "--ctx").value == 128 * 1024);
  CHECK(parse_tokens("32K", "--ctx").value == 32 * 1024);
  CHECK(parse_tokens("1M", "--ctx").value == 1024 * 1024);
  CHECK(parse_tokens("1m", "--ctx").value == 1048576);
}

TEST_CASE("malformed context sizes are bad input naming the flag") {
  for (const char* text : {"12q", "0", "-5", "", "k", "1.5k", "12 k", "0x10", "99999999999999999999",
                           "18014398509481984M"}) {
    CAPTURE(text);
    try {
      parse_tokens(text, "--ctx");
      FAIL("accepted");
    } catch (const Error& e) {
      CHECK(e.code() == ExitCode::bad_input);
      CHECK(std::string(e.what()).rfind("--ctx", 0) == 0);
    }
  }
}

TEST_CASE("memory sizes keep GB (10^9) and GiB (2^30) apart") {
  CHECK(parse_bytes("80GB", "--mem").value == 80'000'000'000ull);
  CHECK(parse_bytes("80GiB", "--mem").value == 80ull * 1024 * 1024 * 1024);
  CHECK(parse_bytes("512MiB", "--mem").value == 512ull << 20);
  CHECK(parse_bytes("1TB", "--mem").value == 1'000'000'000'000ull);
  CHECK(parse_bytes("1073741824", "--mem").value == 1073741824ull);
  // 79.19 GiB is how vLLM logs an H100's total:
  // 79 * 2^30 + 0.19 * 2^30 = 84825604096 + 204010946.56 = 85029615042.56, rounded up.
  CHECK(parse_bytes("79.19GiB", "--mem").value == 85029615043ull);
  CHECK(parse_bytes("0GB", "--mem").value == 0);
}

TEST_CASE("ambiguous or malformed memory sizes are refused") {
  CHECK_THROWS_WITH_AS(parse_bytes("80G", "--mem"), doctest::Contains("ambiguous"), Error);
  CHECK_THROWS_WITH_AS(parse_bytes("80 parsecs", "--mem"), doctest::Contains("unknown unit"), Error);
  CHECK_THROWS_AS(parse_bytes("-1GB", "--mem"), Error);
  CHECK_THROWS_AS(parse_bytes("1..5GB", "--mem"), Error);
  CHECK_THROWS_AS(parse_bytes("99999999999TiB", "--mem"), Error);
}

TEST_CASE("counts are positive whole numbers") {
  CHECK(parse_count("64", "--batch") == 64);
  CHECK_THROWS_AS(parse_count("0", "--batch"), Error);
  CHECK_THROWS_AS(parse_count("8x", "--batch"), Error);
  CHECK_THROWS_AS(parse_count("-1", "--batch"), Error);
}

TEST_CASE("checked arithmetic refuses to wrap") {
  CHECK(checked_mul(1ull << 31, 1ull << 32, "x") == 1ull << 63);
  CHECK_THROWS_AS(checked_mul(1ull << 32, 1ull << 32, "x"), Error);
  CHECK_THROWS_AS(checked_add(~0ull, 1, "x"), Error);
  CHECK(ceil_div(7, 2) == 4);
  CHECK(ceil_div(8, 2) == 4);
}

TEST_CASE("unit systems") {
  CHECK(parse_unit_system("iec") == UnitSystem::iec);
  CHECK(parse_unit_system("si") == UnitSystem::si);
  CHECK_THROWS_AS(parse_unit_system("gib"), Error);
}

// `kvplan disagg`: the must-show plan (DeepSeek-V3, 8k in, 1k out, H200 TP 8 -> TP 8 over
// 400 Gb/s InfiniBand) in the table, with --explain, in JSON and in CSV, and a GQA model whose
// K/V heads regroup from prefill TP 8 to decode TP 2. The arithmetic is written out here.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "cli/cli_runner.h"

using namespace kvplan::testing;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// The latent: (512 + 64) x 2 B = 1152 B per token per layer on every rank; 8192 / 16 = 512
// FLASH_ATTN_MLA blocks x 16 x 1152 x 61 layers = 575,668,224 B = 549 MiB per decode rank; 8 decode
// ranks read a full copy each: 4,605,345,792 B = 4.29 GiB on the wire, 7 x 549 MiB = 3.75 GiB
// more than one copy. Over 50e9 B/s: 575668224 / 50e9 = 11.51 ms, 86.9 requests/s.
std::vector<std::string> deepseek_v3(std::vector<std::string> extra) {
  std::vector<std::string> args = {"disagg", "--model", "deepseek-v3", "--isl", "8k", "--osl", "1k",
                                   "--prefill", "h200:8", "--decode", "h200:8:tp8", "--link", "ib-400g"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

}  // namespace

TEST_CASE("disagg prints the KV bytes per request, the transfer time and the P:D ratio") {
  const CliResult result = run_cli(deepseek_v3({}));
  REQUIRE(result.exit_code == 0);
  CHECK(result.err.empty());
  CHECK(contains(result.out, "KV per request, each decode rank receives: 549.00 MiB"));
  CHECK(contains(result.out, "4.29 GiB (3.75 GiB more than one copy of 549.00 MiB)"));
  CHECK(contains(result.out, "11.51 ms over ib-400g (50 GB/s per direction)"));
  CHECK(contains(result.out, "requests/s one link sustains:              86.9"));
  CHECK(contains(result.out, "P:D GPU ratio:"));
  CHECK(contains(result.out, "prefill GPUs per decode GPU"));
  CHECK(contains(result.out, "each of the 8 decode ranks reads a full copy"));
  // The default sweep: 1k ... 128k (128k + 1k <= 163840 tokens), 256k would pass the context.
  CHECK(contains(result.out, "\n  1024 "));
  CHECK(contains(result.out, "\n131072 "));
  CHECK_FALSE(contains(result.out, "262144"));
}

TEST_CASE("disagg --explain substitutes the values") {
  const CliResult result = run_cli(deepseek_v3({"--explain"}));
  REQUIRE(result.exit_code == 0);
  CHECK(contains(result.out, "blocks = ceil(ISL 8192 / prefill block 16) = 512"));
  CHECK(contains(result.out, "per decode rank = 512 blocks x 16 tokens x 1152 B per token per layer on the rank x 61 layers = "
                             "575668224 B"));
  CHECK(contains(result.out, "on the wire = 575668224 B x decode TP 8 = 4605345792 B; one copy = 575668224 B x 1 distinct "
                             "share = 575668224 B; extra = 4029677568 B"));
  // N = 37e9 - 129280 x 7168 x 2 = 35146641920; attention 61 x 128 x (192 + 128) = 2498560 per token^2.
  CHECK(contains(result.out, "2 x N 35146641920 (active 37000000000 - embedding and head 1853358080) x 8192"));
  CHECK(contains(result.out, "attention 2.49856e+06 x 8192^2"));
}

TEST_CASE("disagg in JSON and CSV carries every number of every ISL") {
  const CliResult json = run_cli(deepseek_v3({"--format", "json", "--isl-sweep", "1k,8k"}));
  REQUIRE(json.exit_code == 0);
  const nlohmann::json document = nlohmann::json::parse(json.out);
  CHECK(document["kv_per_decode_rank_bytes"] == 575668224);
  CHECK(document["kv_on_wire_bytes"] == 4605345792ull);
  REQUIRE(document["rows"].size() == 2);
  const nlohmann::json& row = document["rows"][1];
  CHECK(row["isl_tokens"] == 8192);
  CHECK(row["osl_tokens"] == 1024);
  CHECK(row["kv_one_copy_bytes"] == 575668224);
  CHECK(row["kv_extra_on_wire_bytes"] == 4029677568ull);
  CHECK(row["transfer_s"].get<double>() == doctest::Approx(575668224.0 / 50e9));
  // 1k: 64 blocks x 16 x 1152 x 61 = 71,958,528 B per decode rank.
  CHECK(document["rows"][0]["kv_per_decode_rank_bytes"] == 71958528);

  const CliResult csv = run_cli(deepseek_v3({"--format", "csv", "--isl-sweep", "8k"}));
  REQUIRE(csv.exit_code == 0);
  CHECK(contains(csv.out, "isl_tokens,kv_per_decode_rank_bytes,kv_per_prefill_rank_bytes,kv_on_wire_bytes,transfer_s,"));
  CHECK(contains(csv.out, "\n8192,575668224,575668224,4605345792,0.01151336448,"));
  CHECK(line_count(csv.out) == 2);
}

TEST_CASE("disagg, llama-3.1-70b prefill TP 8 -> decode TP 2: each decode rank gathers 4 heads from 4 prefill ranks") {
  // 4 heads x K and V x 128 x 2 B = 2048 B per token per layer; 4096 / 16 = 256 blocks x 16 x 2048 x
  // 80 layers = 671,088,640 B per decode rank; the wire carries the KV once, 1,342,177,280 B; each of
  // the 8 prefill ranks sends 167,772,160 B.
  const CliResult result = run_cli({"disagg", "--model", "llama-3.1-70b", "--isl", "4k", "--osl", "512", "--prefill",
                                    "h200:8", "--decode", "h200:2", "--link", "nvlink", "--format", "json",
                                    "--isl-sweep", "4k"});
  REQUIRE(result.exit_code == 0);
  const nlohmann::json document = nlohmann::json::parse(result.out);
  CHECK(document["kv_per_decode_rank_bytes"] == 671088640);
  CHECK(document["kv_per_prefill_rank_bytes"] == 167772160);
  CHECK(document["kv_on_wire_bytes"] == 1342177280);
  CHECK(document["rows"][0]["kv_extra_on_wire_bytes"] == 0);
  // The receiving end is slower: 671088640 B / 450e9 B/s.
  CHECK(document["transfer_s"].get<double>() == doctest::Approx(671088640.0 / 450e9));
  bool regroup_note = false;
  for (const auto& note : document["notes"]) {
    regroup_note = regroup_note || contains(note.get<std::string>(), "each decode rank gathers its 4 heads from 4 prefill ranks");
  }
  CHECK(regroup_note);
}

TEST_CASE("disagg --help teaches the model") {
  const CliResult result = run_cli({"disagg", "--help"});
  CHECK(result.exit_code == 0);
  CHECK(contains(result.out, "MLA keeps the whole latent on"));
  CHECK(contains(result.out, "ib-400g 50 GB/s (400 Gb/s)"));
}

// `kvplan report`: the folder, determinism, the committed example, and bad input.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "cli/cli_runner.h"
#include "report/xml_check.h"
#include "temp_dir.h"

using namespace kvplan::testing;
namespace fs = std::filesystem;

namespace {
bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }
const std::vector<std::string> kSmall = {"report", "--models", "llama-3-70b,deepseek-v2", "--gpus", "h100-sxm:8",
                                         "--ctx", "32k,128k", "--kv-dtypes", "bf16,fp8"};
std::vector<std::string> with(std::vector<std::string> args, const std::vector<std::string>& more) {
  args.insert(args.end(), more.begin(), more.end());
  return args;
}
std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}
}  // namespace

TEST_CASE("report --out writes Markdown, CSV, JSON and well-formed SVG charts") {
  TempDir dir;
  CliResult result = run_cli(with(kSmall, {"--out", (dir.path() / "r").string()}));
  CHECK(result.exit_code == 0);
  CHECK(names_in(dir.path()) == std::vector<std::string>{"r"});  // no temporary folder left behind
  CHECK(names_in(dir.path() / "r") ==
        std::vector<std::string>{"cache_deepseek-v2.svg", "cache_llama-3-70b.svg", "concurrency_deepseek-v2.svg",
                                 "concurrency_llama-3-70b.svg", "report.csv", "report.json", "report.md"});
  for (const auto& entry : fs::directory_iterator(dir.path() / "r")) {
    if (entry.path().extension() == ".svg") {
      CAPTURE(entry.path().string());
      CHECK(xml_problem(read_file(entry.path().string())) == "");
    }
  }
  std::string md = read_file((dir.path() / "r" / "report.md").string());
  // Summary first: Llama-3-70B's native GQA-8 holds 4096 B x 80 layers = 320 KiB per token in bf16.
  CHECK(md.find("## Summary") < md.find("## Details"));
  CHECK(contains(md, "| gqa:8 (native) | bf16 | 320.00 KiB | 8.00x |"));
  // DeepSeek-V2: MLA 1152 B x 60 layers = 67.50 KiB per token, 65536 / 1152 = 56.89x smaller than MHA.
  CHECK(contains(md, "| mla:512:64 (native) | bf16 | 67.50 KiB | 56.89x |"));
  CHECK(contains(md, "![KV cache per sequence against context, deepseek-v2](cache_deepseek-v2.svg)"));
  // The CSV holds the same rows as the Details table: 2 models x 4 variants x 2 dtypes x 2 contexts.
  CHECK(line_count(read_file((dir.path() / "r" / "report.csv").string())) == 1 + 2 * 4 * 2 * 2);
}

TEST_CASE("report output is deterministic, and replacing a folder is clean") {
  TempDir dir;
  REQUIRE(run_cli(with(kSmall, {"--out", (dir.path() / "a").string()})).exit_code == 0);
  REQUIRE(run_cli(with(kSmall, {"--out", (dir.path() / "b").string()})).exit_code == 0);
  REQUIRE(run_cli(with(kSmall, {"--out", (dir.path() / "b").string()})).exit_code == 0);  // over an existing one
  for (const std::string& name : names_in(dir.path() / "a")) {
    CAPTURE(name);
    CHECK(read_file((dir.path() / "a" / name).string()) == read_file((dir.path() / "b" / name).string()));
  }
  CHECK(names_in(dir.path()) == std::vector<std::string>{"a", "b"});
}

TEST_CASE("report without --out prints one file for $GITHUB_STEP_SUMMARY") {
  TempDir dir;
  REQUIRE(run_cli(with(kSmall, {"--out", (dir.path() / "r").string()})).exit_code == 0);
  CliResult md = run_cli(kSmall);
  CHECK(md.exit_code == 0);
  CHECK(md.out == read_file((dir.path() / "r" / "report.md").string()));
  CliResult csv = run_cli(with(kSmall, {"--format", "csv"}));
  CHECK(csv.out == read_file((dir.path() / "r" / "report.csv").string()));
}

TEST_CASE("report --bench charts measured time beside the floor") {
  TempDir dir;
  fs::path bench = dir.write("bench.json", R"({"command": "bench", "device": "NVIDIA H100 80GB HBM3", "rows": [
    {"impl": "kvplan", "model": "llama-3-8b", "variant": "gqa:8", "kv_dtype": "bf16", "batch": 1,
     "ctx_tokens": 131072, "kv_bytes": 536870912, "floor_s": 0.000179, "time_median_s": 0.000215, "check": "pass"},
    {"impl": "torch-sdpa-flash", "model": "llama-3-8b", "variant": "gqa:8", "kv_dtype": "bf16", "batch": 1,
     "ctx_tokens": 131072, "floor_s": 0.000179, "time_median_s": null}]})");
  CliResult result = run_cli(with(kSmall, {"--bench", bench.string(), "--out", (dir.path() / "r").string()}));
  CHECK(result.exit_code == 0);
  std::string md = read_file((dir.path() / "r" / "report.md").string());
  CHECK(contains(md, "## Measured on NVIDIA H100 80GB HBM3"));
  CHECK(contains(md, "| 179.0 us | 215.0 us | 83% |"));  // 179 / 215
  CHECK(contains(md, "| not measured | - |"));
  CHECK(xml_problem(read_file((dir.path() / "r" / "bench.svg").string())) == "");
}

TEST_CASE("report --disagg-prefill/--disagg-decode adds the P:D section, its chart and JSON rows") {
  TempDir dir;
  CliResult result = run_cli({"report", "--models", "deepseek-v3,llama-3.1-70b,gemma-2-27b", "--gpus", "h200:8", "--ctx", "32k",
                              "--kv-dtypes", "bf16", "--variants", "native", "--disagg-prefill", "h200:8",
                              "--disagg-decode", "h200:8:tp8", "--out", (dir.path() / "r").string()});
  REQUIRE(result.exit_code == 0);
  std::string md = read_file((dir.path() / "r" / "report.md").string());
  CHECK(contains(md, "## Disaggregated prefill/decode"));
  CHECK(contains(md, "--disagg-prefill h200:8 --disagg-decode h200:8:tp8"));  // the command that regenerates it
  // deepseek-v3 at ISL 8k, OSL 1k (the default) over ib-400g (the default): what `kvplan disagg`
  // prints for the same pools, worked out in disagg_cli_test.cc: 512 blocks x 16 x 1152 B x 61
  // layers = 549 MiB per decode rank, 8 copies = 4.29 GiB on the wire, / 50e9 B/s = 11.51 ms.
  CHECK(contains(md, "| deepseek-v3 | 8192 | 549.00 MiB | 4.29 GiB | 11.51 ms |"));
  // llama-3.1-70b: 8 K/V heads, one per decode rank: 128 x 2 x 2 B x 80 layers = 40 KiB per token
  // per rank; 1024 tokens = 40 MiB per decode rank, 320 MiB on the wire. Its 128k row would pass
  // the model's 131072 positions with 1k of output, so the sweep stops at 64k.
  CHECK(contains(md, "| llama-3.1-70b | 1024 | 40.00 MiB | 320.00 MiB |"));
  CHECK(contains(md, "| llama-3.1-70b | 65536 |"));
  CHECK_FALSE(contains(md, "| llama-3.1-70b | 131072 |"));
  // Sliding-window layers: `kvplan disagg` refuses the model, so the section leaves it out and says why.
  CHECK(contains(md, "- left out: gemma-2-27b: --disagg-prefill: kvplan plans the transfer for models whose every "
                     "cached layer is full attention or MLA"));
  CHECK_FALSE(contains(md, "gemma-2-27b: ISL"));
  CHECK(contains(md, "![Prefill GPUs per decode GPU, h200:8 -> h200:8:tp8, OSL 1024](disagg_pd_ratio.svg)"));
  std::string svg = read_file((dir.path() / "r" / "disagg_pd_ratio.svg").string());
  CHECK(xml_problem(svg) == "");
  CHECK(contains(svg, ">llama-3.1-70b</text>"));
  nlohmann::json json = nlohmann::json::parse(read_file((dir.path() / "r" / "report.json").string()));
  CHECK(json["disagg"]["link"] == "ib-400g");
  CHECK(json["disagg"]["osl_tokens"] == 1024);
  CHECK(json["disagg"]["rows"][3]["isl_tokens"] == 8192);
  CHECK(json["disagg"]["rows"][3]["kv_per_decode_rank_bytes"] == 575668224);
}

TEST_CASE("report: the P:D options need both pools and vLLM's rules") {
  auto error = [](const std::vector<std::string>& extra) {
    CliResult result = run_cli(with(kSmall, extra));
    CHECK(result.exit_code == 2);
    CHECK(result.out.empty());
    return result.err;
  };
  CHECK(contains(error({"--disagg-prefill", "h200:8"}), "--disagg-prefill: the P:D section needs both pools"));
  CHECK(contains(error({"--disagg-osl", "2k"}), "--disagg-osl is for the P:D section"));
  CHECK(contains(error({"--disagg-prefill", "h200:8", "--disagg-decode", "h200:8", "--engine", "sglang"}),
                 "use it with --engine vllm"));
  CHECK(contains(error({"--disagg-prefill", "h200:8", "--disagg-decode", "h200:8", "--disagg-link", "pcie5"}),
                 "--disagg-link: expected nvlink, ib-400g, roce-200g"));
}

TEST_CASE("the committed example report is what the tool writes today") {
  TempDir dir;
  REQUIRE(run_cli({"report", "--out", (dir.path() / "example").string()}).exit_code == 0);
  const fs::path committed = fs::path(KVPLAN_SOURCE_DIR) / "reports" / "example";
  CHECK(names_in(dir.path() / "example") == names_in(committed));
  for (const std::string& name : names_in(committed)) {
    CAPTURE(name);  // if this fails, run scripts/make-example-report.sh and review the diff
    CHECK(read_file((dir.path() / "example" / name).string()) == read_file((committed / name).string()));
  }
}

TEST_CASE("report: bad input is one line, exit 2, and nothing half-written") {
  TempDir dir;
  fs::path out = dir.path() / "r";
  auto bad = [&](const std::vector<std::string>& extra) {
    CliResult result = run_cli(with(kSmall, extra));
    CHECK(result.exit_code == 2);
    CHECK(line_count(result.err) == 1);
    CHECK_FALSE(fs::exists(out));
    CHECK(names_in(dir.path()).size() == 0 + (fs::exists(dir.path() / "bench.json") ? 1 : 0) +
                                             (fs::exists(dir.path() / "file") ? 1 : 0));
    return result.err;
  };
  CHECK(contains(bad({"--bench", (dir.path() / "missing.json").string(), "--out", out.string()}), "cannot open"));
  dir.write("bench.json", "{\"rows\": [{\"variant\": \"mha\"}]}");
  CHECK(contains(bad({"--bench", (dir.path() / "bench.json").string(), "--out", out.string()}), "floor_s"));
  dir.write("bench.json", "{\"rows\": [");
  CHECK(contains(bad({"--bench", (dir.path() / "bench.json").string(), "--out", out.string()}), "malformed JSON"));
  dir.write("bench.json", "{\"rows\": []}");
  CHECK(contains(bad({"--bench", (dir.path() / "bench.json").string(), "--out", out.string()}), "no rows"));
  CHECK(contains(bad({"--out", (dir.path() / "no" / "such" / "r").string()}), "does not exist"));
  dir.write("file", "x");
  CHECK(contains(bad({"--out", (dir.path() / "file").string()}), "not a folder"));
  CliResult empty = run_cli({"report", "--models", ",", "--out", out.string()});
  CHECK(empty.exit_code == 2);
  CHECK(contains(empty.err, "empty item"));
  CHECK_FALSE(fs::exists(out));
  CHECK(contains(bad({"--format", "table"}), "md, csv or json"));
}

TEST_CASE("report --out: a trailing slash names the same folder") {
  TempDir dir;
  CliResult result = run_cli(with(kSmall, {"--out", (dir.path() / "r").string() + "/"}));
  CHECK(result.exit_code == 0);
  CHECK(names_in(dir.path()) == std::vector<std::string>{"r"});
  CHECK(fs::exists(dir.path() / "r" / "report.md"));
}

// What a run killed (kill -9) at each step leaves, and what the next run must make of it: the
// steps are write the staging folder, move the old report aside, move the staging folder in,
// remove the old report.
TEST_CASE("report --out recovers from the debris of a run killed at any step") {
  TempDir fresh;
  REQUIRE(run_cli(with(kSmall, {"--out", (fresh.path() / "r").string()})).exit_code == 0);
  const std::vector<std::string> files = names_in(fresh.path() / "r");
  struct Step {
    const char* name;
    bool target, staging, old;  // what exists when the run dies
  };
  for (const Step& step : {Step{"during the writes", true, true, false}, Step{"between the two renames", false, true, true},
                           Step{"before removing the old report", true, false, true},
                           Step{"during the writes of a first report", false, true, false}}) {
    CAPTURE(step.name);
    TempDir dir;
    if (step.target) fs::copy(fresh.path() / "r", dir.path() / "r", fs::copy_options::recursive);
    if (step.staging) dir.write(".r.tmp-AbC123/report.md", "half a rep");
    if (step.old) fs::copy(fresh.path() / "r", dir.path() / ".r.old-XyZ789", fs::copy_options::recursive);
    CliResult result = run_cli(with(kSmall, {"--out", (dir.path() / "r").string()}));
    CHECK(result.exit_code == 0);
    CHECK(names_in(dir.path()) == std::vector<std::string>{"r"});
    CHECK(names_in(dir.path() / "r") == files);
    CHECK(read_file((dir.path() / "r" / "report.md").string()) == read_file((fresh.path() / "r" / "report.md").string()));
  }
}

TEST_CASE("report --out: two runs racing for one folder both finish, and leave no debris") {
  TempDir dir;
  const std::string out = (dir.path() / "r").string();
  std::string command = "'" KVPLAN_BINARY "'";
  for (const std::string& arg : with(kSmall, {"--out", out})) command += " '" + arg + "'";
  const std::string status = (dir.path() / "status").string();
  for (int round = 0; round < 3; ++round) {
    const std::string race = "(" + command + " >/dev/null; echo $? >" + status + "-a) & (" + command +
                             " >/dev/null; echo $? >" + status + "-b) & wait";
    REQUIRE(std::system(race.c_str()) == 0);
    CHECK(read_file(status + "-a") == "0\n");
    CHECK(read_file(status + "-b") == "0\n");
    CHECK(names_in(dir.path()) == std::vector<std::string>{"r", "status-a", "status-b"});
    CHECK(fs::exists(dir.path() / "r" / "report.md"));
  }
}

// `kvplan sweep`: one row per combination, with failures as rows.
#include <doctest/doctest.h>

#include "cli/cli_runner.h"

using namespace kvplan::testing;

namespace {
bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }
}  // namespace

TEST_CASE("sweep: one row per model x variant x dtype x context x fleet") {
  CliResult result = run_cli({"sweep", "--models", "llama-3-70b,deepseek-v3", "--ctx", "4k,32k,128k", "--variants", "all",
                              "--kv-dtypes", "bf16,fp8", "--gpus", "h100-sxm:8,h200:8", "--format", "csv"});
  CHECK(result.exit_code == 0);
  CHECK(line_count(result.out) == 1 + 2 * 4 * 2 * 3 * 2);
  // Llama-3-70B native at 32k in bf16 on one TP-8 replica: 4096 B per token per layer,
  // 4096 x 80 x 32768 = 10 GiB per sequence.
  CHECK(contains(result.out, "llama-3-70b,gqa:8,true,bf16,32768,h100-sxm:8,8,1,1,4096," +
                                 std::to_string(4096ull * 80 * 32768) + ","));
  // DeepSeek-V3 (671B in fp8) does not fit on 8 H100s: the row says so, the sweep goes on.
  CHECK(contains(result.out, "deepseek-v3,mla:512:64,true,bf16,4096,h100-sxm:8,8,1,1,1152,"));
  CHECK(contains(result.out, "the weights do not fit"));
}

TEST_CASE("sweep: the title names the engine release the rows follow") {
  CliResult result = run_cli({"sweep", "--models", "llama-3.1-8b", "--ctx", "8k", "--gpus", "h100-sxm:1", "--engine",
                              "sglang@0.5.10"});
  CHECK(result.exit_code == 0);
  CHECK(contains(result.out, "Sweep: 1 combinations, sglang@0.5.10 accounting"));
}

TEST_CASE("sweep: combinations without a layout are rows with the reason") {
  CliResult result = run_cli({"sweep", "--models", "llama-3-8b", "--ctx", "4k", "--variants", "native,mla",
                              "--kv-dtypes", "fp8_ds_mla", "--gpus", "h100-sxm", "--format", "csv"});
  CHECK(result.exit_code == 0);
  CHECK(line_count(result.out) == 3);
  CHECK(contains(result.out, "is not MLA"));
  // The MLA counterfactual in fp8_ds_mla: 656 B per token per layer.
  CHECK(contains(result.out, "llama-3-8b,mla:512:64,false,fp8_ds_mla,4096,h100-sxm,1,1,1,656,"));
}

TEST_CASE("sweep: a model whose weights kvplan cannot size is a row with the reason, and the sweep goes on") {
  // kimi-k3's checkpoint is MXFP4 compressed-tensors, which --weights-dtype auto does not size; the
  // default sweep (--models all) stopped there with exit 2 and half a table.
  CliResult result = run_cli({"sweep", "--models", "kimi-k3,llama-3-8b", "--ctx", "4k", "--gpus", "h100-sxm",
                              "--format", "csv"});
  CHECK(result.exit_code == 0);
  CHECK(result.err.empty());
  CHECK(line_count(result.out) == 3);
  CHECK(contains(result.out, "kimi-k3,"));
  CHECK(contains(result.out, "kvplan cannot size a 4-bit float compressed-tensors scheme"));
  CHECK(contains(result.out, "llama-3-8b,gqa:8,true,bf16,4096,h100-sxm,1,1,1,4096,"));
  // With a --weights-dtype the model is planned like any other.
  CliResult given = run_cli({"sweep", "--models", "kimi-k3", "--ctx", "4k", "--gpus", "h200:8", "--weights-dtype",
                             "int4", "--format", "csv"});
  CHECK(given.exit_code == 0);
  CHECK_FALSE(contains(given.out, "cannot size"));
}

TEST_CASE("sweep: fleets with explicit TP and PP") {
  CliResult result = run_cli({"sweep", "--models", "llama-3.1-405b", "--ctx", "8k", "--gpus", "h100-sxm:16:tp8:pp2",
                              "--format", "csv"});
  CHECK(result.exit_code == 0);
  CHECK(contains(result.out, ",h100-sxm:16:tp8:pp2,8,2,1,"));
  CHECK(contains(result.out, ",ok\r\n"));
}

TEST_CASE("sweep: bad lists are exit 2 with one line") {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"sweep", "--models", "llama-3-8b,nope"}, {"sweep", "--gpus", "h100-sxm:3:tp2"},
        {"sweep", "--gpus", "h100-sxm:8:xx"}, {"sweep", "--ctx", "4k,,8k"}, {"sweep", "--kv-dtypes", "fp8,fp7"},
        {"sweep", "--engine", "tgi"}, {"sweep", "--variants", "gqa:x"}}) {
    CAPTURE(args[1] + " " + args[2]);
    CliResult result = run_cli(args);
    CHECK(result.exit_code == 2);
    CHECK(line_count(result.err) == 1);
  }
}

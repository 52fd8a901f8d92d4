// Every class of bad input: exit code 2 and one line on stderr that names what was wrong.
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <sstream>

#include "cli/cli_runner.h"
#include "cli/run.h"
#include "temp_dir.h"

using namespace kvplan::testing;

namespace {

// Runs kvplan in-process and checks the error contract; returns the message.
std::string bad_input(const std::vector<std::string>& args) {
  CliResult result = run_cli(args);
  CHECK(result.exit_code == 2);
  CHECK(result.out.empty());
  CHECK(line_count(result.err) == 1);
  CHECK(result.err.rfind("kvplan: error: ", 0) == 0);
  return result.err;
}

}  // namespace

TEST_CASE("unknown model, with a did-you-mean") {
  CHECK(bad_input({"size", "--model", "llama3-70b", "--ctx", "8k"}) ==
        "kvplan: error: unknown model 'llama3-70b'; did you mean 'llama-3-70b'? ('kvplan models' lists them; "
        "--presets DIR adds your own)\n");
  CHECK(bad_input({"show", "--gpu", "h1OO"}).find("did you mean 'h100-sxm'?") != std::string::npos);
}

TEST_CASE("malformed context sizes") {
  CHECK(bad_input({"size", "--model", "llama-3-8b", "--ctx", "12q"}) ==
        "kvplan: error: --ctx: expected a whole number of tokens such as 4096, 32k or 1M, got '12q' "
        "(suffixes: k = 1024, M = 1048576)\n");
  CHECK(bad_input({"size", "--model", "llama-3-8b", "--ctx", "0"}).find("at least 1 token") != std::string::npos);
  CHECK(bad_input({"size", "--model", "llama-3-8b", "--ctx", "-5"}).find("--ctx") != std::string::npos);
  CHECK(bad_input({"size", "--model", "llama-3-8b", "--ctx", "99999999999999999999"}).find("too large") !=
        std::string::npos);
}

TEST_CASE("sizes that overflow 64 bits in ctx x layers x bytes x batch") {
  CHECK(bad_input({"size", "--model", "deepseek-v2", "--ctx", "10M", "--batch", "1000000", "--variant", "mha"})
            .find("does not fit in 64 bits") != std::string::npos);
}

TEST_CASE("GQA groups that do not divide the heads") {
  CHECK(bad_input({"size", "--model", "llama-3-70b", "--variant", "gqa:7"}) ==
        "kvplan: error: --variant gqa:7: G must divide num_attention_heads (64); valid G: 1, 2, 4, 8, 16, 32, 64\n");
}

TEST_CASE("a variant that makes no sense for the shape") {
  // Llama-3-8B's MHA caches 2 * 32 * 128 = 8192 scalars; a latent that large saves nothing.
  CHECK(bad_input({"size", "--model", "llama-3-8b", "--variant", "mla:8192"}).find("not smaller than MHA") !=
        std::string::npos);
  CHECK(bad_input({"size", "--model", "llama-3-8b", "--variant", "gqa:x"}).find("--variant") != std::string::npos);
  CHECK(bad_input({"size", "--model", "llama-3-8b", "--variant", "flash"}).find("unknown variant 'flash'") !=
        std::string::npos);
}

TEST_CASE("a dtype not defined for the variant") {
  CHECK(bad_input({"size", "--model", "llama-3-8b", "--variant", "native", "--kv-dtype", "fp8_ds_mla"})
            .find("not MLA") != std::string::npos);
  CHECK(bad_input({"size", "--model", "llama-3-8b", "--kv-dtype", "bf16", "--kv-scales", "per-token-head"})
            .find("quantized cache") != std::string::npos);
  CHECK(bad_input({"size", "--model", "llama-3-8b", "--kv-dtype", "fp7"}).find("unknown cache dtype 'fp7'") !=
        std::string::npos);
  CHECK(bad_input({"size", "--model", "llama-3-8b", "--kv-scales", "per-row"}).find("--kv-scales") !=
        std::string::npos);
}

TEST_CASE("--mtp on a model without MTP layers") {
  CHECK(bad_input({"size", "--model", "kimi-k2", "--mtp"}).find("no MTP layers") != std::string::npos);
}

TEST_CASE("malformed or incomplete YAML presets name file and line") {
  TempDir dir;
  dir.write("syntax.yaml", "name: syntax\nsource: x\nconfig: [unclosed\n");
  std::string syntax = bad_input({"size", "--presets", dir.path().string(), "--model", "syntax"});
  CHECK(syntax.find((dir.path() / "syntax.yaml").string() + ":") != std::string::npos);
  CHECK(syntax.find("YAML syntax error") != std::string::npos);

  TempDir other;
  other.write("incomplete.yaml", "name: incomplete\nsource: x\nconfig:\n  model_type: llama\n  num_attention_heads: 8\n");
  CHECK(bad_input({"size", "--presets", other.path().string(), "--model", "incomplete"}) ==
        "kvplan: error: " + (other.path() / "incomplete.yaml").string() +
            ":4: config needs num_hidden_layers (a positive integer)\n");
  CHECK(bad_input({"size", "--presets", (other.path() / "nowhere").string(), "--model", "x"})
            .find("not a directory") != std::string::npos);
}

TEST_CASE("unknown flags, subcommands, and missing or malformed options") {
  CHECK(bad_input({"size", "--model", "llama-3-8b", "--frobnicate"}).find("--frobnicate") != std::string::npos);
  CHECK(bad_input({"frobnicate"}).find("frobnicate") != std::string::npos);
  CHECK(bad_input({}).find("subcommand") != std::string::npos);
  CHECK(bad_input({"size"}).find("--model is required") != std::string::npos);
  CHECK(bad_input({"size", "--model"}).find("--model") != std::string::npos);
  CHECK(bad_input({"size", "--model", "llama-3-8b", "--format", "xml"}).find("--format") != std::string::npos);
  CHECK(bad_input({"size", "--model", "llama-3-8b", "--units", "gib"}).find("--units") != std::string::npos);
  CHECK(bad_input({"size", "--model", "llama-3-8b", "--batch", "0"}).find("--batch") != std::string::npos);
  CHECK(bad_input({"show"}).find("exactly one of --model NAME or --gpu NAME") != std::string::npos);
}

TEST_CASE("the binary itself returns 2 with one line") {
  CliResult result = run_binary({"size", "--model", "llama-3-8b", "--ctx", "12q"});
  CHECK(result.exit_code == 2);
  CHECK(line_count(result.err) == 1);
  CHECK(result.out.empty());
}

TEST_CASE("unknown preset fields: a warning, not a failure") {
  TempDir dir;
  dir.write("tiny.yaml", "name: tiny\nsource: https://example.com\ncolour: blue\nconfig:\n  model_type: llama\n"
                         "  num_hidden_layers: 2\n  num_attention_heads: 4\n  hidden_size: 256\n");
  CliResult result = run_cli({"size", "--presets", dir.path().string(), "--model", "tiny", "--ctx", "1k"});
  CHECK(result.exit_code == 0);
  CHECK(line_count(result.err) == 1);
  CHECK(result.err.find("kvplan: warning: ") == 0);
  CHECK(result.err.find("tiny.yaml:3: unknown field 'colour' ignored") != std::string::npos);
}

TEST_CASE("a standard output that cannot be written: exit 2, one line naming it") {
  std::ostream broken(nullptr);  // every write fails, as on a full disk
  std::ostringstream err;
  const char* argv[] = {"kvplan", "size", "--model", "llama-3-8b"};
  CHECK(kvplan::cli::run(4, argv, broken, err) == 2);
  CHECK(line_count(err.str()) == 1);
  CHECK(err.str().find("cannot write standard output") != std::string::npos);

  TempDir dir;
  const std::string errors = (dir.path() / "err").string();
  const std::string command = "'" KVPLAN_BINARY "' size --model llama-3-8b >/dev/full 2>'" + errors + "'";
  const int status = std::system(command.c_str());
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 2);
  CHECK(line_count(read_file(errors)) == 1);
  CHECK(read_file(errors).find("cannot write standard output") != std::string::npos);
}

TEST_CASE("control characters in a name reach table and Markdown output escaped") {
  TempDir dir;
  // The model is named after its folder, as Hugging Face checkouts are laid out.
  const auto config = dir.write("evil\x1b[31m/config.json",
                                "{\"model_type\": \"llama\", \"num_hidden_layers\": 2, \"num_attention_heads\": 8, "
                                "\"hidden_size\": 1024, \"intermediate_size\": 100, \"vocab_size\": 100}");
  for (const char* format : {"table", "md"}) {
    CAPTURE(format);
    CliResult result = run_cli({"size", "--config", config.string(), "--ctx", "4k", "--format", format});
    CHECK(result.exit_code == 0);
    CHECK(result.out.find('\x1b') == std::string::npos);
    CHECK(result.out.find("evil\\x1b[31m") != std::string::npos);
  }
}

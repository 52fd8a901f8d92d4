// The bad-input catalogue for speculative decoding (issue 15): fit --speculative and
// --num-speculative-tokens, with the draft's config.json. The same rules as
// bad_input_catalogue_test.cc: exit 2, one stderr line naming the flag, file or field, nothing on
// stdout, no file left behind.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "cli/bad_input_check.h"
#include "cli/cli_runner.h"
#include "temp_dir.h"

using namespace kvplan::testing;

namespace {

struct DraftCase {
  const char* what;               // the class of bad input
  std::vector<std::string> args;  // after fit --model llama-3.1-70b --gpu h100-sxm --tp 4 --ctx 32k; "{dir}" is the folder of drafts
  const char* expected;           // part of the one stderr line
};

// An EAGLE-3 draft for Llama-3.1-70B with one field replaced (`field` "" keeps them all) and
// `extra` fields added.
std::string draft_config(const std::string& field, const std::string& value, const std::string& extra = "") {
  std::vector<std::pair<std::string, std::string>> fields = {
      {"num_hidden_layers", "1"},     {"num_attention_heads", "64"}, {"num_key_value_heads", "8"},
      {"head_dim", "128"},            {"hidden_size", "8192"},       {"intermediate_size", "28672"},
      {"vocab_size", "128256"},       {"draft_vocab_size", "32000"}};
  std::string json = "{\"architectures\": " + (field == "architectures" ? value : "[\"LlamaForCausalLMEagle3\"]");
  for (auto& [key, text] : fields) {
    if (key == field && value.empty()) continue;
    json += ", \"" + key + "\": " + (key == field ? value : text);
  }
  if (field == "layer_types") json += ", \"layer_types\": " + value;
  return json + extra + "}";
}

const std::vector<std::pair<std::string, std::string>> kDrafts = {
    {"good/config.json", draft_config("", "")},
    {"vocab/config.json", draft_config("vocab_size", "32000")},
    {"hidden/config.json", draft_config("hidden_size", "4096")},
    {"heads/config.json", draft_config("num_key_value_heads", "4")},
    {"layers/config.json", draft_config("num_hidden_layers", "")},
    {"sliding/config.json", draft_config("layer_types", "[\"sliding_attention\"]", ", \"sliding_window\": 4096")},
    {"nowindow/config.json", draft_config("layer_types", "[\"sliding_attention\"]")},
    {"qwen/config.json", draft_config("", "", ", \"model_type\": \"qwen3\"")},
    {"eagle1/config.json", draft_config("architectures", "[\"LlamaForCausalLM\"]", ", \"model_type\": \"gpt_oss\"")},
    {"list/config.json", "[1, 2]"},
    {"gptoss/config.json", draft_config("architectures", "[\"GptOssForCausalLMEagle3\"]")},
    {"it's/config.json", draft_config("", "")},
};

const std::vector<DraftCase> kCatalogue = {
    {"eagle without PATH", {"--speculative", "eagle3", "--num-speculative-tokens", "4"}, "needs the draft's folder"},
    {"eagle with an empty PATH", {"--speculative", "eagle:", "--num-speculative-tokens", "4"}, "needs the draft's folder"},
    {"ngram with PATH", {"--speculative", "ngram:{dir}/good", "--num-speculative-tokens", "4"}, "ngram takes no PATH"},
    {"mtp with PATH", {"--speculative", "mtp:{dir}/good"}, "mtp takes no PATH"},
    {"a method vLLM 0.33 has and kvplan does not plan", {"--speculative", "medusa:{dir}/good"}, "expected eagle3:PATH"},
    {"k of 0", {"--speculative", "eagle3:{dir}/good", "--num-speculative-tokens", "0"}, "--num-speculative-tokens: must be at least 1"},
    {"k over the range", {"--speculative", "eagle3:{dir}/good", "--num-speculative-tokens", "65"}, "65 is out of range"},
    {"k not a number", {"--speculative", "eagle3:{dir}/good", "--num-speculative-tokens", "four"}, "--num-speculative-tokens"},
    {"k of 2^64", {"--speculative", "ngram", "--num-speculative-tokens", "18446744073709551616"}, "--num-speculative-tokens"},
    {"no k for a draft", {"--speculative", "eagle3:{dir}/good"}, "needs --num-speculative-tokens"},
    {"k without a method", {"--num-speculative-tokens", "4"}, "give --speculative too"},
    {"a draft folder without config.json", {"--speculative", "eagle3:{dir}/none", "--num-speculative-tokens", "4"},
     "none/config.json"},
    {"a draft config that is not an object", {"--speculative", "eagle3:{dir}/list", "--num-speculative-tokens", "4"},
     "not a JSON object"},
    {"a draft config without its layers", {"--speculative", "eagle3:{dir}/layers", "--num-speculative-tokens", "4"},
     "num_hidden_layers"},
    {"a draft of another vocabulary", {"--speculative", "eagle3:{dir}/vocab", "--num-speculative-tokens", "4"},
     "vocab_size 32000 is not the target's 128256"},
    {"a draft of another hidden size", {"--speculative", "eagle3:{dir}/hidden", "--num-speculative-tokens", "4"},
     "the target's hidden_size is 8192"},
    {"a draft whose K/V page is not the target's", {"--speculative", "eagle3:{dir}/heads", "--num-speculative-tokens", "4"},
     "kvplan plans drafts whose K/V page equals the target's"},
    {"a draft built by a class kvplan does not count", {"--speculative", "eagle3:{dir}/gptoss", "--num-speculative-tokens", "4"},
     "not 'GptOssForCausalLMEagle3'"},
    {"a sliding draft layer beside a target without sliding layers",
     {"--speculative", "eagle3:{dir}/sliding", "--num-speculative-tokens", "4"}, "a target without sliding layers"},
    {"a sliding draft layer without a window", {"--speculative", "eagle3:{dir}/nowindow", "--num-speculative-tokens", "4"},
     "has no sliding_window"},
    {"a draft config class whose defaults kvplan does not know",
     {"--speculative", "eagle3:{dir}/qwen", "--num-speculative-tokens", "4"}, "model_type: kvplan knows the defaults"},
    {"an EAGLE (1) draft with layer_types", {"--speculative", "eagle:{dir}/eagle1", "--num-speculative-tokens", "4"},
     "only eagle3 drafts may have them"},
    {"mtp on a model without MTP layers", {"--speculative", "mtp"}, "the model has no MTP layers"},
    {"speculative decoding on TensorRT-LLM",
     {"--speculative", "eagle3:{dir}/good", "--num-speculative-tokens", "4", "--engine", "trtllm"},
     "use --engine vllm or sglang"},
    {"speculative decoding on an older vLLM",
     {"--speculative", "eagle3:{dir}/good", "--num-speculative-tokens", "4", "--engine", "vllm@0.19"},
     "vLLM 0.33's speculative decoding only"},
    {"speculative decoding with PP", {"--speculative", "ngram", "--num-speculative-tokens", "4", "--pp", "2"}, "with PP"},
    {"a draft beside a counterfactual variant",
     {"--speculative", "eagle3:{dir}/good", "--num-speculative-tokens", "4", "--variant", "mha"}, "--variant native"},
    {"a draft path the launch command cannot quote",
     {"--speculative", "eagle3:{dir}/it's", "--num-speculative-tokens", "4", "--emit", "vllm"}, "has a quote"},
};


}  // namespace

TEST_CASE("the bad-input catalogue, speculative decoding: exit 2, one line, nothing on stdout") {
  TempDir dir;
  for (const auto& [name, contents] : kDrafts) dir.write(name, contents);
  const std::vector<std::string> files = listing(dir.path());
  for (const DraftCase& bad : kCatalogue) {
    CAPTURE(bad.what);
    std::vector<std::string> args = {"fit", "--model", "llama-3.1-70b", "--gpu", "h100-sxm", "--tp", "4", "--ctx", "32k"};
    for (std::string arg : bad.args) {
      if (const std::size_t at = arg.find("{dir}"); at != std::string::npos) arg.replace(at, 5, dir.path().string());
      args.push_back(arg);
    }
    check_refused(run_cli(args), bad.expected);
    CHECK(listing(dir.path()) == files);
  }
  // The good draft is accepted, so each refusal above is its own field's.
  CHECK(run_cli({"fit", "--model", "llama-3.1-70b", "--gpu", "h100-sxm", "--tp", "4", "--ctx", "32k", "--speculative",
                 "eagle3:" + (dir.path() / "good").string(), "--num-speculative-tokens", "4"})
            .exit_code == 0);
}

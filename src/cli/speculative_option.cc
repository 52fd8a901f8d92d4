#include "cli/speculative_option.h"

#include "core/error.h"
#include "core/units.h"
#include "io/json_reader.h"

namespace kvplan::cli {

SpeculativeDecoding resolve_speculative(const SpeculativeOptions& options, const ModelShape& target, Engine engine) {
  if (options.method.empty()) {
    if (!options.num_speculative_tokens.empty()) {
      throw Error("--num-speculative-tokens counts the tokens of --speculative; give --speculative too");
    }
    return {};
  }
  SpeculativeDecoding speculative = parse_speculative(options.method);
  const std::string flag = "--speculative " + std::string(to_string(speculative.method));
  if (engine == Engine::trtllm) {
    throw Error(flag + ": kvplan follows vLLM's --speculative-config and SGLang's --speculative-algorithm; use "
                "--engine vllm or sglang");
  }
  if (speculative.method == SpeculativeMethod::mtp && target.num_nextn_predict_layers == 0) {
    throw Error(flag + ": the model has no MTP layers (num_nextn_predict_layers is 0 or absent)");
  }
  if (!options.num_speculative_tokens.empty()) {
    const std::uint64_t k = parse_count(options.num_speculative_tokens, "--num-speculative-tokens");
    if (k == 0 || k > kMaxSpeculativeTokens) {
      throw Error("--num-speculative-tokens: " + options.num_speculative_tokens + " is out of range; kvplan plans 1 to " +
                  std::to_string(kMaxSpeculativeTokens) + " tokens per step");
    }
    speculative.num_speculative_tokens = static_cast<std::uint32_t>(k);
  } else if (engine == Engine::sglang) {
    // SGLang chooses its steps, top-k and draft tokens itself when none are given
    // (speculative_hook.py:_auto_choose_speculative_params); none of them sizes its KV pool.
  } else if (speculative.method == SpeculativeMethod::mtp) {
    // SpeculativeConfig: MTP without num_speculative_tokens drafts one token per MTP layer.
    speculative.num_speculative_tokens = target.num_nextn_predict_layers;
  } else {
    throw Error(flag + " needs --num-speculative-tokens k (vLLM's num_speculative_tokens has no default for it)");
  }
  const std::uint32_t layers = target.num_nextn_predict_layers;
  if (engine == Engine::vllm && speculative.method == SpeculativeMethod::mtp && speculative.num_speculative_tokens > layers &&
      speculative.num_speculative_tokens % layers != 0) {
    throw Error("--num-speculative-tokens " + std::to_string(speculative.num_speculative_tokens) +
                ": vLLM reuses the model's " + std::to_string(layers) +
                " MTP layers for more tokens only in whole rounds; give a multiple of " + std::to_string(layers));
  }
  if (speculative.method == SpeculativeMethod::eagle || speculative.method == SpeculativeMethod::eagle3) {
    const std::string file = speculative.draft_path + "/config.json";
    speculative.draft = draft_shape_from_config(io::read_json(io::read_text_file(file, "--speculative"), file),
                                                speculative.method);
    check_draft_fits_target(*speculative.draft, target, file);
  }
  return speculative;
}

}  // namespace kvplan::cli

// fit's --speculative and --num-speculative-tokens: vLLM's --speculative-config or SGLang's
// --speculative-algorithm, with an EAGLE draft's shape read from its config.json.
#pragma once

#include <string>

#include "core/capacity.h"

namespace kvplan::cli {

struct SpeculativeOptions {
  std::string method;                  // --speculative eagle3:PATH | eagle:PATH | mtp | ngram
  std::string num_speculative_tokens;  // --num-speculative-tokens k
};

// The plan's speculative decoding (method none without --speculative). Throws kvplan::Error
// (exit 2) naming the flag or the draft's file: no k where vLLM needs one (SGLang chooses its own),
// k out of range, TensorRT-LLM, an unreadable or mismatched draft config.
SpeculativeDecoding resolve_speculative(const SpeculativeOptions& options, const ModelShape& target, Engine engine);

}  // namespace kvplan::cli

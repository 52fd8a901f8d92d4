// How a report names the model it describes, and a one-line summary of the shape.
#pragma once

#include <string>

#include "core/model_shape.h"
#include "core/weights.h"
#include "report/document.h"

namespace kvplan::report {

struct ModelLabel {
  std::string name;    // "deepseek-v2"
  std::string hf_id;   // "deepseek-ai/DeepSeek-V2"
  std::string source;  // the config.json URL or file
};

// "60 layers, 128 query heads, MLA d_c=512 d_R=64" /
// "32 layers, 32 query heads, 8 KV heads of 128, sliding window 4096 on 32 layers".
std::string describe_shape(const ModelShape& shape);

// The closing notes every plan of a model carries: where its weights' dtype came from and each
// assumption made while reading its config ("weights: ...", "assumed: ...").
void add_model_notes(Document& document, const WeightsDtype& weights, const ModelShape& shape);

}  // namespace kvplan::report

// `kvplan fit --emit vllm|sglang`: the serving engine's launch command for the plan.
#pragma once

#include <string>

#include "core/capacity.h"

namespace kvplan::report {

// `model_path` is what the engine loads: a Hugging Face id or a local directory.
std::string launch_command(const std::string& model_path, const ModelShape& shape, const FitRequest& request,
                           const FitResult& result);

}  // namespace kvplan::report

#include "report/launch_command.h"

#include <fmt/format.h>

#include <cctype>
#include <string_view>

#include "core/error.h"

namespace kvplan::report {
namespace {

// vLLM's --kv-cache-dtype values; "auto" is the model's own dtype.
std::string vllm_kv_dtype(KvDtype dtype, const ModelShape& shape) {
  switch (dtype) {
    case KvDtype::bf16: return shape.torch_dtype == "float16" ? "bfloat16" : "auto";
    case KvDtype::fp16: return shape.torch_dtype == "float16" ? "auto" : "float16";
    case KvDtype::fp8_e4m3: return "fp8";
    case KvDtype::fp8_e5m2: return "fp8_e5m2";
    case KvDtype::fp8_ds_mla: return "fp8_ds_mla";
    case KvDtype::nvfp4: return "nvfp4";
    case KvDtype::int8:
    case KvDtype::fp32: break;
  }
  throw Error("--emit vllm: vLLM has no --kv-cache-dtype for " + std::string(to_string(dtype)));
}

std::string sglang_kv_dtype(KvDtype dtype) {
  switch (dtype) {
    case KvDtype::bf16: return "bf16";
    case KvDtype::fp8_e4m3: return "fp8_e4m3";
    case KvDtype::fp8_e5m2: return "fp8_e5m2";
    case KvDtype::nvfp4: return "fp4_e2m1";
    default: break;
  }
  throw Error("--emit sglang: SGLang has no --kv-cache-dtype for " + std::string(to_string(dtype)));
}

// vLLM's --speculative-config JSON, in single quotes for the shell. A draft path that would need
// escaping in either is refused rather than written wrong.
std::string vllm_speculative_config(const SpeculativeDecoding& speculative) {
  std::string model;
  if (!speculative.draft_path.empty()) {
    for (char c : speculative.draft_path) {
      if (c == '\'' || c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) {
        throw Error("--emit vllm: the draft path '" + speculative.draft_path +
                    "' has a quote, backslash or control character; rename the folder to emit a command");
      }
    }
    model = ",\"model\":\"" + speculative.draft_path + "\"";
  }
  return fmt::format(" --speculative-config '{{\"method\":\"{}\"{},\"num_speculative_tokens\":{}}}'",
                     to_string(speculative.method), model, speculative.num_speculative_tokens);
}

// A path written into a command line as one word: refused when the shell would split or expand it.
std::string shell_word(const std::string& path, const std::string& what) {
  for (char c : path) {
    const bool plain = std::isalnum(static_cast<unsigned char>(c)) || std::string_view("/._-+:@=,%").find(c) != std::string_view::npos;
    if (!plain) {
      throw Error(what + " '" + path + "' has a character the shell would interpret; rename the folder to emit a command");
    }
  }
  return path;
}

// SGLang's speculative flags for the draft kvplan planned (NEXTN is its alias of EAGLE for a
// model's own MTP layers); with k, one draft token per step: k steps, top-k 1, k + 1 verified.
std::string sglang_speculative_flags(const FitRequest& request) {
  const SpeculativeMethod method = request.include_mtp ? SpeculativeMethod::mtp : request.speculative.method;
  const std::uint32_t k = request.speculative.num_speculative_tokens;
  switch (method) {
    case SpeculativeMethod::none: return "";
    case SpeculativeMethod::ngram:
      return " --speculative-algorithm NGRAM" + (k > 0 ? fmt::format(" --speculative-num-draft-tokens {}", k) : "");
    case SpeculativeMethod::mtp:
    case SpeculativeMethod::eagle:
    case SpeculativeMethod::eagle3: break;
  }
  std::string flags = method == SpeculativeMethod::mtp      ? " --speculative-algorithm NEXTN"
                      : method == SpeculativeMethod::eagle3 ? " --speculative-algorithm EAGLE3"
                                                            : " --speculative-algorithm EAGLE";
  if (!request.speculative.draft_path.empty()) {
    flags += " --speculative-draft-model-path " + shell_word(request.speculative.draft_path, "--emit sglang: the draft path");
  }
  if (k > 0) {
    flags += fmt::format(" --speculative-num-steps {} --speculative-eagle-topk 1 --speculative-num-draft-tokens {}", k, k + 1);
  }
  return flags;
}

}  // namespace

std::string launch_command(const std::string& model_path, const ModelShape& shape, const FitRequest& request,
                           const FitResult& result) {
  const Parallelism& parallel = request.parallel;
  const EngineOptions& options = request.options;
  const bool quantize_fp8 = request.weights_dtype == "fp8" && shape.weight_quantization != "fp8";
  std::string command;
  switch (result.engine) {
    case Engine::vllm:
      command = "vllm serve " + model_path;
      command += fmt::format(" --tensor-parallel-size {}", parallel.tp);
      if (parallel.pp > 1) command += fmt::format(" --pipeline-parallel-size {}", parallel.pp);
      if (parallel.dp > 1) command += fmt::format(" --data-parallel-size {}", parallel.dp);
      if (parallel.expert_parallel) command += " --enable-expert-parallel";
      if (parallel.eplb) command += " --enable-eplb";
      if (parallel.redundant_experts > 0) {
        command += fmt::format(" --eplb-config '{{\"num_redundant_experts\": {}}}'", parallel.redundant_experts);
      }
      if (parallel.dcp > 1) command += fmt::format(" --decode-context-parallel-size {}", parallel.dcp);
      command += fmt::format(" --max-model-len {}", request.max_model_len.value);
      command += " --kv-cache-dtype " + vllm_kv_dtype(request.kv_dtype, shape);
      if (quantize_fp8) command += " --quantization fp8";
      if (options.kv_cache_memory) {
        command += fmt::format(" --kv-cache-memory-bytes {}", options.kv_cache_memory->value);
      } else {
        command += fmt::format(" --gpu-memory-utilization {:.2f}", result.mem_util);
      }
      if (options.attention_backend) command += " --attention-backend " + *options.attention_backend;
      if (options.block_size) command += fmt::format(" --block-size {}", result.block_size);
      if (options.max_num_batched_tokens) command += fmt::format(" --max-num-batched-tokens {}", result.max_num_batched_tokens);
      if (!options.async_scheduling) command += " --no-async-scheduling";
      if (!options.hybrid_allocator) command += " --disable-hybrid-kv-cache-manager";
      if (request.speculative.method != SpeculativeMethod::none) command += vllm_speculative_config(request.speculative);
      command += fmt::format(" --max-num-seqs {}", result.requests_per_replica);
      return command;
    case Engine::sglang:
      command = "python -m sglang.launch_server --model-path " + model_path;
      command += fmt::format(" --tp-size {}", parallel.tp);
      if (parallel.pp > 1) command += fmt::format(" --pp-size {}", parallel.pp);
      // With DP attention every TP rank is its own attention-DP group; SGLang 0.5.23 spells it
      // --attn-dp-size and refuses it next to --dp-size replicas (parallel_hook.py:
      // handle_data_parallelism), so replicas run as separate servers.
      if (options.dp_attention) {
        command += fmt::format(" --attn-dp-size {}", parallel.tp);
      } else if (parallel.dp > 1) {
        command += fmt::format(" --dp-size {}", parallel.dp);
      }
      if (parallel.expert_parallel) command += fmt::format(" --ep-size {}", parallel.tp);
      if (parallel.dcp > 1) command += fmt::format(" --dcp-size {}", parallel.dcp);
      command += fmt::format(" --context-length {}", request.max_model_len.value);
      command += " --kv-cache-dtype " + sglang_kv_dtype(request.kv_dtype);
      if (quantize_fp8) command += " --quantization fp8";
      command += fmt::format(" --mem-fraction-static {:.3f}", result.mem_util);
      if (options.block_size) command += fmt::format(" --page-size {}", result.block_size);
      if (result.state_pool && !options.mamba_ssm_cache_dtype.empty()) {
        command += " --mamba-ssm-dtype " + options.mamba_ssm_cache_dtype;
      }
      command += sglang_speculative_flags(request);
      // A pool shorter than the context holds no full-length request: SGLang's own default
      // max_running_requests applies then.
      if (result.requests_per_replica > 0) {
        command += fmt::format(" --max-running-requests {}", result.requests_per_replica);
      }
      return command;
    case Engine::trtllm: break;
  }
  throw Error("--emit: kvplan writes launch commands for vllm and sglang");
}

}  // namespace kvplan::report

// The catalogue of bad input (issue 8): every class, across the commands, must give exit code 2
// and exactly one line on stderr naming the flag, file or field, and nothing on stdout.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "cli/cli_runner.h"
#include "temp_dir.h"

using namespace kvplan::testing;

namespace {

struct BadInput {
  const char* what;                 // the class of bad input
  std::vector<std::string> args;    // "{dir}" is replaced by a folder holding the files below
  const char* expected;             // part of the one stderr line
};

// Files the cases read, written into a fresh folder.
const std::vector<std::pair<std::string, std::string>> kFiles = {
    {"empty.json", ""},
    {"truncated.json", "{\"model_type\": \"llama\", \"num_hidden_layers\": 32,"},
    {"dup.json", "{\"model_type\": \"llama\", \"num_hidden_layers\": 2, \"num_hidden_layers\": 3}"},
    {"mamba.json", "{\"model_type\": \"mamba\", \"num_hidden_layers\": 64, \"hidden_size\": 2560}"},
    {"heads.json", "{\"model_type\": \"llama\", \"num_hidden_layers\": 2, \"num_attention_heads\": 64, "
                   "\"num_key_value_heads\": 7, \"hidden_size\": 8192}"},
    {"types/p.yaml", "name: types\nsource: x\nconfig:\n  model_type: llama\n  num_hidden_layers: abc\n"},
    {"empty/p.yaml", ""},
    {"dup/p.yaml", "name: dup\nsource: x\nsource: y\n"},
    {"missing/p.yaml", "name: missing\nsource: x\nconfig:\n  model_type: llama\n  num_attention_heads: 8\n"},
    {"utf8/p.yaml", "name: utf8\nsource: caf\xe9\n"},
    {"nan/p.yaml", "name: nan-gpu\nsource: x\nmemory:\n  cuda_total_bytes: 1000\nhbm_bandwidth_bytes_per_s: .nan\n"
                   "bf16_dense_tflops: 1\n"},
    {"awq.json", "{\"model_type\": \"llama\", \"num_hidden_layers\": 2, \"num_attention_heads\": 4, "
                   "\"hidden_size\": 256, \"intermediate_size\": 512, \"vocab_size\": 1000, "
                   "\"quantization_config\": {\"quant_method\": \"awq\"}}"},
    {"smi/p.yaml", "name: smi-gpu\nsource: x\nmemory:\n  cuda_total_bytes: 1000\n  nvidia_smi_total_mib: lots\n"
                   "hbm_bandwidth_bytes_per_s: 1\nbf16_dense_tflops: 1\n"},
    {"bench.json", "{\"rows\": [{\"variant\": \"mha\", \"floor_s\": \"soon\"}]}"},
};

const std::vector<BadInput> kCatalogue = {
    {"unknown model, with the nearest name", {"size", "--model", "llama3-8b"}, "did you mean 'llama-3-8b'?"},
    {"unknown GPU", {"fit", "--model", "llama-3-8b", "--gpu", "h300"}, "unknown GPU 'h300'"},
    {"unknown command", {"siez"}, "did you mean 'size'?"},
    {"unknown flag", {"sweep", "--frobnicate"}, "--frobnicate"},
    {"malformed size", {"size", "--model", "llama-3-8b", "--ctx", "12q"}, "--ctx: expected a whole number of tokens"},
    {"zero", {"size", "--model", "llama-3-8b", "--ctx", "0"}, "--ctx: must be at least 1 token"},
    {"negative number", {"size", "--model", "llama-3-8b", "--batch", "-1"}, "--batch"},
    {"huge number", {"size", "--model", "llama-3-8b", "--ctx", "99999999999999999999"}, "--ctx: '99999999999999999999' is too large"},
    {"overflow of ctx x layers x bytes x batch",
     {"size", "--model", "deepseek-v2", "--variant", "mha", "--ctx", "10M", "--batch", "1000000"},
     "does not fit in 64 bits"},
    {"NaN in a float flag", {"fit", "--model", "llama-3-8b", "--gpu", "h100-sxm", "--mem-util", "nan"}, "--mem-util"},
    {"infinity in a float flag", {"fit", "--model", "llama-3-8b", "--gpu", "h100-sxm", "--gpu-price", "inf"}, "--gpu-price"},
    {"NaN in a preset", {"show", "--presets", "{dir}/nan", "--gpu", "nan-gpu"}, "hbm_bandwidth_bytes_per_s must be a positive finite number"},
    {"fraction out of range", {"fit", "--model", "llama-3-8b", "--gpu", "h100-sxm", "--mem-util", "1.5"}, "--mem-util"},
    {"ambiguous memory unit", {"fit", "--model", "llama-3-8b", "--gpu", "h100-sxm", "--kv-cache-memory", "80G"}, "ambiguous"},
    {"empty config.json", {"size", "--config", "{dir}/empty.json"}, "empty.json: malformed JSON"},
    {"truncated config.json", {"size", "--config", "{dir}/truncated.json"}, "truncated.json: malformed JSON"},
    {"empty YAML preset", {"size", "--presets", "{dir}/empty", "--model", "x"}, "p.yaml: empty YAML document"},
    {"wrong type in a preset", {"size", "--presets", "{dir}/types", "--model", "types"},
     "p.yaml:5: num_hidden_layers must be a whole number >= 0; got 'abc'"},
    {"duplicate key in YAML", {"size", "--presets", "{dir}/dup", "--model", "dup"}, "p.yaml:3: duplicate key 'source'"},
    {"duplicate key in JSON", {"size", "--config", "{dir}/dup.json"}, "duplicate key 'num_hidden_layers'"},
    {"missing required field", {"size", "--presets", "{dir}/missing", "--model", "missing"},
     "p.yaml:4: config needs num_hidden_layers"},
    {"non-UTF-8 bytes", {"size", "--presets", "{dir}/utf8", "--model", "utf8"}, "p.yaml:2: not valid UTF-8"},
    {"a directory where a file is expected", {"size", "--config", "{dir}"}, "is a directory"},
    {"a file where a directory is expected", {"models", "--presets", "{dir}/empty.json"}, "not a directory"},
    {"config.json of an unknown model type", {"size", "--config", "{dir}/mamba.json"}, "model_type 'mamba'"},
    {"heads not divisible by KV heads", {"size", "--config", "{dir}/heads.json"},
     "num_key_value_heads must divide num_attention_heads (64); got 7"},
    {"GQA groups that do not divide the heads", {"size", "--model", "llama-3-70b", "--variant", "gqa:7"}, "valid G: 1, 2, 4, 8"},
    {"a dtype without a layout for the variant", {"size", "--model", "llama-3-8b", "--variant", "native", "--kv-dtype", "fp8_ds_mla"},
     "not MLA"},
    {"a GPU too small for the weights", {"fit", "--model", "llama-3.1-405b", "--gpu", "h100-sxm", "--gpus", "8"}, "missing"},
    {"TP that does not divide the heads", {"fit", "--model", "qwen2.5-7b", "--gpu", "h100-sxm", "--tp", "8"},
     "does not divide num_attention_heads (28)"},
    {"a KV dtype the engine does not have", {"fit", "--model", "deepseek-v3", "--gpu", "h200", "--gpus", "8",
                                             "--engine", "sglang", "--kv-dtype", "fp8_ds_mla"}, "use --kv-dtype fp8"},
    {"a pool that holds no token", {"fit", "--model", "llama-3-8b", "--gpu", "h100-sxm", "--engine", "sglang",
                                    "--kv-cache-memory", "1000"}, "Not enough memory"},
    {"a nvidia-smi total that is not a number", {"fit", "--presets", "{dir}/smi", "--model", "llama-3-8b", "--gpu",
                                                 "smi-gpu"}, "nvidia_smi_total_mib"},
    {"quantized weights kvplan cannot size", {"fit", "--config", "{dir}/awq.json", "--gpu", "h100-sxm", "--ctx", "4k"},
     "quantized with awq"},
    {"unknown engine", {"sweep", "--engine", "tgi"}, "unknown engine 'tgi'"},
    {"malformed fleet", {"sweep", "--gpus", "h100-sxm:8:tp3"}, "not a multiple of TP x PP"},
    {"malformed bench results", {"report", "--bench", "{dir}/bench.json"}, "floor_s must be a positive finite number"},
    {"a bench dry run on a preset without the FP32 ceiling",
     {"bench", "--model", "llama-3-8b", "--dry-run", "--gpu", "mi300x"}, "--gpu mi300x: the preset has no fp32_tflops"},
    {"an output folder that cannot be written", {"report", "--out", "{dir}/no/such/folder"}, "does not exist"},
    {"an engine release kvplan does not know", {"fit", "--model", "llama-3-8b", "--gpu", "h100-sxm", "--engine", "vllm@0.7"},
     "--engine vllm@0.7: kvplan knows the rules of vLLM 0.33 (default), 0.19, 0.10, 0.6"},
    {"an attention backend vLLM does not have",
     {"fit", "--model", "llama-3-8b", "--gpu", "h100-sxm", "--attention-backend", "FLASH"},
     "--attention-backend: unknown backend 'FLASH'"},
    {"an attention backend that cannot serve the model",
     {"fit", "--model", "deepseek-v3", "--gpu", "h200", "--gpus", "8", "--ctx", "4k", "--attention-backend", "CUTLASS_MLA"},
     "--attention-backend CUTLASS_MLA cannot serve this model on Hopper"},
    {"a cache dtype no vLLM backend takes for the model",
     {"fit", "--model", "deepseek-v3", "--gpu", "h200", "--gpus", "8", "--ctx", "4k", "--kv-dtype", "fp8_ds_mla"},
     "--kv-dtype fp8_ds_mla: vLLM 0.33 has no MLA backend that takes fp8_ds_mla for a dense MLA model"},
    {"a KV memory per PP stage for the wrong number of stages",
     {"fit", "--model", "llama-3-8b", "--gpu", "h100-sxm", "--pp", "2", "--kv-cache-memory", "10GiB,10GiB,10GiB"},
     "--kv-cache-memory: 3 values for 2 PP stages"},
    {"an entry point vLLM does not have", {"fit", "--model", "llama-3-8b", "--gpu", "h100-sxm", "--entrypoint", "api"},
     "--entrypoint: expected serve (vllm serve) or offline (the LLM class), got 'api'"},
    {"a vLLM option with another engine",
     {"fit", "--model", "llama-3-8b", "--gpu", "h100-sxm", "--engine", "sglang", "--no-async-scheduling"},
     "are vLLM's options; add --engine vllm"},
};

std::string substituted(const std::string& arg, const std::string& dir) {
  std::string result = arg;
  if (std::size_t at = result.find("{dir}"); at != std::string::npos) result.replace(at, 5, dir);
  return result;
}

}  // namespace

TEST_CASE("the bad-input catalogue: exit 2, one line naming what is wrong, nothing on stdout") {
  CHECK(kCatalogue.size() >= 15);
  TempDir dir;
  for (const auto& [name, contents] : kFiles) dir.write(name, contents);
  for (const BadInput& bad : kCatalogue) {
    CAPTURE(bad.what);
    std::vector<std::string> args;
    for (const std::string& arg : bad.args) args.push_back(substituted(arg, dir.path().string()));
    CliResult result = run_cli(args);
    CHECK(result.exit_code == 2);
    CHECK(result.out.empty());
    CHECK(line_count(result.err) == 1);
    CHECK(result.err.find(bad.expected) != std::string::npos);
  }
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

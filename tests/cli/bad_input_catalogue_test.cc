// The catalogue of bad input (issues 8 and 13): every class, across the commands, must give exit
// code 2, exactly one line on stderr naming the flag, file or field, nothing on stdout, and no
// file left behind. The layer kinds and model types of a config.json have their own table,
// bad_input_config_test.cc.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "cli/bad_input_check.h"
#include "cli/cli_runner.h"
#include "temp_dir.h"

using namespace kvplan::testing;

namespace {


// Files the cases read, written into a fresh folder.
const TableFiles kFiles = {
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
    {"block.json", "{\"model_type\": \"llama\", \"num_hidden_layers\": 2, \"num_attention_heads\": 4, "
                   "\"hidden_size\": 256, \"intermediate_size\": 512, \"vocab_size\": 1000, "
                   "\"quantization_config\": {\"quant_method\": \"fp8\", \"weight_block_size\": [128]}}"},
    {"regex.json", "{\"model_type\": \"llama\", \"num_hidden_layers\": 2, \"num_attention_heads\": 4, "
                   "\"hidden_size\": 256, \"intermediate_size\": 512, \"vocab_size\": 1000, "
                   "\"quantization_config\": {\"quant_method\": \"compressed-tensors\", \"ignore\": [\"re:(\"], "
                   "\"config_groups\": {\"g\": {\"targets\": [\"Linear\"], \"weights\": {\"num_bits\": 4, "
                   "\"type\": \"int\", \"strategy\": \"group\", \"group_size\": 32}}}}}"},
    {"nobits.json", "{\"model_type\": \"llama\", \"num_hidden_layers\": 2, \"num_attention_heads\": 4, "
                    "\"hidden_size\": 256, \"quantization_config\": {\"quant_method\": \"compressed-tensors\", "
                    "\"config_groups\": {\"g\": {\"targets\": [\"Linear\"], \"weights\": {\"type\": \"int\"}}}}}"},
    {"patch.json", "{\"model_type\": \"gemma3\", \"text_config\": {\"model_type\": \"gemma3_text\", "
                   "\"num_hidden_layers\": 6, \"num_attention_heads\": 4, \"num_key_value_heads\": 1}, "
                   "\"vision_config\": {\"image_size\": 896, \"patch_size\": 15}}"},
    {"partial.json", "{\"model_type\": \"llama\", \"num_hidden_layers\": 2, \"num_attention_heads\": 4, "
                     "\"hidden_size\": 256, \"max_position_embeddings\": 4096, \"partial_rotary_factor\": 2}"},
    {"ropefactor.json", "{\"model_type\": \"llama\", \"num_hidden_layers\": 2, \"num_attention_heads\": 4, "
                        "\"hidden_size\": 256, \"max_position_embeddings\": 4096, "
                        "\"rope_scaling\": {\"rope_type\": \"linear\", \"factor\": 1e12}}"},
    {"smi/p.yaml", "name: smi-gpu\nsource: x\nmemory:\n  cuda_total_bytes: 1000\n  nvidia_smi_total_mib: lots\n"
                   "hbm_bandwidth_bytes_per_s: 1\nbf16_dense_tflops: 1\n"},
    {"sms/p.yaml", "name: sms-gpu\nsource: x\nmemory:\n  cuda_total_bytes: 85028896768\n"
                   "hbm_bandwidth_bytes_per_s: 1\nbf16_dense_tflops: 1\nmultiprocessors: 100000\n"},
    {"bench.json", "{\"rows\": [{\"variant\": \"mha\", \"floor_s\": \"soon\"}]}"},
    {"wide.json", "{\"model_type\": \"llama\", \"num_hidden_layers\": 2, \"num_attention_heads\": 8, "
                  "\"hidden_size\": 1099511627776, \"intermediate_size\": 100, \"vocab_size\": 100}"},
    {"vocab.json", "{\"model_type\": \"llama\", \"num_hidden_layers\": 2, \"num_attention_heads\": 8, "
                   "\"hidden_size\": 1024, \"intermediate_size\": 100, \"vocab_size\": 4611686018427387904}"},
    {"mtp.json", "{\"model_type\": \"deepseek_v3\", \"num_hidden_layers\": 2, \"num_attention_heads\": 8, "
                 "\"hidden_size\": 1024, \"num_nextn_predict_layers\": 4294967297}"},
    {"u64.json", "{\"model_type\": \"llama\", \"num_hidden_layers\": 18446744073709551615}"},
    // Every dimension at its limit: each is accepted, their product (the parameter count) is not.
    {"product.json", "{\"model_type\": \"llama\", \"num_hidden_layers\": 16777216, \"num_attention_heads\": 1, "
                     "\"head_dim\": 16777216, \"hidden_size\": 16777216, \"intermediate_size\": 16777216, "
                     "\"vocab_size\": 16777216}"},
    {"nul.json", std::string("{\"model_type\": \"llama\", \"num_hidden_layers\": 2, \"num_attention_heads\": 8, "
                             "\"hidden_size\": 1024}\0garbage", 102)},
    {"bomb/p.yaml", "name: bomb\nsource: x\na: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                    "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"},
    {"infinite.json", "{\"model_type\": \"llama\", \"num_hidden_layers\": 2, \"num_attention_heads\": 8, \"hidden_size\": Infinity}"},
    {"nan_factor.json", "{\"model_type\": \"llama\", \"num_hidden_layers\": 2, \"num_attention_heads\": 4, \"hidden_size\": 256, "
                        "\"max_position_embeddings\": 4096, \"rope_scaling\": {\"rope_type\": \"linear\", \"factor\": NaN}}"},
    {"lowercase_nan.json", "{\"model_type\": \"llama\", \"num_hidden_layers\": 2, \"time_step_limit\": [0.0, inf]}"},
    {"g4/p.yaml", "name: g4\nsource: x\nparams: {total: 31000000000, source: x}\nconfig:\n  model_type: gemma4_text\n"
                  "  num_hidden_layers: 6\n  num_attention_heads: 32\n  num_key_value_heads: 16\n  head_dim: 256\n"
                  "  global_head_dim: 512\n  num_global_key_value_heads: 4\n  attention_k_eq_v: true\n"
                  "  sliding_window: 1024\n  use_bidirectional_attention: vision\n  hidden_size: 5376\n"
                  "  intermediate_size: 21504\n  vocab_size: 262144\n  max_position_embeddings: 262144\n"},
    {"twins/a.yaml", "name: twin\nsource: x\nconfig:\n  model_type: llama\n  num_hidden_layers: 2\n"
                     "  num_attention_heads: 4\n  hidden_size: 256\n"},
    {"twins/b.yaml", "name: twin\nsource: y\nconfig:\n  model_type: llama\n  num_hidden_layers: 4\n"
                     "  num_attention_heads: 4\n  hidden_size: 256\n"},
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
    {"an SM count beyond any GPU", {"fit", "--presets", "{dir}/sms", "--model", "llama-3-8b", "--gpu", "sms-gpu"},
     "p.yaml:7: multiprocessors = 100000 is more than kvplan plans for (limit 4096)"},
    {"quantized weights kvplan cannot size", {"fit", "--config", "{dir}/awq.json", "--gpu", "h100-sxm", "--ctx", "4k"},
     "quantized with awq"},
    {"a weight block that is not [rows, cols]", {"size", "--config", "{dir}/block.json"},
     "weight_block_size must be [rows, cols]"},
    {"an ignore pattern that is not a regular expression",
     {"fit", "--config", "{dir}/regex.json", "--gpu", "h100-sxm", "--ctx", "4k"}, "quantization_config.ignore: 're:('"},
    {"a quantization scheme without num_bits", {"size", "--config", "{dir}/nobits.json"}, "weights needs num_bits"},
    {"a vision patch that does not divide the image", {"size", "--config", "{dir}/patch.json"},
     "patch_size must divide image_size (896)"},
    {"a partial_rotary_factor above 1", {"size", "--config", "{dir}/partial.json"},
     "partial_rotary_factor must be at most 1"},
    {"a RoPE scaling factor past the position limit", {"size", "--config", "{dir}/ropefactor.json"},
     "factor x max_position_embeddings is beyond"},
    {"unknown engine", {"sweep", "--engine", "tgi"}, "unknown engine 'tgi'"},
    {"malformed fleet", {"sweep", "--gpus", "h100-sxm:8:tp3"}, "not a multiple of TP x PP"},
    {"malformed bench results", {"report", "--bench", "{dir}/bench.json"}, "floor_s must be a positive finite number"},
    {"a bench dry run on a preset without the FP32 ceiling",
     {"bench", "--model", "llama-3-8b", "--dry-run", "--gpu", "mi300x"}, "--gpu mi300x: the preset has no fp32_tflops"},
    {"an output folder that cannot be written", {"report", "--out", "{dir}/no/such/folder"}, "does not exist"},
    {"an engine release kvplan does not know", {"fit", "--model", "llama-3-8b", "--gpu", "h100-sxm", "--engine", "vllm@0.7"},
     "--engine vllm@0.7: kvplan knows the rules of vLLM 0.33 (default), 0.19, 0.10, 0.6"},
    {"an SGLang release kvplan does not know", {"fit", "--model", "llama-3-8b", "--gpu", "h100-sxm", "--engine", "sglang@0.4.6"},
     "--engine sglang@0.4.6: kvplan knows the rules of SGLang 0.5.23 (default), 0.4.7.post1 to 0.5.22"},
    {"an older SGLang release with a layer kind kvplan does not plan for it",
     {"fit", "--model", "gpt-oss-20b", "--gpu", "h100-sxm", "--engine", "sglang@0.5.10"},
     "--engine sglang@0.5.10: kvplan plans SGLang releases before 0.5.23 for plain full-attention pools only, and not "
     "their sliding-window layers"},
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
    {"vLLM 0.10 with PP stages that form different KV cache groups",
     {"fit", "--model", "gemma-2-9b", "--gpu", "h100-sxm", "--pp", "2", "--ctx", "8k", "--engine", "vllm@0.10"},
     "here the stages form different KV cache groups (stage 0: 1 full + 2 sliding, stage 1: 2 full + 1 sliding)"},
    {"an entry point vLLM does not have", {"fit", "--model", "llama-3-8b", "--gpu", "h100-sxm", "--entrypoint", "api"},
     "--entrypoint: expected serve (vllm serve) or offline (the LLM class), got 'api'"},
    {"--mamba-ssm-cache-dtype on TensorRT-LLM",
     {"fit", "--model", "llama-3-8b", "--gpu", "h100-sxm", "--engine", "trtllm", "--mamba-ssm-cache-dtype", "float32"},
     "--mamba-ssm-cache-dtype is vLLM's and SGLang's (--mamba-ssm-dtype) option"},
    {"a vLLM option with another engine",
     {"fit", "--model", "llama-3-8b", "--gpu", "h100-sxm", "--engine", "sglang", "--no-async-scheduling"},
     "are vLLM's options; add --engine vllm"},

    // 64-bit wrap-around: every user quantity has a limit that names the flag or field.
    {"--kv-cache-memory of 2^64 - 1",
     {"fit", "--model", "llama-3-8b", "--gpu", "h100-sxm", "--kv-cache-memory", "18446744073709551615"},
     "--kv-cache-memory 17179869184.00 GiB (18446744073709551615 B) is more than the"},
    {"--reserve of 2^64 - 1", {"fit", "--model", "llama-3-8b", "--gpu", "h100-sxm", "--reserve", "18446744073709551615"},
     "--reserve 17179869184.00 GiB (18446744073709551615 B) leaves nothing of the"},
    {"--max-num-batched-tokens of 2^64 - 1",
     {"fit", "--model", "gemma-2-27b", "--gpu", "h100-sxm", "--max-num-batched-tokens", "18446744073709551615"},
     "--max-num-batched-tokens: '18446744073709551615' is 18446744073709551615 tokens, more than kvplan plans for (at most "
     "4294967296)"},
    {"a context beyond 2^32 tokens", {"size", "--model", "llama-3-8b", "--ctx", "8388608k"},
     "--ctx: '8388608k' is 8589934592 tokens, more than kvplan plans for"},
    {"fleet TP and PP of 2^32", {"sweep", "--gpus", "h100-sxm:8:tp4294967296:pp4294967296"},
     "--gpus 'h100-sxm:8:tp4294967296:pp4294967296': tp 4294967296 is more than kvplan plans for (4096)"},
    {"fleet TP of 2^63 + 4", {"sweep", "--gpus", "h100-sxm:8:tp9223372036854775812"}, "tp 9223372036854775812 is more than"},
    {"fleet GPU count beyond 4096", {"report", "--gpus", "h100-sxm:8192"}, "GPU count 8192 is more than kvplan plans for"},
    {"hidden_size 2^40", {"size", "--config", "{dir}/wide.json", "--explain"},
     "hidden_size = 1099511627776 is more than kvplan plans for (limit 16777216)"},
    {"vocab_size 2^62", {"fit", "--config", "{dir}/vocab.json", "--gpu", "h100-sxm"},
     "vocab_size = 4611686018427387904 is more than kvplan plans for"},
    {"num_nextn_predict_layers 2^32 + 1", {"size", "--config", "{dir}/mtp.json", "--mtp"},
     "num_nextn_predict_layers = 4294967297 is more than kvplan plans for"},
    {"a JSON count beyond int64, quoted as written", {"size", "--config", "{dir}/u64.json"},
     "num_hidden_layers must be a whole number >= 0; got 18446744073709551615"},
    {"dimensions within limits whose product is not", {"size", "--config", "{dir}/product.json"},
     "the parameter count estimated from config.json does not fit in 64 bits"},
    {"a GPU price of 10^308", {"fit", "--model", "llama-3-8b", "--gpu", "h100-sxm", "--gpu-price", "1e308"},
     "--gpu-price 1e308: at most 1000000 USD per GPU-hour"},
    {"bench --heads 2^32 - 1", {"bench", "--heads", "4294967295", "--head-dim", "128", "--dry-run", "--gpu", "h100-sxm"},
     "--heads 4294967295 is more than the kernels take (at most 1024)"},
    {"bench tokens beyond the kernels' int",
     {"bench", "--model", "llama-3-8b", "--phase", "prefill", "--batch", "4096", "--ctx", "1M", "--dry-run", "--gpu", "h100-sxm"},
     "--batch 4096 x --ctx 1048576 = 4294967296 tokens; the kernels count tokens in 32-bit ints"},
    {"bench --lengths neither uniform nor ragged",
     {"bench", "--model", "llama-3-8b", "--lengths", "zipf", "--dry-run", "--gpu", "h100-sxm"}, "--lengths zipf: uniform"},
    {"bench ragged lengths for prefill",
     {"bench", "--model", "llama-3-8b", "--phase", "prefill", "--lengths", "ragged", "--dry-run", "--gpu", "h100-sxm"},
     "--lengths ragged: decode rows only"},
    {"bench --sms beyond any GPU", {"bench", "--model", "llama-3-8b", "--sms", "5000", "--dry-run", "--gpu", "h100-sxm"},
     "--sms 5000: at most 1024"},
    {"bench --sms without a dry run", {"bench", "--model", "llama-3-8b", "--sms", "132"}, "--sms: a dry run's SM count"},

    // Inputs that are not regular files, or too large.
    {"a device as --config", {"size", "--config", "/dev/zero"}, "--config: '/dev/zero' is not a regular file"},
    {"a FIFO as --config", {"size", "--config", "{dir}/fifo.json"}, "fifo.json' is not a regular file"},
    {"a file over the size cap", {"size", "--config", "{dir}/big.json"}, "big.json' is larger than 16 MiB"},
    {"a YAML alias bomb", {"models", "--presets", "{dir}/bomb"}, "more than 100000 values once aliases"},

    // Checks that held on one path only.
    {"weights beside --kv-cache-memory, SGLang",
     {"fit", "--model", "llama-3.1-405b", "--gpu", "rtx-4090", "--engine", "sglang", "--kv-cache-memory", "4GiB"},
     "--kv-cache-memory 4.00 GiB plus"},
    {"weights beside --kv-cache-memory, TensorRT-LLM",
     {"fit", "--model", "llama-3.1-405b", "--gpu", "rtx-4090", "--engine", "trtllm", "--kv-cache-memory", "4GiB"},
     "of weights per GPU exceed the"},
    {"--kv-cache-memory larger than the GPU",
     {"fit", "--model", "llama-3-8b", "--gpu", "h100-sxm", "--engine", "trtllm", "--kv-cache-memory", "10000GiB"},
     "--kv-cache-memory 10000.00 GiB (10737418240000 B) is more than the"},
    {"--reserve with --kv-cache-memory",
     {"fit", "--model", "llama-3-8b", "--gpu", "h100-sxm", "--kv-cache-memory", "20GiB", "--reserve", "4GiB"},
     "--reserve and --kv-cache-memory exclude each other"},
    {"a fleet field given twice", {"sweep", "--gpus", "h100-sxm:8:tp8:tp2"}, "--gpus 'h100-sxm:8:tp8:tp2': tp is given twice"},
    {"an empty value", {"fit", "--model", "llama-3-8b", "--gpu", "h100-sxm", "--ctx", ""}, "--ctx: empty value"},
    {"JSON followed by a NUL and garbage", {"size", "--config", "{dir}/nul.json"}, "nul.json: malformed JSON: a NUL byte at offset 94"},
    {"two user presets with one name", {"size", "--presets", "{dir}/twins", "--model", "twin"},
     "two model presets answer to 'twin'"},

    // Unbounded work.
    {"a sweep over the row cap", {"sweep", "--max-rows", "10"}, "combinations are more than --max-rows 10"},
    {"a report over its combination cap",
     {"report", "--ctx", "1k,2k,3k,4k,5k,6k,7k,8k,9k,10k,11k,12k,13k,14k,15k,16k,17k,18k,19k,20k,21k,22k,23k,24k,25k,26k,"
                         "27k,28k,29k,30k,31k,32k,33k,34k,35k,36k,37k,38k,39k,40k,41k,42k,43k,44k,45k,46k,47k,48k,49k,50k,"
                         "51k,52k,53k,54k,55k,56k,57k,58k,59k,60k,61k,62k,63k,64k,65k,66k,67k,68k,69k,70k,71k,72k,73k,74k,"
                         "75k,76k,77k,78k,79k,80k,81k,82k,83k,84k,85k,86k,87k,88k,89k,90k,91k,92k,93k,94k,95k,96k,97k,98k,"
                         "99k,100k,101k,102k,103k,104k,105k,106k,107k,108k,109k,110k,111k,112k,113k,114k,115k,116k,117k,118k,"
                         "119k,120k,121k,122k,123k,124k,125k,126k,127k,128k,129k,130k,131k,132k,133k,134k,135k,136k,137k",
      "--gpus", "h100-sxm:8,h200:8,b200:8,mi300x:8,a100-80gb:8,l40s:8,h100-pcie:8,a100-40gb:8,rtx-4090:8"},
     "combinations of --models, --variants, --kv-dtypes, --ctx and --gpus are more than a report shows (20000)"},

    // Writes that fail, and what is echoed.
    {"a results file on a full disk",
     {"bench", "--model", "llama-3-8b", "--ctx", "4k", "--dry-run", "--gpu", "h100-sxm", "--out", "/dev/full"},
     "--out: cannot write '/dev/full' (No space left on device)"},
    {"bad input after --out: no file", {"bench", "--model", "llama-3-8b", "--batch", "0", "--out", "{dir}/r.json"}, "--batch"},
    {"bad input after --out: no folder", {"report", "--ctx", "0", "--out", "{dir}/report"}, "--ctx"},
    {"control characters in an echoed name", {"size", "--model", "\x1b[31mllama\x07"}, "unknown model '\\x1b[31mllama\\x07'"},
    {"Python's Infinity in a field kvplan reads", {"size", "--config", "{dir}/infinite.json"},
     "hidden_size must be a whole number >= 0; got Infinity"},
    {"Python's NaN in a float field kvplan reads", {"size", "--config", "{dir}/nan_factor.json"},
     "factor must be a positive finite number; got NaN"},
    {"a non-finite spelling Python's json does not read", {"size", "--config", "{dir}/lowercase_nan.json"},
     "lowercase_nan.json: malformed JSON"},
    {"an unknown state dtype", {"size", "--model", "nemotron-3-nano-30b-a3b", "--mamba-ssm-cache-dtype", "fp8"},
     "--mamba-ssm-cache-dtype must be float32, bfloat16 or float16; got 'fp8'"},
    {"state layers that do not divide over TP", {"fit", "--model", "nemotron-3-nano-30b-a3b", "--gpu", "h100-sxm", "--tp", "16"},
     "8 groups to divide over TP 16"},
    {"sparse MLA on an engine kvplan does not model it for",
     {"fit", "--model", "deepseek-v3.2-exp", "--gpu", "h200", "--tp", "8", "--engine", "sglang"},
     "--engine sglang: kvplan plans sparse MLA"},
    {"a sparse model's counterfactual in fit",
     {"fit", "--model", "deepseek-v3.2-exp", "--gpu", "h200", "--tp", "8", "--variant", "mha"},
     "--variant mha: vLLM serves DeepSeek-V3.2's sparse attention"},
    {"full layers with their own K/V heads on an engine kvplan does not model them for",
     {"fit", "--presets", "{dir}/g4", "--model", "g4", "--gpu", "h100-sxm", "--engine", "trtllm"},
     "--engine trtllm: kvplan plans per-kind K/V heads and narrower values with vLLM and SGLang only (Gemma-4, MiMo-V2-Flash)"},
    {"an fp8 cache whose full-layer block Hopper's FA4 kernels cannot take",
     {"fit", "--presets", "{dir}/g4", "--model", "g4", "--gpu", "h100-sxm", "--kv-dtype", "fp8"}, "add --block-size 64"},
    {"a model served with image-mask composite backends on a GPU without them",
     {"fit", "--presets", "{dir}/g4", "--model", "g4", "--gpu", "a100-80gb"}, "Hopper (TRITON_FLASH_ATTN) and Blackwell"},
    {"a TP that does not divide DeepSeek-V4's output groups",
     {"fit", "--model", "deepseek-v4-flash", "--gpu", "h200", "--gpus", "16", "--tp", "16", "--ctx", "1k"},
     "--tp 16: vLLM 0.33 splits DeepSeek-V4's output groups"},
    {"DeepSeek-V4 weights with DP", {"fit", "--model", "deepseek-v4-flash", "--gpu", "h200", "--gpus", "16", "--tp", "8",
                                     "--dp", "2", "--ctx", "1k"},
     "--dp 2: with DP vLLM 0.33 runs DeepSeek-V4's MoE sequence-parallel"},
};

}  // namespace

TEST_CASE("the bad-input catalogue: exit 2, one line naming what is wrong, nothing on stdout") {
  CHECK(kCatalogue.size() >= 15);
  TempDir dir;
  write_files(dir, kFiles);
  REQUIRE(mkfifo((dir.path() / "fifo.json").c_str(), 0600) == 0);
  std::ofstream(dir.path() / "big.json", std::ios::binary) << std::string((16u << 20) + 1, ' ');
  check_bad_inputs(kCatalogue, dir.path());
}

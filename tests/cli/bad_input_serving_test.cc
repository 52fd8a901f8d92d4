// The bad-input catalogue for the serving options of `fit` and the fleets of sweep: prefix sharing,
// KV offloading, decode context parallel, expert parallel. The contract is bad_input_check.h's.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "cli/bad_input_check.h"
#include "temp_dir.h"

using namespace kvplan::testing;

namespace {

const std::vector<BadInput> kServing = {
    {"a shared prefix of 0 tokens", {"fit", "--model", "llama-3-8b", "--gpu", "h100-sxm", "--shared-prefix", "0"},
     "--shared-prefix: must be at least 1 token"},
    {"a shared prefix as long as the context",
     {"fit", "--model", "llama-3-8b", "--gpu", "h100-sxm", "--ctx", "8k", "--shared-prefix", "8k"},
     "--shared-prefix 8192 must be shorter than --ctx 8192"},
    {"zero shared prefixes",
     {"fit", "--model", "llama-3-8b", "--gpu", "h100-sxm", "--shared-prefix", "1k", "--prefixes", "0"},
     "--prefixes: must be at least 1"},
    {"more shared prefixes than the pool holds",
     {"fit", "--model", "llama-3-8b", "--gpu", "h100-sxm", "--shared-prefix", "4k", "--prefixes", "100000"},
     "--prefixes 100000: the prefixes of 4096 tokens hold"},
    {"2^64 - 1 shared prefixes",
     {"fit", "--model", "llama-3-8b", "--gpu", "h100-sxm", "--shared-prefix", "4k", "--prefixes", "18446744073709551615"},
     "--prefixes x blocks per prefix does not fit in 64 bits"},
    {"--prefixes without --shared-prefix", {"fit", "--model", "llama-3-8b", "--gpu", "h100-sxm", "--prefixes", "2"},
     "--prefixes counts the prefixes of --shared-prefix"},
    {"a shared prefix on an engine whose block reuse kvplan has not read",
     {"fit", "--model", "llama-3-8b", "--gpu", "h100-sxm", "--engine", "trtllm", "--shared-prefix", "4k"},
     "--shared-prefix: kvplan has not read TensorRT-LLM's KV block reuse"},
    {"a shared prefix with the fleet search",
     {"fit", "--model", "llama-3-8b", "--gpu", "h100-sxm", "--shared-prefix", "4k", "--concurrency", "64"},
     "--concurrency: the fleet search counts requests without prefix sharing"},
    {"an unknown host link", {"fit", "--model", "llama-3-8b", "--gpu", "h100-sxm", "--offload", "cpu:64GiB", "--link", "nvlink"},
     "--link: expected pcie4, pcie5, c2c, or a bandwidth"},
    {"a CPU offload tier of 0 bytes", {"fit", "--model", "llama-3-8b", "--gpu", "h100-sxm", "--offload", "cpu:0", "--link", "pcie5"},
     "--offload cpu: the size must be more than 0 bytes"},
    {"a disk offload tier", {"fit", "--model", "llama-3-8b", "--gpu", "h100-sxm", "--offload", "cpu:64GiB,disk:1TiB", "--link", "pcie5"},
     "--offload disk: vLLM 0.33's --kv-offloading-size sizes the CPU tier only"},
    {"an offload tier kvplan does not know", {"fit", "--model", "llama-3-8b", "--gpu", "h100-sxm", "--offload", "gpu:1GiB", "--link", "pcie5"},
     "--offload: unknown tier 'gpu'"},
    {"the LMCache offload backend",
     {"fit", "--model", "llama-3-8b", "--gpu", "h100-sxm", "--offload", "cpu:64GiB", "--offload-backend", "lmcache", "--link", "pcie5"},
     "--offload-backend lmcache: vLLM 0.33 passes no size to LMCacheMPConnector"},
    {"offloading on an engine other than vLLM",
     {"fit", "--model", "llama-3-8b", "--gpu", "h100-sxm", "--engine", "sglang", "--offload", "cpu:64GiB", "--link", "pcie5"},
     "--offload: kvplan plans vLLM 0.33's native CPU offloading only"},
    {"offloading a model of several KV-cache groups",
     {"fit", "--model", "gemma-3-27b", "--gpu", "h100-sxm", "--ctx", "8k", "--offload", "cpu:64GiB", "--link", "pcie5"},
     "--offload: kvplan plans offloading for models with one full-attention KV-cache group only"},
    {"offloading with PP", {"fit", "--model", "llama-3-8b", "--gpu", "h100-sxm", "--pp", "2", "--offload", "cpu:64GiB", "--link", "pcie5"},
     "--offload: kvplan does not plan offloading with --pp or --dcp"},
    {"a CPU buffer smaller than one chunk", {"fit", "--model", "llama-3-8b", "--gpu", "h100-sxm", "--offload", "cpu:1MiB", "--link", "pcie5"},
     "hold no chunk of"},
    {"--link without --offload", {"fit", "--model", "llama-3-8b", "--gpu", "h100-sxm", "--link", "pcie5"},
     "--link and --offload-backend describe --offload"},
    {"--offload without --link", {"fit", "--model", "llama-3-8b", "--gpu", "h100-sxm", "--offload", "cpu:64GiB"},
     "--offload needs --link"},
    {"a zero DCP", {"fit", "--model", "deepseek-v3", "--gpu", "h200", "--tp", "8", "--dcp", "0"}, "--dcp: must be at least 1"},
    {"a DCP that does not divide TP", {"fit", "--model", "deepseek-v3", "--gpu", "h200", "--tp", "8", "--dcp", "3"},
     "--dcp 3 does not divide --tp 8"},
    {"DCP with a GQA model and no more TP ranks than K/V heads",
     {"fit", "--model", "llama-3.1-70b", "--gpu", "h200", "--tp", "8", "--dcp", "2"}, "greater than the 8 K/V heads"},
    {"DCP above TP / K/V heads", {"fit", "--model", "qwen3-235b-a22b", "--gpu", "h200", "--tp", "8", "--dcp", "4"},
     "exceeds vLLM's maximum of TP / K/V heads"},
    {"DCP that does not divide the query heads per K/V head",
     {"fit", "--model", "qwen2.5-7b", "--gpu", "h200", "--tp", "28", "--dcp", "2"}, "does not divide the 7 query heads"},
    {"DCP with an attention backend without it",
     {"fit", "--model", "qwen3-235b-a22b", "--gpu", "h200", "--tp", "8", "--dcp", "2", "--attention-backend", "TRITON_ATTN"},
     "DCP not supported"},
    {"DCP with a backend that refuses it when built",
     {"fit", "--model", "deepseek-v3.2", "--gpu", "h200", "--tp", "8", "--dcp", "8"}, "FLASHMLA_SPARSE decodes with DCP only"},
    {"DCP with sliding-window layers", {"fit", "--model", "gpt-oss-120b", "--gpu", "h200", "--tp", "16", "--dcp", "2"},
     "DCP not support sliding window"},
    {"DCP on a vLLM release kvplan does not model it for",
     {"fit", "--model", "deepseek-v3", "--gpu", "h200", "--tp", "8", "--dcp", "8", "--engine", "vllm@0.19"},
     "in vLLM 0.33 only"},
    {"DCP on an engine kvplan does not model it for",
     {"fit", "--model", "deepseek-v3", "--gpu", "h200", "--tp", "8", "--dcp", "8", "--engine", "sglang"},
     "--dcp: kvplan plans decode context parallelism with vLLM's rules only"},
    {"a fleet with dcp twice", {"sweep", "--models", "deepseek-v3", "--gpus", "h200:8:dcp8:dcp8"}, "dcp is given twice"},
    {"expert parallel on a dense model", {"fit", "--model", "llama-3-8b", "--gpu", "h100-sxm", "--enable-expert-parallel"},
     "--enable-expert-parallel: llama-3-8b has no routed experts to split"},
    {"an EP size that is not TP x DP", {"fit", "--model", "deepseek-v3", "--gpu", "h200", "--gpus", "8", "--tp", "1", "--ep", "4"},
     "--ep 4: vLLM's expert-parallel size is TP x DP = 1 x 8 = 8"},
    {"a zero EP size", {"fit", "--model", "deepseek-v3", "--gpu", "h200", "--gpus", "8", "--ep", "0"}, "--ep: must be at least 1"},
    {"EP on an engine kvplan does not model it for",
     {"fit", "--model", "deepseek-v3", "--gpu", "h200", "--gpus", "8", "--ep", "8", "--engine", "trtllm"},
     "--ep: kvplan plans expert parallelism for vllm and sglang only"},
    {"a fleet whose ep is not TP x DP", {"sweep", "--models", "deepseek-v3", "--gpus", "h200:8:dp8:ep4"},
     "ep4 is not TP x DP = 8"},
    {"a fleet whose TP x PP x DP is not its GPU count", {"sweep", "--models", "deepseek-v3", "--gpus", "h200:8:tp2:dp8"},
     "8 GPUs are not TP x PP x DP = 16"},
    {"a shared prefix with DCP",
     {"fit", "--model", "deepseek-v3", "--gpu", "h200", "--tp", "8", "--dcp", "8", "--shared-prefix", "4k"},
     "--shared-prefix: kvplan does not plan prefix sharing with --dcp yet"},
};

}  // namespace

TEST_CASE("the bad-input catalogue, serving options: exit 2, one line, nothing on stdout") {
  TempDir dir;
  check_bad_inputs(kServing, dir.path());
}

// `kvplan fit` through the command line: output, launch commands, and bad input.
#include <doctest/doctest.h>

#include "cli/cli_runner.h"
#include "temp_dir.h"

using namespace kvplan::testing;

namespace {
bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }
std::string bad_input(const std::vector<std::string>& args) {
  CliResult result = run_cli(args);
  CHECK(result.exit_code == 2);
  CHECK(result.out.empty());
  CHECK(line_count(result.err) == 1);
  return result.err;
}
}  // namespace

TEST_CASE("fit prints the budget, the capacity and vLLM's own log lines") {
  CliResult result = run_cli({"fit", "--model", "llama-3-70b", "--gpu", "h100-sxm", "--gpus", "8", "--tp", "8",
                              "--kv-dtype", "fp8", "--ctx", "32k", "--kv-cache-memory", "50GiB"});
  CHECK(result.exit_code == 0);
  // 50 GiB / (16 x 256 B) / 80 layers = 163840 blocks; / (32768 / 16 = 2048) = 80x; int(80 x 32768) tokens.
  // vLLM 0.33 logs one line.
  CHECK(contains(result.out, "\"GPU KV cache size: 2,621,440 tokens, Maximum concurrency for 32,768 tokens per request: "
                             "80.00x\""));
  CHECK(contains(result.out, "requests per replica"));
}

TEST_CASE("fit --explain shows each rule with its values") {
  CliResult result = run_cli({"fit", "--model", "llama-3-8b", "--gpu", "h100-sxm", "--ctx", "8k", "--explain"});
  CHECK(result.exit_code == 0);
  CHECK(contains(result.out, "8030261248 params x 2 B (bf16) / (TP 1 x PP 1)"));
  CHECK(contains(result.out, "ceil(79.19 GiB x 0.92)"));
  CHECK(contains(result.out, "max(1, 8 / TP 1)"));
}

TEST_CASE("fit --format json carries exact values") {
  CliResult result = run_cli({"fit", "--model", "llama-3-70b", "--gpu", "h100-sxm", "--gpus", "8", "--kv-dtype", "fp8",
                              "--ctx", "32k", "--kv-cache-memory", "50GiB", "--format", "json"});
  CHECK(result.exit_code == 0);
  CHECK(contains(result.out, "\"key\": \"num_blocks\""));
  CHECK(contains(result.out, "\"value\": 163840"));
}

TEST_CASE("--emit prints the engine's launch command for the plan") {
  CliResult vllm = run_cli({"fit", "--model", "llama-3-70b", "--gpu", "h100-sxm", "--gpus", "8", "--kv-dtype", "fp8",
                            "--ctx", "32k", "--kv-cache-memory", "50GiB", "--emit", "vllm"});
  CHECK(vllm.exit_code == 0);
  CHECK(vllm.out ==
        "vllm serve meta-llama/Meta-Llama-3-70B --tensor-parallel-size 8 --max-model-len 32768 --kv-cache-dtype fp8 "
        "--kv-cache-memory-bytes 53687091200 --max-num-seqs 80\n");
  CliResult sglang = run_cli({"fit", "--model", "deepseek-v3", "--gpu", "h200", "--gpus", "8", "--engine", "sglang",
                              "--ctx", "64k", "--emit", "sglang"});
  CHECK(sglang.exit_code == 0);
  // SGLang 0.5.23 on an H200 (nvidia-smi 143771 MiB), TP 8, MLA: R = 512 + 1.5 x 8192 + 8 / 8 x 1024
  // + 2 x 512 + 1536 = 16384 MiB; round((143771 - 16384) / 143771, 3) = 0.886.
  CHECK(contains(sglang.out, "python -m sglang.launch_server --model-path deepseek-ai/DeepSeek-V3 --tp-size 8 "
                             "--context-length 65536 --kv-cache-dtype bf16 --mem-fraction-static 0.886"));
  CliResult dp = run_cli({"fit", "--model", "deepseek-v3", "--gpu", "h200", "--gpus", "8", "--engine", "sglang",
                          "--ctx", "64k", "--dp-attention", "--emit", "sglang"});
  CHECK(dp.exit_code == 0);
  CHECK(contains(dp.out, "--tp-size 8 --attn-dp-size 8 --context-length 65536"));
  // --dcp 8: no prefill graph, so no 1536 MiB MLA reserve: R = 14848 MiB, round(128923 / 143771, 3) = 0.897.
  CliResult dcp = run_cli({"fit", "--model", "deepseek-v3", "--gpu", "h200", "--gpus", "8", "--engine", "sglang",
                           "--ctx", "64k", "--dcp", "8", "--emit", "sglang"});
  CHECK(dcp.exit_code == 0);
  CHECK(contains(dcp.out, "--tp-size 8 --dcp-size 8 --context-length 65536 --kv-cache-dtype bf16 "
                          "--mem-fraction-static 0.897"));
}

TEST_CASE("fit --disable-hybrid-kv-cache-manager prints the capacity the allocator saves") {
  // gpt-oss-20b, 40 GiB, 128k (tests/core/hybrid_off_test.cc has the arithmetic): 54,613 / 8192 =
  // 6.67x off, 109,226 / 9225 = 11.84x on; 1 - 6.6666259765625 / 11.840216802168023 = 43.7%.
  const std::vector<std::string> args = {"fit", "--model", "gpt-oss-20b", "--gpu", "h100-sxm", "--ctx", "128k",
                                         "--kv-cache-memory", "40GiB", "--disable-hybrid-kv-cache-manager"};
  CliResult table = run_cli(args);
  CHECK(table.exit_code == 0);
  CHECK(contains(table.out, "Maximum concurrency for 131,072 tokens per request: 6.67x"));
  CHECK(contains(table.out, "max concurrency, hybrid allocator on"));
  CHECK(contains(table.out, "11.84x"));
  CHECK(contains(table.out, "43.7%"));
  std::vector<std::string> json = args;
  json.insert(json.end(), {"--format", "json"});
  CliResult document = run_cli(json);
  CHECK(contains(document.out, "\"hybrid_on_kv_tokens\""));
  CHECK(contains(document.out, "1551920"));
  std::vector<std::string> emit = args;
  emit.insert(emit.end(), {"--emit", "vllm"});
  CHECK(contains(run_cli(emit).out, " --disable-hybrid-kv-cache-manager"));
}

TEST_CASE("fit: bad input is one line and exit 2") {
  // A GPU smaller than the weights, with how much is missing.
  CHECK(contains(bad_input({"fit", "--model", "llama-3.1-405b", "--gpu", "h100-sxm", "--gpus", "8", "--ctx", "8k"}),
                 "21.64 GiB missing"));
  CHECK(contains(bad_input({"fit", "--model", "llama-3-8b", "--gpu", "rtx-4090", "--weights-dtype", "fp32", "--ctx", "8k"}),
                 "the weights do not fit"));
  // Not even one request fits.
  CHECK(contains(bad_input({"fit", "--model", "llama-3-70b", "--gpu", "h100-sxm", "--gpus", "2", "--ctx", "1M"}),
                 "not even one request of 1048576 tokens fits"));
  CHECK(contains(bad_input({"fit", "--model", "qwen2.5-7b", "--gpu", "h100-sxm", "--gpus", "8"}),
                 "--tp 8 does not divide num_attention_heads (28)"));
  CHECK(contains(bad_input({"fit", "--model", "llama-3-8b", "--gpu", "h100-sxm", "--mem-util", "1.5"}), "--mem-util"));
  CHECK(contains(bad_input({"fit", "--model", "llama-3-8b", "--gpu", "h100-sxm", "--mem-util", "nan"}), "--mem-util"));
  CHECK(contains(bad_input({"fit", "--model", "llama-3-8b", "--gpu", "h100-sxm", "--engine", "tgi"}), "unknown engine 'tgi'"));
  CHECK(contains(bad_input({"fit", "--model", "llama-3-8b", "--gpu", "h100-sxn"}), "did you mean 'h100-sxm'?"));
  CHECK(contains(bad_input({"fit", "--model", "llama-3-8b"}), "--gpu is required"));
  CHECK(contains(bad_input({"fit", "--model", "llama-3-8b", "--gpu", "h100-sxm", "--gpus", "8", "--tp", "3"}),
                 "not a multiple of TP 3"));
  CHECK(contains(bad_input({"fit", "--model", "llama-3-8b", "--gpu", "h100-sxm", "--gpus", "8", "--tp", "2", "--dp", "2"}),
                 "does not equal TP x PP x DP = 4"));
  CHECK(contains(bad_input({"fit", "--model", "llama-3-8b", "--gpu", "h100-sxm", "--emit", "sglang"}), "--engine sglang"));
  CHECK(contains(bad_input({"fit", "--model", "llama-3-8b", "--gpu", "h100-sxm", "--dp-attention"}), "--engine sglang"));
  CHECK(contains(bad_input({"fit", "--model", "llama-3-8b", "--gpu", "h100-sxm", "--variant", "all"}), "one variant"));
  CHECK(contains(bad_input({"fit", "--model", "llama-3-8b", "--gpu", "h100-sxm", "--kv-cache-memory", "80G"}), "ambiguous"));
  CHECK(contains(bad_input({"fit", "--model", "llama-3-8b", "--gpu", "h100-sxm", "--weights-dtype", "fp6"}),
                 "--weights-dtype"));
  CHECK(contains(bad_input({"fit", "--model", "llama-3-8b", "--gpu", "h100-sxm", "--gpu-price", "-2"}), "--gpu-price"));
}

TEST_CASE("SGLang log, PR 18263: Qwen3-30B-A3B's K and V buffers for 1,669,816 tokens") {
  // Logged: "KV Cache is allocated. dtype: torch.bfloat16, #tokens: 1669816, K size: 76.44 GB,
  // V size: 76.44 GB". cell_size = 4 KV heads x 128 x 2 (K and V) x 2 B x 48 layers = 98304 B;
  // give a pool of exactly 1669816 tokens; each of the K and V buffers holds (1669816 + 1 page)
  // slots x 4 x 128 x 2 B x 48 layers = 82074845184 B = 76.44 x 2^30.
  // The pool is 152.88 GiB: beside it, bf16 weights (30.5B x 2 B = 56.87 GiB) would overflow the
  // MI300X's 191.98 GiB, which kvplan refuses, so the weights here are fp8 (28.4 GiB).
  const std::uint64_t memory = 1669816ull * 98304;
  CHECK(1669817ull * 4 * 128 * 2 * 48 == 82074845184ull);
  CliResult result = run_cli({"fit", "--config", std::string(KVPLAN_SOURCE_DIR) + "/tests/data/configs/qwen3-30b-a3b/config.json",
                              "--gpu", "mi300x", "--engine", "sglang", "--ctx", "32k", "--kv-cache-memory",
                              std::to_string(memory), "--weights-dtype", "fp8"});
  CHECK(result.exit_code == 0);
  CHECK(contains(result.out,
                 "\"KV Cache is allocated. dtype: torch.bfloat16, #tokens: 1669816, K size: 76.44 GB, V size: 76.44 GB\""));
}

TEST_CASE("fit --engine sglang: 0.830 for Llama-3.1-8B on one H100, as SGLang 0.5.23 resolves it") {
  // R = 512 + 1.5 x 8192 + 1 / 8 x 1024 + 2 x 256 + 8 x 58 = 13904 MiB of nvidia-smi's 81559:
  // round(67655 / 81559, 3) = 0.830 (SGLang 0.5.23's own ServerArgs resolution gives 0.830 on a
  // faked H100; see tests/core/sglang_test.cc).
  CliResult result = run_cli({"fit", "--model", "llama-3.1-8b", "--gpu", "h100-sxm", "--engine", "sglang", "--ctx",
                              "8k", "--explain"});
  CHECK(result.exit_code == 0);
  CHECK(contains(result.out, "mem_fraction_static 0.830"));
  CHECK(contains(result.out, "round((G 81559 MiB [nvidia-smi total] - R 13904 MiB) / G, 3)"));
  // Pool: int((68968374272 / 2^30 - 85028896768 / 2^30 x 0.17) x 2^30) = 54513461821 B; / 131072 B
  // per token = 415904 tokens, whose K and V buffers are (415904 + 1) x 32 layers x 2048 B = 25.38 GiB.
  CHECK(contains(result.out, "\"KV Cache is allocated. dtype: torch.bfloat16, #tokens: 415904, K size: 25.38 GB, "
                             "V size: 25.38 GB\""));
}

TEST_CASE("fit --engine sglang@0.5.2: that release's fraction and its log line, which has no dtype") {
  // 0.4.7.post1-0.5.2: R = (9.5 + 1 / 2) x 1024 = 10240; round(71319 / 81559, 3) = 0.874 (tests/core/
  // sglang_rules_test.cc). memory_pool.py (0.5.2) logs "KV Cache is allocated. #tokens: N, K size: ..."
  // (the dtype came in 0.5.13), as the 0.5.2rc2 log of Grok-2 on H100s reads.
  // Pool: int((68968374272 / 2^30 - 85028896768 / 2^30 x (1 - 0.874)) x 2^30) = 58254733279 B; / 131072 B =
  // 444448 tokens, whose K buffers are (444448 + 1) x 32 x 2048 B = 27.13 GiB.
  CliResult result = run_cli({"fit", "--model", "llama-3.1-8b", "--gpu", "h100-sxm", "--engine", "sglang@0.5.2", "--ctx",
                              "8k"});
  CHECK(result.exit_code == 0);
  CHECK(contains(result.out, "sglang 0.5.2: mem_fraction_static 0.874"));
  CHECK(contains(result.out, "\"KV Cache is allocated. #tokens: 444448, K size: 27.13 GB, V size: 27.13 GB\""));
}

TEST_CASE("fit --engine sglang with a context longer than the pool prints SGLang's warning") {
  // 10 GiB / 131072 B = 81920 tokens < 1048576; SGLang starts, warns, and serves shorter requests.
  CliResult result = run_cli({"fit", "--model", "llama-3.1-8b", "--gpu", "h100-sxm", "--engine", "sglang", "--ctx",
                              "1M", "--kv-cache-memory", "10GiB"});
  CHECK(result.exit_code == 0);
  CHECK(contains(result.out, "KV pool holds 81920 tokens, fewer than --context-length 1048576."));
  // 1M is also past the model's 131072 positions, which SGLang checks first.
  CHECK(contains(result.out, "SGLang refuses it unless SGLANG_ALLOW_OVERWRITE_LONGER_CONTEXT_LEN=1"));
  CliResult emit = run_cli({"fit", "--model", "llama-3.1-8b", "--gpu", "h100-sxm", "--engine", "sglang", "--ctx",
                            "1M", "--kv-cache-memory", "10GiB", "--emit", "sglang"});
  CHECK(emit.exit_code == 0);
  CHECK(!contains(emit.out, "--max-running-requests"));
}

TEST_CASE("fit --engine sglang: gpt-oss's hybrid SWA pool logs a Full and an SWA part") {
  // gpt-oss-120b's config.json fields that kvplan reads (huggingface.co/openai/gpt-oss-120b):
  // 36 layers alternating sliding_attention / full_attention, 8 K/V heads of 64, a 128-token
  // window, 128 experts, MXFP4 experts.
  std::string layer_types;
  for (int layer = 0; layer < 36; ++layer) {
    layer_types += std::string(layer == 0 ? "" : ", ") + (layer % 2 == 0 ? "\"sliding_attention\"" : "\"full_attention\"");
  }
  TempDir dir;
  const std::string config = dir.write("gpt-oss-120b/config.json",
      "{\"architectures\": [\"GptOssForCausalLM\"], \"model_type\": \"gpt_oss\", \"num_hidden_layers\": 36, "
      "\"num_attention_heads\": 64, \"num_key_value_heads\": 8, \"head_dim\": 64, \"hidden_size\": 2880, "
      "\"intermediate_size\": 2880, \"num_local_experts\": 128, \"num_experts_per_tok\": 4, "
      "\"experts_per_token\": 4, \"vocab_size\": 201088, \"max_position_embeddings\": 131072, "
      "\"sliding_window\": 128, \"tie_word_embeddings\": false, \"torch_dtype\": \"bfloat16\", "
      "\"quantization_config\": {\"quant_method\": \"mxfp4\"}, \"layer_types\": [" + layer_types + "]}").string();
  // The weights as stored: MXFP4 experts (36 x 128 x 3 x 2880 x 2880 parameters), the rest bf16.
  CliResult automatic = run_cli({"fit", "--config", config, "--gpu", "h200", "--engine", "sglang", "--ctx", "4k",
                                 "--kv-cache-memory", "40GiB"});
  CHECK(automatic.exit_code == 0);
  CHECK(contains(automatic.out, "114661785600 expert parameters at 4.25 bits"));
  // 40 GiB // (2048 B x 18 full layers + 0.8 x 2048 B x 18 sliding layers = 66355.2 B) = 647269 full
  // tokens, int(647269 x 0.8) = 517815 SWA tokens (tests/core/sglang_test.cc has the arithmetic).
  // An H200 (fa3, pages of 1, as on an H100) holds the weights beside 40 GiB of KV.
  CliResult result = run_cli({"fit", "--config", config, "--gpu", "h200", "--engine", "sglang", "--ctx", "128k",
                              "--kv-cache-memory", "40GiB"});
  CHECK(result.exit_code == 0);
  CHECK(contains(result.out, "\"Full KV Cache is allocated. dtype: torch.bfloat16, #tokens: 647269, K size: 11.11 GB"));
  CHECK(contains(result.out, "\"SWA KV Cache is allocated. dtype: torch.bfloat16, #tokens: 517815, K size: 8.89 GB"));
}

TEST_CASE("fit --engine vllm@0.19 prints that release's two log lines") {
  // vLLM 0.19 logged "GPU KV cache size: blocks x 16 tokens" and the concurrency on a second line.
  CliResult result = run_cli({"fit", "--model", "llama-3-70b", "--gpu", "h100-sxm", "--gpus", "8", "--kv-dtype", "fp8",
                              "--ctx", "32k", "--kv-cache-memory", "50GiB", "--engine", "vllm@0.19"});
  CHECK(result.exit_code == 0);
  CHECK(contains(result.out, "vLLM 0.19 logs: \"GPU KV cache size: 2,621,440 tokens\""));
  CHECK(contains(result.out, "vLLM 0.19 logs: \"Maximum concurrency for 32,768 tokens per request: 80.00x\""));
  CHECK(contains(result.out, "gpu_memory_utilization 0.90"));
}

TEST_CASE("fit with PP prints every stage's budget and marks the binding one") {
  CliResult result = run_cli({"fit", "--model", "llama-3.1-8b", "--gpu", "h100-sxm", "--pp", "2", "--ctx", "128k",
                              "--kv-cache-memory", "20GiB,18GiB", "--explain"});
  CHECK(result.exit_code == 0);
  // 20 GiB and 18 GiB over blocks of 16 tokens x 4096 B x 16 layers = 1 MiB: 20480 and 18432 blocks.
  CHECK(contains(result.out, "20480 blocks of 1048576 B"));
  CHECK(contains(result.out, "18432 blocks of 1048576 B (binding: the fewest blocks)"));
  CHECK(contains(result.out, "GPU KV cache size: 294,912 tokens, Maximum concurrency for 131,072 tokens per request: 2.25x"));
}

TEST_CASE("fit --attention-backend picks vLLM's backend and its block size") {
  // CUTLASS MLA's blocks of 128 on a B200: 128 x 1152 B pages.
  CliResult result = run_cli({"fit", "--model", "deepseek-v3", "--gpu", "b200", "--gpus", "8", "--ctx", "32k",
                              "--attention-backend", "CUTLASS_MLA", "--explain"});
  CHECK(result.exit_code == 0);
  CHECK(contains(result.out, "128 tokens x 1152 B; block size of the CUTLASS_MLA backend (--attention-backend CUTLASS_MLA)"));
}

TEST_CASE("fit --concurrency beyond any fleet: the note says why, not that one request does not fit") {
  // Llama-3-8B at 8k holds requests on one H100; 2^64 - 1 of them need more than 100000 replicas.
  CliResult result = run_cli({"fit", "--model", "llama-3-8b", "--gpu", "h100-sxm", "--ctx", "8k", "--concurrency",
                              "18446744073709551615"});
  CHECK(result.exit_code == 0);
  CHECK(contains(result.out, "no fleet of h100-sxm with TP <= 8, PP <= 8 and at most 100000 deployments holds "
                             "18446744073709551615 requests of 8192 tokens"));
}

TEST_CASE("fit --engine sglang: a state model logs its Mamba pool and caps the running requests") {
  // Nemotron-3-Nano on one H200 (tests/core/sglang_state_test.cc has the arithmetic): 697 slots of
  // 23 layers x (36864 B conv + 2097152 B SSM), allocated 698 times (one padding slot):
  // 698 x 23 x 36864 / 2^30 = 0.55 GB, 698 x 23 x 2097152 / 2^30 = 31.36 GB (MambaPool's log).
  CliResult result = run_cli({"fit", "--model", "nemotron-3-nano-30b-a3b", "--gpu", "h200", "--engine", "sglang", "--ctx", "32k"});
  CHECK(result.exit_code == 0);
  CHECK(contains(result.out, "\"Mamba Cache is allocated. max_mamba_cache_size: 697, conv_state size: 0.55GB, "
                             "ssm_state size: 31.36GB\""));
  // The KV pool: (6199509 tokens + 1 page) x 6 layers x 512 B per K (or V) / 2^30 = 17.737 GB.
  CHECK(contains(result.out, "#tokens: 6199509, K size: 17.74 GB, V size: 17.74 GB"));
  CliResult emit = run_cli({"fit", "--model", "nemotron-3-nano-30b-a3b", "--gpu", "h200", "--engine", "sglang", "--ctx",
                            "32k", "--mamba-ssm-cache-dtype", "bfloat16", "--emit", "sglang"});
  CHECK(emit.exit_code == 0);
  // bfloat16 SSM state: 23 x (36864 + 1048576) = 24965120 B per slot, 1371 slots, 1371 // 5 = 274
  // running requests; the KV pool's floor(6199509 / 32768) = 189 binds.
  CHECK(contains(emit.out, "--mamba-ssm-dtype bfloat16 --max-running-requests 189"));
}

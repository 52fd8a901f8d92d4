// --model as a checkpoint: the Hugging Face cache offline, a local folder, and the hub through the
// stand-in server (tests/hub/hub_server.py): Range requests for the headers only, a gated
// repository, what is stored in the cache, and the failures that must leave it untouched.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>

#include "cli/cli_runner.h"
#include "hub/hub_fixtures.h"
#include "temp_dir.h"

using namespace kvplan::testing;
namespace fs = std::filesystem;

namespace {

constexpr const char* kCommit = "0123456789abcdef0123456789abcdef01234567";

// Llama-3.1-8B in bf16, tensor by tensor: the embedding and the LM head are vocab x hidden, each
// layer has q and o (hidden x hidden), k and v (1024 x hidden), gate, up and down (14336 x hidden)
// and two norms of hidden; one final norm.
constexpr std::uint64_t kEmbedding = 128256ull * 4096 * 2;
constexpr std::uint64_t kLayer = (2 * 4096ull * 4096 + 2 * 1024ull * 4096 + 3 * 14336ull * 4096 + 2 * 4096) * 2;
constexpr std::uint64_t kLlama8bBytes = 2 * kEmbedding + 32 * kLayer + 4096 * 2;
static_assert(kLlama8bBytes == 8030261248ull * 2, "the model card's 8030261248 parameters in bf16");

// A small model for the hub: 2 layers, hidden 256, a vocabulary of 1000 (padded to 1024 by vLLM).
std::string tiny_config() {
  return R"({"model_type": "llama", "hidden_size": 256, "intermediate_size": 512, "num_hidden_layers": 2,
    "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 1000, "max_position_embeddings": 4096,
    "torch_dtype": "bfloat16"})";
}

std::vector<std::vector<TestTensor>> tiny_shards() {
  std::vector<std::vector<TestTensor>> shards(2);
  shards[0].push_back({"model.embed_tokens.weight", "BF16", {1000, 256}});
  for (int layer = 0; layer < 2; ++layer) {
    const std::string prefix = "model.layers." + std::to_string(layer) + ".";
    auto& shard = shards[static_cast<std::size_t>(layer)];
    shard.push_back({prefix + "input_layernorm.weight", "BF16", {256}});
    shard.push_back({prefix + "self_attn.q_proj.weight", "BF16", {256, 256}});
    shard.push_back({prefix + "self_attn.k_proj.weight", "BF16", {128, 256}});
    shard.push_back({prefix + "self_attn.v_proj.weight", "BF16", {128, 256}});
    shard.push_back({prefix + "self_attn.o_proj.weight", "BF16", {256, 256}});
    shard.push_back({prefix + "post_attention_layernorm.weight", "BF16", {256}});
    shard.push_back({prefix + "mlp.gate_proj.weight", "BF16", {512, 256}});
    shard.push_back({prefix + "mlp.up_proj.weight", "BF16", {512, 256}});
    shard.push_back({prefix + "mlp.down_proj.weight", "BF16", {256, 512}});
  }
  shards[1].push_back({"model.norm.weight", "BF16", {256}});
  shards[1].push_back({"lm_head.weight", "BF16", {1000, 256}});
  return shards;
}
constexpr std::uint64_t kTinyLayer = (2 * 256 * 256 + 2 * 128 * 256 + 3 * 512 * 256 + 2 * 256) * 2;
constexpr std::uint64_t kTinyBytes = 2 * 1000 * 256 * 2 + 2 * kTinyLayer + 256 * 2;

// A hub tree for the server: ROOT/org/name/{files, .commit, .token}.
fs::path hub_repo(const fs::path& root, const std::string& repo_id, const std::string& config,
                  const std::vector<std::vector<TestTensor>>& shards) {
  const fs::path repo = root / repo_id;
  write_checkpoint(repo, config, shards);
  write_text(repo / ".commit", kCommit);
  return repo;
}

std::vector<std::string> files_under(const fs::path& dir) {
  std::vector<std::string> paths;
  if (!fs::exists(dir)) return paths;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) paths.push_back(fs::relative(entry.path(), dir).string());
  std::sort(paths.begin(), paths.end());
  return paths;
}

}  // namespace

TEST_CASE("fit --model meta-llama/Llama-3.1-8B-Instruct from the Hugging Face cache, offline: the checkpoint's bytes") {
  TempDir dir;
  write_cached_checkpoint(dir.path() / "hub", "meta-llama/Llama-3.1-8B-Instruct", kCommit, llama_3_1_8b_config(),
                          llama_3_1_8b_shards());
  // HF_HOME/hub is the cache; any attempt at the network would fail on the closed port.
  ScopedEnv env{{"HF_HOME", dir.path().string()}, {"HF_HUB_CACHE", std::nullopt}, {"HF_HUB_OFFLINE", "1"},
                {"HF_ENDPOINT", "http://127.0.0.1:1"}};
  CliResult result = run_cli({"fit", "--model", "meta-llama/Llama-3.1-8B-Instruct", "--gpu", "h100-sxm", "--format", "json"});
  REQUIRE(result.exit_code == 0);
  CHECK(result.err.empty());
  CHECK(result.out.find("\"weights\"") != std::string::npos);
  CHECK(result.out.find(std::to_string(kLlama8bBytes)) != std::string::npos);
  CHECK(result.out.find("the checkpoint's safetensors headers (the Hugging Face cache") != std::string::npos);

  CliResult table = run_cli({"fit", "--model", "meta-llama/Llama-3.1-8B-Instruct", "--gpu", "h100-sxm", "--explain"});
  REQUIRE(table.exit_code == 0);
  CHECK(table.out.find("weights: bf16 from the checkpoint's safetensors headers") != std::string::npos);
  CHECK(table.out.find(std::to_string(kLlama8bBytes) + " B bf16") != std::string::npos);
  // Per role: the vocabulary matrices, the K/V projections, the norms (65 of 4096 x 2 B).
  CHECK(table.out.find("embedding " + std::to_string(kEmbedding) + " B") != std::string::npos);
  CHECK(table.out.find("lm_head " + std::to_string(kEmbedding) + " B") != std::string::npos);
  CHECK(table.out.find("k/v projections " + std::to_string(32 * 2 * 1024ull * 4096 * 2) + " B") != std::string::npos);
  CHECK(table.out.find("replicated " + std::to_string(65 * 4096 * 2) + " B") != std::string::npos);
}

TEST_CASE("a checkpoint folder: its weights per GPU at TP 2 are the sharded tensors plus the replicated norms") {
  TempDir dir;
  write_checkpoint(dir.path() / "Llama-3.1-8B-Instruct", llama_3_1_8b_config(), llama_3_1_8b_shards());
  ScopedEnv env{{"HF_HUB_OFFLINE", "1"}};
  CliResult result = run_cli({"fit", "--model", (dir.path() / "Llama-3.1-8B-Instruct").string(), "--gpu", "h100-sxm",
                              "--tp", "2", "--format", "json"});
  REQUIRE(result.exit_code == 0);
  const std::uint64_t norms = (32 * 2 + 1) * 4096 * 2;
  CHECK(result.out.find(std::to_string((kLlama8bBytes - norms) / 2 + norms)) != std::string::npos);
}

TEST_CASE("the hub: config.json, the index and only the safetensors headers, stored in the cache's layout") {
  TempDir dir;
  const fs::path root = dir.path() / "server";
  // As on the hub, the safetensors files answer with a redirect to a CDN, which takes the Range.
  write_text(hub_repo(root, "test-org/tiny", tiny_config(), tiny_shards()) / ".redirect", "");
  HubServer server(root);
  const fs::path cache = dir.path() / "cache";
  {
    ScopedEnv env{{"HF_HUB_CACHE", cache.string()}, {"HF_ENDPOINT", server.endpoint()}, {"HF_HUB_OFFLINE", std::nullopt},
                  {"HF_TOKEN", std::nullopt}, {"HF_TOKEN_PATH", "/nonexistent/kvplan-test-token"}};
    CliResult result = run_cli({"fit", "--model", "test-org/tiny", "--gpu", "h100-sxm", "--format", "json"});
    REQUIRE(result.exit_code == 0);
    CHECK(result.out.find(std::to_string(kTinyBytes + 2 * 24 * 256 * 2)) != std::string::npos);  // vocabulary padded to 1024
  }
  const fs::path repo = cache / "models--test-org--tiny";
  CHECK(read_file((repo / "refs" / "main").string()) == kCommit);
  const fs::path snapshot = repo / "snapshots" / kCommit;
  CHECK(files_under(snapshot) == std::vector<std::string>{".kvplan-headers", ".kvplan-headers/model-00001-of-00002.safetensors",
                                                          ".kvplan-headers/model-00002-of-00002.safetensors", "config.json",
                                                          "model.safetensors.index.json"});
  const auto shards = tiny_shards();
  for (std::size_t i = 0; i < shards.size(); ++i) {
    CHECK(read_file((snapshot / ".kvplan-headers" / shard_name(i, 2)).string()) == safetensors_header(shards[i]));
  }
  // Offline, with the server gone from the environment, the cache answers alone.
  ScopedEnv offline{{"HF_HUB_CACHE", cache.string()}, {"HF_ENDPOINT", "http://127.0.0.1:1"}, {"HF_HUB_OFFLINE", "1"}};
  CliResult again = run_cli({"fit", "--model", "test-org/tiny", "--gpu", "h100-sxm", "--format", "json"});
  CHECK(again.exit_code == 0);
  CHECK(again.out.find(std::to_string(kTinyBytes + 2 * 24 * 256 * 2)) != std::string::npos);
}

TEST_CASE("the hub: a server that ignores Range, a revision, a gated repository with and without HF_TOKEN") {
  TempDir dir;
  const fs::path root = dir.path() / "server";
  write_text(hub_repo(root, "test-org/whole", tiny_config(), tiny_shards()) / ".ignore-range", "");
  write_text(hub_repo(root, "test-org/gated", tiny_config(), tiny_shards()) / ".token", "hf_secret");
  write_text(root / "test-org" / "gated" / ".redirect", "");
  HubServer server(root);
  const fs::path cache = dir.path() / "cache";
  ScopedEnv env{{"HF_HUB_CACHE", cache.string()}, {"HF_ENDPOINT", server.endpoint()}, {"HF_HUB_OFFLINE", std::nullopt},
                {"HF_TOKEN", std::nullopt}, {"HF_TOKEN_PATH", "/nonexistent/kvplan-test-token"}};

  CliResult whole = run_cli({"size", "--model", "test-org/whole", "--revision", "v1.0", "--ctx", "1k"});
  CHECK(whole.exit_code == 0);
  CHECK(read_file((cache / "models--test-org--whole" / "refs" / "v1.0").string()) == kCommit);
  // Only the header was kept, though the server sent more.
  CHECK(fs::file_size(cache / "models--test-org--whole" / "snapshots" / kCommit / ".kvplan-headers" / shard_name(0, 2)) ==
        safetensors_header(tiny_shards()[0]).size());

  CliResult refused = run_cli({"size", "--model", "test-org/gated", "--ctx", "1k"});
  CHECK(refused.exit_code == 2);
  CHECK(line_count(refused.err) == 1);
  CHECK(refused.err.find("answered 401 for config.json: a gated or private repository") != std::string::npos);
  CHECK(refused.err.find("set HF_TOKEN") != std::string::npos);
  CHECK_FALSE(fs::exists(cache / "models--test-org--gated"));

  // The token `hf auth login` saved, then HF_TOKEN, each opens the gate.
  write_text(dir.path() / "token", "hf_secret\n");
  {
    ScopedEnv saved{{"HF_TOKEN_PATH", (dir.path() / "token").string()}};
    CHECK(run_cli({"size", "--model", "test-org/gated", "--ctx", "1k"}).exit_code == 0);
  }
  fs::remove_all(cache);
  ScopedEnv token{{"HF_TOKEN", "hf_secret"}};
  CHECK(run_cli({"size", "--model", "test-org/gated", "--ctx", "1k"}).exit_code == 0);
}

TEST_CASE("the hub: a header longer than the first Range request is completed by a second one") {
  TempDir dir;
  // 30000 small tensors: a header of about 2 MB, past the first MiB kvplan asks for.
  std::vector<TestTensor> tensors;
  for (int i = 0; i < 30000; ++i) tensors.push_back({"model.layers.0.extra_" + std::to_string(i) + ".weight", "BF16", {2}});
  const fs::path root = dir.path() / "server";
  hub_repo(root, "test-org/long", tiny_config(), {tensors});
  const std::string header = safetensors_header(tensors);
  REQUIRE(header.size() > (1u << 20));
  HubServer server(root);
  const fs::path cache = dir.path() / "cache";
  ScopedEnv env{{"HF_HUB_CACHE", cache.string()}, {"HF_ENDPOINT", server.endpoint()}, {"HF_HUB_OFFLINE", std::nullopt},
                {"HF_TOKEN", std::nullopt}, {"HF_TOKEN_PATH", "/nonexistent/kvplan-test-token"}};
  CliResult result = run_cli({"fit", "--model", "test-org/long", "--gpu", "h100-sxm", "--format", "json"});
  CHECK(result.exit_code == 0);
  CHECK(result.out.find("as vLLM shards them, TP 1: " + std::to_string(30000 * 2 * 2) + " B bf16") != std::string::npos);
  CHECK(read_file((cache / "models--test-org--long" / "snapshots" / kCommit / ".kvplan-headers" / "model.safetensors").string()) ==
        header);
}

TEST_CASE("sweep and report --models take checkpoints beside presets") {
  TempDir dir;
  write_checkpoint(dir.path() / "Llama-3.1-8B-Instruct", llama_3_1_8b_config(), llama_3_1_8b_shards());
  ScopedEnv env{{"HF_HUB_OFFLINE", "1"}};
  CliResult result = run_cli({"sweep", "--models", (dir.path() / "Llama-3.1-8B-Instruct").string() + ",llama-3.1-8b",
                              "--gpus", "h100-sxm:1", "--ctx", "4k", "--format", "csv"});
  REQUIRE(result.exit_code == 0);
  CHECK(result.out.find("Llama-3.1-8B-Instruct,") != std::string::npos);
  CHECK(result.out.find("llama-3.1-8b,") != std::string::npos);

  CliResult report = run_cli({"report", "--models", (dir.path() / "Llama-3.1-8B-Instruct").string(), "--gpus",
                              "h100-sxm:1", "--ctx", "4k", "--format", "csv"});
  REQUIRE(report.exit_code == 0);
  CHECK(report.out.find("Llama-3.1-8B-Instruct") != std::string::npos);
}

TEST_CASE("no network: exit 3 and one line - presets and their Hugging Face ids never need one") {
  TempDir dir;
  ScopedEnv env{{"HF_HUB_CACHE", (dir.path() / "cache").string()}, {"HF_ENDPOINT", "http://127.0.0.1:1"},
                {"HF_HUB_OFFLINE", std::nullopt}};
  CliResult result = run_cli({"size", "--model", "test-org/absent", "--ctx", "1k"});
  CHECK(result.exit_code == 3);
  CHECK(line_count(result.err) == 1);
  CHECK(result.err.find("cannot reach http://127.0.0.1:1/test-org/absent/resolve/main/config.json") != std::string::npos);
  CHECK(result.out.empty());

  CHECK(run_cli({"fit", "--model", "llama-3.1-8b", "--gpu", "h100-sxm"}).exit_code == 0);
  CHECK(run_cli({"fit", "--model", "meta-llama/Llama-3.1-8B", "--gpu", "h100-sxm"}).exit_code == 0);

  ScopedEnv offline{{"HF_HUB_OFFLINE", "1"}};
  CliResult refused = run_cli({"size", "--model", "test-org/absent", "--ctx", "1k"});
  CHECK(refused.exit_code == 3);
  CHECK(refused.err.find("not in the Hugging Face cache") != std::string::npos);
  CHECK(refused.err.find("HF_HUB_OFFLINE=1") != std::string::npos);
  CHECK(files_under(dir.path() / "cache").empty());
}

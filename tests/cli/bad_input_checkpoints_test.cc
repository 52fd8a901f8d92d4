// The bad-input catalogue for checkpoints (issue 12), from a folder and from the hub: the same
// rules as bad_input_catalogue_test.cc (exit 2, one stderr line naming what is wrong, nothing on
// stdout), exit 3 when the machine cannot reach the hub, and the Hugging Face cache left as it was.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "cli/bad_input_check.h"
#include "cli/cli_runner.h"
#include "hub/hub_fixtures.h"
#include "temp_dir.h"

using namespace kvplan::testing;

TEST_CASE("the bad-input catalogue, checkpoints: exit 2, one line, nothing on stdout, nothing in the cache") {
  TempDir dir;
  const std::string config = "{\"model_type\": \"llama\", \"num_hidden_layers\": 1, \"num_attention_heads\": 4, "
                             "\"hidden_size\": 256, \"intermediate_size\": 512, \"vocab_size\": 1000}";
  const std::vector<kvplan::testing::TestTensor> tensors{{"model.layers.0.mlp.down_proj.weight", "BF16", {256, 512}}};
  const std::string good = kvplan::testing::safetensors_header(tensors);
  auto length = [](std::uint64_t value) {
    std::string bytes(8, '\0');
    for (int i = 0; i < 8; ++i) bytes[static_cast<std::size_t>(i)] = static_cast<char>((value >> (8 * i)) & 0xff);
    return bytes;
  };
  auto header = [&](const std::string& json) { return length(json.size()) + json; };
  const std::vector<std::pair<std::string, std::string>> folders = {
      {"stub", "abcde"},
      {"short", length(1000) + "{\"a\": 1}"},
      {"huge", length(1ull << 40)},
      {"json", header("{\"x\": {\"dtype\": \"BF16\", ")},
      {"product", header("{\"x\": {\"dtype\": \"U8\", \"shape\": [4294967296, 4294967296], \"data_offsets\": [0, 0]}}")},
      {"offsets", header("{\"x\": {\"dtype\": \"BF16\", \"shape\": [2], \"data_offsets\": [0, 3]}}")},
      {"past", good},  // the header alone: its tensor's data is missing
  };
  for (const auto& [name, bytes] : folders) {
    dir.write("ckpt/" + name + "/config.json", config);
    dir.write("ckpt/" + name + "/model.safetensors", bytes);
  }
  dir.write("ckpt/noconfig/model.safetensors", good);
  kvplan::testing::write_checkpoint(dir.path() / "ckpt" / "good", config, {tensors});
  const auto server_root = dir.path() / "server";
  kvplan::testing::write_checkpoint(server_root / "org" / "gated", config, {tensors});
  dir.write("server/org/gated/.token", "hf_secret");
  dir.write("server/org/forbidden/config.json", config);
  dir.write("server/org/forbidden/.status", "403");
  kvplan::testing::write_text(server_root / "org" / "broken" / "config.json", config);
  dir.write("server/org/broken/model.safetensors", header("{\"x\": {\"dtype\": \"BF16\", \"shape\": [2]}}"));
  dir.write("server/org/cut/config.json", config);
  dir.write("server/org/cut/model.safetensors", length(4096) + "{\"x\"");
  for (const char* repo : {"gated", "broken", "cut"}) dir.write(std::string("server/org/") + repo + "/.commit", std::string(40, 'a'));
  kvplan::testing::HubServer server(server_root);
  const auto cache = dir.path() / "cache";
  kvplan::testing::ScopedEnv env{{"HF_HUB_CACHE", cache.string()}, {"HF_ENDPOINT", server.endpoint()},
                                 {"HF_HUB_OFFLINE", std::nullopt}, {"HF_TOKEN", std::nullopt}, {"HF_TOKEN_PATH", "/nonexistent/kvplan-test-token"}};
  const std::string ckpt = (dir.path() / "ckpt").string();
  const std::vector<BadInput> cases = {
      {"a safetensors file shorter than its length field", {"size", "--model", ckpt + "/stub"},
       "truncated safetensors file: 5 B where the 8-byte header length should be"},
      {"a safetensors header cut short", {"size", "--model", ckpt + "/short"},
       "truncated safetensors file: the header is 1000 B, the file holds 8 B of it"},
      {"a safetensors header length over the cap", {"size", "--model", ckpt + "/huge"},
       "safetensors header length 1099511627776 B is over the 100000000 B the format allows"},
      {"a safetensors header that is not JSON", {"size", "--model", ckpt + "/json"}, "model.safetensors: malformed JSON"},
      {"a tensor shape whose product overflows", {"size", "--model", ckpt + "/product"},
       "tensor 'x': the product of its shape does not fit in 64 bits"},
      {"data offsets that disagree with dtype x shape", {"size", "--model", ckpt + "/offsets"},
       "tensor 'x': data_offsets [0, 3] hold 3 B, but BF16 x shape is 4 B"},
      {"a tensor's data past the end of its file", {"size", "--model", ckpt + "/past"}, "B of data (a truncated file?)"},
      {"a checkpoint folder without config.json", {"size", "--model", ckpt + "/noconfig"}, "the folder has no config.json"},
      {"SGLang's DP attention with a checkpoint's tensors",
       {"fit", "--model", ckpt + "/good", "--gpu", "h100-sxm", "--engine", "sglang", "--dp-attention", "--ctx", "4k"},
       "--dp-attention: kvplan places a checkpoint's tensors with attention split over TP only"},
      {"a gated repository without HF_TOKEN", {"size", "--model", "org/gated"},
       "answered 401 for config.json: a gated or private repository; accept its licence on the hub and set HF_TOKEN"},
      {"a repository the token may not read", {"size", "--model", "org/forbidden"}, "answered 403 for config.json"},
      {"a repository the hub does not have", {"size", "--model", "org/absent"},
       "answered 404 for config.json: no such repository, revision or file"},
      {"a broken safetensors header on the hub", {"size", "--model", "org/broken"}, "tensor 'x': data_offsets must be [begin, end]"},
      {"a safetensors file on the hub shorter than its header", {"size", "--model", "org/cut"},
       "truncated safetensors file: its header is 4096 B"},
      {"a revision that is not a name", {"size", "--model", "org/gated", "--revision", "../main"},
       "--revision: '../main' is not a branch, tag or commit name"},
      {"a revision for a preset", {"size", "--model", "llama-3-8b", "--revision", "main"},
       "--revision applies to a Hugging Face id (org/name); got --model llama-3-8b"},
  };
  const std::vector<std::string> files = listing(dir.path() / "ckpt");
  for (const BadInput& bad : cases) {
    const std::string what = bad.what;
    CAPTURE(what);
    check_refused(run_cli(bad.args), bad.expected);
    CHECK(listing(dir.path() / "ckpt") == files);
    CHECK_FALSE(std::filesystem::exists(cache));
  }
}

TEST_CASE("checkpoints the machine cannot reach: exit 3, one line, nothing in the cache") {
  TempDir dir;
  dir.write("server/org/down/.status", "503");
  kvplan::testing::HubServer server(dir.path() / "server");
  const auto cache = dir.path() / "cache";
  struct Unreachable {
    const char* what;
    std::string endpoint;
    std::optional<std::string> offline;
    const char* expected;
  };
  const std::vector<Unreachable> cases = {
      {"no network", "http://127.0.0.1:1", std::nullopt, "cannot reach http://127.0.0.1:1/org/down/resolve/main/config.json"},
      {"HF_HUB_OFFLINE=1 and not cached", server.endpoint(), "1", "not in the Hugging Face cache"},
      {"the hub failing", server.endpoint(), std::nullopt, "answered 503 for config.json"},
  };
  for (const Unreachable& unreachable : cases) {
    const std::string what = unreachable.what;
    CAPTURE(what);
    kvplan::testing::ScopedEnv env{{"HF_HUB_CACHE", cache.string()}, {"HF_ENDPOINT", unreachable.endpoint},
                                   {"HF_HUB_OFFLINE", unreachable.offline}, {"HF_TOKEN_PATH", "/nonexistent/kvplan-test-token"}};
    CliResult result = run_cli({"size", "--model", "org/down"});
    CHECK(result.exit_code == 3);
    CHECK(result.out.empty());
    CHECK(line_count(result.err) == 1);
    CHECK(result.err.find(unreachable.expected) != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(cache));
  }
}

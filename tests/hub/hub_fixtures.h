// What the checkpoint tests build: safetensors files written by hand (a header, then zero data),
// the Llama-3.1-8B tensor list, a Hugging Face cache laid out as huggingface_hub lays it out, the
// stand-in hub server (tests/hub/hub_server.py), and environment variables set for one test.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace kvplan::testing {

struct TestTensor {
  std::string name;
  std::string dtype;  // "BF16", "F32", "F8_E4M3", "U8"
  std::vector<std::uint64_t> shape;
};

inline std::uint64_t element_bytes(const std::string& dtype) {
  if (dtype == "F32" || dtype == "I32") return 4;
  if (dtype == "BF16" || dtype == "F16") return 2;
  return 1;  // F8_E4M3, U8, I8
}

inline std::uint64_t tensor_bytes(const TestTensor& tensor) {
  std::uint64_t bytes = element_bytes(tensor.dtype);
  for (std::uint64_t dim : tensor.shape) bytes *= dim;
  return bytes;
}

// The 8-byte little-endian length, then the JSON header padded with spaces to a multiple of 8, as
// the safetensors library writes it. Data offsets run in list order.
inline std::string safetensors_header(const std::vector<TestTensor>& tensors) {
  std::string json = "{\"__metadata__\":{\"format\":\"pt\"}";
  std::uint64_t offset = 0;
  for (const TestTensor& tensor : tensors) {
    std::string shape;
    for (std::uint64_t dim : tensor.shape) shape += (shape.empty() ? "" : ",") + std::to_string(dim);
    const std::uint64_t end = offset + tensor_bytes(tensor);
    json += ",\"" + tensor.name + "\":{\"dtype\":\"" + tensor.dtype + "\",\"shape\":[" + shape + "],\"data_offsets\":[" +
            std::to_string(offset) + "," + std::to_string(end) + "]}";
    offset = end;
  }
  json += "}";
  while (json.size() % 8 != 0) json += ' ';
  std::string length(8, '\0');
  for (int i = 0; i < 8; ++i) length[static_cast<std::size_t>(i)] = static_cast<char>((json.size() >> (8 * i)) & 0xff);
  return length + json;
}

inline std::uint64_t data_bytes(const std::vector<TestTensor>& tensors) {
  std::uint64_t bytes = 0;
  for (const TestTensor& tensor : tensors) bytes += tensor_bytes(tensor);
  return bytes;
}

// A whole safetensors file: the header, then zero data. The data is a hole (a sparse file), so a
// 16 GB checkpoint costs the disk nothing.
inline void write_safetensors(const std::filesystem::path& path, const std::vector<TestTensor>& tensors) {
  std::filesystem::create_directories(path.parent_path());
  const std::string header = safetensors_header(tensors);
  std::ofstream(path, std::ios::binary) << header;
  std::filesystem::resize_file(path, header.size() + data_bytes(tensors));
}

inline void write_text(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

// meta-llama/Llama-3.1-8B-Instruct's config.json fields that kvplan reads (the repository's own
// values: 32 layers, 32 query heads, 8 K/V heads, hidden 4096, MLP 14336, vocabulary 128256).
inline std::string llama_3_1_8b_config() {
  return R"({"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 4096,
    "intermediate_size": 14336, "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8,
    "head_dim": 128, "vocab_size": 128256, "max_position_embeddings": 131072, "rms_norm_eps": 1e-05,
    "tie_word_embeddings": false, "torch_dtype": "bfloat16"})";
}

// Its tensors, as the checkpoint names and shapes them (bf16, [out, in]), split in two shards:
// the embedding and layers 0-15, then layers 16-31, the final norm and the LM head.
inline std::vector<std::vector<TestTensor>> llama_3_1_8b_shards() {
  std::vector<std::vector<TestTensor>> shards(2);
  shards[0].push_back({"model.embed_tokens.weight", "BF16", {128256, 4096}});
  for (int layer = 0; layer < 32; ++layer) {
    auto& shard = shards[layer < 16 ? 0 : 1];
    const std::string prefix = "model.layers." + std::to_string(layer) + ".";
    shard.push_back({prefix + "input_layernorm.weight", "BF16", {4096}});
    shard.push_back({prefix + "self_attn.q_proj.weight", "BF16", {4096, 4096}});
    shard.push_back({prefix + "self_attn.k_proj.weight", "BF16", {1024, 4096}});
    shard.push_back({prefix + "self_attn.v_proj.weight", "BF16", {1024, 4096}});
    shard.push_back({prefix + "self_attn.o_proj.weight", "BF16", {4096, 4096}});
    shard.push_back({prefix + "post_attention_layernorm.weight", "BF16", {4096}});
    shard.push_back({prefix + "mlp.gate_proj.weight", "BF16", {14336, 4096}});
    shard.push_back({prefix + "mlp.up_proj.weight", "BF16", {14336, 4096}});
    shard.push_back({prefix + "mlp.down_proj.weight", "BF16", {4096, 14336}});
  }
  shards[1].push_back({"model.norm.weight", "BF16", {4096}});
  shards[1].push_back({"lm_head.weight", "BF16", {128256, 4096}});
  return shards;
}

inline std::string shard_name(std::size_t index, std::size_t count) {
  char name[64];
  std::snprintf(name, sizeof name, "model-%05zu-of-%05zu.safetensors", index + 1, count);
  return name;
}

inline std::string index_json(const std::vector<std::vector<TestTensor>>& shards) {
  std::string json = "{\"metadata\": {}, \"weight_map\": {";
  std::string separator;
  for (std::size_t i = 0; i < shards.size(); ++i) {
    for (const TestTensor& tensor : shards[i]) {
      json += separator + "\"" + tensor.name + "\": \"" + shard_name(i, shards.size()) + "\"";
      separator = ", ";
    }
  }
  return json + "}}";
}

// A checkpoint folder: config.json, the index and whole (sparse) shards.
inline void write_checkpoint(const std::filesystem::path& folder, const std::string& config,
                             const std::vector<std::vector<TestTensor>>& shards) {
  write_text(folder / "config.json", config);
  if (shards.size() == 1) {
    write_safetensors(folder / "model.safetensors", shards[0]);
    return;
  }
  write_text(folder / "model.safetensors.index.json", index_json(shards));
  for (std::size_t i = 0; i < shards.size(); ++i) write_safetensors(folder / shard_name(i, shards.size()), shards[i]);
}

// A model in a Hugging Face cache as huggingface_hub leaves it: refs/main holds the commit, and
// snapshots/<commit>/ the files.
inline std::filesystem::path write_cached_checkpoint(const std::filesystem::path& cache, const std::string& repo_id,
                                                     const std::string& commit, const std::string& config,
                                                     const std::vector<std::vector<TestTensor>>& shards) {
  std::string folder = "models--" + repo_id;
  folder.replace(folder.find('/'), 1, "--");
  write_text(cache / folder / "refs" / "main", commit);
  const std::filesystem::path snapshot = cache / folder / "snapshots" / commit;
  write_checkpoint(snapshot, config, shards);
  return snapshot;
}

// Sets environment variables for one test and restores them after.
class ScopedEnv {
 public:
  ScopedEnv(std::initializer_list<std::pair<const char*, std::optional<std::string>>> values) {
    for (const auto& [name, value] : values) {
      const char* old = std::getenv(name);
      saved_.emplace_back(name, old != nullptr ? std::optional<std::string>(old) : std::nullopt);
      if (value) setenv(name, value->c_str(), 1);
      else unsetenv(name);
    }
  }
  ~ScopedEnv() {
    for (const auto& [name, value] : saved_) {
      if (value) setenv(name.c_str(), value->c_str(), 1);
      else unsetenv(name.c_str());
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

// tests/hub/hub_server.py serving `root`, on 127.0.0.1 and a port the system picked; stopped
// (the process this test started, by its id) when the object goes.
class HubServer {
 public:
  explicit HubServer(const std::filesystem::path& root) {
    int out[2];
    if (pipe(out) != 0) throw std::runtime_error("pipe");
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], STDOUT_FILENO);
      close(out[0]);
      close(out[1]);
      const std::string script = KVPLAN_SOURCE_DIR "/tests/hub/hub_server.py";
      const std::string log = (root / ".server.log").string();
      if (FILE* errors = std::fopen(log.c_str(), "w")) dup2(fileno(errors), STDERR_FILENO);
      execlp("python3", "python3", script.c_str(), root.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    close(out[1]);
    std::string line;
    char c = 0;
    while (read(out[0], &c, 1) == 1 && c != '\n') line += c;
    close(out[0]);
    if (line.rfind("PORT ", 0) != 0) throw std::runtime_error("tests/hub/hub_server.py did not start: '" + line + "'");
    endpoint_ = "http://127.0.0.1:" + line.substr(5);
  }
  ~HubServer() {
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
  }
  HubServer(const HubServer&) = delete;
  HubServer& operator=(const HubServer&) = delete;

  const std::string& endpoint() const { return endpoint_; }

 private:
  pid_t pid_ = -1;
  std::string endpoint_;
};

}  // namespace kvplan::testing

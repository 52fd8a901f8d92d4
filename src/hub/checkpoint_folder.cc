#include "hub/checkpoint_folder.h"

#include <fstream>
#include <set>

#include "core/checked.h"
#include "core/error.h"
#include "io/json_reader.h"
#include "io/safetensors_header.h"

namespace kvplan::hub {
namespace {

namespace fs = std::filesystem;

constexpr const char* kIndexFile = "model.safetensors.index.json";
constexpr const char* kSingleFile = "model.safetensors";
// The largest real checkpoints have a few hundred shards (DeepSeek-V3: 163).
constexpr std::size_t kMaxShardFiles = 10000;

std::string read_bytes(std::ifstream& in, std::uint64_t count, const std::string& file) {
  std::string bytes(static_cast<std::size_t>(count), '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(count));
  if (in.bad()) throw Error(file + ": cannot read");
  bytes.resize(static_cast<std::size_t>(in.gcount()));
  return bytes;
}

// The tensors of one safetensors file, or of the 8 + N bytes kvplan kept of it.
std::vector<CheckpointTensor> read_header_file(const fs::path& path, bool header_only) {
  const std::string file = path.string();
  std::error_code error;
  const fs::file_status status = fs::status(path, error);
  if (!fs::is_regular_file(status)) throw Error(file + ": not a regular file; a safetensors file was expected");
  const std::uint64_t size = fs::file_size(path, error);
  if (error) throw Error(file + ": cannot read its size");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(file + ": cannot open");
  const std::uint64_t length = io::safetensors_header_length(read_bytes(in, 8, file), file);
  const std::string header = read_bytes(in, length, file);
  if (header.size() != length) {
    throw Error(file + ": truncated safetensors file: the header is " + std::to_string(length) + " B, the file holds " +
                std::to_string(header.size()) + " B of it");
  }
  std::optional<std::uint64_t> data_bytes;
  if (!header_only) data_bytes = size - 8 - length;  // size >= 8 + length: the whole header was read
  return io::parse_safetensors_header(header, data_bytes, file);
}

std::vector<std::string> safetensors_files(const fs::path& folder) {
  if (fs::exists(folder / kIndexFile)) {
    const fs::path index = folder / kIndexFile;
    return indexed_files(io::read_text_file(index.string(), "--model"), index.string());
  }
  return {kSingleFile};
}

// The file itself where it is present (a full download), else the header kvplan kept.
std::optional<std::pair<fs::path, bool>> header_source(const fs::path& folder, const std::string& name) {
  if (fs::exists(folder / name)) return std::pair{folder / name, false};
  if (fs::exists(folder / kHeadersFolder / name)) return std::pair{folder / kHeadersFolder / name, true};
  return std::nullopt;
}

}  // namespace

void check_repo_file_name(const std::string& name, const std::string& where) {
  bool plain = !name.empty() && name.size() <= 255 && name.front() != '/' && name.find("..") == std::string::npos;
  for (char c : name) {
    plain = plain && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                      c == '_' || c == '.' || c == '/');
  }
  if (!plain) throw Error(where + ": '" + name + "' is not a file name inside the repository");
}

std::vector<std::string> indexed_files(const std::string& index_text, const std::string& file) {
  const ConfigNode index = io::read_json(index_text, file);
  const ConfigNode* weight_map = index.find("weight_map");
  if (weight_map == nullptr || !weight_map->is_map()) throw Error(file + ": no weight_map object");
  std::vector<std::string> files;
  std::set<std::string> seen;
  for (const ConfigEntry& entry : *weight_map->as_map()) {
    const std::string* name = entry.node.as_string();
    if (name == nullptr) throw Error(file + ": weight_map." + entry.key + " must be a file name");
    check_repo_file_name(*name, file + ": weight_map." + entry.key);
    if (seen.insert(*name).second) files.push_back(*name);
    if (files.size() > kMaxShardFiles) throw Error(file + ": more than " + std::to_string(kMaxShardFiles) + " files");
  }
  if (files.empty()) throw Error(file + ": weight_map names no file");
  return files;
}

bool checkpoint_folder_complete(const fs::path& folder) {
  if (!fs::is_regular_file(folder / "config.json")) return false;
  try {
    for (const std::string& name : safetensors_files(folder)) {
      if (!header_source(folder, name)) return false;
    }
  } catch (const Error&) {
    return true;  // a broken index is reported by read_checkpoint_folder, not skipped
  }
  return true;
}

CheckpointSource read_checkpoint_folder(const fs::path& folder, const std::string& origin) {
  CheckpointSource source;
  source.config_file = (folder / "config.json").string();
  source.config_text = io::read_text_file(source.config_file, "--model");
  auto checkpoint = std::make_shared<Checkpoint>();
  checkpoint->origin = origin;
  std::set<std::string> names;
  for (const std::string& name : safetensors_files(folder)) {
    const auto found = header_source(folder, name);
    if (!found) {
      throw Error("--model " + folder.string() + ": no " + name + " (the checkpoint's weights are sized from its "
                  "safetensors headers)");
    }
    for (CheckpointTensor& tensor : read_header_file(found->first, found->second)) {
      if (!names.insert(tensor.name).second) {
        throw Error(found->first.string() + ": tensor '" + tensor.name + "' is also in another file of the checkpoint");
      }
      checkpoint->tensors.push_back(std::move(tensor));
    }
    ++checkpoint->files;
  }
  source.checkpoint = std::move(checkpoint);
  return source;
}

}  // namespace kvplan::hub

#include "hub/checkpoint_fetch.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "core/checked.h"
#include "core/error.h"
#include "hub/http_get.h"
#include "io/json_reader.h"
#include "io/safetensors_header.h"

namespace kvplan::hub {
namespace {

namespace fs = std::filesystem;

// One request reads this much of each safetensors file: the length and, for most checkpoints,
// the whole header (Llama-3.1-8B's shards have headers of about 20 KB).
constexpr std::uint64_t kFirstRead = 1u << 20;

struct Fetched {
  std::string name;   // path inside the repository
  std::string bytes;  // what is stored: the whole file, or 8 + N bytes of a safetensors file
};

std::string url_revision(const std::string& revision) {
  std::string escaped;
  for (char c : revision) escaped += c == '/' ? std::string("%2F") : std::string(1, c);
  return escaped;
}

class Hub {
 public:
  Hub(const HubSettings& settings, std::string repo_id) : settings_(settings), repo_id_(std::move(repo_id)) {}

  std::string url(const std::string& revision, const std::string& file) const {
    return settings_.endpoint + "/" + repo_id_ + "/resolve/" + url_revision(revision) + "/" + file;
  }

  // GET with the token; 401/403/404 become errors naming the repository, unless `missing_ok`
  // and the answer is 404 (an unsharded checkpoint has no index).
  HttpAnswer get(HttpRequest request, const std::string& file, bool missing_ok = false) const {
    request.token = settings_.token;
    HttpAnswer answer = http_get(request);
    if (answer.status == 200 || answer.status == 206) return answer;
    if (answer.status == 404 && missing_ok) return answer;
    const std::string what = "--model " + repo_id_ + ": the hub (" + settings_.endpoint + ") answered " +
                             std::to_string(answer.status) + " for " + file;
    if (answer.status == 401 || answer.status == 403) {
      throw Error(what + ": a gated or private repository; accept its licence on the hub and set HF_TOKEN to a token "
                  "that may read it" + (settings_.token.empty() ? " (HF_TOKEN is not set)" : ""));
    }
    if (answer.status == 404) throw Error(what + ": no such repository, revision or file");
    throw Error(what, ExitCode::cannot_run);
  }

  Fetched header(const std::string& commit, const std::string& file) const {
    const std::string where = url(commit, file);
    HttpRequest request{where, "", kFirstRead - 1, std::nullopt, kFirstRead};
    HttpAnswer first = get(request, file);
    const std::uint64_t length = io::safetensors_header_length(first.body, where);
    const std::uint64_t wanted = 8 + length;
    std::string bytes = std::move(first.body);
    if (bytes.size() < wanted) {
      if (first.file_size && *first.file_size <= bytes.size()) {
        throw Error(where + ": truncated safetensors file: its header is " + std::to_string(length) +
                    " B, the file has " + std::to_string(*first.file_size) + " B in all");
      }
      HttpRequest rest{where, "", wanted - 1, bytes.size(), wanted - bytes.size()};
      HttpAnswer more = get(rest, file);
      if (more.status != 206) throw Error(where + ": the server ignored the Range request for the header's tail");
      bytes += more.body;
      if (more.file_size) first.file_size = more.file_size;
    }
    if (bytes.size() < wanted) {
      throw Error(where + ": truncated safetensors file: its header is " + std::to_string(length) + " B, the server sent " +
                  std::to_string(bytes.size() - std::min<std::uint64_t>(bytes.size(), 8)) + " B of it");
    }
    bytes.resize(static_cast<std::size_t>(wanted));
    std::optional<std::uint64_t> data_bytes;
    if (first.file_size) {
      if (*first.file_size < wanted) {
        throw Error(where + ": truncated safetensors file: its header is " + std::to_string(length) + " B, the file has " +
                    std::to_string(*first.file_size) + " B in all");
      }
      data_bytes = *first.file_size - wanted;
    }
    io::parse_safetensors_header(std::string_view(bytes).substr(8), data_bytes, where);  // refuses a broken header now
    return {file, std::move(bytes)};
  }

 private:
  const HubSettings& settings_;
  std::string repo_id_;
};

// Writes `bytes` to a temporary file beside `path`, then renames it into place: a reader sees the
// old file or the whole new one, never a part.
void write_atomically(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::string temporary = (path.parent_path() / ("." + path.filename().string() + ".kvplan-XXXXXX")).string();
  const int fd = mkstemp(temporary.data());
  if (fd < 0) throw Error("cannot write to the Hugging Face cache " + path.parent_path().string() + " (" + std::strerror(errno) + ")");
  std::size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    written += static_cast<std::size_t>(n);
  }
  const bool ok = written == bytes.size() && ::fsync(fd) == 0;
  const int saved = errno;
  ::close(fd);
  if (!ok || std::rename(temporary.c_str(), path.c_str()) != 0) {
    ::unlink(temporary.c_str());
    throw Error("cannot write " + path.string() + " in the Hugging Face cache (" + std::strerror(ok ? errno : saved) + ")");
  }
}

}  // namespace

fs::path snapshot_folder(const HubSettings& settings, const std::string& repo_id, const std::string& commit) {
  return repo_folder(settings, repo_id) / "snapshots" / commit;
}

CheckpointSource fetch_checkpoint(const HubSettings& settings, const std::string& repo_id, const std::string& revision) {
  const Hub hub(settings, repo_id);
  HttpAnswer config = hub.get({hub.url(revision, "config.json"), "", std::nullopt, std::nullopt, io::kMaxInputFileBytes},
                              "config.json");
  std::string commit = config.repo_commit;
  if (commit.empty() && is_commit_hash(revision)) commit = revision;
  if (!is_commit_hash(commit)) {
    throw Error("--model " + repo_id + ": the hub's answer names no commit (X-Repo-Commit header); pass --revision "
                "with a 40-digit commit hash");
  }
  io::read_json(config.body, hub.url(commit, "config.json"));  // refuses malformed JSON before anything is stored
  std::vector<Fetched> files{{"config.json", std::move(config.body)}};
  std::vector<std::string> shards{"model.safetensors"};
  const std::string index_name = "model.safetensors.index.json";
  HttpAnswer index = hub.get({hub.url(commit, index_name), "", std::nullopt, std::nullopt, io::kMaxInputFileBytes},
                             index_name, true);
  if (index.status != 404) {
    shards = indexed_files(index.body, hub.url(commit, index_name));
    files.push_back({index_name, std::move(index.body)});
  }
  std::vector<Fetched> headers;
  for (const std::string& shard : shards) headers.push_back(hub.header(commit, shard));

  // Everything is fetched and valid: store it, the ref last, so that an interrupted run leaves a
  // snapshot that checkpoint_folder_complete refuses rather than a ref to a partial one.
  const fs::path snapshot = snapshot_folder(settings, repo_id, commit);
  for (const Fetched& file : files) {
    // A file huggingface_hub downloaded (a link to its blob) stays as it is: same commit, same bytes.
    if (!fs::exists(snapshot / file.name)) write_atomically(snapshot / file.name, file.bytes);
  }
  for (const Fetched& header : headers) write_atomically(snapshot / kHeadersFolder / header.name, header.bytes);
  if (revision != commit) write_atomically(repo_folder(settings, repo_id) / "refs" / revision, commit);
  return read_checkpoint_folder(snapshot, "hub " + settings.endpoint + "/" + repo_id + " at " + commit.substr(0, 12) +
                                              ", headers cached in " + snapshot.string());
}

}  // namespace kvplan::hub

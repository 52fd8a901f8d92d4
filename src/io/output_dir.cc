#include "io/output_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "core/error.h"

namespace kvplan::io {
namespace {

std::filesystem::path make_temp_dir(const std::filesystem::path& parent, const std::string& prefix) {
  std::string pattern = (parent / (prefix + "XXXXXX")).string();
  if (mkdtemp(pattern.data()) == nullptr) {
    throw Error("--out: cannot create a folder in '" + parent.string() + "' (" + std::strerror(errno) +
                "); choose a writable location");
  }
  return pattern;
}

// Holds an exclusive lock on the folder `--out` is written into, so that two runs writing there
// take turns: neither finds the other's staging folder and takes it for debris. A killed run's
// lock goes with its process.
class ParentLock {
 public:
  explicit ParentLock(const std::filesystem::path& parent) : fd_(open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) {
    if (fd_ < 0 || flock(fd_, LOCK_EX) != 0) {
      throw Error("--out: cannot lock '" + parent.string() + "' (" + std::strerror(errno) + ")");
    }
  }
  ~ParentLock() { close(fd_); }
  ParentLock(const ParentLock&) = delete;
  ParentLock& operator=(const ParentLock&) = delete;

 private:
  int fd_;
};

// What a run killed part-way leaves beside the target: .NAME.tmp-* (a staging folder, complete
// or not) and .NAME.old-* (the previous report, moved aside just before the new one moved in).
// Without the target, the newest .old-* is the last complete report and is put back; the rest
// goes. Runs under ParentLock, so no live run owns any of it.
void recover_debris(const std::filesystem::path& target) {
  namespace fs = std::filesystem;
  std::error_code error;
  const std::string prefix = "." + target.filename().string() + ".";
  std::vector<fs::path> staging, old;
  for (const fs::directory_entry& entry : fs::directory_iterator(target.parent_path(), error)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(prefix + "tmp-", 0) == 0) staging.push_back(entry.path());
    if (name.rfind(prefix + "old-", 0) == 0) old.push_back(entry.path());
  }
  if (!fs::exists(target, error) && !old.empty()) {
    std::sort(old.begin(), old.end(), [](const fs::path& a, const fs::path& b) {
      std::error_code ignored;
      return fs::last_write_time(a, ignored) < fs::last_write_time(b, ignored);
    });
    fs::rename(old.back(), target, error);
    if (!error) old.pop_back();
  }
  for (const fs::path& path : staging) fs::remove_all(path, error);
  for (const fs::path& path : old) fs::remove_all(path, error);
}

}  // namespace

void write_folder_atomically(const std::filesystem::path& dir,
                             const std::vector<std::pair<std::string, std::string>>& files) {
  namespace fs = std::filesystem;
  std::error_code error;
  fs::path target = fs::absolute(dir, error).lexically_normal();
  if (target.filename().empty()) target = target.parent_path();  // "reports/capacity/"
  const fs::path parent = target.parent_path();
  if (!fs::is_directory(parent, error)) {
    throw Error("--out: the parent folder '" + parent.string() + "' does not exist; create it first");
  }
  if (fs::exists(target, error) && !fs::is_directory(target, error)) {
    throw Error("--out: '" + target.string() + "' exists and is not a folder");
  }
  const ParentLock lock(parent);
  recover_debris(target);
  const fs::path staging = make_temp_dir(parent, "." + target.filename().string() + ".tmp-");
  // mkdtemp makes the folder private (0700); give it the permissions a plain mkdir would.
  const mode_t mask = umask(0);
  umask(mask);
  fs::permissions(staging, static_cast<fs::perms>(0777 & ~mask), error);
  try {
    for (const auto& [name, contents] : files) {
      std::ofstream out(staging / name, std::ios::binary);
      out << contents;
      out.close();
      if (!out) throw Error("--out: cannot write '" + (staging / name).string() + "' (" + std::strerror(errno) + ")");
    }
    // Killed between these renames, the previous report waits as .old-*: recover_debris puts it
    // back on the next run.
    if (fs::exists(target, error)) {
      const fs::path old = make_temp_dir(parent, "." + target.filename().string() + ".old-");
      fs::remove(old);
      fs::rename(target, old);
      fs::rename(staging, target);
      fs::remove_all(old, error);
    } else {
      fs::rename(staging, target);
    }
  } catch (const fs::filesystem_error& e) {
    fs::remove_all(staging, error);
    throw Error("--out: cannot replace '" + target.string() + "': " + e.code().message());
  } catch (...) {
    fs::remove_all(staging, error);
    throw;
  }
}

}  // namespace kvplan::io

namespace kvplan::io {

void write_file(const std::filesystem::path& path, const std::string& contents, std::string_view flag) {
  namespace fs = std::filesystem;
  std::error_code error;
  const fs::file_status status = fs::status(path, error);
  const std::string named = std::string(flag) + ": cannot write '" + path.string() + "'";
  if (fs::is_directory(status)) throw Error(named + ": it is a folder");
  const bool replace = !fs::exists(status) || fs::is_regular_file(status);
  fs::path written = path;
  if (replace) {
    const fs::path parent = fs::absolute(path, error).parent_path();
    std::string pattern = (parent / ("." + path.filename().string() + ".tmp-XXXXXX")).string();
    const int fd = mkstemp(pattern.data());
    if (fd < 0) throw Error(named + " (" + std::strerror(errno) + ")");
    close(fd);
    written = pattern;
  }
  std::ofstream out(written, std::ios::binary);
  out << contents;
  out.close();
  const int saved = errno;
  if (!out) {
    if (replace) fs::remove(written, error);
    throw Error(named + " (" + std::strerror(saved) + ")");
  }
  if (replace) {
    // mkstemp makes the file private (0600); give it what a plain open would.
    const mode_t mask = umask(0);
    umask(mask);
    fs::permissions(written, static_cast<fs::perms>(0666 & ~mask), error);
    fs::rename(written, path, error);
    if (error) {
      fs::remove(written, error);
      throw Error(named + " (" + error.message() + ")");
    }
  }
}

}  // namespace kvplan::io

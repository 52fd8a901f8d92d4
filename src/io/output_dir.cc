#include "io/output_dir.h"

#include <sys/stat.h>
#include <unistd.h>

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

}  // namespace

void write_folder_atomically(const std::filesystem::path& dir,
                             const std::vector<std::pair<std::string, std::string>>& files) {
  namespace fs = std::filesystem;
  std::error_code error;
  const fs::path target = fs::absolute(dir, error);
  const fs::path parent = target.parent_path();
  if (!fs::is_directory(parent, error)) {
    throw Error("--out: the parent folder '" + parent.string() + "' does not exist; create it first");
  }
  if (fs::exists(target, error) && !fs::is_directory(target, error)) {
    throw Error("--out: '" + target.string() + "' exists and is not a folder");
  }
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
      if (!out) throw Error("--out: cannot write '" + (staging / name).string() + "'");
    }
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

// One HTTPS GET through libcurl, with an optional byte range and a cap on what it keeps: kvplan
// reads only the first bytes of multi-GB safetensors files.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace kvplan::hub {

struct HttpAnswer {
  long status = 0;                         // 200, 206, 401, 404, ...
  std::string body;                        // at most max_bytes of it
  std::string repo_commit;                 // the hub's X-Repo-Commit header, "" when absent
  std::optional<std::uint64_t> file_size;  // from Content-Range "bytes a-b/size", or a 200's length
};

struct HttpRequest {
  std::string url;
  std::string token;                             // sent as "Authorization: Bearer", to this host only
  std::optional<std::uint64_t> range_end;        // asks for bytes 0..range_end (Range: bytes=0-N)
  std::optional<std::uint64_t> range_begin;      // with range_end: bytes range_begin..range_end
  std::uint64_t max_bytes = 16u << 20;           // a longer body is cut here (a server that ignores Range)
};

// Throws kvplan::Error with exit 3 when the server cannot be reached (no network, DNS, refused,
// timeout, TLS); any HTTP status comes back for the caller to judge.
HttpAnswer http_get(const HttpRequest& request);

}  // namespace kvplan::hub

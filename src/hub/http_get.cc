#include "hub/http_get.h"

#include <curl/curl.h>

#include <algorithm>
#include <memory>

#include "core/error.h"

namespace kvplan::hub {
namespace {

struct Transfer {
  HttpAnswer answer;
  std::uint64_t max_bytes = 0;
  bool cut = false;  // the body reached max_bytes and the transfer was stopped on purpose
  bool whole_file = false;  // the current response is a 200: its Content-Length is the file's size
};

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto& transfer = *static_cast<Transfer*>(user);
  const std::size_t bytes = size * count;
  const std::uint64_t room = transfer.max_bytes - transfer.answer.body.size();
  if (bytes > room) {
    transfer.answer.body.append(data, static_cast<std::size_t>(room));
    transfer.cut = true;
    return 0;  // stops the transfer: the rest of a multi-GB file is not wanted
  }
  transfer.answer.body.append(data, bytes);
  return bytes;
}

std::optional<std::uint64_t> parse_size(std::string_view text) {
  std::uint64_t value = 0;
  if (text.empty() || text.size() > 19) return std::nullopt;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return value;
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto& transfer = *static_cast<Transfer*>(user);
  std::string line(data, size * count);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  const std::size_t colon = line.find(':');
  if (colon == std::string::npos) {
    if (line.rfind("HTTP/", 0) == 0) {  // a new response (after a redirect)
      transfer.answer.file_size.reset();
      const std::size_t space = line.find(' ');
      transfer.whole_file = space != std::string::npos && line.compare(space + 1, 3, "200") == 0;
    }
    return size * count;
  }
  std::string name = line.substr(0, colon);
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  std::string value = line.substr(colon + 1);
  value.erase(0, value.find_first_not_of(' '));
  if (name == "x-repo-commit" && transfer.answer.repo_commit.empty()) transfer.answer.repo_commit = value;
  if (name == "content-range") {
    const std::size_t slash = value.rfind('/');
    if (slash != std::string::npos) transfer.answer.file_size = parse_size(value.substr(slash + 1));
  }
  if (name == "content-length" && transfer.whole_file) transfer.answer.file_size = parse_size(value);
  return size * count;
}

void initialise_once() {
  static const CURLcode code = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (code != CURLE_OK) throw Error(std::string("libcurl does not start: ") + curl_easy_strerror(code), ExitCode::cannot_run);
}

}  // namespace

HttpAnswer http_get(const HttpRequest& request) {
  initialise_once();
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) throw Error("libcurl cannot start a transfer", ExitCode::cannot_run);
  Transfer transfer;
  transfer.max_bytes = request.max_bytes;
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headers(nullptr, curl_slist_free_all);
  if (!request.token.empty()) {
    // A custom Authorization header goes to this host only; curl drops it on a redirect to the CDN.
    headers.reset(curl_slist_append(nullptr, ("Authorization: Bearer " + request.token).c_str()));
  }
  std::string range;
  if (request.range_end) range = std::to_string(request.range_begin.value_or(0)) + "-" + std::to_string(*request.range_end);
  char error[CURL_ERROR_SIZE] = "";
  CURL* handle = curl.get();
  curl_easy_setopt(handle, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(handle, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(handle, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(handle, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT, 15L);
  // A stalled transfer (under 1 KB/s for 30 s) ends rather than hanging the command.
  curl_easy_setopt(handle, CURLOPT_LOW_SPEED_LIMIT, 1024L);
  curl_easy_setopt(handle, CURLOPT_LOW_SPEED_TIME, 30L);
  curl_easy_setopt(handle, CURLOPT_USERAGENT, "kvplan");
  curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
  if (headers) curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers.get());
  if (!range.empty()) curl_easy_setopt(handle, CURLOPT_RANGE, range.c_str());
  curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(handle, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(handle, CURLOPT_HEADERDATA, &transfer);
  const CURLcode code = curl_easy_perform(handle);
  if (code != CURLE_OK && !(code == CURLE_WRITE_ERROR && transfer.cut)) {
    throw Error("cannot reach " + request.url + " (" + (error[0] != '\0' ? std::string(error) : curl_easy_strerror(code)) +
                    "); without a network, HF_HUB_OFFLINE=1 uses the Hugging Face cache only",
                ExitCode::cannot_run);
  }
  curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &transfer.answer.status);
  return std::move(transfer.answer);
}

}  // namespace kvplan::hub

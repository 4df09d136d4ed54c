#pragma once
// A small libcurl wrapper: one request, headers of the final response, body either kept (error pages, API JSON)
// or streamed to a sink (downloads). Transport failures are reported, not thrown, so callers can retry.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ortformers::hub::detail {

struct HttpHeaders {
  std::vector<std::pair<std::string, std::string>> items;  // names lower-cased, values trimmed
  // The last value of a header (case-insensitive name), or nullopt.
  std::optional<std::string> get(const std::string& name) const;
};

struct HttpResult {
  int curl_code = 0;       // 0 when the transfer completed
  std::string curl_error;  // message when curl_code != 0
  bool aborted_by_callback = false;
  long status = 0;  // last HTTP status seen (0 when none)
  HttpHeaders headers;
  std::string body;  // non-streamed body (capped at max_body bytes)
  std::string effective_url;
  bool ok_transport() const { return curl_code == 0; }
  // A dropped connection, a timeout or an empty reply: worth retrying.
  bool transient_transport_error() const;
};

struct HttpRequest {
  std::string method = "GET";  // GET or HEAD
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  bool follow_redirects = false;
  double timeout_s = 10.0;     // connect timeout and stalled-transfer (no byte for this long) timeout
  double total_timeout_s = 0;  // whole request limit, 0 = none
  // Called once before the first body byte of the final response; return false to abort the transfer.
  std::function<bool(long status, const HttpHeaders&)> on_response;
  // When set, the body of a 2xx response goes here instead of HttpResult::body; return false to abort.
  std::function<bool(const char* data, std::size_t size)> sink;
  // Progress of the body transfer (bytes so far, total or 0 when unknown).
  std::function<void(std::uint64_t now, std::uint64_t total)> progress;
  std::size_t max_body = 4u << 20;
};

HttpResult http_request(const HttpRequest& request);

// Percent-encoding as urllib.parse.quote: unreserved chars and those in `safe` are kept.
std::string url_quote(const std::string& s, const std::string& safe = "/");
// "scheme://host[:port]" of a URL, or "" when it has none.
std::string url_origin(const std::string& url);

}  // namespace ortformers::hub::detail

#include "hub/http.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <mutex>

#include "ortformers/core/error.hpp"

namespace ortformers::hub::detail {
namespace {

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) throw RuntimeError("curl_global_init failed");
  });
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return s;
}

std::string trim(const std::string& s) {
  const char* ws = " \t\r\n";
  auto b = s.find_first_not_of(ws);
  if (b == std::string::npos) return {};
  auto e = s.find_last_not_of(ws);
  return s.substr(b, e - b + 1);
}

struct Transfer {
  const HttpRequest* req;
  HttpResult* res;
  CURL* curl;
  bool response_announced = false;
  curl_off_t last_now = -1;
  std::chrono::steady_clock::time_point last_change = std::chrono::steady_clock::now();
  bool stalled = false;
};

std::size_t header_cb(char* buffer, std::size_t size, std::size_t nitems, void* userdata) {
  auto* t = static_cast<Transfer*>(userdata);
  std::size_t n = size * nitems;
  std::string line(buffer, n);
  if (line.rfind("HTTP/", 0) == 0) {
    t->res->headers.items.clear();  // a new response (after a redirect or a 100 Continue)
    return n;
  }
  auto colon = line.find(':');
  if (colon == std::string::npos) return n;  // the blank line ending the headers, or junk: ignored
  t->res->headers.items.emplace_back(lower(trim(line.substr(0, colon))), trim(line.substr(colon + 1)));
  return n;
}

std::size_t write_cb(char* data, std::size_t size, std::size_t nmemb, void* userdata) {
  auto* t = static_cast<Transfer*>(userdata);
  std::size_t n = size * nmemb;
  long status = 0;
  curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
  if (!t->response_announced) {
    t->response_announced = true;
    if (t->req->on_response && !t->req->on_response(status, t->res->headers)) {
      t->res->aborted_by_callback = true;
      return 0;
    }
  }
  if (status >= 200 && status < 300 && t->req->sink) {
    if (!t->req->sink(data, n)) {
      t->res->aborted_by_callback = true;
      return 0;
    }
    return n;
  }
  std::size_t room = t->req->max_body > t->res->body.size() ? t->req->max_body - t->res->body.size() : 0;
  t->res->body.append(data, std::min(room, n));
  return n;
}

int progress_cb(void* userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(userdata);
  auto now = std::chrono::steady_clock::now();
  if (dlnow != t->last_now) {
    t->last_now = dlnow;
    t->last_change = now;
  } else if (std::chrono::duration<double>(now - t->last_change).count() > t->req->timeout_s) {
    t->stalled = true;  // no byte for timeout_s: a read timeout, whatever the average speed was
    return 1;
  }
  if (t->req->progress) t->req->progress(std::uint64_t(dlnow), std::uint64_t(dltotal));
  return 0;
}

}  // namespace

std::optional<std::string> HttpHeaders::get(const std::string& name) const {
  std::string key = lower(name);
  for (auto it = items.rbegin(); it != items.rend(); ++it)
    if (it->first == key) return it->second;
  return std::nullopt;
}

bool HttpResult::transient_transport_error() const {
  switch (curl_code) {
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_COULDNT_CONNECT:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM: return true;
    default: return false;
  }
}

HttpResult http_request(const HttpRequest& req) {
  global_init();
  HttpResult res;
  CURL* curl = curl_easy_init();
  if (!curl) throw RuntimeError("curl_easy_init failed");
  Transfer t{&req, &res, curl};
  struct curl_slist* hdrs = nullptr;
  for (const auto& h : req.headers) hdrs = curl_slist_append(hdrs, h.c_str());
  char errbuf[CURL_ERROR_SIZE] = {0};

  curl_easy_setopt(curl, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "ortformers/0.1.0; hf_hub-compatible; libcurl");
  if (hdrs) curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
  if (req.method == "HEAD") curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, req.follow_redirects ? 1L : 0L);
  curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 10L);
  long timeout_ms = long(std::max(1.0, req.timeout_s * 1000.0));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
  if (req.total_timeout_s > 0) curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, long(req.total_timeout_s * 1000.0));
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, header_cb);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, write_cb);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, progress_cb);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &t);

  CURLcode rc = curl_easy_perform(curl);
  res.curl_code = int(rc);
  if (rc != CURLE_OK) res.curl_error = errbuf[0] ? std::string(errbuf) : std::string(curl_easy_strerror(rc));
  if (t.stalled) {
    res.curl_code = int(CURLE_OPERATION_TIMEDOUT);
    res.curl_error = "no data received for " + std::to_string(req.timeout_s) + " s";
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &res.status);
  char* eff = nullptr;
  if (curl_easy_getinfo(curl, CURLINFO_EFFECTIVE_URL, &eff) == CURLE_OK && eff) res.effective_url = eff;
  // A 2xx answer with an empty body never reached write_cb: announce it now.
  if (rc == CURLE_OK && !t.response_announced && req.on_response && req.method != "HEAD") {
    if (!req.on_response(res.status, res.headers)) res.aborted_by_callback = true;
  }
  curl_slist_free_all(hdrs);
  curl_easy_cleanup(curl);
  return res;
}

std::string url_quote(const std::string& s, const std::string& safe) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || safe.find(char(c)) != std::string::npos) {
      out.push_back(char(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

std::string url_origin(const std::string& url) {
  auto scheme = url.find("://");
  if (scheme == std::string::npos) return {};
  auto path = url.find('/', scheme + 3);
  return path == std::string::npos ? url : url.substr(0, path);
}

}  // namespace ortformers::hub::detail

#pragma once
// What the /v1/audio/transcriptions tests share: the whisper-tiny server of the fixtures and multipart/form-data
// bodies as clients send them.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "server_fixture.hpp"

namespace ortformers::testing {

inline server::Server& whisper_server() {
  return shared_server("whisper-tiny", [] {
    auto fixtures = find_fixtures_dir();
    auto o = loopback_options((*fixtures / "onnx" / "whisper-tiny").string());
    o.task = "automatic-speech-recognition";  // optimum's four files: the probe cannot pick one
    o.served_model_name = "whisper-tiny";
    return o;
  });
}

inline std::string file_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

struct FormField {
  FormField(std::string n, std::string v, std::string f = "")
      : name(std::move(n)), value(std::move(v)), filename(std::move(f)) {}
  std::string name;
  std::string value;
  std::string filename;  // "" = a plain field
};

constexpr const char* kFormBoundary = "----ortformers-test-7d1b2c";

// A multipart/form-data body (CRLF lines, as curl and the SDKs write it).
inline std::string form_body(const std::vector<FormField>& fields, const std::string& boundary = kFormBoundary) {
  std::string body;
  for (const auto& f : fields) {
    body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + f.name + "\"";
    if (!f.filename.empty()) body += "; filename=\"" + f.filename + "\"\r\nContent-Type: application/octet-stream";
    body += "\r\n\r\n" + f.value + "\r\n";
  }
  return body + "--" + boundary + "--\r\n";
}

inline HttpResult post_form(HttpClient& c, const std::vector<FormField>& fields) {
  return c.request("POST", "/v1/audio/transcriptions", form_body(fields), {},
                   std::string("multipart/form-data; boundary=") + kFormBoundary);
}

}  // namespace ortformers::testing

#include "server/api/transcription_request.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include "server/errors.hpp"

namespace ortformers::server {

namespace {

constexpr std::size_t kMaxParts = 64;

[[noreturn]] void bad(const std::string& message) {
  throw ServerError(ErrorType::Deserialize, message);
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A header value's `; key=value` parameters after its first token (values quoted or not; `\` escapes in quotes).
// Returns the first token (lower-cased); `params` gets the keys lower-cased.
std::string header_params(std::string_view value, std::vector<std::pair<std::string, std::string>>& params,
                          const char* what) {
  std::size_t at = value.find(';');
  const std::string first = lower(trim(value.substr(0, at)));
  while (at != std::string_view::npos) {
    ++at;
    while (at < value.size() && (value[at] == ' ' || value[at] == '\t')) ++at;
    if (at >= value.size()) break;
    const std::size_t eq = value.find('=', at);
    if (eq == std::string_view::npos)
      bad(std::string("malformed ") + what + " parameter: no '=' in '" + std::string(value.substr(at)) + "'");
    const std::string key = lower(trim(value.substr(at, eq - at)));
    std::size_t v = eq + 1;
    std::string val;
    if (v < value.size() && value[v] == '"') {
      ++v;
      bool closed = false;
      while (v < value.size()) {
        const char c = value[v++];
        if (c == '\\' && v < value.size()) {
          val += value[v++];
        } else if (c == '"') {
          closed = true;
          break;
        } else {
          val += c;
        }
      }
      if (!closed) bad(std::string("malformed ") + what + ": unterminated quoted value of `" + key + "`");
      at = value.find(';', v);
      if (trim(value.substr(v, at == std::string_view::npos ? std::string_view::npos : at - v)).size() != 0)
        bad(std::string("malformed ") + what + ": text after the quoted value of `" + key + "`");
    } else {
      at = value.find(';', v);
      val = std::string(trim(value.substr(v, at == std::string_view::npos ? std::string_view::npos : at - v)));
    }
    if (key.empty()) bad(std::string("malformed ") + what + ": a parameter without a name");
    params.emplace_back(key, std::move(val));
  }
  return first;
}

}  // namespace

std::string multipart_boundary(std::string_view content_type) {
  std::vector<std::pair<std::string, std::string>> params;
  const std::string type = header_params(content_type, params, "Content-Type");
  if (type != "multipart/form-data")
    bad("/v1/audio/transcriptions takes a multipart/form-data body (the audio in a `file` field); the request's "
        "Content-Type is '" +
        std::string(content_type.substr(0, 200)) + "'");
  for (const auto& [k, v] : params) {
    if (k != "boundary") continue;
    if (v.empty() || v.size() > 200) bad("the multipart/form-data boundary must have 1 to 200 characters");
    return v;
  }
  bad("the multipart/form-data Content-Type has no boundary parameter");
}

std::vector<FormPart> parse_multipart(std::string_view body, std::string_view boundary) {
  const std::string delim = "--" + std::string(boundary);
  const std::string next_delim = "\r\n" + delim;
  std::size_t pos = 0;
  if (body.substr(0, delim.size()) != delim) {
    pos = body.find(next_delim);  // a preamble before the first boundary is allowed (and ignored)
    if (pos == std::string_view::npos) bad("the multipart body has no boundary line '" + delim + "'");
    pos += 2;
  }
  std::vector<FormPart> parts;
  while (true) {
    pos += delim.size();
    if (body.substr(pos, 2) == "--") break;  // the closing boundary (an epilogue may follow)
    while (pos < body.size() && (body[pos] == ' ' || body[pos] == '\t')) ++pos;
    if (body.substr(pos, 2) != "\r\n") bad("malformed multipart body: a boundary line must end with CRLF");
    pos += 2;
    if (parts.size() == kMaxParts) bad("the multipart body has more than " + std::to_string(kMaxParts) + " parts");
    std::string_view headers;
    std::size_t content = 0;
    if (body.substr(pos, 2) == "\r\n") {
      content = pos + 2;
    } else {
      const std::size_t end = body.find("\r\n\r\n", pos);
      if (end == std::string_view::npos) bad("malformed multipart body: a part's headers do not end (no blank line)");
      headers = body.substr(pos, end - pos);
      content = end + 4;
    }
    const std::size_t end = body.find(next_delim, content);
    if (end == std::string_view::npos)
      bad("malformed multipart body: it ends before its closing boundary '" + delim + "--'");
    FormPart part;
    bool disposition = false;
    std::size_t line_at = 0;
    while (line_at <= headers.size() && !headers.empty()) {
      std::size_t line_end = headers.find("\r\n", line_at);
      if (line_end == std::string_view::npos) line_end = headers.size();
      const std::string_view line = headers.substr(line_at, line_end - line_at);
      line_at = line_end + 2;
      const std::size_t colon = line.find(':');
      if (colon == std::string_view::npos)
        bad("malformed multipart body: a part header without ':' ('" + std::string(line.substr(0, 100)) + "')");
      const std::string name = lower(trim(line.substr(0, colon)));
      const std::string_view value = trim(line.substr(colon + 1));
      if (name == "content-disposition") {
        std::vector<std::pair<std::string, std::string>> params;
        if (header_params(value, params, "Content-Disposition") != "form-data")
          bad("malformed multipart body: a part's Content-Disposition must be form-data");
        for (const auto& [k, v] : params) {
          if (k == "name") part.name = v;
          if (k == "filename") part.filename = v;
        }
        disposition = true;
      } else if (name == "content-type") {
        part.content_type = std::string(value);
      }
      if (line_end == headers.size()) break;
    }
    if (!disposition) bad("malformed multipart body: a part has no Content-Disposition header");
    if (part.name.empty()) bad("malformed multipart body: a part's Content-Disposition has no name");
    part.data = std::string(body.substr(content, end - content));
    parts.push_back(std::move(part));
    pos = end + 2;
  }
  if (parts.empty()) bad("the multipart body has no parts");
  return parts;
}

namespace {

std::int64_t parse_int(const std::string& field, const std::string& s) {
  std::int64_t v = 0;
  const auto t = trim(s);
  const auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (t.empty() || ec != std::errc() || ptr != t.data() + t.size())
    bad("`" + field + "` must be an integer, got '" + s.substr(0, 100) + "'");
  return v;
}

double parse_number(const std::string& field, const std::string& s) {
  const std::string t(trim(s));
  char* end = nullptr;
  const double v = t.empty() ? NAN : std::strtod(t.c_str(), &end);
  if (t.empty() || end != t.c_str() + t.size() || !std::isfinite(v))
    bad("`" + field + "` must be a number, got '" + s.substr(0, 100) + "'");
  return v;
}

bool parse_bool(const std::string& field, const std::string& s) {
  const std::string t = lower(trim(s));
  if (t == "true" || t == "1") return true;
  if (t == "false" || t == "0") return false;
  bad("`" + field + "` must be true or false, got '" + s.substr(0, 100) + "'");
}

}  // namespace

TranscriptionRequest parse_transcription_request(std::string_view content_type, std::string_view body) {
  const auto parts = parse_multipart(body, multipart_boundary(content_type));
  TranscriptionRequest r;
  bool has_file = false;
  std::vector<std::string> seen;
  for (const auto& p : parts) {
    if (std::find(seen.begin(), seen.end(), p.name) != seen.end())
      bad("the field `" + p.name.substr(0, 100) + "` is given more than once");
    seen.push_back(p.name);
    const std::string& v = p.data;
    if (p.name == "file") {
      has_file = true;
      r.file = v;
      r.filename = p.filename;
    } else if (p.name == "model") {
      r.model = v;
    } else if (p.name == "language") {
      if (!trim(v).empty()) r.language = std::string(trim(v));
    } else if (p.name == "prompt") {
      if (!trim(v).empty())
        bad("`prompt` is not supported: the Whisper generation here takes no previous-text prompt (prompt_ids)");
    } else if (p.name == "response_format") {
      const std::string f(trim(v));
      if (f == "json") {
        r.response_format = TranscriptionFormat::Json;
      } else if (f == "text") {
        r.response_format = TranscriptionFormat::Text;
      } else if (f == "verbose_json" || f == "srt" || f == "vtt" || f == "diarized_json") {
        bad("`response_format` " + f +
            " is not supported: it needs timestamped segments, which this server does not produce; use json or text");
      } else {
        bad("`response_format` must be one of json, text, srt, verbose_json, vtt; got '" + f.substr(0, 100) + "'");
      }
    } else if (p.name == "temperature") {
      r.temperature = parse_number("temperature", v);
      if (r.temperature < 0 || r.temperature > 1)
        bad("`temperature` must be between 0 and 1, got " + std::string(trim(v)).substr(0, 100));
    } else if (p.name == "stream") {
      r.stream = parse_bool("stream", v);
    } else if (p.name == "max_new_tokens") {
      const auto n = parse_int("max_new_tokens", v);
      if (n < 1) bad("`max_new_tokens` must be a positive integer, got " + std::to_string(n));
      r.max_new_tokens = n;
    } else if (p.name == "timestamp_granularities[]" || p.name == "timestamp_granularities") {
      bad("`timestamp_granularities[]` is not supported: this server returns no timestamps");
    } else if (p.name == "include[]" || p.name == "include") {
      bad("`include[]` is not supported: this server returns no logprobs for transcriptions");
    } else if (p.name == "chunking_strategy") {
      bad("`chunking_strategy` is not supported: audio up to 30 s is transcribed in one window");
    } else {
      bad("unknown field `" + p.name.substr(0, 100) +
          "` (fields: file, model, language, prompt, response_format, temperature, stream, max_new_tokens)");
    }
  }
  if (!has_file) bad("the multipart body has no `file` field (the audio file to transcribe)");
  if (r.file.empty()) bad("`file` is empty");
  return r;
}

}  // namespace ortformers::server

#pragma once
// OpenAI's POST /v1/audio/transcriptions body: multipart/form-data (RFC 7578: parts between `--boundary` lines, each
// with a Content-Disposition naming its field) parsed into its parts, then into the typed request. Every malformed
// body or field is a ServerError Deserialize (422) whose message names the field or what is malformed; nothing else
// escapes (fuzz/server_multipart.cpp).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ortformers::server {

struct FormPart {
  std::string name;          // Content-Disposition's name
  std::string filename;      // Content-Disposition's filename ("" when none)
  std::string content_type;  // the part's Content-Type ("" when none)
  std::string data;
};

// The boundary of a `multipart/form-data; boundary=...` Content-Type (quoted or not).
std::string multipart_boundary(std::string_view content_type);
// The parts of a multipart/form-data body (at most 64), in order.
std::vector<FormPart> parse_multipart(std::string_view body, std::string_view boundary);

enum class TranscriptionFormat { Json, Text };

struct TranscriptionRequest {
  std::string file;  // the audio file's bytes (any container FFmpeg reads)
  std::string filename;
  std::string model;                    // accepted as given (the server serves one model)
  std::optional<std::string> language;  // ISO-639-1 ("en") or a Whisper language name ("english")
  TranscriptionFormat response_format = TranscriptionFormat::Json;
  double temperature = 0;  // 0 = greedy; (0, 1] = sampling at that temperature
  bool stream = false;
  std::optional<std::int64_t> max_new_tokens;  // ortformers' extension: decoder tokens (forced ones included)
};

// The request of a /v1/audio/transcriptions call from its Content-Type and body. Fields OpenAI defines that this
// server cannot honour (`prompt`, `timestamp_granularities[]`, `include[]`, `chunking_strategy`, response_format
// verbose_json / srt / vtt) are refused with "not supported" rather than ignored; unknown fields are refused.
TranscriptionRequest parse_transcription_request(std::string_view content_type, std::string_view body);

}  // namespace ortformers::server

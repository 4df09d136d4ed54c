#include "ortformers/pipelines/automatic_speech_recognition.hpp"

#include <algorithm>
#include <cmath>

#include "ortformers/core/error.hpp"
#include "ortformers/preprocessing/inputs.hpp"

namespace ortformers::pipelines {

namespace {
// Python's round() to the nearest integer, ties to even.
std::int64_t py_round(double v) {
  return static_cast<std::int64_t>(std::nearbyint(v));
}

std::vector<std::int64_t> argmax_ids(const Tensor& logits) {
  if (logits.rank() != 3 || logits.dim(0) != 1)
    throw RuntimeError("automatic-speech-recognition: CTC logits must be [1, frames, vocab], got " +
                       shape_to_string(logits.shape()));
  const auto v = logits.to_float_vector();
  const auto T = logits.dim(1), V = logits.dim(2);
  std::vector<std::int64_t> ids(static_cast<std::size_t>(T));
  for (std::int64_t t = 0; t < T; ++t) {
    const float* r = v.data() + t * V;
    ids[static_cast<std::size_t>(t)] = std::max_element(r, r + V) - r;  // first maximum, as torch.argmax
  }
  return ids;
}
}  // namespace

std::vector<AudioChunk> chunk_audio(std::int64_t n, std::int64_t chunk_len, std::int64_t stride_left,
                                    std::int64_t stride_right) {
  const std::int64_t step = chunk_len - stride_left - stride_right;
  if (step <= 0) throw InvalidArgument("Chunk length must be superior to stride length");
  std::vector<AudioChunk> out;
  for (std::int64_t start = 0; start < n; start += step) {
    const std::int64_t end = start + chunk_len;
    AudioChunk c;
    c.start = start;
    c.end = std::min(end, n);
    c.stride_left = start == 0 ? 0 : stride_left;
    c.is_last = stride_right > 0 ? end > n : end >= n;
    c.stride_right = c.is_last ? 0 : stride_right;
    if (c.end - c.start > c.stride_left) out.push_back(c);
    if (c.is_last) break;
  }
  return out;
}

std::array<std::int64_t, 3> rescale_stride(std::int64_t n, std::int64_t left, std::int64_t right, double ratio) {
  const std::int64_t token_n = py_round(static_cast<double>(n) * ratio);
  return {token_n, py_round(static_cast<double>(left) / static_cast<double>(n) * static_cast<double>(token_n)),
          py_round(static_cast<double>(right) / static_cast<double>(n) * static_cast<double>(token_n))};
}

AutomaticSpeechRecognitionPipeline::AutomaticSpeechRecognitionPipeline(const std::string& model_id_or_path,
                                                                       const PipelineOptions& options)
    : model_(models::ORTModelForCTC::from_pretrained(model_id_or_path, options.model)),
      extractor_(preprocessing::Wav2Vec2FeatureExtractor::from_pretrained(model_.model_dir())),
      tokenizer_(preprocessing::Wav2Vec2CTCTokenizer::from_pretrained(
          options.tokenizer.empty() ? model_.model_dir() : std::filesystem::path(options.tokenizer))) {
  const auto& cfg = model_.config();
  if (cfg.has("conv_stride")) {
    const auto strides = cfg.get<std::vector<std::int64_t>>("conv_stride", {});
    std::int64_t r = 1;
    for (auto s : strides) {
      if (s <= 0) throw FileFormatError(cfg.source() + ": conv_stride must be positive");
      r *= s;
    }
    ratio_ = r;
  } else {
    ratio_ = cfg.get<std::int64_t>("inputs_to_logits_ratio", 320);
  }
}

SpeechRecognitionResult AutomaticSpeechRecognitionPipeline::operator()(const std::vector<float>& waveform,
                                                                       const SpeechRecognitionOptions& o) const {
  if (!o.return_timestamps.empty() && o.return_timestamps != "char" && o.return_timestamps != "word")
    throw InvalidArgument(
        "CTC can either predict character level timestamps, or word level timestamps. Set "
        "`return_timestamps='char'` or `return_timestamps='word'` as required.");
  if (waveform.empty()) throw InvalidArgument("automatic-speech-recognition: the audio has no samples (zero-length)");
  const int sr = extractor_.sampling_rate();
  std::vector<std::int64_t> ids;
  if (o.chunk_length_s > 0) {
    const double left_s = o.stride_length_s_left.value_or(o.chunk_length_s / 6);
    const double right_s = o.stride_length_s_right.value_or(o.chunk_length_s / 6);
    if (left_s < 0 || right_s < 0) throw InvalidArgument("stride_length_s must not be negative");
    const double align = static_cast<double>(ratio_);
    const std::int64_t chunk_len = py_round(o.chunk_length_s * sr / align) * ratio_;
    const std::int64_t stride_left = py_round(left_s * sr / align) * ratio_;
    const std::int64_t stride_right = py_round(right_s * sr / align) * ratio_;
    if (chunk_len < stride_left + stride_right || chunk_len <= 0)
      throw InvalidArgument("Chunk length must be superior to stride length");
    for (const auto& c :
         chunk_audio(static_cast<std::int64_t>(waveform.size()), chunk_len, stride_left, stride_right)) {
      std::vector<float> chunk(waveform.begin() + c.start, waveform.begin() + c.end);
      const auto chunk_ids = argmax_ids(model_.forward(extractor_(chunk)).logits);
      const auto [token_n, left, right] =
          rescale_stride(c.end - c.start, c.stride_left, c.stride_right, 1.0 / static_cast<double>(ratio_));
      const auto n = static_cast<std::int64_t>(chunk_ids.size());
      const std::int64_t b = std::clamp<std::int64_t>(left, 0, n), e = std::clamp<std::int64_t>(token_n - right, 0, n);
      if (e > b) ids.insert(ids.end(), chunk_ids.begin() + b, chunk_ids.begin() + e);
    }
  } else {
    ids = argmax_ids(model_.forward(extractor_(waveform)).logits);
  }
  const auto decoded = tokenizer_.decode(ids, /*skip_special_tokens=*/false);
  SpeechRecognitionResult r;
  r.text = decoded.text;
  if (o.return_timestamps == "char") {
    for (const auto& c : decoded.char_offsets)
      r.chunks.push_back({c.char_, static_cast<double>(c.start_offset * ratio_) / sr,
                          static_cast<double>(c.end_offset * ratio_) / sr});
  } else if (o.return_timestamps == "word") {
    for (const auto& w : decoded.word_offsets)
      r.chunks.push_back(
          {w.word, static_cast<double>(w.start_offset * ratio_) / sr, static_cast<double>(w.end_offset * ratio_) / sr});
  }
  return r;
}

Json AutomaticSpeechRecognitionPipeline::call(const Json& input, const Json& kwargs) {
  check_kwargs(kwargs, {"return_timestamps", "chunk_length_s", "stride_length_s"}, task());
  SpeechRecognitionOptions o;
  if (kwargs.is_object() && kwargs.contains("return_timestamps") && !kwargs.at("return_timestamps").is_null()) {
    const Json& rt = kwargs.at("return_timestamps");
    if (!rt.is_string() || (rt != "char" && rt != "word"))
      throw InvalidArgument(
          "CTC can either predict character level timestamps, or word level timestamps. Set "
          "`return_timestamps='char'` or `return_timestamps='word'` as required.");
    o.return_timestamps = rt.get<std::string>();
  }
  o.chunk_length_s = kwarg<double>(kwargs, "chunk_length_s", 0.0);
  if (o.chunk_length_s < 0) throw InvalidArgument("chunk_length_s must not be negative");
  if (kwargs.is_object() && kwargs.contains("stride_length_s") && !kwargs.at("stride_length_s").is_null()) {
    const Json& s = kwargs.at("stride_length_s");
    if (s.is_number()) {
      o.stride_length_s_left = o.stride_length_s_right = s.get<double>();
    } else if (s.is_array() && s.size() == 2 && s[0].is_number() && s[1].is_number()) {
      o.stride_length_s_left = s[0].get<double>();
      o.stride_length_s_right = s[1].get<double>();
    } else {
      throw InvalidArgument("stride_length_s must be a number or [left, right], got " + s.dump());
    }
  }
  auto one = [&](const Json& in) {
    const auto wave =
        preprocessing::audio_from_json(in, extractor_.sampling_rate(), "AutomaticSpeechRecognitionPipeline");
    const auto r = (*this)(wave, o);
    Json out = {{"text", r.text}};
    if (!o.return_timestamps.empty()) {
      Json chunks = Json::array();
      for (const auto& c : r.chunks) chunks.push_back({{"text", c.text}, {"timestamp", {c.start, c.end}}});
      out["chunks"] = std::move(chunks);
    }
    return out;
  };
  if (input.is_array() && !input.empty() && (input.front().is_string() || input.front().is_object())) {
    Json out = Json::array();
    for (const auto& in : input) out.push_back(one(in));
    return out;
  }
  return one(input);
}

ORTFORMERS_REGISTER_PIPELINE("automatic-speech-recognition", make_pipeline<AutomaticSpeechRecognitionPipeline>);

}  // namespace ortformers::pipelines

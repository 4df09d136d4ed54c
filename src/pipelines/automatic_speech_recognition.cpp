#include "ortformers/pipelines/automatic_speech_recognition.hpp"

#include <algorithm>
#include <cmath>

#include "ortformers/core/error.hpp"
#include "ortformers/generation/whisper.hpp"
#include "ortformers/hub/hub.hpp"
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

struct AutomaticSpeechRecognitionPipeline::Whisper {
  models::ORTModelForSpeechSeq2Seq model;
  preprocessing::WhisperFeatureExtractor extractor;
  tokenizers::PreTrainedTokenizer tokenizer;
  generation::GenerationConfig generation_config;
};

bool is_whisper_model(const std::string& id, const PipelineOptions& options) {
  std::filesystem::path config;
  if (hub::is_local_path(id)) {
    std::filesystem::path dir = id;
    if (!options.model.subfolder.empty() && std::filesystem::is_directory(dir / options.model.subfolder))
      dir /= options.model.subfolder;
    config = dir / "config.json";
    if (!std::filesystem::is_regular_file(config)) return false;
  } else {
    hub::HubOptions h;
    h.revision = options.model.revision;
    h.token = options.model.token;
    h.local_files_only = options.model.local_files_only;
    h.cache_dir = options.model.cache_dir;
    try {
      config = hub::hf_hub_download(
          id, options.model.subfolder.empty() ? "config.json" : options.model.subfolder + "/config.json", h);
    } catch (const Error&) {
      return false;  // the CTC loader reports what is missing
    }
  }
  const Json j = read_json_file(config);
  return j.is_object() && j.contains("model_type") && j["model_type"] == "whisper";
}

AutomaticSpeechRecognitionPipeline::AutomaticSpeechRecognitionPipeline(const std::string& model_id_or_path,
                                                                       const PipelineOptions& options) {
  if (is_whisper_model(model_id_or_path, options)) {
    models::SpeechSeq2SeqOptions mo;
    mo.base = options.model;
    auto model = models::ORTModelForSpeechSeq2Seq::from_pretrained(model_id_or_path, mo);
    const auto dir = model.model_dir();
    auto extractor = preprocessing::WhisperFeatureExtractor::from_pretrained(dir);
    auto tokenizer = tokenizers::AutoTokenizer::from_pretrained(
        options.tokenizer.empty() ? dir : std::filesystem::path(options.tokenizer));
    auto gen = generation::GenerationConfig::from_pretrained(dir);
    whisper_ = std::make_shared<const Whisper>(
        Whisper{std::move(model), std::move(extractor), std::move(tokenizer), std::move(gen)});
    return;
  }
  ctc_ = std::make_shared<const models::ORTModelForCTC>(
      models::ORTModelForCTC::from_pretrained(model_id_or_path, options.model));
  extractor_ = std::make_shared<const preprocessing::Wav2Vec2FeatureExtractor>(
      preprocessing::Wav2Vec2FeatureExtractor::from_pretrained(ctc_->model_dir()));
  tokenizer_ =
      std::make_shared<const preprocessing::Wav2Vec2CTCTokenizer>(preprocessing::Wav2Vec2CTCTokenizer::from_pretrained(
          options.tokenizer.empty() ? ctc_->model_dir() : std::filesystem::path(options.tokenizer)));
  const auto& cfg = ctc_->config();
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

const models::ORTModel& AutomaticSpeechRecognitionPipeline::model() const {
  if (whisper_) return whisper_->model;
  return *ctc_;
}

namespace {
[[noreturn]] void not_for(const char* what, const char* kind) {
  throw InvalidArgument(std::string("automatic-speech-recognition: ") + what + " is only for " + kind + " models");
}
}  // namespace

const preprocessing::Wav2Vec2FeatureExtractor& AutomaticSpeechRecognitionPipeline::feature_extractor() const {
  if (!extractor_) not_for("feature_extractor()", "CTC");
  return *extractor_;
}
const preprocessing::Wav2Vec2CTCTokenizer& AutomaticSpeechRecognitionPipeline::tokenizer() const {
  if (!tokenizer_) not_for("tokenizer()", "CTC");
  return *tokenizer_;
}
const models::ORTModelForSpeechSeq2Seq& AutomaticSpeechRecognitionPipeline::whisper_model() const {
  if (!whisper_) not_for("whisper_model()", "Whisper");
  return whisper_->model;
}
const preprocessing::WhisperFeatureExtractor& AutomaticSpeechRecognitionPipeline::whisper_feature_extractor() const {
  if (!whisper_) not_for("whisper_feature_extractor()", "Whisper");
  return whisper_->extractor;
}
const tokenizers::PreTrainedTokenizer& AutomaticSpeechRecognitionPipeline::whisper_tokenizer() const {
  if (!whisper_) not_for("whisper_tokenizer()", "Whisper");
  return whisper_->tokenizer;
}

std::vector<WhisperRecognitionResult> AutomaticSpeechRecognitionPipeline::transcribe(
    const std::vector<std::vector<float>>& waveforms, const WhisperRecognitionOptions& o,
    std::vector<std::string>* warnings) const {
  if (!whisper_) not_for("transcribe()", "Whisper");
  const auto& w = *whisper_;
  const int sr = w.extractor.sampling_rate();
  // preprocess: every input -> its items (chunk_iter without rescale, or the whole input), each with its stride.
  struct Item {
    std::size_t input;
    std::vector<float> samples;
    std::optional<std::array<double, 3>> stride;  // seconds
  };
  std::vector<Item> items;
  for (std::size_t i = 0; i < waveforms.size(); ++i) {
    const auto& wave = waveforms[i];
    if (wave.empty()) throw InvalidArgument("automatic-speech-recognition: the audio has no samples (zero-length)");
    if (o.chunk_length_s > 0) {
      const double left_s = o.stride_length_s_left.value_or(o.chunk_length_s / 6);
      const double right_s = o.stride_length_s_right.value_or(o.chunk_length_s / 6);
      if (left_s < 0 || right_s < 0) throw InvalidArgument("stride_length_s must not be negative");
      const std::int64_t chunk_len = py_round(o.chunk_length_s * sr);
      const std::int64_t stride_left = py_round(left_s * sr);
      const std::int64_t stride_right = py_round(right_s * sr);
      if (chunk_len < stride_left + stride_right)
        throw InvalidArgument("Chunk length must be superior to stride length");
      for (const auto& c : chunk_audio(static_cast<std::int64_t>(wave.size()), chunk_len, stride_left, stride_right)) {
        Item it{i, std::vector<float>(wave.begin() + c.start, wave.begin() + c.end), std::nullopt};
        it.stride =
            std::array<double, 3>{static_cast<double>(c.end - c.start) / sr, static_cast<double>(c.stride_left) / sr,
                                  static_cast<double>(c.stride_right) / sr};
        items.push_back(std::move(it));
      }
    } else {
      items.push_back({i, wave, std::nullopt});
    }
  }
  // forward: generate over batches of batch_size items.
  Json gen_kwargs = o.generate_kwargs.is_null() ? Json::object() : o.generate_kwargs;
  if (!gen_kwargs.is_object()) throw InvalidArgument("generate_kwargs must be an object, got " + gen_kwargs.dump());
  generation::WhisperGenerateArgs args;
  if (o.return_timestamps) args.return_timestamps = true;
  std::vector<std::vector<std::int64_t>> tokens(items.size());
  const std::size_t bs = std::max<std::size_t>(1, o.batch_size);
  for (std::size_t b = 0; b < items.size(); b += bs) {
    std::vector<std::vector<float>> batch;
    for (std::size_t k = b; k < std::min(items.size(), b + bs); ++k) batch.push_back(items[k].samples);
    const auto features =
        w.extractor(batch, preprocessing::WhisperFeatureOptions{.sampling_rate = sr, .max_length = {}});
    generation::GenerateOptions go;
    go.warnings = warnings;
    const auto out = generation::generate_whisper(w.model, features, w.generation_config, args, gen_kwargs, go);
    const auto seqs = out.sequences.to_vector<std::int64_t>();
    const auto width = out.sequences.dim(1);
    const auto per_item = out.sequences.dim(0) / static_cast<std::int64_t>(batch.size());
    for (std::size_t k = 0; k < batch.size(); ++k) {
      // num_return_sequences > 1: the pipeline keeps the first sequence of each input (tokens[0] in _decode_asr).
      const auto row = static_cast<std::int64_t>(k) * per_item;
      tokens[b + k].assign(seqs.begin() + row * width, seqs.begin() + (row + 1) * width);
    }
  }
  // postprocess: _decode_asr per input over its items.
  const double time_precision =
      static_cast<double>(w.extractor.config().chunk_length) / static_cast<double>(w.model.max_source_positions());
  std::vector<WhisperRecognitionResult> results(waveforms.size());
  std::size_t k = 0;
  for (std::size_t i = 0; i < waveforms.size(); ++i) {
    std::vector<tokenizers::AsrModelOutput> outputs;
    for (; k < items.size() && items[k].input == i; ++k) outputs.push_back({tokens[k], items[k].stride});
    auto decoded =
        tokenizers::decode_asr(w.tokenizer, outputs, o.return_timestamps, o.return_language, time_precision, warnings);
    results[i].text = std::move(decoded.text);
    if (o.return_timestamps || o.return_language) results[i].chunks = std::move(decoded.chunks);
  }
  return results;
}

Json AutomaticSpeechRecognitionPipeline::call_whisper(const Json& input, const Json& kwargs) {
  check_kwargs(kwargs,
               {"return_timestamps", "chunk_length_s", "stride_length_s", "return_language", "generate_kwargs",
                "max_new_tokens", "batch_size", "ignore_warning"},
               task());
  WhisperRecognitionOptions o;
  if (kwargs.is_object() && kwargs.contains("return_timestamps") && !kwargs.at("return_timestamps").is_null()) {
    const Json& rt = kwargs.at("return_timestamps");
    if (rt.is_boolean())
      o.return_timestamps = rt.get<bool>();
    else if (rt.is_string() && (rt == "char" || rt == "word"))
      throw UnsupportedError("automatic-speech-recognition: return_timestamps='" + rt.get<std::string>() +
                             "' with Whisper needs cross-attention weights, which the exported decoders do not "
                             "return; use return_timestamps=True (segment timestamps)");
    else
      throw InvalidArgument("return_timestamps must be a boolean for Whisper, got " + rt.dump());
  }
  o.return_language = kwarg<bool>(kwargs, "return_language", false);
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
  if (kwargs.is_object() && kwargs.contains("generate_kwargs") && !kwargs.at("generate_kwargs").is_null()) {
    o.generate_kwargs = kwargs.at("generate_kwargs");
    if (!o.generate_kwargs.is_object())
      throw InvalidArgument("generate_kwargs must be an object, got " + o.generate_kwargs.dump());
  }
  if (kwargs.is_object() && kwargs.contains("max_new_tokens") && !kwargs.at("max_new_tokens").is_null()) {
    if (o.generate_kwargs.contains("max_new_tokens"))
      throw InvalidArgument(
          "`max_new_tokens` is defined both as an argument and inside `generate_kwargs` argument, please use only 1 "
          "version");
    o.generate_kwargs["max_new_tokens"] = kwargs.at("max_new_tokens");
  }
  const auto bs = kwarg<std::int64_t>(kwargs, "batch_size", 1);
  if (bs < 1) throw InvalidArgument("batch_size must be a positive integer, got " + std::to_string(bs));
  o.batch_size = static_cast<std::size_t>(bs);
  const bool many = input.is_array() && !input.empty() && (input.front().is_string() || input.front().is_object());
  std::vector<std::vector<float>> waves;
  const int sr = whisper_->extractor.sampling_rate();
  if (many)
    for (const auto& in : input)
      waves.push_back(preprocessing::audio_from_json(in, sr, "AutomaticSpeechRecognitionPipeline"));
  else
    waves.push_back(preprocessing::audio_from_json(input, sr, "AutomaticSpeechRecognitionPipeline"));
  const auto results = transcribe(waves, o);
  Json out = Json::array();
  for (const auto& r : results) {
    Json j = {{"text", r.text}};
    if (o.return_timestamps || o.return_language) {
      Json chunks = Json::array();
      for (const auto& c : r.chunks) {
        Json cj = {{"text", c.text}};
        if (o.return_timestamps)
          cj["timestamp"] =
              Json::array({c.start ? Json(*c.start) : Json(nullptr), c.end ? Json(*c.end) : Json(nullptr)});
        if (o.return_language) cj["language"] = c.language ? Json(*c.language) : Json(nullptr);
        chunks.push_back(std::move(cj));
      }
      j["chunks"] = std::move(chunks);
    }
    out.push_back(std::move(j));
  }
  return many ? out : out[0];
}

SpeechRecognitionResult AutomaticSpeechRecognitionPipeline::operator()(const std::vector<float>& waveform,
                                                                       const SpeechRecognitionOptions& o) const {
  if (!ctc_) not_for("operator() (CTC decoding)", "CTC");
  const auto& model_ = *ctc_;
  const auto& extractor_ = *this->extractor_;
  const auto& tokenizer_ = *this->tokenizer_;
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

std::vector<Json> AutomaticSpeechRecognitionPipeline::call_batch(const std::vector<Json>& inputs, const Json& kwargs) {
  const bool listable =
      std::all_of(inputs.begin(), inputs.end(), [](const Json& in) { return in.is_string() || in.is_object(); });
  if (!whisper_ || !listable || inputs.empty()) return Pipeline::call_batch(inputs, kwargs);
  const Json out = call_whisper(Json(inputs), kwargs);
  return std::vector<Json>(out.begin(), out.end());
}

Json AutomaticSpeechRecognitionPipeline::call(const Json& input, const Json& kwargs) {
  if (whisper_) return call_whisper(input, kwargs);
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
        preprocessing::audio_from_json(in, extractor_->sampling_rate(), "AutomaticSpeechRecognitionPipeline");
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

// `ortformers generate` with a Whisper model: generate_whisper (transformers 4.31's WhisperForConditionalGeneration
// .generate) over audio files or input_features, one JSON line per input line.
#include "generate_whisper.hpp"

#include <cmath>
#include <iostream>
#include <set>

#include "ortformers/core/error.hpp"
#include "ortformers/generation/whisper.hpp"
#include "ortformers/models/speech_seq2seq.hpp"
#include "ortformers/preprocessing/audio.hpp"
#include "ortformers/preprocessing/whisper_feature_extractor.hpp"

namespace ortformers::cli {
namespace {

Json float_json(float v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return v;
}

Tensor features_from_json(const Json& v, std::int64_t mel_bins, const std::string& where) {
  std::vector<float> flat;
  std::int64_t batch = 0, frames = -1;
  auto add_row = [&](const Json& m) {
    if (!m.is_array() || static_cast<std::int64_t>(m.size()) != mel_bins)
      throw InvalidArgument(where + "`input_features` must be [batch, " + std::to_string(mel_bins) + ", frames]");
    for (const auto& r : m) {
      if (!r.is_array()) throw InvalidArgument(where + "`input_features` rows must be lists of numbers");
      if (frames < 0) frames = static_cast<std::int64_t>(r.size());
      if (static_cast<std::int64_t>(r.size()) != frames)
        throw InvalidArgument(where + "`input_features` rows have different lengths");
      for (const auto& x : r) {
        if (!x.is_number()) throw InvalidArgument(where + "`input_features` values must be numbers");
        flat.push_back(x.get<float>());
      }
    }
    ++batch;
  };
  if (!v.is_array() || v.empty()) throw InvalidArgument(where + "`input_features` must be a non-empty list");
  if (v.front().is_array() && !v.front().empty() && v.front().front().is_array())
    for (const auto& m : v) add_row(m);
  else
    add_row(v);
  return Tensor::from_vector(std::move(flat), {batch, mel_bins, frames});
}

}  // namespace

int generate_whisper_lines(const ModelArgs& m, const Json& options, const std::vector<Json>& inputs) {
  models::SpeechSeq2SeqOptions mo;
  mo.base = m.model_options();
  const auto model = models::ORTModelForSpeechSeq2Seq::from_pretrained(m.model, mo);
  const auto base_config = generation::GenerationConfig::from_pretrained(model.model_dir());
  const auto extractor = preprocessing::WhisperFeatureExtractor::from_pretrained(model.model_dir());
  std::set<std::string> printed;
  std::size_t lineno = 0;
  for (const auto& line : inputs) {
    ++lineno;
    const std::string where = "generate: input " + std::to_string(lineno) + ": ";
    if (!line.is_object()) throw InvalidArgument(where + "each input line must be a JSON object, got " + line.dump());
    for (const auto& [key, value] : line.items())
      if (key != "audio" && key != "input_features" && key != "parameters")
        throw InvalidArgument(where + "unknown key '" + key +
                              "' (a Whisper line holds audio or input_features, and "
                              "parameters)");
    Json kwargs = options;
    if (line.contains("parameters")) {
      if (!line.at("parameters").is_object())
        throw InvalidArgument(where + "`parameters` must be an object of generate kwargs");
      for (const auto& [k, v] : line.at("parameters").items()) kwargs[k] = v;
    }
    Tensor features;
    if (line.contains("audio")) {
      if (line.contains("input_features")) throw InvalidArgument(where + "give `audio` or `input_features`, not both");
      const Json& a = line.at("audio");
      std::vector<std::string> paths;
      if (a.is_string())
        paths.push_back(a.get<std::string>());
      else if (a.is_array() && !a.empty() &&
               std::all_of(a.begin(), a.end(), [](const Json& x) { return x.is_string(); }))
        paths = a.get<std::vector<std::string>>();
      else
        throw InvalidArgument(where + "`audio` must be a file path or a non-empty list of paths");
      std::vector<std::vector<float>> waves;
      for (const auto& p : paths) {
        waves.push_back(preprocessing::load_audio_mono(p, extractor.sampling_rate()));
        if (waves.back().empty()) throw InvalidArgument(where + "audio file " + p + " has no samples");
      }
      features = extractor(waves).at("input_features");
    } else if (line.contains("input_features")) {
      features = features_from_json(line.at("input_features"), model.num_mel_bins(), where);
    } else {
      throw InvalidArgument(where + "a Whisper input needs `audio` or `input_features`");
    }
    std::vector<std::string> warnings;
    generation::GenerateOptions go;
    go.warnings = &warnings;
    const auto out = generation::generate_whisper(model, {{"input_features", features}}, base_config, {}, kwargs, go);
    for (const auto& w : warnings)
      if (printed.insert(w).second) std::cerr << w << "\n";
    Json result = Json::object();
    const auto values = out.sequences.to_vector<std::int64_t>();
    Json sequences = Json::array();
    for (std::int64_t r = 0; r < out.sequences.dim(0); ++r) {
      const auto* row = values.data() + r * out.sequences.dim(1);
      sequences.push_back(std::vector<std::int64_t>(row, row + out.sequences.dim(1)));
    }
    result["sequences"] = std::move(sequences);
    if (!out.scores.empty()) {
      Json scores = Json::array();
      for (const auto& step : out.scores) {
        const auto v = step.to_float_vector();
        const std::int64_t cols = step.dim(1);
        Json rows = Json::array();
        for (std::size_t at = 0; at < v.size(); at += static_cast<std::size_t>(cols)) {
          Json row = Json::array();
          for (std::int64_t c = 0; c < cols; ++c) row.push_back(float_json(v[at + static_cast<std::size_t>(c)]));
          rows.push_back(std::move(row));
        }
        scores.push_back(std::move(rows));
      }
      result["scores"] = std::move(scores);
      if (out.sequences_scores.defined()) {
        Json ss = Json::array();
        for (float s : out.sequences_scores.to_float_vector()) ss.push_back(float_json(s));
        result["sequences_scores"] = std::move(ss);
      }
    }
    print_json_line(result);
  }
  std::cout.flush();
  return 0;
}

}  // namespace ortformers::cli

#include "ortformers/preprocessing/inputs.hpp"

#include <cmath>

#include "ortformers/core/error.hpp"
#include "ortformers/preprocessing/audio.hpp"

namespace ortformers::preprocessing {

namespace {
bool is_url(const std::string& s) {
  return s.rfind("http://", 0) == 0 || s.rfind("https://", 0) == 0;
}

std::vector<float> samples_of(const Json& arr, const std::string& pipeline_name) {
  if (!arr.is_array()) throw InvalidArgument(pipeline_name + ": audio samples must be an array of numbers");
  std::vector<float> out;
  out.reserve(arr.size());
  for (const auto& v : arr) {
    if (v.is_array()) throw InvalidArgument("We expect a single channel audio input for " + pipeline_name);
    if (!v.is_number()) throw InvalidArgument(pipeline_name + ": audio samples must be numbers, got " + v.dump());
    const float f = v.get<float>();
    if (!std::isfinite(f)) throw InvalidArgument(pipeline_name + ": audio samples must be finite");
    out.push_back(f);
  }
  return out;
}
}  // namespace

std::string image_path_of(const Json& input) {
  if (input.is_string()) return input.get<std::string>();
  if (input.is_object() && input.contains("image") && input.at("image").is_string())
    return input.at("image").get<std::string>();
  return "";
}

Image image_from_json(const Json& input, const std::string& pipeline_name) {
  const std::string path = image_path_of(input);
  if (path.empty())
    throw InvalidArgument(pipeline_name + ": an image input must be a file path (string), got " + input.dump());
  if (is_url(path))
    throw UnsupportedError(pipeline_name + ": image URLs are not supported (download it first): " + path);
  if (path.rfind("data:", 0) == 0) throw UnsupportedError(pipeline_name + ": data URIs are not supported");
  return load_image(path);
}

std::vector<float> audio_from_json(const Json& input, int sampling_rate, const std::string& pipeline_name) {
  std::vector<float> out;
  if (input.is_string()) {
    const std::string path = input.get<std::string>();
    if (is_url(path)) throw UnsupportedError(pipeline_name + ": audio URLs are not supported: " + path);
    out = load_audio_mono(path, sampling_rate);
    if (out.empty()) throw InvalidArgument(pipeline_name + ": audio file " + path + " has no samples (zero-length)");
    return out;
  }
  if (input.is_object()) {
    const Json* raw = nullptr;
    if (input.contains("raw"))
      raw = &input.at("raw");
    else if (input.contains("array"))
      raw = &input.at("array");
    if (!raw || !input.contains("sampling_rate"))
      throw InvalidArgument(pipeline_name +
                            ": when passing a dictionary, it must contain a \"raw\" (or \"array\") key with the audio "
                            "samples and a \"sampling_rate\" key");
    if (!input.at("sampling_rate").is_number_integer() || input.at("sampling_rate").get<long long>() <= 0 ||
        input.at("sampling_rate").get<long long>() > 10'000'000)
      throw InvalidArgument(pipeline_name + ": sampling_rate must be a positive integer, got " +
                            input.at("sampling_rate").dump());
    const int sr = input.at("sampling_rate").get<int>();
    out = samples_of(*raw, pipeline_name);
    if (out.empty()) throw InvalidArgument(pipeline_name + ": the audio input has no samples (zero-length)");
    if (sr != sampling_rate) out = resample(out, sr, sampling_rate);
    return out;
  }
  if (input.is_array()) {
    out = samples_of(input, pipeline_name);
    if (out.empty()) throw InvalidArgument(pipeline_name + ": the audio input has no samples (zero-length)");
    return out;
  }
  throw InvalidArgument(pipeline_name +
                        ": audio input must be a file path, an array of samples or "
                        "{\"raw\": [...], \"sampling_rate\": sr}, got " +
                        input.dump().substr(0, 200));
}

}  // namespace ortformers::preprocessing

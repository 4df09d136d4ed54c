#include "ortformers/pipelines/audio_classification.hpp"

#include "ortformers/core/error.hpp"
#include "ortformers/pipelines/image_classification.hpp"
#include "ortformers/preprocessing/inputs.hpp"

namespace ortformers::pipelines {

AudioClassificationPipeline::AudioClassificationPipeline(const std::string& model_id_or_path,
                                                         const PipelineOptions& options)
    : model_(models::ORTModelForAudioClassification::from_pretrained(model_id_or_path, options.model)),
      extractor_(preprocessing::AudioFeatureExtractor::from_pretrained(model_.model_dir())) {}

std::vector<AudioClassificationResult> AudioClassificationPipeline::operator()(const std::vector<float>& waveform,
                                                                               int top_k) const {
  if (top_k <= 0) throw InvalidArgument("audio-classification: top_k must be positive");
  const auto inputs = extractor_(waveform);
  const Tensor logits = model_.forward(inputs).logits;
  if (logits.rank() != 2 || logits.dim(0) != 1) throw RuntimeError("audio-classification: logits must be [1, labels]");
  const auto scores = apply_classification_function(logits.to_float_vector(), "softmax");
  std::vector<AudioClassificationResult> out;
  const auto& id2label = model_.config().id2label();
  for (const auto& [id, s] : top_k_scores(scores, top_k)) {
    auto it = id2label.find(id);
    out.push_back({it != id2label.end() ? it->second : "LABEL_" + std::to_string(id), s});
  }
  return out;
}

Json AudioClassificationPipeline::call(const Json& input, const Json& kwargs) {
  check_kwargs(kwargs, {"top_k"}, task());
  const int top_k = kwarg<int>(kwargs, "top_k", 5);
  auto one = [&](const Json& in) {
    const auto wave = preprocessing::audio_from_json(in, extractor_.sampling_rate(), "AudioClassificationPipeline");
    Json arr = Json::array();
    for (const auto& r : (*this)(wave, top_k)) arr.push_back({{"score", r.score}, {"label", r.label}});
    return arr;
  };
  // A list of inputs (paths or dicts) gives a list of results; a list of numbers is one waveform.
  if (input.is_array() && !input.empty() && (input.front().is_string() || input.front().is_object())) {
    Json out = Json::array();
    for (const auto& in : input) out.push_back(one(in));
    return out;
  }
  return one(input);
}

ORTFORMERS_REGISTER_PIPELINE("audio-classification", make_pipeline<AudioClassificationPipeline>);

}  // namespace ortformers::pipelines

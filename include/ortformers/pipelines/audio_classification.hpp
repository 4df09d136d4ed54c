#pragma once
// pipeline("audio-classification"): transformers' AudioClassificationPipeline on an ORTModelForAudioClassification.
#include <memory>
#include <string>
#include <vector>

#include "ortformers/models/audio_classification.hpp"
#include "ortformers/pipelines/pipeline.hpp"
#include "ortformers/preprocessing/audio_feature_extractor.hpp"

namespace ortformers::pipelines {

struct AudioClassificationResult {
  std::string label;
  double score = 0;
};

class AudioClassificationPipeline : public Pipeline {
 public:
  AudioClassificationPipeline(const std::string& model_id_or_path, const PipelineOptions& options = {});
  std::string task() const override { return "audio-classification"; }
  // input: a file path, {"raw"|"array": [...], "sampling_rate": sr}, or an array of samples at the extractor's
  // rate; a list of those gives a list of results. kwargs: top_k (default 5, capped at the number of labels).
  Json call(const Json& input, const Json& kwargs = Json::object()) override;
  const models::ORTModel& model() const override { return model_; }

  // A mono waveform at feature_extractor().sampling_rate(): softmax scores, top_k highest first.
  std::vector<AudioClassificationResult> operator()(const std::vector<float>& waveform, int top_k = 5) const;
  // The extractor of preprocessor_config.json: Wav2Vec2FeatureExtractor or ASTFeatureExtractor.
  const preprocessing::AudioFeatureExtractor& feature_extractor() const noexcept { return extractor_; }

 private:
  models::ORTModelForAudioClassification model_;
  preprocessing::AudioFeatureExtractor extractor_;
};

}  // namespace ortformers::pipelines

#include "task_detection.hpp"

#include <map>
#include <vector>

namespace ortformers::cli {

const std::vector<std::string>& outputs_read_by(const std::string& cls) {
  static const std::map<std::string, std::vector<std::string>> outputs = {
      {"FeatureExtraction", {}},  // last_hidden_state or token_embeddings: its from_pretrained checks
      {"CustomTasks", {}},
      {"SequenceClassification", {"logits"}},
      {"TokenClassification", {"logits"}},
      {"QuestionAnswering", {"start_logits", "end_logits"}},
      {"MaskedLM", {"logits"}},
      {"MultipleChoice", {"logits"}},
      {"ImageClassification", {"logits"}},
      {"SemanticSegmentation", {"logits"}},
      {"ImageToImage", {"reconstruction"}},
      {"AudioClassification", {"logits"}},
      {"AudioFrameClassification", {"logits"}},
      {"AudioXVector", {"logits", "embeddings"}},
      {"CTC", {"logits"}},
  };
  static const std::vector<std::string> none;
  const auto it = outputs.find(cls);
  return it == outputs.end() ? none : it->second;
}

std::string model_class_for(const std::string& task, const runtime::Session& session) {
  static const std::map<std::string, std::string> classes = {
      {"feature-extraction", "FeatureExtraction"},
      {"text-classification", "SequenceClassification"},
      {"zero-shot-classification", "SequenceClassification"},
      {"token-classification", "TokenClassification"},
      {"question-answering", "QuestionAnswering"},
      {"fill-mask", "MaskedLM"},
      {"multiple-choice", "MultipleChoice"},
      {"image-classification", "ImageClassification"},
      {"image-segmentation", "SemanticSegmentation"},
      {"image-to-image", "ImageToImage"},
      {"audio-classification", "AudioClassification"},
      {"audio-frame-classification", "AudioFrameClassification"},
      {"audio-xvector", "AudioXVector"},
      {"automatic-speech-recognition", "CTC"},
  };
  const auto it = classes.find(task);
  if (it == classes.end()) return "CustomTasks";  // e.g. a sentence-transformers export (sentence_embedding)
  if (it->second == "FeatureExtraction" && !session.has_output("last_hidden_state") &&
      !session.has_output("token_embeddings"))
    return "CustomTasks";
  for (const auto& o : outputs_read_by(it->second))
    if (!session.has_output(o)) return "CustomTasks";
  return it->second;
}

}  // namespace ortformers::cli

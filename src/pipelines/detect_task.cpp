#include <cctype>
#include <filesystem>
#include <utility>

#include "ortformers/pipelines/pipeline.hpp"

namespace ortformers::pipelines {

// The pipeline task this folder serves, as transformers / optimum infer it: the architecture's head, a
// sentence-transformers folder, else from the graph's outputs.
std::string detect_task(const models::ORTModel& model) {
  namespace fs = std::filesystem;
  const auto& cfg = model.config();
  const auto& dir = model.model_dir();
  const auto& s = model.session();
  static const std::vector<std::pair<std::string, std::string>> suffixes = {
      {"ForSequenceClassification", "text-classification"},
      {"ForTokenClassification", "token-classification"},
      {"ForQuestionAnswering", "question-answering"},
      {"ForMaskedLM", "fill-mask"},
      {"ForMultipleChoice", "multiple-choice"},
      {"ForImageClassification", "image-classification"},
      {"ForSemanticSegmentation", "image-segmentation"},
      {"ForImageSuperResolution", "image-to-image"},
      {"ForAudioFrameClassification", "audio-frame-classification"},
      {"ForXVector", "audio-xvector"},
      {"ForCTC", "automatic-speech-recognition"},
      {"ForAudioClassification", "audio-classification"},
      {"ForCausalLM", "text-generation"},
      {"LMHeadModel", "text-generation"},  // GPT2LMHeadModel, GPTJ..., OpenAIGPTLMHeadModel
  };
  if (fs::exists(dir / "modules.json")) return "sentence-embeddings";
  // optimum's image-to-text exports: VisionEncoderDecoderModel (ViT + GPT-2, TrOCR, ...) and Pix2Struct.
  if (cfg.model_type() == "vision-encoder-decoder" || cfg.model_type() == "pix2struct") return "image-to-text";
  // Whisper's encoder-decoder export (encoder_model.onnx + decoders): automatic-speech-recognition, as transformers'
  // pipeline maps WhisperForConditionalGeneration.
  if (cfg.model_type() == "whisper") return "automatic-speech-recognition";
  // A text encoder-decoder (T5, BART, Marian, mBART, Pegasus, ...): optimum's text2text-generation export.
  if (cfg.get<bool>("is_encoder_decoder", false)) {
    for (const auto& arch : cfg.architectures()) {
      const bool text = arch.ends_with("ForConditionalGeneration") || arch == "MarianMTModel";
      const bool other = arch.find("Whisper") != std::string::npos || arch.find("Speech") != std::string::npos ||
                         arch.find("Pix2Struct") != std::string::npos || arch.find("Vision") != std::string::npos;
      if (text && !other) return "text2text-generation";
    }
  }
  for (const auto& arch : cfg.architectures()) {
    for (const auto& [suffix, task] : suffixes) {
      if (arch.ends_with(suffix)) {
        if (task == "text-classification") {
          // NLI heads serve zero-shot classification, as transformers' pipeline checks the labels.
          for (const auto& [id, label] : cfg.id2label()) {
            std::string l = label;
            for (auto& c : l) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            if (l.rfind("entail", 0) == 0) return "zero-shot-classification";
          }
          if (s.has_output("logits") && cfg.architectures().size() == 1 && arch.find("Audio") != std::string::npos)
            return "audio-classification";
          if (arch.find("Wav2Vec2") != std::string::npos || arch.find("Hubert") != std::string::npos)
            return "audio-classification";
        }
        return task;
      }
    }
  }
  if (s.has_output("start_logits")) return "question-answering";
  if (s.has_output("sentence_embedding")) return "sentence-embeddings";
  if (s.has_output("reconstruction")) return "image-to-image";
  // A decoder with a key/value cache and no encoder states: optimum's text-generation-with-past export.
  if (s.has_output("logits") && !s.has_input("encoder_hidden_states") && !s.has_input("encoder_attention_mask")) {
    for (const auto& i : s.inputs())
      if (i.name.rfind("past_key_values", 0) == 0) return "text-generation";
  }
  return "feature-extraction";
}

}  // namespace ortformers::pipelines

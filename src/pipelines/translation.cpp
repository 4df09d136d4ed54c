#include <iostream>

#include "ortformers/core/error.hpp"
#include "ortformers/pipelines/text2text_generation.hpp"
#include "ortformers/tokenizers/pretrained_tokenizer.hpp"

namespace ortformers::pipelines {

void check_translation_task(const std::string& task) {
  if (task == "translation") return;
  std::vector<std::string> tokens;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= task.size(); ++i) {
    if (i == task.size() || task[i] == '_') {
      tokens.push_back(task.substr(start, i - start));
      start = i + 1;
    }
  }
  if (tokens.size() == 4 && tokens[0] == "translation" && tokens[2] == "to") return;
  throw InvalidArgument("Invalid translation task " + task + ", use 'translation_XX_to_YY' format");
}

TranslationPipeline::TranslationPipeline(const std::string& model_id_or_path, const PipelineOptions& options)
    : Text2TextGenerationPipeline(model_id_or_path, options, options.task.empty() ? "translation" : options.task,
                                  "translation") {
  check_translation_task(task_);
  if (task_ == "translation") {
    const Json& cfg = model_.config().json();
    if (cfg.contains("task_specific_params") && cfg.at("task_specific_params").is_object()) {
      for (const auto& [key, value] : cfg.at("task_specific_params").items()) {
        if (key.rfind("translation", 0) == 0) {
          std::cerr << "UserWarning: \"translation\" task was used, instead of \"translation_XX_to_YY\", defaulting "
                       "to \""
                    << key << "\"\n";
          apply_task(key);
          break;
        }
      }
    }
  }
  const std::string& cls = tokenizer_->tokenizer_class();
  for (const char* t : {"MBart", "M2M100", "Nllb", "SeamlessM4T"}) {
    if (cls.find(t) != std::string::npos) {
      throw UnsupportedError("translation: the tokenizer " + cls +
                             " builds translation inputs from src_lang / tgt_lang (_build_translation_inputs), "
                             "which ortformers does not implement yet");
    }
  }
}

Text2TextGenerationOptions TranslationPipeline::parse_kwargs(const Json& kwargs) const {
  if (kwargs.is_object() && ((kwargs.contains("src_lang") && !kwargs.at("src_lang").is_null()) ||
                             (kwargs.contains("tgt_lang") && !kwargs.at("tgt_lang").is_null()))) {
    // Without _build_translation_inputs (T5, BART, Marian), transformers ignores them; keep that.
    Json k = kwargs;
    k.erase("src_lang");
    k.erase("tgt_lang");
    return Text2TextGenerationPipeline::parse_kwargs(k);
  }
  return Text2TextGenerationPipeline::parse_kwargs(kwargs);
}

void TranslationPipeline::check_inputs(std::int64_t input_length, std::int64_t, std::int64_t max_length) const {
  if (static_cast<double>(input_length) > 0.9 * static_cast<double>(max_length)) {
    warnings_.push_back("Your input_length: " + std::to_string(input_length) +
                        " is bigger than 0.9 * max_length: " + std::to_string(max_length) +
                        ". You might consider increasing your max_length manually, e.g. translator('...', "
                        "max_length=400)");
  }
}

ORTFORMERS_REGISTER_PIPELINE("translation", make_pipeline<TranslationPipeline>);

}  // namespace ortformers::pipelines

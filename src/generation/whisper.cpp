// generate_whisper: WhisperForConditionalGeneration.generate of transformers 4.31 on top of generate().
#include "ortformers/generation/whisper.hpp"

#include "ortformers/core/error.hpp"

namespace ortformers::generation {

GenerateOutput generate_whisper(const models::ORTModelForSpeechSeq2Seq& model, const TensorMap& inputs,
                                const GenerationConfig& generation_config, const WhisperGenerateArgs& args,
                                const Json& kwargs, GenerateOptions options) {
  Json gen_kwargs = kwargs.is_null() ? Json::object() : kwargs;
  if (!gen_kwargs.is_object()) throw InvalidArgument("generate: kwargs must be a JSON object, got " + kwargs.dump());
  // Whisper's own arguments may also come in kwargs (the pipeline's generate_kwargs).
  WhisperGenerateArgs a = args;
  auto take_string = [&](const char* key, std::optional<std::string>& field) {
    if (!gen_kwargs.contains(key)) return;
    const Json v = gen_kwargs[key];
    gen_kwargs.erase(key);
    if (v.is_null()) return;
    if (!v.is_string()) throw InvalidArgument(std::string("generate: `") + key + "` must be a string, got " + v.dump());
    if (!field) field = v.get<std::string>();
  };
  auto take_bool = [&](const char* key, std::optional<bool>& field) {
    if (!gen_kwargs.contains(key)) return;
    const Json v = gen_kwargs[key];
    gen_kwargs.erase(key);
    if (v.is_null()) return;
    if (!v.is_boolean())
      throw InvalidArgument(std::string("generate: `") + key + "` must be a boolean, got " + v.dump());
    if (!field) field = v.get<bool>();
  };
  take_string("language", a.language);
  take_string("task", a.task);
  take_bool("return_timestamps", a.return_timestamps);
  take_bool("is_multilingual", a.is_multilingual);
  auto prep = prepare_whisper_generation(generation_config, model.config_forced_decoder_ids(), a, gen_kwargs);
  if (!prep.unused_kwargs.empty()) {
    std::string names = "[";
    bool first = true;
    for (const auto& [k, v] : prep.unused_kwargs.items()) {
      names += (first ? "'" : ", '") + k + "'";
      first = false;
    }
    throw InvalidArgument("The following `model_kwargs` are not used by the model: " + names +
                          "] (note: typos in the generate arguments will also show up in this list)");
  }
  LogitsProcessorList extra = prep.logits_processor;
  for (const auto& p : options.logits_processor.items()) extra.push_back(p);
  options.logits_processor = std::move(extra);
  return generate(model, inputs, prep.config, options);
}

GenerateOutput generate_whisper(const models::ORTModelForSpeechSeq2Seq& model, const TensorMap& inputs,
                                const WhisperGenerateArgs& args, const Json& kwargs, GenerateOptions options) {
  return generate_whisper(model, inputs, GenerationConfig::from_pretrained(model.model_dir()), args, kwargs,
                          std::move(options));
}

}  // namespace ortformers::generation

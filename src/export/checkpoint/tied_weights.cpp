// Tied weights: transformers' save_pretrained writes a weight shared by several modules once (model.safetensors keeps
// one name of each tied group; torch.save's pytorch_model.bin keeps every name as a view of one storage). The
// exporter must see the same names whichever file it reads, so the aliases a model ties (its _tied_weights_keys and
// tie_word_embeddings, transformers 4.31) are restored from config.json here.
#include <array>
#include <string>
#include <vector>

#include "ortformers/core/error.hpp"
#include "ortformers/export/checkpoint.hpp"

namespace ortformers::exporters {

namespace {

struct TieRule {
  const char* source;                  // the name save_pretrained keeps
  std::vector<const char*> always;     // aliases of the same module (shared embeddings of encoder and decoder)
  std::vector<const char*> with_head;  // aliases tied only when tie_word_embeddings is true (output embeddings)
  bool head_tied_by_default;           // the model class's default for tie_word_embeddings
};

// model_type -> rules, with and without the base-model prefix a head class adds ("model.", "transformer.").
std::vector<TieRule> rules_for(const std::string& model_type) {
  if (model_type == "t5" || model_type == "mt5" || model_type == "umt5" || model_type == "longt5") {
    return {
        {"shared.weight", {"encoder.embed_tokens.weight", "decoder.embed_tokens.weight"}, {"lm_head.weight"}, true}};
  }
  if (model_type == "bart" || model_type == "mbart" || model_type == "marian" || model_type == "pegasus" ||
      model_type == "blenderbot" || model_type == "blenderbot-small" || model_type == "plbart") {
    return {{"model.shared.weight",
             {"model.encoder.embed_tokens.weight", "model.decoder.embed_tokens.weight"},
             {"lm_head.weight"},
             true},
            {"shared.weight", {"encoder.embed_tokens.weight", "decoder.embed_tokens.weight"}, {}, true}};
  }
  if (model_type == "whisper") {
    return {{"model.decoder.embed_tokens.weight", {}, {"proj_out.weight"}, true}};
  }
  if (model_type == "gpt2" || model_type == "gpt_neo" || model_type == "gpt_bigcode" || model_type == "codegen") {
    return {{"transformer.wte.weight", {}, {"lm_head.weight"}, true}};
  }
  if (model_type == "llama" || model_type == "mistral" || model_type == "qwen2" || model_type == "phi3" ||
      model_type == "gemma" || model_type == "mixtral") {
    return {{"model.embed_tokens.weight", {}, {"lm_head.weight"}, model_type == "gemma"}};
  }
  if (model_type == "vision-encoder-decoder") {
    return {{"decoder.transformer.wte.weight", {}, {"decoder.lm_head.weight"}, true}};
  }
  if (model_type == "bert") {
    return {{"bert.embeddings.word_embeddings.weight", {}, {"cls.predictions.decoder.weight"}, true},
            {"cls.predictions.bias", {}, {"cls.predictions.decoder.bias"}, true}};
  }
  if (model_type == "roberta" || model_type == "xlm-roberta") {
    return {{"roberta.embeddings.word_embeddings.weight", {}, {"lm_head.decoder.weight"}, true},
            {"lm_head.bias", {}, {"lm_head.decoder.bias"}, true}};
  }
  if (model_type == "distilbert") {
    return {{"distilbert.embeddings.word_embeddings.weight", {}, {"vocab_projector.weight"}, true}};
  }
  return {};
}

bool tie_word_embeddings(const Json& config, const Json* sub, bool fallback) {
  for (const Json* c : {sub, &config}) {
    if (c == nullptr || !c->is_object()) continue;
    auto it = c->find("tie_word_embeddings");
    if (it == c->end() || it->is_null()) continue;
    if (!it->is_boolean()) {
      throw FileFormatError("config.json: tie_word_embeddings must be true or false, got " + it->dump());
    }
    return it->get<bool>();
  }
  return fallback;
}

}  // namespace

std::vector<TiedWeight> tied_weights(const Json& config) {
  std::vector<TiedWeight> out;
  if (!config.is_object()) return out;
  const std::string model_type = config.value("model_type", std::string());
  // A vision-encoder-decoder model ties its decoder's head as the decoder config says.
  const Json* sub = nullptr;
  if (model_type == "vision-encoder-decoder" && config.contains("decoder")) sub = &config["decoder"];
  for (const TieRule& rule : rules_for(model_type)) {
    for (const char* a : rule.always) out.push_back({rule.source, a});
    if (!rule.with_head.empty() && tie_word_embeddings(config, sub, rule.head_tied_by_default)) {
      for (const char* a : rule.with_head) out.push_back({rule.source, a});
    }
  }
  return out;
}

std::size_t tie_weights(StateDict& weights, const Json& config) {
  std::size_t added = 0;
  for (const TiedWeight& t : tied_weights(config)) {
    const Tensor* src = weights.find(t.source);
    const Tensor* alias = weights.find(t.alias);
    if (src != nullptr && alias == nullptr) {
      weights.insert(t.alias, *src);  // same buffer, as torch's tied parameters
      ++added;
    } else if (src == nullptr && alias != nullptr) {
      weights.insert(t.source, *alias);
      ++added;
    }
  }
  return added;
}

}  // namespace ortformers::exporters

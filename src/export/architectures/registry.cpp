#include "export/architectures/architecture.hpp"

#include "ortformers/core/error.hpp"

namespace ortformers::exporters {

// Defaults: each kind of architecture overrides the methods of its kind; calling the other kind's is a bug in the
// driver, reported as such.
std::string Architecture::build_encoder(BuildContext&, const EncoderInputs&) const {
  throw RuntimeError("internal: model_type '" + model_types().front() + "' has no token encoder");
}
std::vector<HeadOutput> Architecture::build_head(BuildContext&, const std::string&, const std::string&) const {
  throw RuntimeError("internal: model_type '" + model_types().front() + "' has no token heads");
}
std::vector<GraphOutput> Architecture::build_graph(BuildContext&, const std::string&) const {
  throw RuntimeError("internal: model_type '" + model_types().front() + "' is built by the text driver");
}

const std::vector<std::unique_ptr<Architecture>>& architecture_registry() {
  static const std::vector<std::unique_ptr<Architecture>> registry = [] {
    std::vector<std::unique_ptr<Architecture>> r;
    // One line per architecture.
    r.push_back(make_bert_architecture());
    r.push_back(make_roberta_architecture());
    r.push_back(make_distilbert_architecture());
    r.push_back(make_electra_architecture());
    r.push_back(make_albert_architecture());
    r.push_back(make_mpnet_architecture());
    r.push_back(make_deberta_v2_architecture());
    r.push_back(make_segformer_architecture());
    r.push_back(make_swin2sr_architecture());
    r.push_back(make_vit_architecture());
    r.push_back(make_wav2vec2_architecture());
    r.push_back(make_hubert_architecture());
    r.push_back(make_convnext_architecture());
    r.push_back(make_deit_architecture());
    r.push_back(make_wavlm_architecture());
    r.push_back(make_ast_architecture());
    r.push_back(make_gpt2_architecture());
    r.push_back(make_llama_architecture());
    r.push_back(make_t5_architecture());
    r.push_back(make_bart_architecture());
    r.push_back(make_whisper_architecture());
    r.push_back(make_vision_encoder_decoder_architecture());
    r.push_back(make_pix2struct_architecture());
    return r;
  }();
  return registry;
}

const Architecture* find_architecture(const std::string& model_type) {
  for (const auto& a : architecture_registry())
    for (const auto& t : a->model_types())
      if (t == model_type) return a.get();
  return nullptr;
}

}  // namespace ortformers::exporters

#include "export/architectures/architecture.hpp"

namespace ortformers::exporters {

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

#pragma once
// The architecture registry. An architecture (one file under src/export/architectures/) builds the base model's
// encoder on the graph inputs and the task heads on its last hidden state; the driver (src/export/export.cpp)
// handles graph inputs/outputs, multiple-choice flattening and the sentence-transformers pooling.
// Adding an architecture: one file, one line in registry.cpp, one parity fixture (docs/adding-an-architecture.md).
#include <memory>
#include <string>
#include <vector>

#include "export/graph/layers.hpp"

namespace ortformers::exporters {

// Named outputs of a head, in graph-output order: {"logits", value} or {"start_logits", ...}.
struct HeadOutput {
  std::string name;
  std::string value;
};

class Architecture {
 public:
  virtual ~Architecture() = default;
  // config.json model_type values handled ("roberta", "camembert", "xlm-roberta").
  virtual std::vector<std::string> model_types() const = 0;
  // transformers' base_model_prefix: weights of task checkpoints are "<prefix>.<name>".
  virtual std::string base_model_prefix() const = 0;
  // Whether optimum's export has a token_type_ids input for this architecture.
  virtual bool uses_token_type_ids() const = 0;
  // Tasks with a head (feature-extraction is always supported).
  virtual std::vector<std::string> tasks() const = 0;
  // Builds the encoder; returns the last hidden state [batch, seq, hidden].
  virtual std::string build_encoder(BuildContext& ctx, const EncoderInputs& in) const = 0;
  // Builds the head of `task` (not feature-extraction) on the last hidden state. multiple-choice returns the
  // per-choice score [batch * num_choices, 1]; the driver reshapes it.
  virtual std::vector<HeadOutput> build_head(BuildContext& ctx, const std::string& task,
                                             const std::string& hidden) const = 0;
  // Hidden size of the last hidden state (for output shapes).
  virtual std::int64_t hidden_size(const config::PretrainedConfig& config) const {
    return config.require<std::int64_t>("hidden_size");
  }
};

// Every registered architecture (registry.cpp).
const std::vector<std::unique_ptr<Architecture>>& architecture_registry();
// The architecture for a model_type, or nullptr.
const Architecture* find_architecture(const std::string& model_type);

// Factories, one per architecture file.
std::unique_ptr<Architecture> make_bert_architecture();
std::unique_ptr<Architecture> make_roberta_architecture();
std::unique_ptr<Architecture> make_distilbert_architecture();
std::unique_ptr<Architecture> make_electra_architecture();
std::unique_ptr<Architecture> make_albert_architecture();
std::unique_ptr<Architecture> make_mpnet_architecture();

}  // namespace ortformers::exporters

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

// A graph output of an architecture that builds its whole graph (vision, audio): name, value, dims as optimum's
// export declares them (symbolic names such as "batch_size" or fixed sizes).
struct GraphOutput {
  std::string name;
  std::string value;
  std::vector<Dim> dims;
};

// Two kinds of architecture:
// - text (token_inputs() true): the driver declares input_ids / attention_mask / token_type_ids, flattens
//   multiple-choice inputs, adds the sentence-transformers pooling; the architecture builds the encoder and heads.
// - vision / audio (token_inputs() false): the architecture declares its own inputs (pixel_values, input_values)
//   and builds the whole graph for a task in build_graph().
class Architecture {
 public:
  virtual ~Architecture() = default;
  // config.json model_type values handled ("roberta", "camembert", "xlm-roberta").
  virtual std::vector<std::string> model_types() const = 0;
  // transformers' base_model_prefix: weights of task checkpoints are "<prefix>.<name>".
  virtual std::string base_model_prefix() const = 0;
  // Tasks supported, feature-extraction included, in optimum's task names.
  virtual std::vector<std::string> tasks() const = 0;

  // --- text architectures ---
  virtual bool token_inputs() const { return true; }
  // Whether optimum's export has a token_type_ids input for this architecture.
  virtual bool uses_token_type_ids() const { return false; }
  // Builds the encoder; returns the last hidden state [batch, seq, hidden].
  virtual std::string build_encoder(BuildContext& ctx, const EncoderInputs& in) const;
  // Builds the head of `task` (not feature-extraction) on the last hidden state. multiple-choice returns the
  // per-choice score [batch * num_choices, 1]; the driver reshapes it.
  virtual std::vector<HeadOutput> build_head(BuildContext& ctx, const std::string& task,
                                             const std::string& hidden) const;

  // --- vision / audio architectures ---
  // Adds the graph inputs (ctx.g.add_input) and builds the graph of `task`; returns the outputs in order.
  virtual std::vector<GraphOutput> build_graph(BuildContext& ctx, const std::string& task) const;
  // The task for a transformers class name ("ViTForImageClassification"); empty when the architecture does not
  // know it (the driver then applies the text rules).
  virtual std::string task_for_class(const std::string& class_name) const {
    (void)class_name;
    return "";
  }
  // Encoder-decoder exports (encoder_model.onnx + decoder files; architectures/encoder_decoder_family.hpp).
  virtual bool is_encoder_decoder() const { return false; }
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
std::unique_ptr<Architecture> make_deberta_v2_architecture();
std::unique_ptr<Architecture> make_segformer_architecture();
std::unique_ptr<Architecture> make_swin2sr_architecture();
std::unique_ptr<Architecture> make_vit_architecture();
std::unique_ptr<Architecture> make_wav2vec2_architecture();
std::unique_ptr<Architecture> make_hubert_architecture();
std::unique_ptr<Architecture> make_convnext_architecture();
std::unique_ptr<Architecture> make_deit_architecture();
std::unique_ptr<Architecture> make_wavlm_architecture();
std::unique_ptr<Architecture> make_ast_architecture();
std::unique_ptr<Architecture> make_gpt2_architecture();
std::unique_ptr<Architecture> make_llama_architecture();
std::unique_ptr<Architecture> make_t5_architecture();
std::unique_ptr<Architecture> make_bart_architecture();
std::unique_ptr<Architecture> make_whisper_architecture();
std::unique_ptr<Architecture> make_vision_encoder_decoder_architecture();
std::unique_ptr<Architecture> make_pix2struct_architecture();

}  // namespace ortformers::exporters

#pragma once
// Pieces shared by the BERT-family architecture files: the architecture's identity, embeddings, the post-LN layer
// stack, and the heads, each parameterised by the checkpoint's tensor names. A new text family (DeBERTa, ...) starts
// from these and writes only what differs.
#include <optional>
#include <string>
#include <vector>

#include "export/architectures/architecture.hpp"

namespace ortformers::exporters {

// A text architecture with the six tasks of the BERT family (feature-extraction, text-classification,
// token-classification, question-answering, fill-mask, multiple-choice).
class EncoderArchitecture : public Architecture {
 public:
  EncoderArchitecture(std::vector<std::string> model_types, std::string base_model_prefix, bool token_type_ids)
      : model_types_(std::move(model_types)), prefix_(std::move(base_model_prefix)), token_type_ids_(token_type_ids) {}
  std::vector<std::string> model_types() const override { return model_types_; }
  std::string base_model_prefix() const override { return prefix_; }
  bool uses_token_type_ids() const override { return token_type_ids_; }
  std::vector<std::string> tasks() const override {
    return {"feature-extraction", "text-classification", "token-classification",
            "question-answering", "fill-mask",           "multiple-choice"};
  }

 private:
  std::vector<std::string> model_types_;
  std::string prefix_;
  bool token_type_ids_;
};

// Node scope of a module: "cls.predictions.decoder" -> "/cls/predictions/decoder".
std::string module_scope(const std::string& module);

// --- embeddings ---

// Word + token type (optional) + position embeddings, then LayerNorm, with the tensors "<prefix>.word_embeddings",
// "<prefix>.token_type_embeddings", "<prefix>.position_embeddings", "<prefix>.LayerNorm".
struct EmbeddingsLayout {
  std::int64_t dim = 0;            // embedding width (embedding_size for ALBERT/ELECTRA)
  bool padding_positions = false;  // RoBERTa/MPNet positions: padding_idx + running count of non-pad tokens
  bool token_types = true;         // a token-type table of type_vocab_size (default 2) rows; false: none (MPNet)
  std::optional<float> eps{};      // LayerNorm epsilon; default: config layer_norm_eps (1e-12)
  std::string prefix = "embeddings";
};
std::string text_embeddings(BuildContext& ctx, const EncoderInputs& in, const EmbeddingsLayout& layout);
// BERT-layout embeddings at `dim`; `padding_positions` as in EmbeddingsLayout.
std::string bert_style_embeddings(BuildContext& ctx, const EncoderInputs& in, std::int64_t dim, bool padding_positions,
                                  const std::string& prefix = "embeddings");

// --- layers ---

// Where a post-LN layer's tensors are, as suffixes of the layer's prefix ("encoder.layer.3" + ".attention.self.query").
struct LayerLayout {
  std::string query, key, value, attention_output, attention_layer_norm, intermediate, output, output_layer_norm;
};
// BERT's: .attention.self.{query,key,value}, .attention.output.{dense,LayerNorm}, .intermediate.dense,
// .output.{dense,LayerNorm}.
const LayerLayout& bert_layer_layout();
LayerNames layer_names(const std::string& layer_prefix, const LayerLayout& layout);
LayerNames bert_layer_names(const std::string& layer_prefix);
// hidden_size, num_attention_heads, intermediate_size, layer_norm_eps, hidden_act from config.json.
LayerDims bert_layer_dims(const config::PretrainedConfig& c);
// Reports "layer <done>/<total>" to ctx.on_progress when set.
void report_layer(BuildContext& ctx, std::int64_t done, std::int64_t total);
// num_layers post-LN layers "<prefix>.layer.<i>" (scopes "/<prefix>/layer.<i>") with the tensors of `layout`;
// `position_bias` (may be empty) is added to every layer's attention scores.
std::string bert_style_encoder(BuildContext& ctx, const std::string& x, const LayerDims& d, std::int64_t num_layers,
                               const std::string& prefix = "encoder", const LayerLayout& layout = bert_layer_layout(),
                               const std::string& position_bias = "");

// --- heads ---

std::vector<HeadOutput> qa_head(BuildContext& ctx, const std::string& hidden, std::int64_t H);
// Decoder of a masked-LM head: x [.., dim] -> logits [.., vocab]. Uses `decoder_weight` when the checkpoint has
// it, else the word embeddings (tied, as transformers ties them); bias from the first name present.
std::string mlm_decoder(BuildContext& ctx, const std::string& scope, const std::string& x,
                        const config::PretrainedConfig& c, std::int64_t dim, const std::string& decoder_weight,
                        const std::vector<std::string>& bias_names,
                        const std::string& word_embeddings = "embeddings.word_embeddings.weight");

// First token -> dense (hidden -> hidden) -> activation -> output Linear: BERT's pooler + classifier, RoBERTa's and
// ELECTRA's classification heads, DistilBERT's pre_classifier. Dense and output scopes follow their tensor names.
struct ClassifierHeadLayout {
  std::string scope{};               // scope of the first-token slice ("/pooler")
  std::string dense{};               // the dense layer's tensors ("pooler.dense")
  bool dense_in_base_model = false;  // BERT's pooler is part of the base model ("bert.pooler.dense")
  std::string activation_scope{};    // "/pooler/activation"
  std::string activation{};          // transformers' ACT2FN name ("tanh")
  std::string output = "classifier";
};
std::string classifier_head(BuildContext& ctx, const std::string& hidden, std::int64_t H, std::int64_t outputs,
                            const ClassifierHeadLayout& layout);

// Masked-LM head: dense (hidden -> dim), activation, LayerNorm, decoder (see mlm_decoder).
struct MaskedLmHeadLayout {
  std::string dense{};             // "cls.predictions.transform.dense"
  std::string activation_scope{};  // "/cls/predictions/transform/transform_act_fn"
  std::string activation{};        // transformers' ACT2FN name
  std::string layer_norm{};        // "cls.predictions.transform.LayerNorm"
  std::int64_t dim = 0;            // width of the decoder's input (embedding_size for ALBERT/ELECTRA)
  float eps = 1e-12f;
  std::string decoder_weight{};  // "cls.predictions.decoder.weight"; its module's scope names the decoder nodes
  std::vector<std::string> bias_names{};
};
std::string masked_lm_head(BuildContext& ctx, const std::string& hidden, std::int64_t H,
                           const MaskedLmHeadLayout& layout);

// The heads of an encoder by task: text-classification (classification, num_labels outputs), multiple-choice
// (multiple_choice, or classification when absent, one score per choice), token-classification ("classifier"),
// question-answering (qa_outputs), fill-mask (masked_lm). Other tasks: throw_unsupported_task.
struct EncoderHeads {
  ClassifierHeadLayout classification;
  std::optional<ClassifierHeadLayout> multiple_choice;
  MaskedLmHeadLayout masked_lm;
};
std::vector<HeadOutput> encoder_head(BuildContext& ctx, const Architecture& arch, const std::string& task,
                                     const std::string& hidden, std::int64_t H, const EncoderHeads& heads);
// RoBERTa's heads (also MPNet's): classification head (dense + tanh + out_proj on <s>), pooler + classifier for
// multiple-choice, token classifier, qa_outputs, lm_head (dense, erf GELU, LayerNorm, tied decoder).
std::vector<HeadOutput> roberta_style_head(BuildContext& ctx, const Architecture& arch, const std::string& task,
                                           const std::string& hidden);
[[noreturn]] void throw_unsupported_task(const Architecture& a, const std::string& task);

}  // namespace ortformers::exporters

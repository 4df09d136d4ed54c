#pragma once
// Pieces shared by the BERT-family architecture files.
#include <string>
#include <vector>

#include "export/architectures/architecture.hpp"

namespace ortformers::exporters {

// BERT-layout embeddings (word + position + token type, LayerNorm) at `dim` (embedding_size for ALBERT/ELECTRA).
// `padding_positions`: RoBERTa positions from padding_idx and the cumulative sum of non-pad tokens.
std::string bert_style_embeddings(BuildContext& ctx, const EncoderInputs& in, std::int64_t dim, bool padding_positions,
                                  const std::string& prefix = "embeddings");
LayerDims bert_layer_dims(const config::PretrainedConfig& c);
LayerNames bert_layer_names(const std::string& layer_prefix);
// num_layers BERT-layout layers "encoder.layer.<i>".
std::string bert_style_encoder(BuildContext& ctx, const std::string& x, const LayerDims& d, std::int64_t num_layers,
                               const std::string& prefix = "encoder");
std::vector<HeadOutput> qa_head(BuildContext& ctx, const std::string& hidden, std::int64_t H);
// Decoder of a masked-LM head: x [.., dim] -> logits [.., vocab]. Uses `decoder_weight` when the checkpoint has
// it, else the word embeddings (tied, as transformers ties them); bias from the first name present.
std::string mlm_decoder(BuildContext& ctx, const std::string& scope, const std::string& x,
                        const config::PretrainedConfig& c, std::int64_t dim, const std::string& decoder_weight,
                        const std::vector<std::string>& bias_names,
                        const std::string& word_embeddings = "embeddings.word_embeddings.weight");
// RoBERTa's heads (also MPNet's): classification head (dense + tanh + out_proj on <s>), pooler + classifier for
// multiple-choice, token classifier, qa_outputs, lm_head (dense, erf GELU, LayerNorm, tied decoder).
std::vector<HeadOutput> roberta_style_head(BuildContext& ctx, const Architecture& arch, const std::string& task,
                                           const std::string& hidden);
[[noreturn]] void throw_unsupported_task(const Architecture& a, const std::string& task);

}  // namespace ortformers::exporters

#pragma once
// Tokenizers of transformers' slow (pure-Python) classes whose behaviour the fast converters' pipelines do not
// reproduce, built from the legacy files of a model folder:
// - XLMRobertaTokenizer and DebertaV2Tokenizer on a SentencePiece .model: SentencePiece's own whitespace handling
//   (leading / trailing spaces dropped, runs collapsed, every chunk between special tokens encoded on its own with
//   the dummy "▁" prefix), XLM-R's fairseq id layout, DeBERTa-v2's [CLS] A [SEP] B [SEP] with type ids and its
//   special tokens that are not SentencePiece pieces (added_tokens.json, or appended after the pieces);
// - MPNetTokenizer's pair template <s> A </s></s> B </s>;
// - added_tokens.json for every legacy folder.
#include <filesystem>
#include <string>

#include "ortformers/core/json.hpp"
#include "ortformers/tokenizers/tokenizer.hpp"

namespace ortformers::tokenizers {

// Whether a tokenizer class (with or without the "Fast" suffix) is built by tokenizer_from_slow_sentencepiece.
bool is_slow_sentencepiece_class(const std::string& tokenizer_class);

// The backend and the special_tokens_map the transformers-level tokenizer should see: an unknown token that is not a
// piece (DeBERTa-v3's "[UNK]" on a model whose unknown piece is "<unk>") is the unknown piece, since the slow
// tokenizer maps it to that id (unk_token_id 0) and convert_ids_to_tokens shows the piece.
struct SlowSentencePiece {
  Tokenizer tokenizer;
  Json special_tokens_map;
};
// `added_tokens` is the content of added_tokens.json (token -> id; null when the folder has none).
SlowSentencePiece tokenizer_from_slow_sentencepiece(const std::filesystem::path& model_file,
                                                    const Json& tokenizer_config, const Json& special_tokens_map,
                                                    const std::string& tokenizer_class, const Json& added_tokens);

// added_tokens.json of a folder (token -> id), null when absent; FileFormatError naming the file when malformed.
Json read_added_tokens(const std::filesystem::path& dir);
// Adds the tokens of added_tokens.json with their ids; those named in the special tokens are special.
void add_added_tokens(Tokenizer& t, const Json& added_tokens, const Json& tokenizer_config,
                      const Json& special_tokens_map);

// WhisperTokenizer's build_inputs_with_special_tokens (transformers 4.31): prefix_tokens <|startoftranscript|>
// [<|language|>] [<|transcribe|> / <|translate|>] [<|notimestamps|> unless predict_timestamps] + A (+ B) +
// <|endoftext|>, with language / task / predict_timestamps from tokenizer_config.json. Call after the added tokens.
void set_whisper_post_processor(Tokenizer& t, const Json& tokenizer_config, const Json& special_tokens_map);

// MPNetTokenizer's build_inputs_with_special_tokens: <s> A </s> and <s> A </s></s> B </s> (type ids 0).
void set_mpnet_post_processor(Tokenizer& t, const Json& tokenizer_config, const Json& special_tokens_map);

}  // namespace ortformers::tokenizers

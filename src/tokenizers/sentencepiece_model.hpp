#pragma once
// The parts of a SentencePiece ModelProto (.model file) that the tokenizer loaders use: the pieces with their scores
// and types, the model type, byte_fallback, and the normalizer spec (precompiled charsmap, whitespace handling).
#include <memory>
#include <string>
#include <vector>

#include "ortformers/tokenizers/models.hpp"

namespace ortformers::tokenizers {

struct SpmModel {
  // sentencepiece_model.proto ModelProto.SentencePiece.Type
  enum PieceType { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };
  struct Piece {
    std::string piece;
    float score = 0;
    int type = kNormal;
  };
  std::vector<Piece> pieces;
  int model_type = 1;  // 1 = Unigram, 2 = BPE, 3 = Word, 4 = Char
  bool byte_fallback = false;
  std::string charsmap;  // NormalizerSpec.precompiled_charsmap
  bool add_dummy_prefix = true;
  bool remove_extra_whitespaces = true;
  bool escape_whitespaces = true;
  std::string unk_surface = " \xE2\x81\x87 ";  // TrainerSpec.unk_surface, " ⁇ " by default
};

// Parses the bytes of a .model file; `file` names it in errors (FileFormatError).
SpmModel parse_spm(const std::string& data, const std::string& file);

// SentencePiece's BPE model (model_type 2, e.g. Llama's tokenizer.model; src/tokenizers/models/sentencepiece_bpe.cpp):
// merges adjacent pieces by piece score on the whole normalized text ("▁" for spaces); characters that are no piece
// become <0xNN> byte pieces with byte_fallback. Token ids are piece indices.
std::unique_ptr<Model> make_sentencepiece_bpe(std::vector<SpmModel::Piece> pieces, bool byte_fallback);

}  // namespace ortformers::tokenizers

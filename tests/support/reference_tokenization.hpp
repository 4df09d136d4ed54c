#pragma once
// The `tokenization` entries of a reference JSON (../shared/fixtures/reference/<name>.json, made by the slow
// transformers 4.31 tokenizers with tokenizer(text[, text_pair], truncation=True, max_length=tokenizer_max_length))
// run through a PreTrainedTokenizer: the one loop of tests/tokenizers and tests/families_text. Header-only: only the
// test binaries that include it link the tokenizers stage.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ortformers/core/json.hpp"
#include "ortformers/tokenizers/pretrained_tokenizer.hpp"

namespace ortformers::testing {

struct ReferenceTokenizationResult {
  std::string text;  // the entry's text (for messages)
  std::string diff;  // "" when identical; else which fields differ, with expected and actual values
};

// Every `tokenization` entry of `ref` through `tok` as the reference was made, compared field by field: input_ids,
// attention_mask, token_type_ids (when recorded), the tokens (convert_ids_to_tokens) and, where recorded, decode()
// with and without special tokens. Also expects the model's
// tensors to have token_type_ids exactly when the reference records them. One result per entry, in order.
inline std::vector<ReferenceTokenizationResult> compare_reference_tokenizations(
    const Json& ref, const tokenizers::PreTrainedTokenizer& tok) {
  tokenizers::TokenizeOptions o;
  // Generative fixtures were made with tokenizer(text): no truncation, no tokenizer_max_length.
  o.truncation = ref.contains("tokenizer_max_length");
  if (o.truncation) o.max_length = ref.at("tokenizer_max_length").get<std::size_t>();
  const std::string name = ref.value("name", std::string("?"));
  std::vector<ReferenceTokenizationResult> out;
  // (image-to-text and speech fixtures have no `tokenization` entries: their tokenizer is checked by decoding)
  const Json entries = ref.contains("tokenization") ? ref.at("tokenization") : Json::array();
  for (const auto& c : entries) {
    ReferenceTokenizationResult r;
    r.text = c.at("text").get<std::string>();
    const tokenizers::BatchEncoding b = c.contains("text_pair") && !c.at("text_pair").is_null()
                                            ? tok({r.text}, {c.at("text_pair").get<std::string>()}, o)
                                            : tok({r.text}, o);
    const tokenizers::Encoding& e = b.encodings.at(0);
    const Json tokens = tok.convert_ids_to_tokens(e.ids);
    if (Json(e.ids) != c.at("input_ids"))
      r.diff += " input_ids: expected " + c.at("input_ids").dump() + " got " + Json(e.ids).dump();
    if (Json(e.attention_mask) != c.at("attention_mask"))
      r.diff += " attention_mask: expected " + c.at("attention_mask").dump() + " got " + Json(e.attention_mask).dump();
    if (c.contains("token_type_ids") && Json(e.type_ids) != c.at("token_type_ids"))
      r.diff += " token_type_ids: expected " + c.at("token_type_ids").dump() + " got " + Json(e.type_ids).dump();
    if (tokens != c.at("tokens")) r.diff += " tokens: expected " + c.at("tokens").dump() + " got " + tokens.dump();
    if (c.contains("decoded") && tok.decode(e.ids) != c.at("decoded").get<std::string>())
      r.diff += " decoded: expected " + c.at("decoded").dump() + " got " + Json(tok.decode(e.ids)).dump();
    if (c.contains("decoded_skip_special") &&
        tok.decode(e.ids, true) != c.at("decoded_skip_special").get<std::string>())
      r.diff += " decoded_skip_special: expected " + c.at("decoded_skip_special").dump() + " got " +
                Json(tok.decode(e.ids, true)).dump();
    EXPECT_EQ(b.to_tensors().count("token_type_ids") > 0, c.contains("token_type_ids"))
        << name << " tokenization[" << out.size() << "]: token_type_ids tensor present vs recorded";
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace ortformers::testing

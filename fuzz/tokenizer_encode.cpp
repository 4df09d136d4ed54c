// libFuzzer: arbitrary bytes as input text for a set of tokenizers built from in-memory tokenizer.json documents that
// cover every component family. Invalid UTF-8 must be an ortformers::InvalidArgument, valid text must encode; the
// first byte of the input picks options (pair, truncation with stride, padding).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ortformers/core/error.hpp"
#include "ortformers/tokenizers/tokenizer.hpp"

namespace {

using ortformers::tokenizers::Tokenizer;

const char* kWordPiece =
    R"({"normalizer":{"type":"BertNormalizer","lowercase":true,"strip_accents":null,"clean_text":true,
"handle_chinese_chars":true},"pre_tokenizer":{"type":"BertPreTokenizer"},"model":{"type":"WordPiece","unk_token":"[UNK]",
"continuing_subword_prefix":"##","max_input_chars_per_word":100,"vocab":{"[PAD]":0,"[UNK]":1,"[CLS]":2,"[SEP]":3,"a":4,
"b":5,"##a":6,"##b":7,"ab":8,"c":9,"##c":10}},"post_processor":{"type":"TemplateProcessing","single":"[CLS]:0 $A:0 [SEP]:0",
"pair":"[CLS]:0 $A:0 [SEP]:0 $B:1 [SEP]:1","special_tokens":{"[CLS]":{"id":"[CLS]","ids":[2],"tokens":["[CLS]"]},
"[SEP]":{"id":"[SEP]","ids":[3],"tokens":["[SEP]"]}}},"decoder":{"type":"WordPiece","prefix":"##","cleanup":true},
"added_tokens":[{"id":2,"content":"[CLS]","special":true,"normalized":false},{"id":3,"content":"[SEP]","special":true,
"normalized":false},{"id":11,"content":"xy","special":false,"normalized":true,"lstrip":true,"rstrip":true,"single_word":true}]})";

const char* kByteLevel = R"({"normalizer":{"type":"Sequence","normalizers":[{"type":"NFKC"},{"type":"Replace",
"pattern":{"Regex":"\\s+"},"content":" "}]},"pre_tokenizer":{"type":"Sequence","pretokenizers":[{"type":"Split",
"pattern":{"Regex":"\\p{N}{1,3}"},"behavior":"Isolated","invert":false},{"type":"ByteLevel","add_prefix_space":true,
"trim_offsets":true,"use_regex":true}]},"model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2,"\u0120":3,"\u0120a":4},
"merges":["a b",["\u0120","a"]],"byte_fallback":false,"fuse_unk":true,"unk_token":null},"post_processor":{"type":"ByteLevel",
"add_prefix_space":true,"trim_offsets":true},"decoder":{"type":"ByteLevel"}})";

const char* kUnigram = R"({"normalizer":{"type":"Sequence","normalizers":[{"type":"NFD"},{"type":"StripAccents"},
{"type":"Lowercase"},{"type":"Strip","strip_left":true,"strip_right":true},{"type":"Prepend","prepend":"\u2581"}]},
"pre_tokenizer":{"type":"Sequence","pretokenizers":[{"type":"WhitespaceSplit"},{"type":"Metaspace","replacement":"\u2581",
"prepend_scheme":"first","split":true},{"type":"Digits","individual_digits":true},{"type":"Punctuation","behavior":"Contiguous"}]},
"model":{"type":"Unigram","unk_id":0,"byte_fallback":true,"vocab":[["<unk>",0],["\u2581",-1],["a",-2],["b",-2],["ab",-2.5],
["<0x41>",-5],["<0xC3>",-5]]},"decoder":{"type":"Sequence","decoders":[{"type":"ByteFallback"},{"type":"Metaspace",
"replacement":"\u2581","prepend_scheme":"always","split":true},{"type":"Fuse"},{"type":"Strip","content":" ","start":1,"stop":0}]}})";

const std::vector<std::unique_ptr<Tokenizer>>& tokenizers() {
  static const auto v = [] {
    std::vector<std::unique_ptr<Tokenizer>> t;
    for (const char* j : {kWordPiece, kByteLevel, kUnigram})
      t.push_back(std::make_unique<Tokenizer>(Tokenizer::from_json(std::string(j))));
    return t;
  }();
  return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t flags = data[0];
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  for (const auto& tok : tokenizers()) {
    try {
      ortformers::tokenizers::EncodeOptions o;
      o.add_special_tokens = flags & 1;
      o.num_threads = 1;
      if (flags & 2)
        o.truncation = ortformers::tokenizers::TruncationParams{
            static_cast<std::size_t>(3 + (flags >> 4)), ortformers::tokenizers::TruncationStrategy::LongestFirst,
            static_cast<std::size_t>((flags >> 2) & 3), ortformers::tokenizers::TruncationDirection::Right};
      if (flags & 64) o.padding = ortformers::tokenizers::PaddingParams{};
      std::vector<ortformers::tokenizers::EncodeInput> in;
      if (flags & 128)
        in.emplace_back(text, text.substr(0, text.size() / 2));
      else
        in.emplace_back(text);
      for (const auto& e : tok->encode_batch(in, o)) (void)tok->decode(e.ids, flags & 1);
    } catch (const ortformers::Error&) {
    }
  }
  return 0;
}

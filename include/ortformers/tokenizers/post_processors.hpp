#pragma once
// Post-processors (tokenizers.processors): TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel, Sequence.
#include <memory>
#include <vector>

#include "ortformers/core/json.hpp"
#include "ortformers/tokenizers/encoding.hpp"

namespace ortformers::tokenizers {

class PostProcessor {
 public:
  virtual ~PostProcessor() = default;
  // Number of special tokens added for a single sequence / a pair.
  virtual std::size_t added_tokens(bool is_pair) const = 0;
  // Processes the encodings of one input (one or two sequences) and returns them, not yet merged.
  virtual std::vector<Encoding> process_encodings(std::vector<Encoding> encodings, bool add_special_tokens) const = 0;
  // Full processing: sets sequence ids, processes, merges.
  Encoding process(Encoding encoding, std::optional<Encoding> pair, bool add_special_tokens) const;
};

std::unique_ptr<PostProcessor> post_processor_from_json(const Json& j);
// Template strings as in tokenizers.processors.TemplateProcessing ("[CLS]:0 $A:0 [SEP]:0"), with the ids of the
// special tokens used.
std::unique_ptr<PostProcessor> make_template_processing(
    const std::string& single, const std::string& pair,
    const std::vector<std::pair<std::string, std::int64_t>>& special_tokens);
std::unique_ptr<PostProcessor> make_roberta_processing(std::pair<std::string, std::int64_t> sep,
                                                       std::pair<std::string, std::int64_t> cls, bool trim_offsets,
                                                       bool add_prefix_space);
std::unique_ptr<PostProcessor> make_byte_level_processing(bool add_prefix_space, bool trim_offsets);

}  // namespace ortformers::tokenizers

// PreTrainedTokenizer (AutoTokenizer.from_pretrained) and its BatchEncoding. Encoding runs with the GIL released;
// columns come back as int64 numpy arrays [batch, seq] (rows of equal length) or as Python lists.
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include "bindings.hpp"
#include "convert.hpp"
#include "ortformers/tokenizers/pretrained_tokenizer.hpp"

namespace ortformers::python {

using namespace ortformers::tokenizers;

namespace {

const std::vector<std::int64_t>& column(const Encoding& e, const std::string& name) {
  if (name == "input_ids") return e.ids;
  if (name == "token_type_ids") return e.type_ids;
  if (name == "attention_mask") return e.attention_mask;
  if (name == "special_tokens_mask") return e.special_tokens_mask;
  throw InvalidArgument("BatchEncoding has no column '" + name + "'");
}

std::size_t common_length(const BatchEncoding& b, const std::string& what) {
  const std::size_t n = b.encodings.empty() ? 0 : b.encodings.front().size();
  for (const auto& e : b.encodings) {
    if (e.size() != n) {
      throw InvalidArgument("Unable to create tensor for '" + what +
                            "': the sequences have different lengths; use padding=True or padding='max_length' "
                            "(and truncation=True) to have batched tensors with the same length");
    }
  }
  return n;
}

// A column as int64 [batch, seq] (as_array) or a list of lists.
py::object column_to_python(const BatchEncoding& b, const std::string& name, bool as_array) {
  if (as_array) {
    const std::size_t seq = common_length(b, name);
    py::array_t<std::int64_t> out({b.size(), seq});
    auto* dst = out.mutable_data();
    for (const auto& e : b.encodings) dst = std::copy(column(e, name).begin(), column(e, name).end(), dst);
    return out;
  }
  py::list out(b.size());
  for (std::size_t i = 0; i < b.size(); ++i) out[i] = py::cast(column(b.encodings[i], name));
  return out;
}

// offset_mapping: (start, end) character offsets per token, as int64 [batch, seq, 2] or lists of tuples.
py::object offsets_to_python(const BatchEncoding& b, bool as_array) {
  if (as_array) {
    const std::size_t seq = common_length(b, "offset_mapping");
    py::array_t<std::int64_t> out({b.size(), seq, std::size_t{2}});
    auto* dst = out.mutable_data();
    for (const auto& e : b.encodings) {
      for (const auto& [s, t] : e.offsets) *dst++ = static_cast<std::int64_t>(s), *dst++ = static_cast<std::int64_t>(t);
    }
    return out;
  }
  py::list out(b.size());
  for (std::size_t i = 0; i < b.size(); ++i) out[i] = py::cast(b.encodings[i].offsets);
  return out;
}

const Encoding& row(const BatchEncoding& b, std::size_t i) {
  if (i >= b.size())
    throw InvalidArgument("batch_index " + std::to_string(i) + " is out of range for a batch of " +
                          std::to_string(b.size()));
  return b.encodings[i];
}

}  // namespace

void bind_tokenizers(py::module_& m) {
  py::enum_<Padding>(m, "Padding")
      .value("NONE", Padding::None)
      .value("LONGEST", Padding::Longest)
      .value("MAX_LENGTH", Padding::MaxLength);
  py::enum_<TruncationStrategy>(m, "TruncationStrategy")
      .value("LONGEST_FIRST", TruncationStrategy::LongestFirst)
      .value("ONLY_FIRST", TruncationStrategy::OnlyFirst)
      .value("ONLY_SECOND", TruncationStrategy::OnlySecond);
  py::class_<TokenizeOptions>(m, "TokenizeOptions")
      .def(py::init<>())
      .def_readwrite("add_special_tokens", &TokenizeOptions::add_special_tokens)
      .def_readwrite("padding", &TokenizeOptions::padding)
      .def_readwrite("truncation", &TokenizeOptions::truncation)
      .def_readwrite("truncation_strategy", &TokenizeOptions::truncation_strategy)
      .def_readwrite("max_length", &TokenizeOptions::max_length)
      .def_readwrite("stride", &TokenizeOptions::stride)
      .def_readwrite("pad_to_multiple_of", &TokenizeOptions::pad_to_multiple_of)
      .def_readwrite("return_overflowing_tokens", &TokenizeOptions::return_overflowing_tokens);

  py::class_<BatchEncoding>(m, "Encodings")
      .def("__len__", &BatchEncoding::size)
      .def_readonly("model_input_names", &BatchEncoding::model_input_names)
      .def_readonly("overflow_to_sample_mapping", &BatchEncoding::overflow_to_sample_mapping)
      .def("column", &column_to_python, py::arg("name"), py::arg("as_array"))
      .def("offsets", &offsets_to_python, py::arg("as_array"))
      .def("tokens", [](const BatchEncoding& b, std::size_t i) { return row(b, i).tokens; })
      .def("word_ids", [](const BatchEncoding& b, std::size_t i) { return row(b, i).word_ids; })
      .def("sequence_ids", [](const BatchEncoding& b, std::size_t i) { return row(b, i).sequence_ids; })
      .def("lengths", [](const BatchEncoding& b) {
        std::vector<std::size_t> n;
        for (const auto& e : b.encodings) n.push_back(e.size());
        return n;
      });

  py::class_<PreTrainedTokenizer>(m, "PreTrainedTokenizer")
      .def_static(
          "from_pretrained",
          [](const std::string& path_or_id) {
            py::gil_scoped_release release;
            return AutoTokenizer::from_pretrained(path_or_id);
          },
          py::arg("pretrained_model_name_or_path"))
      .def(
          "encode_batch",
          [](const PreTrainedTokenizer& self, const std::vector<std::string>& texts,
             const std::optional<std::vector<std::string>>& pairs, const TokenizeOptions& options) {
            py::gil_scoped_release release;
            return pairs ? self(texts, *pairs, options) : self(texts, options);
          },
          py::arg("texts"), py::arg("text_pairs"), py::arg("options"))
      .def(
          "decode",
          [](const PreTrainedTokenizer& self, const std::vector<std::int64_t>& ids, bool skip_special_tokens,
             std::optional<bool> clean_up) { return self.decode(ids, skip_special_tokens, clean_up); },
          py::arg("ids"), py::arg("skip_special_tokens") = false, py::arg("clean_up_tokenization_spaces") = py::none())
      .def("convert_ids_to_tokens",
           [](const PreTrainedTokenizer& self, const std::vector<std::int64_t>& ids) {
             return self.convert_ids_to_tokens(ids);
           })
      .def("convert_token_to_id", &PreTrainedTokenizer::convert_tokens_to_ids)
      .def("special_token", &PreTrainedTokenizer::special_token)
      .def("special_token_id", &PreTrainedTokenizer::special_token_id)
      .def_property_readonly("all_special_ids", &PreTrainedTokenizer::all_special_ids)
      .def_property_readonly("model_max_length", &PreTrainedTokenizer::model_max_length)
      .def_property_readonly("model_input_names", &PreTrainedTokenizer::model_input_names)
      .def_property_readonly("tokenizer_class", &PreTrainedTokenizer::tokenizer_class)
      .def_property_readonly("do_lower_case", &PreTrainedTokenizer::do_lower_case)
      .def_property_readonly(
          "padding_side",
          [](const PreTrainedTokenizer& t) { return t.padding_side() == PaddingDirection::Left ? "left" : "right"; })
      .def_property_readonly("truncation_side",
                             [](const PreTrainedTokenizer& t) {
                               return t.truncation_side() == TruncationDirection::Left ? "left" : "right";
                             })
      .def_property_readonly("vocab_size",
                             [](const PreTrainedTokenizer& t) { return t.backend().get_vocab_size(false); })
      .def("__len__", [](const PreTrainedTokenizer& t) { return t.backend().get_vocab_size(true); })
      .def("num_special_tokens_to_add", &PreTrainedTokenizer::num_special_tokens_to_add, py::arg("pair") = false);
}

}  // namespace ortformers::python

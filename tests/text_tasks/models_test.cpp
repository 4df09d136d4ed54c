// ORTModelFor{SequenceClassification,TokenClassification,QuestionAnswering,MaskedLM,MultipleChoice} against the
// PyTorch outputs recorded in ../shared/fixtures/reference (fed the recorded input ids, tokenizer-independent),
// and a padded batch against one-at-a-time inputs for every class.
#include <gtest/gtest.h>

#include <cmath>

#include "ortformers/models/masked_lm.hpp"
#include "ortformers/models/multiple_choice.hpp"
#include "ortformers/models/question_answering.hpp"
#include "ortformers/models/sequence_classification.hpp"
#include "ortformers/models/token_classification.hpp"
#include "support/fixtures.hpp"

using namespace ortformers;
using namespace ortformers::models;
namespace fs = std::filesystem;

namespace {

TensorMap inputs_from_tokenization(const Json& tok, const std::vector<std::string>& names) {
  return ortformers::testing::ref_inputs(tok, names);
}

TensorMap batch_inputs(const Json& inputs, const std::vector<std::string>& names) {
  return ortformers::testing::ref_batch_inputs(inputs, names);
}

// Max |a - ref| where ref may keep only some vocabulary columns (masked-LM logits: "columns").
double diff_to_ref(const Tensor& actual, const Json& ref) {
  if (!ref.contains("columns")) return ortformers::testing::max_abs_diff(actual, ortformers::testing::ref_tensor(ref));
  const auto shape = ref.at("shape").get<Shape>();
  EXPECT_EQ(shape_to_string(actual.shape()), shape_to_string(shape));
  const auto cols = ref.at("columns").get<std::vector<std::int64_t>>();
  const auto data = ref.at("data").get<std::vector<float>>();
  const auto values = actual.to_float_vector();
  const std::int64_t vocab = shape.back();
  const std::size_t rows = values.size() / static_cast<std::size_t>(vocab);
  EXPECT_EQ(rows * cols.size(), data.size());
  double m = 0;
  for (std::size_t r = 0; r < rows && r * cols.size() < data.size(); ++r) {
    for (std::size_t c = 0; c < cols.size(); ++c) {
      m = std::max(m, std::fabs(static_cast<double>(values[r * vocab + cols[c]]) - data[r * cols.size() + c]));
    }
  }
  if (ref.contains("topk")) {  // the 10 best logits of every position, checked exactly by id
    const auto& idx = ref.at("topk").at("indices");
    const auto& val = ref.at("topk").at("values");
    std::size_t r = 0;
    for (std::size_t b = 0; b < idx.size(); ++b) {
      for (std::size_t s = 0; s < idx[b].size(); ++s, ++r) {
        for (std::size_t k = 0; k < idx[b][s].size(); ++k) {
          const auto id = idx[b][s][k].get<std::int64_t>();
          m = std::max(m, std::fabs(static_cast<double>(values[r * vocab + id]) - val[b][s][k].get<double>()));
        }
      }
    }
  }
  return m;
}

Json load_ref(const fs::path& fixtures, const std::string& name) {
  return read_json_file(fixtures / "reference" / (name + ".json"));
}

// Rows of a batched output equal the single-input outputs on the unpadded positions.
void expect_rows_equal(const Tensor& batched, std::size_t b, std::int64_t len, const Tensor& single, bool per_token,
                       const std::string& what) {
  const auto bv = batched.to_float_vector();
  const auto sv = single.to_float_vector();
  if (!per_token) {
    const std::int64_t n = batched.dim(1);
    ASSERT_EQ(static_cast<std::int64_t>(sv.size()), n);
    for (std::int64_t i = 0; i < n; ++i) EXPECT_NEAR(bv[b * n + i], sv[i], 1e-5) << what << " row " << b;
    return;
  }
  const std::int64_t seq = batched.dim(1);
  const std::int64_t inner = batched.rank() == 3 ? batched.dim(2) : 1;
  ASSERT_EQ(static_cast<std::int64_t>(sv.size()), len * inner);
  double m = 0;
  for (std::int64_t t = 0; t < len; ++t)
    for (std::int64_t k = 0; k < inner; ++k)
      m = std::max(m, std::fabs(static_cast<double>(bv[(b * seq + t) * inner + k]) - sv[t * inner + k]));
  EXPECT_LE(m, 1e-5) << what << " row " << b;
}

template <class Model, class Fn>
void check_model(const std::string& ref_name, const std::vector<std::string>& outputs, bool per_token, Fn get) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const Json ref = load_ref(fixtures, ref_name);
  auto model = Model::from_pretrained((fixtures / "onnx" / ref_name).string());
  const std::vector<std::string> names = model.input_names();
  int checked = 0;
  for (const auto& mo : ref.at("model_outputs")) {
    const Json& tok = ref.at("tokenization").at(mo.at("tokenization_index").get<std::size_t>());
    auto out = model.forward(inputs_from_tokenization(tok, names));
    for (const auto& name : outputs) {
      EXPECT_LE(diff_to_ref(get(out, name), mo.at("outputs").at(name)), 1e-4)
          << ref_name << " " << name << " text " << tok.at("text");
    }
    ++checked;
  }
  EXPECT_GE(checked, 10);
  const Json& batch = ref.at("batch");
  const TensorMap binputs = batch_inputs(batch.at("inputs"), names);
  auto bout = model.forward(binputs);
  for (const auto& name : outputs) {
    EXPECT_LE(diff_to_ref(get(bout, name), batch.at("outputs").at(name)), 1e-4) << ref_name << " batch " << name;
  }
  // Batch == one at a time (1e-5).
  const auto& masks = batch.at("inputs").at("attention_mask");
  for (std::size_t b = 0; b < masks.size(); ++b) {
    std::int64_t len = 0;
    for (const auto& v : masks[b]) len += v.get<std::int64_t>();
    TensorMap single;
    for (const std::string& name : names) {
      if (!batch.at("inputs").contains(name)) continue;
      auto row = batch.at("inputs").at(name)[b].get<std::vector<std::int64_t>>();
      row.resize(static_cast<std::size_t>(len));
      single.emplace(name, Tensor::from_vector(std::move(row), {1, len}));
    }
    auto sout = model.forward(single);
    for (const auto& name : outputs) expect_rows_equal(get(bout, name), b, len, get(sout, name), per_token, name);
  }
}

}  // namespace

TEST(TextTaskModels, SequenceClassificationBert) {
  check_model<ORTModelForSequenceClassification>("bert-tiny-seqcls", {"logits"}, false,
                                                 [](auto& o, const std::string&) { return o.logits; });
}
TEST(TextTaskModels, SequenceClassificationRoberta) {
  check_model<ORTModelForSequenceClassification>("roberta-tiny-seqcls", {"logits"}, false,
                                                 [](auto& o, const std::string&) { return o.logits; });
}
TEST(TextTaskModels, SequenceClassificationNli) {
  check_model<ORTModelForSequenceClassification>("bert-tiny-nli", {"logits"}, false,
                                                 [](auto& o, const std::string&) { return o.logits; });
}
TEST(TextTaskModels, SequenceClassificationDebertaV3) {
  check_model<ORTModelForSequenceClassification>("deberta-v3-tiny-nli", {"logits"}, false,
                                                 [](auto& o, const std::string&) { return o.logits; });
}
TEST(TextTaskModels, TokenClassificationBert) {
  check_model<ORTModelForTokenClassification>("bert-tiny-ner", {"logits"}, true,
                                              [](auto& o, const std::string&) { return o.logits; });
}
TEST(TextTaskModels, TokenClassificationElectra) {
  check_model<ORTModelForTokenClassification>("electra-tiny-ner", {"logits"}, true,
                                              [](auto& o, const std::string&) { return o.logits; });
}
TEST(TextTaskModels, QuestionAnsweringBert) {
  check_model<ORTModelForQuestionAnswering>(
      "bert-tiny-qa", {"start_logits", "end_logits"}, true,
      [](auto& o, const std::string& n) { return n == "start_logits" ? o.start_logits : o.end_logits; });
}
TEST(TextTaskModels, QuestionAnsweringDistilbert) {
  check_model<ORTModelForQuestionAnswering>(
      "distilbert-tiny-qa", {"start_logits", "end_logits"}, true,
      [](auto& o, const std::string& n) { return n == "start_logits" ? o.start_logits : o.end_logits; });
}
TEST(TextTaskModels, MaskedLM) {
  check_model<ORTModelForMaskedLM>("bert-tiny-mlm", {"logits"}, true,
                                   [](auto& o, const std::string&) { return o.logits; });
}

TEST(TextTaskModels, QuestionAnsweringWindowsMatchRecordedFeatures) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  for (const std::string name : {"bert-tiny-qa", "distilbert-tiny-qa"}) {
    const Json ref = load_ref(fixtures, name);
    auto model = ORTModelForQuestionAnswering::from_pretrained((fixtures / "onnx" / name).string());
    int checked = 0;
    for (const auto& feat : ref.at("qa_features")) {
      for (const auto& span : feat.at("spans")) {
        auto out = model.forward(batch_inputs(span.at("inputs"), model.input_names()));
        EXPECT_LE(diff_to_ref(out.start_logits, span.at("outputs").at("start_logits")), 1e-4) << name;
        EXPECT_LE(diff_to_ref(out.end_logits, span.at("outputs").at("end_logits")), 1e-4) << name;
        ++checked;
      }
    }
    EXPECT_EQ(checked, 14) << name;
  }
}

TEST(TextTaskModels, MultipleChoiceMatchesPyTorchAndBatchEqualsSingle) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const Json ref = load_ref(fixtures, "bert-tiny-multiple-choice");
  auto model = ORTModelForMultipleChoice::from_pretrained((fixtures / "onnx" / "bert-tiny-multiple-choice").string());
  const auto& examples = ref.at("multiple_choice");
  ASSERT_GE(examples.size(), 2u);
  for (const auto& ex : examples) {
    const auto& ids = ex.at("inputs").at("input_ids")[0];
    const auto n = static_cast<std::int64_t>(ids.size());
    const auto seq = static_cast<std::int64_t>(ids[0].size());
    TensorMap in;
    for (const auto& [name, rows] : ex.at("inputs").items()) {
      std::vector<std::int64_t> flat;
      for (const auto& c : rows[0])
        for (const auto& v : c) flat.push_back(v.get<std::int64_t>());
      in.emplace(name, Tensor::from_vector(std::move(flat), {1, n, seq}));
    }
    auto out = model.forward(in);
    EXPECT_LE(diff_to_ref(out.logits, ex.at("outputs").at("logits")), 1e-4) << ex.at("prompt");
    // One choice at a time, unpadded, gives the same logit as the padded [1, n, seq] batch.
    const auto all = out.logits.to_float_vector();
    for (std::int64_t c = 0; c < n; ++c) {
      std::int64_t len = 0;
      for (const auto& v : ex.at("inputs").at("attention_mask")[0][c]) len += v.get<std::int64_t>();
      TensorMap one;
      for (const auto& [name, rows] : ex.at("inputs").items()) {
        auto row = rows[0][c].get<std::vector<std::int64_t>>();
        row.resize(static_cast<std::size_t>(len));
        one.emplace(name, Tensor::from_vector(std::move(row), {1, 1, len}));
      }
      auto single = model.forward(one).logits.to_float_vector();
      ASSERT_EQ(single.size(), 1u);
      EXPECT_NEAR(single[0], all[c], 1e-5) << ex.at("prompt") << " choice " << c;
    }
  }
}

TEST(TextTaskModels, MissingInputIsAClearError) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  auto model = ORTModelForSequenceClassification::from_pretrained((fixtures / "onnx" / "bert-tiny-seqcls").string());
  TensorMap in;
  in.emplace("attention_mask", Tensor::from_values<std::int64_t>({1, 1}, {1, 2}));
  EXPECT_THROW(model.forward(in), InvalidArgument);
}

// Exact parity with the Rust tokenizers library (0.22.2) on ../shared/fixtures/tokenizers: every field of every case.
#include <gtest/gtest.h>

#include "ortformers/tokenizers/tokenizer.hpp"
#include "support/fixtures.hpp"
#include "tokenizers/tokenizer_test_util.hpp"

using namespace ortformers;
using namespace ortformers::tokenizers;
using ortformers::tokenizers::testing::compare_encoding;
using ortformers::tokenizers::testing::to_json;

namespace {

struct Tally {
  std::size_t total = 0, failed = 0;
  std::vector<std::string> first;
  void add(const std::string& where, const std::string& diff) {
    ++total;
    if (diff.empty()) return;
    ++failed;
    if (first.size() < 8) first.push_back(where + ": " + diff.substr(0, 1500));
  }
};

void run_fixture(const std::string& name) {
  ORTFORMERS_REQUIRE_FIXTURES(fixtures);
  const auto dir = fixtures / "tokenizers" / name;
  const Json ref = read_json_file(dir / "reference.json");
  Tokenizer tok = Tokenizer::from_file(dir / "tokenizer.json");
  Tally t;
  const Json& def = ref["default"];
  for (const auto& c : def["singles"]) {
    for (const char* key : {"with_special", "without_special"}) {
      const bool add = std::string(key) == "with_special";
      const Json& exp = c[key];
      std::string where = c["id"].get<std::string>() + "/" + key;
      try {
        const Encoding e = tok.encode(c["text"].get<std::string>(), add);
        t.add(where, compare_encoding(exp, to_json(e)));
        if (exp.contains("decode")) {
          const std::string d0 = tok.decode(e.ids, false), d1 = tok.decode(e.ids, true);
          std::string diff;
          if (d0 != exp["decode"]["skip_special_tokens_false"].get<std::string>())
            diff += "decode(false): expected " + exp["decode"]["skip_special_tokens_false"].dump() + " got " +
                    Json(d0).dump() + "; ";
          if (d1 != exp["decode"]["skip_special_tokens_true"].get<std::string>())
            diff += "decode(true): expected " + exp["decode"]["skip_special_tokens_true"].dump() + " got " +
                    Json(d1).dump();
          t.add(where + "/decode", diff);
        }
      } catch (const std::exception& e) {
        t.add(where, std::string("exception ") + e.what());
      }
    }
  }
  for (const auto& c : def["pairs"]) {
    for (const char* key : {"with_special", "without_special"}) {
      const bool add = std::string(key) == "with_special";
      std::string where = c["id"].get<std::string>() + "/" + key;
      try {
        const Encoding e = tok.encode_pair(c["a"].get<std::string>(), c["b"].get<std::string>(), add);
        t.add(where, compare_encoding(c[key], to_json(e)));
      } catch (const std::exception& e) {
        t.add(where, std::string("exception ") + e.what());
      }
    }
  }
  if (def.contains("documents"))
    for (const auto& c : def["documents"]) {
      try {
        const Encoding e = tok.encode(c["text"].get<std::string>(), true);
        t.add("document", compare_encoding(c["with_special"], to_json(e)));
      } catch (const std::exception& e) {
        t.add("document", std::string("exception ") + e.what());
      }
    }
  // Truncation cases.
  const std::size_t max_length = ref["truncation"]["max_length"].get<std::size_t>();
  for (const auto& c : ref["truncation"]["cases"]) {
    TruncationParams p;
    p.max_length = max_length;
    p.stride = c["stride"].get<std::size_t>();
    p.strategy = truncation_strategy_from_string(c["strategy"].get<std::string>());
    p.direction = c["direction"].get<std::string>() == "left" ? TruncationDirection::Left : TruncationDirection::Right;
    Tokenizer& tr = tok;
    const auto saved = tr.truncation();
    const auto saved_padding = tr.padding();
    tr.set_truncation(p);
    tr.set_padding(std::nullopt);  // the truncation cases were generated without the file's padding
    const Json& in = c["input"];
    const std::string where = "truncation/" + in["id"].get<std::string>() + "/" + c["strategy"].get<std::string>() +
                              "/" + std::to_string(p.stride) + "/" + c["direction"].get<std::string>();
    const Json& res = c["result"];
    try {
      const Encoding e = in.contains("b") ? tr.encode_pair(in["a"].get<std::string>(), in["b"].get<std::string>(), true)
                                          : tr.encode(in["text"].get<std::string>(), true);
      if (res.contains("error")) {
        t.add(where, "expected error " + res["error"].dump() + " but encoding succeeded");
      } else {
        Json a = to_json(e);
        std::string diff = compare_encoding(res, a, 2);
        t.add(where, diff);
      }
    } catch (const std::exception& e) {
      if (!res.contains("error")) {
        t.add(where, std::string("exception ") + e.what());
      } else {
        const std::string expected = res["error"].get<std::string>();
        const std::string got = e.what();
        const bool panic = res.value("panic", false);
        // Errors: same message; a Rust panic (stride >= max_len) must be an InvalidArgument naming the stride.
        t.add(where, panic ? (got.find("stride") != std::string::npos ? "" : "expected a stride error, got " + got)
                           : (got == expected ? "" : "expected error " + expected + " got " + got));
      }
    }
    tr.set_truncation(saved);
    tr.set_padding(saved_padding);
  }
  // Padding cases.
  for (const auto& c : ref["padding"]["cases"]) {
    const auto saved_t = tok.truncation();
    const auto saved_p = tok.padding();
    const Json& pj = c["padding"];
    PaddingParams pp;
    pp.batch_longest = pj["strategy"].is_string();
    if (!pp.batch_longest) pp.fixed_length = pj["strategy"]["Fixed"].get<std::size_t>();
    pp.direction = pj["direction"].get<std::string>() == "left" ? PaddingDirection::Left : PaddingDirection::Right;
    if (!pj["pad_to_multiple_of"].is_null()) pp.pad_to_multiple_of = pj["pad_to_multiple_of"].get<std::size_t>();
    pp.pad_id = pj["pad_id"].get<std::int64_t>();
    pp.pad_token = pj["pad_token"].get<std::string>();
    pp.pad_type_id = pj["pad_type_id"].get<std::int64_t>();
    tok.set_padding(pp);
    if (c["truncation"].is_null()) {
      tok.set_truncation(std::nullopt);
    } else {
      TruncationParams tp;
      tp.max_length = c["truncation"]["max_length"].get<std::size_t>();
      tp.strategy = truncation_strategy_from_string(c["truncation"].value("strategy", std::string("LongestFirst")));
      tp.stride = c["truncation"].value("stride", std::size_t{0});
      tok.set_truncation(tp);
    }
    const std::string where = "padding/" + c["name"].get<std::string>() + "/" + c["batch"].dump();
    try {
      std::vector<EncodeInput> inputs;
      for (const auto& in : c["inputs"]) {
        if (in.contains("a"))
          inputs.emplace_back(in["a"].get<std::string>(), in["b"].get<std::string>());
        else
          inputs.emplace_back(in["text"].get<std::string>());
      }
      std::vector<Encoding> encs;
      if (c["api"].get<std::string>() == "encodeBatch") {
        encs = tok.encode_batch(inputs, c["add_special_tokens"].get<bool>(), 2);
      } else {
        for (const auto& in : inputs)
          encs.push_back(in.text_pair ? tok.encode_pair(in.text, *in.text_pair, c["add_special_tokens"].get<bool>())
                                      : tok.encode(in.text, c["add_special_tokens"].get<bool>()));
      }
      for (std::size_t i = 0; i < encs.size(); ++i)
        t.add(where + "/" + std::to_string(i), compare_encoding(c["encodings"][i], to_json(encs[i]), 2));
    } catch (const std::exception& e) {
      t.add(where, std::string("exception ") + e.what());
    }
    tok.set_truncation(saved_t);
    tok.set_padding(saved_p);
  }
  std::string report;
  for (const auto& f : t.first) report += "\n  " + f;
  EXPECT_EQ(t.failed, 0u) << name << ": " << t.failed << " of " << t.total << " cases differ" << report;
  std::printf("[parity] %s: %zu/%zu cases identical\n", name.c_str(), t.total - t.failed, t.total);
}

class FixtureParity : public ::testing::TestWithParam<std::string> {};

TEST_P(FixtureParity, EveryCaseIdentical) {
  run_fixture(GetParam());
}

INSTANTIATE_TEST_SUITE_P(Tokenizers, FixtureParity,
                         ::testing::Values("bert-base-uncased", "all-MiniLM-L6-v2", "roberta-base", "gpt2", "t5-small",
                                           "clip-vit-base-patch32", "falcon-7b", "phi-3-mini", "marian-nmt-unigram",
                                           "hf-test-bert-wiki", "hf-test-bpe-wiki", "hf-test-tiny-bytelevel",
                                           "derived-bert-base-uncased-bertprocessing", "qwen3"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (auto& c : n)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

}  // namespace

#pragma once
// The graph inputs / outputs of an ONNX file against what the reference JSON of a generative fixture records for
// optimum's export of the same file (onnx.<folder>.onnx_files.<file>: names, element types, symbolic / fixed dims).
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "ortformers/core/json.hpp"

namespace ortformers::testing {

inline void check_onnx_io(const std::filesystem::path& file, const Json& rec) {
  onnx::ModelProto built;
  std::ifstream in(file, std::ios::binary);
  ASSERT_TRUE(built.ParseFromIstream(&in)) << file;
  const auto& g = built.graph();
  auto check = [&](const auto& values, const Json& expected, const char* what) {
    ASSERT_EQ(static_cast<std::size_t>(values.size()), expected.size()) << what << " of " << file;
    for (int i = 0; i < values.size(); ++i) {
      const auto& r = expected[static_cast<std::size_t>(i)];
      EXPECT_EQ(values[i].name(), r.at("name").template get<std::string>()) << what << " " << i << " of " << file;
      EXPECT_EQ(values[i].type().tensor_type().elem_type(), r.at("elem_type").template get<int>()) << r.at("name");
      const auto& dims = values[i].type().tensor_type().shape().dim();
      ASSERT_EQ(static_cast<std::size_t>(dims.size()), r.at("shape").size()) << r.at("name");
      for (int d = 0; d < dims.size(); ++d) {
        const Json& want = r.at("shape")[static_cast<std::size_t>(d)];
        if (want.is_string())
          EXPECT_EQ(dims[d].dim_param(), want.template get<std::string>()) << r.at("name") << " dim " << d;
        else
          EXPECT_EQ(dims[d].dim_value(), want.template get<std::int64_t>()) << r.at("name") << " dim " << d;
      }
    }
  };
  check(g.input(), rec.at("inputs"), "inputs");
  check(g.output(), rec.at("outputs"), "outputs");
}

}  // namespace ortformers::testing

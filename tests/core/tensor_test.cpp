#include <gtest/gtest.h>

#include "ortformers/core/json.hpp"
#include "ortformers/core/tensor.hpp"

using namespace ortformers;

TEST(Tensor, FromVectorAndShape) {
  auto t = Tensor::from_vector<std::int64_t>({1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_EQ(t.dtype(), DType::Int64);
  EXPECT_EQ(t.numel(), 6);
  EXPECT_EQ(t.dim(1), 3);
  EXPECT_EQ(t.data<std::int64_t>()[4], 5);
  EXPECT_THROW(t.data<float>(), InvalidArgument);
  EXPECT_THROW(t.dim(2), InvalidArgument);
  EXPECT_THROW((Tensor::from_vector<float>({1, 2, 3}, {2, 2})), InvalidArgument);
}

TEST(Tensor, ZeroCopyRoundTripThroughOrtValue) {
  std::vector<float> buf{1.5f, -2.0f, 3.25f, 0.0f};
  auto t = Tensor::borrow(buf.data(), {2, 2});
  Ort::Value v = t.to_ort();
  EXPECT_EQ(v.GetTensorMutableData<float>(), buf.data());
  auto back = Tensor::from_ort(std::move(v));
  EXPECT_EQ(back.data<float>(), buf.data());
  EXPECT_EQ(back.shape(), (Shape{2, 2}));
}

TEST(Tensor, Conversions) {
  auto t = Tensor::from_vector<std::int64_t>({1, -2, 3}, {3});
  auto i32 = t.to(DType::Int32);
  EXPECT_EQ(i32.data<std::int32_t>()[1], -2);
  auto f = t.to(DType::Float32);
  EXPECT_FLOAT_EQ(f.data<float>()[2], 3.0f);
  auto big = Tensor::from_vector<std::int64_t>({1LL << 40}, {1});
  EXPECT_THROW(big.to(DType::Int32), InvalidArgument);
  for (float x : {0.0f, 1.0f, -2.5f, 65504.0f, 6.1035156e-05f, 5.9604645e-08f}) {
    EXPECT_EQ(half_to_float(float_to_half(x)), x) << x;
  }
}

TEST(Json, FloatFormattingRoundTrips) {
  for (float x : {0.1f, 1e-7f, -3.4028235e38f, 123456.789f}) {
    EXPECT_EQ(std::stof(format_float(x)), x);
  }
  EXPECT_THROW(read_json_file("/nonexistent/config.json"), NotFoundError);
}

#include "remotemedia/value.h"

#include <gtest/gtest.h>

#include <cmath>

namespace remotemedia {
namespace {

TEST(Value, NumbersAreInline) {
  Value i = Value::integer(-7);
  EXPECT_TRUE(i.is_int());
  EXPECT_EQ(i.as_int(), -7);
  EXPECT_EQ(Value::real(2.5).as_float(), 2.5);
  EXPECT_TRUE(Value::boolean(true).as_bool());
  EXPECT_NE(Value::integer(1), Value::boolean(true));  // kinds differ, as Python types do
}

TEST(Value, HeavyPayloadsAreSharedNotCopied) {
  auto a = NDArray::allocate(DType::kInt64, {3});
  Value v = Value::array(a);
  EXPECT_EQ(a->ref_count(), 2u);
  {
    Value copy = v;
    EXPECT_EQ(a->ref_count(), 3u);
    EXPECT_EQ(&copy.as_array(), a.get());
  }
  EXPECT_EQ(a->ref_count(), 2u);
  Value moved = std::move(v);
  EXPECT_EQ(a->ref_count(), 2u);
  EXPECT_TRUE(v.is_null());
}

TEST(Value, DeepEqualityAndMapLookup) {
  Value m = Value::map({{"a", Value::integer(1)}, {"b", Value::list({Value::string("x")})}});
  Value same = Value::map({{"a", Value::integer(1)}, {"b", Value::list({Value::string("x")})}});
  EXPECT_EQ(m, same);
  ASSERT_NE(m.find("b"), nullptr);
  EXPECT_EQ(m.find("b")->as_list()[0].as_string(), "x");
  EXPECT_EQ(m.find("c"), nullptr);
  EXPECT_FALSE(Value::real(std::nan("")) == Value::real(std::nan("")));
}

TEST(NDArray, ElementAndRowViewsShareStorage) {
  auto a = NDArray::allocate(DType::kInt32, {2, 3});
  int32_t* d = a->mutable_data_as<int32_t>();
  for (int i = 0; i < 6; ++i) d[i] = i * 10;
  auto row = a->row(1);
  EXPECT_EQ(row->shape(), std::vector<int64_t>{3});
  EXPECT_EQ(row->data_as<int32_t>()[0], 30);
  EXPECT_EQ(row->keeper().get(), a->keeper().get());
  auto flat = NDArray::allocate(DType::kFloat64, {4});
  flat->mutable_data_as<double>()[2] = 1.5;
  auto e = flat->element(2);
  EXPECT_TRUE(e->numpy_scalar());
  EXPECT_EQ(e->ndim(), 0);
  EXPECT_EQ(e->data_as<double>()[0], 1.5);
}

TEST(Value, AudioCarriesRateAndLayout) {
  auto samples = NDArray::allocate(DType::kFloat32, {480, 2});
  auto audio = AudioBuffer::make(samples, 48000, ChannelLayout::kInterleaved).value();
  Value v = Value::audio(audio);
  EXPECT_EQ(v.as_audio().frames(), 480);
  EXPECT_DOUBLE_EQ(v.as_audio().duration_seconds(), 0.01);
}

}  // namespace
}  // namespace remotemedia

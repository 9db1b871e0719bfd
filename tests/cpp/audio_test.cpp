// AudioBuffer and the shared sample arithmetic (docs/AUDIO.md).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "remotemedia/audio.h"
#include "remotemedia/audio_samples.h"

namespace remotemedia {
namespace {

template <typename T>
Ref<NDArray> array_of(std::vector<T> values, std::vector<int64_t> shape = {}) {
  if (shape.empty()) shape = {static_cast<int64_t>(values.size())};
  Ref<NDArray> a = NDArray::allocate(DTypeOf<T>::value, shape);
  for (size_t i = 0; i < values.size(); ++i) a->mutable_data_as<T>()[i] = values[i];
  return a;
}

TEST(AudioBuffer, DerivesChannelsAndFramesFromLayout) {
  auto interleaved = AudioBuffer::make(NDArray::allocate(DType::kInt16, {480, 2}), 48000).value();
  EXPECT_EQ(interleaved->channels(), 2);
  EXPECT_EQ(interleaved->frames(), 480);
  auto planar = AudioBuffer::make(NDArray::allocate(DType::kInt16, {2, 480}), 48000, ChannelLayout::kPlanar).value();
  EXPECT_EQ(planar->channels(), 2);
  EXPECT_EQ(planar->frames(), 480);
  auto mono = AudioBuffer::make(NDArray::allocate(DType::kFloat32, {160}), 16000, ChannelLayout::kPlanar).value();
  EXPECT_EQ(mono->channels(), 1);
  EXPECT_EQ(mono->layout(), ChannelLayout::kInterleaved);  // 1-D is always interleaved
  EXPECT_DOUBLE_EQ(mono->duration_seconds(), 0.01);
}

TEST(AudioBuffer, RejectsWhatIsNotAudio) {
  EXPECT_EQ(AudioBuffer::make(NDArray::allocate(DType::kInt64, {4}), 8000).status().code(), StatusCode::kTypeError);
  EXPECT_EQ(AudioBuffer::make(NDArray::allocate(DType::kFloat32, {2, 2, 2}), 8000).status().code(),
            StatusCode::kValueError);
  EXPECT_EQ(AudioBuffer::make(NDArray::allocate(DType::kFloat32, {4}), 0).status().code(), StatusCode::kValueError);
  EXPECT_EQ(AudioBuffer::make(NDArray::allocate(DType::kFloat32, {4}), -1).status().code(), StatusCode::kValueError);
}

TEST(ConvertSamples, IntToFloatDividesByFullScale) {
  auto out = convert_samples(array_of<int16_t>({-32768, -1, 0, 16384, 32767}), DType::kFloat64);
  const double* d = out->data_as<double>();
  EXPECT_EQ(d[0], -1.0);
  EXPECT_EQ(d[1], -1.0 / 32768);
  EXPECT_EQ(d[2], 0.0);
  EXPECT_EQ(d[3], 0.5);
  EXPECT_EQ(d[4], 32767.0 / 32768);
}

TEST(ConvertSamples, FloatToIntRoundsHalfToEvenClipsAndZeroesNaN) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  // 0.5/32768 and 1.5/32768 are halfway cases: even neighbours 0 and 2.
  auto out = convert_samples(array_of<double>({0.5 / 32768, 1.5 / 32768, -2.5 / 32768, 1.0, 2.0, -3.0, nan}),
                             DType::kInt16);
  const int16_t* s = out->data_as<int16_t>();
  EXPECT_EQ(s[0], 0);
  EXPECT_EQ(s[1], 2);
  EXPECT_EQ(s[2], -2);
  EXPECT_EQ(s[3], 32767);   // +1.0 is just out of range
  EXPECT_EQ(s[4], 32767);
  EXPECT_EQ(s[5], -32768);
  EXPECT_EQ(s[6], 0);
}

TEST(ConvertSamples, IntToIntGoesThroughFloat64) {
  auto up = convert_samples(array_of<int16_t>({-32768, 1, 32767}), DType::kInt32);
  EXPECT_EQ(up->data_as<int32_t>()[0], std::numeric_limits<int32_t>::min());
  EXPECT_EQ(up->data_as<int32_t>()[1], 65536);
  EXPECT_EQ(up->data_as<int32_t>()[2], 32767 * 65536);
  auto down = convert_samples(array_of<int32_t>({32768, 98304, 65535, std::numeric_limits<int32_t>::max()}),
                              DType::kInt16);
  EXPECT_EQ(down->data_as<int16_t>()[0], 0);  // 0.5 -> 0 (even)
  EXPECT_EQ(down->data_as<int16_t>()[1], 2);  // 1.5 -> 2 (even)
  EXPECT_EQ(down->data_as<int16_t>()[2], 1);
  EXPECT_EQ(down->data_as<int16_t>()[3], 32767);  // 32767.99998 rounds to 32768, clipped
}

TEST(ConvertSamples, Int32ToFloat32RoundsOnce) {
  auto out = convert_samples(array_of<int32_t>({16777217}), DType::kFloat32);
  EXPECT_EQ(out->data_as<float>()[0], static_cast<float>(16777216.0 / 2147483648.0));
}

TEST(ConvertSamples, SameTypeIsTheSameArray) {
  auto a = array_of<float>({0.25f});
  EXPECT_EQ(convert_samples(a, DType::kFloat32).get(), a.get());
}

TEST(ToLayout, TransposesAndBack) {
  auto interleaved = AudioBuffer::make(array_of<int16_t>({1, 2, 3, 4, 5, 6}, {3, 2}), 8000).value();
  auto planar = to_layout(interleaved, ChannelLayout::kPlanar);
  ASSERT_EQ(planar->samples()->shape(), (std::vector<int64_t>{2, 3}));
  const int16_t* p = planar->samples()->data_as<int16_t>();
  EXPECT_EQ(std::vector<int16_t>(p, p + 6), (std::vector<int16_t>{1, 3, 5, 2, 4, 6}));
  EXPECT_EQ(planar->channels(), 2);
  EXPECT_EQ(planar->frames(), 3);
  auto back = to_layout(planar, ChannelLayout::kInterleaved);
  EXPECT_TRUE(back->samples()->equals(*interleaved->samples()));
}

TEST(PairwiseSum, MatchesNumpyOrderNotNaiveOrder) {
  // 1e16 + 1 + ... : naive left-to-right loses every 1; the pairwise order keeps some, as numpy does.
  std::vector<double> x(200, 1.0);
  x[0] = 1e16;
  double naive = 0;
  for (double v : x) naive += v;
  const double pairwise = pairwise_sum(x.data(), static_cast<int64_t>(x.size()));
  EXPECT_EQ(naive, 1e16);
  // Value computed with numpy 2.x: np.sum(np.array([1e16] + [1.0] * 199)).
  EXPECT_EQ(pairwise, 1e16 + 188.0);
  EXPECT_EQ(pairwise_sum(x.data(), 5), 1e16);
}

}  // namespace
}  // namespace remotemedia

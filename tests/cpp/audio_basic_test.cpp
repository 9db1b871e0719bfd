// AudioFormat, AudioGain and AudioNormalize (src/nodes/audio_basic.cpp) through the executor: the
// docs/AUDIO.md rules on hand-checked values (mix-down order and rounding, selection, gain in the
// sample type, normalisation), "nothing to do" handing on the very same buffer, and the errors.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "audio_test_util.h"
#include "remotemedia/audio.h"
#include "remotemedia/audio_samples.h"

namespace remotemedia {
namespace {

using audio_test::audio;
using audio_test::one_node;
using audio_test::run_node;

template <typename T>
std::vector<T> samples_of(const Value& v) {
  const NDArray& a = *v.as_audio().samples();
  EXPECT_EQ(a.dtype(), DTypeOf<T>::value);
  return std::vector<T>(a.data_as<T>(), a.data_as<T>() + a.size());
}

// Runs one node on `items` and returns its outputs, failing the test on an error.
std::vector<Value> run_ok(const std::string& type, const std::string& params, std::vector<Value> items) {
  Result<std::vector<Value>> out = run_node(type, params, std::move(items));
  EXPECT_TRUE(out.ok()) << out.status().to_string();
  return out.ok() ? std::move(out).value() : std::vector<Value>{};
}

Status run_error(const std::string& type, const std::string& params, std::vector<Value> items) {
  Result<std::vector<Value>> out = run_node(type, params, std::move(items));
  return out.ok() ? Status::OK() : out.take_status();
}

// ------------------------------------------------------------------------------ AudioFormat

TEST(AudioFormat, MixDownAddsChannelsInOrderInFloat64ThenDivides) {
  // ((0.1 + 0.2) + 0.3) is 0.6000000000000001; any other order gives 0.6.
  std::vector<Value> out = run_ok("AudioFormat", R"({"channels": 1})", {audio<double>({0.1, 0.2, 0.3}, {1, 3})});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].as_audio().samples()->shape(), (std::vector<int64_t>{1}));  // mono is 1-D
  EXPECT_EQ(samples_of<double>(out[0])[0], ((0.1 + 0.2) + 0.3) / 3.0);
  EXPECT_NE(((0.1 + 0.2) + 0.3) / 3.0, (0.1 + (0.2 + 0.3)) / 3.0);
}

TEST(AudioFormat, MixDownToIntegersRoundsHalfToEvenAndClips) {
  // Frames (1, 2) -> 1.5 -> 2, (1, 0) -> 0.5 -> 0, (3, 0) -> 1.5 -> 2, (-3, 0) -> -1.5 -> -2.
  std::vector<Value> out = run_ok("AudioFormat", R"({"channels": 1})",
                                  {audio<int16_t>({1, 2, 1, 0, 3, 0, -3, 0, -32768, -32768, 32767, 32767}, {6, 2})});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(samples_of<int16_t>(out[0]), (std::vector<int16_t>{2, 0, 2, -2, -32768, 32767}));
  // Planar input, int32 output: the mean scaled to int32 (x 65536).
  out = run_ok("AudioFormat", R"({"channels": 1, "dtype": "int32"})",
               {audio<int16_t>({1, -32768, 2, -32768}, {2, 2}, 48000, ChannelLayout::kPlanar)});
  EXPECT_EQ(samples_of<int32_t>(out[0]), (std::vector<int32_t>{98304, -2147483647 - 1}));
}

TEST(AudioFormat, MonoIsDuplicatedInTheRequestedLayout) {
  std::vector<Value> out = run_ok("AudioFormat", R"({"channels": 3, "layout": "planar"})",
                                  {audio<float>({0.5f, -0.25f}, {2})});
  const AudioBuffer& a = out[0].as_audio();
  EXPECT_EQ(a.layout(), ChannelLayout::kPlanar);
  EXPECT_EQ(a.samples()->shape(), (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(samples_of<float>(out[0]), (std::vector<float>{0.5f, -0.25f, 0.5f, -0.25f, 0.5f, -0.25f}));
}

TEST(AudioFormat, SelectPicksChannelsInOrderThenConverts) {
  // Interleaved frames (c0, c1, c2): (1, 2, 3), (4, 5, 6) as int16.
  Value in = audio<int16_t>({1, 2, 3, 4, 5, 6}, {2, 3});
  std::vector<Value> out = run_ok("AudioFormat", R"({"select": [2, 0, 0], "dtype": "float64"})", {in});
  EXPECT_EQ(out[0].as_audio().samples()->shape(), (std::vector<int64_t>{2, 3}));
  const double k = 1.0 / 32768;
  EXPECT_EQ(samples_of<double>(out[0]), (std::vector<double>{3 * k, 1 * k, 1 * k, 6 * k, 4 * k, 4 * k}));
  out = run_ok("AudioFormat", R"({"select": [1]})", {in});
  EXPECT_EQ(out[0].as_audio().samples()->shape(), (std::vector<int64_t>{2}));
  EXPECT_EQ(samples_of<int16_t>(out[0]), (std::vector<int16_t>{2, 5}));
}

TEST(AudioFormat, NothingToDoHandsOnTheSameBuffer) {
  Value in = audio<float>({0.1f, 0.2f, 0.3f, 0.4f}, {2, 2});
  for (const char* params : {"{}", R"({"dtype": "float32"})", R"({"channels": 2, "layout": "interleaved"})",
                             R"({"select": [0, 1]})"}) {
    std::vector<Value> out = run_ok("AudioFormat", params, {in});
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(&out[0].as_audio(), &in.as_audio()) << params;
  }
}

TEST(AudioFormat, LayoutAndDtypeAloneConvert) {
  std::vector<Value> out = run_ok("AudioFormat", R"({"layout": "planar", "dtype": "int16"})",
                                  {audio<float>({0.5f, -0.5f, 0.25f, 1.5f}, {2, 2})});
  const AudioBuffer& a = out[0].as_audio();
  EXPECT_EQ(a.layout(), ChannelLayout::kPlanar);
  EXPECT_EQ(samples_of<int16_t>(out[0]), (std::vector<int16_t>{16384, 8192, -16384, 32767}));
}

TEST(AudioFormat, EmptyAudioIsConvertedToo) {
  std::vector<Value> out = run_ok("AudioFormat", R"({"channels": 1, "dtype": "int16"})",
                                  {audio<float>({}, {0, 2})});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].as_audio().dtype(), DType::kInt16);
  EXPECT_EQ(out[0].as_audio().samples()->shape(), (std::vector<int64_t>{0}));
}

TEST(AudioFormat, ValueErrorsNameWhatWasAskedAndWhatCame) {
  Status s = run_error("AudioFormat", R"({"channels": 2})",
                       {audio<float>({0, 0}, {2}), audio<float>({0, 0, 0, 0, 0, 0}, {2, 3})});
  EXPECT_EQ(s.code(), StatusCode::kValueError);
  EXPECT_EQ(s.message(), "cannot map 3 channels to 2; use select");
  EXPECT_EQ(s.node_id(), "n");
  EXPECT_EQ(s.item_index(), 1);
  s = run_error("AudioFormat", R"({"select": [0, 2]})", {audio<float>({0, 0}, {1, 2})});
  EXPECT_EQ(s.code(), StatusCode::kValueError);
  EXPECT_EQ(s.message(), "channel 2 selected, but the audio has 2 channels");
  s = run_error("AudioFormat", "{}", {Value::integer(3)});
  EXPECT_EQ(s.code(), StatusCode::kTypeError);
  EXPECT_EQ(s.message(), "expects audio, got int");
  EXPECT_EQ(s.item_index(), 0);
}

TEST(AudioFormat, ParameterErrorsHaveTheirPaths) {
  struct Case {
    const char* params;
    const char* path;
  };
  for (const Case& c : {Case{R"({"select": [0], "channels": 1})", "$.nodes[0].params.select"},
                        Case{R"({"select": []})", "$.nodes[0].params.select"},
                        Case{R"({"select": [1, -1]})", "$.nodes[0].params.select[1]"},
                        Case{R"({"select": [0, 1.5]})", "$.nodes[0].params.select[1]"},
                        Case{R"({"channels": 0})", "$.nodes[0].params.channels"},
                        Case{R"({"dtype": "int8"})", "$.nodes[0].params.dtype"},
                        Case{R"({"layout": "mid-side"})", "$.nodes[0].params.layout"}}) {
    Result<Graph> g = one_node("AudioFormatNode", c.params);
    ASSERT_FALSE(g.ok()) << c.params;
    EXPECT_EQ(g.status().code(), StatusCode::kInvalidParameter) << c.params;
    EXPECT_EQ(g.status().path(), c.path) << c.params;
  }
}

// -------------------------------------------------------------------------------- AudioGain

TEST(AudioGain, IntegersAreScaledInFloat64RoundedAndClipped) {
  const double g = std::pow(10.0, -6.0 / 20.0);
  std::vector<int16_t> x{0, 1, -1, 3, 1000, -32768, 32767};
  std::vector<Value> out = run_ok("AudioGain", R"({"db": -6})", {audio<int16_t>(x, {7})});
  std::vector<int16_t> expected;
  for (int16_t v : x) expected.push_back(sample_from_scaled<int16_t>(v * g));
  EXPECT_EQ(samples_of<int16_t>(out[0]), expected);
  EXPECT_EQ(expected[3], 2);      // 1.5036 -> 2
  EXPECT_EQ(expected[5], -16423);  // -16422.7 -> -16423
  out = run_ok("AudioGain", R"({"db": 40})", {audio<int32_t>({2147483647, -2147483647 - 1, 5, -100000000}, {4})});
  EXPECT_EQ(samples_of<int32_t>(out[0]), (std::vector<int32_t>{2147483647, -2147483647 - 1, 500, -2147483647 - 1}));
}

TEST(AudioGain, Float32MultipliesInFloat32AndFloatsAreNotClipped) {
  const double g = std::pow(10.0, 20.0 / 20.0);  // 10
  std::vector<float> x{0.9f, -0.3f, 0.1f};
  std::vector<Value> out = run_ok("AudioGain", R"({"db": 20})", {audio<float>(x, {3})});
  const std::vector<float> got = samples_of<float>(out[0]);
  for (size_t i = 0; i < x.size(); ++i) EXPECT_EQ(got[i], x[i] * static_cast<float>(g));
  EXPECT_GT(got[0], 1.0f);  // not clipped
  // float64 in float64.
  out = run_ok("AudioGain", R"({"db": 3.5})", {audio<double>({0.7, -2.0}, {1, 2})});
  const double g2 = std::pow(10.0, 3.5 / 20.0);
  EXPECT_EQ(samples_of<double>(out[0]), (std::vector<double>{0.7 * g2, -2.0 * g2}));
  EXPECT_EQ(out[0].as_audio().samples()->shape(), (std::vector<int64_t>{1, 2}));
}

TEST(AudioGain, ZeroDbHandsOnTheSameBuffer) {
  Value in = audio<int16_t>({1, 2, 3}, {3});
  std::vector<Value> out = run_ok("AudioGain", R"({"db": 0})", {in});
  EXPECT_EQ(&out[0].as_audio(), &in.as_audio());
}

TEST(AudioGain, AGainThatOverflowsIsAParameterError) {
  Result<Graph> g = one_node("AudioGain", R"({"db": 7000})");
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), StatusCode::kInvalidParameter);
  EXPECT_EQ(g.status().path(), "$.nodes[0].params.db");
  EXPECT_TRUE(one_node("AudioGain", R"({"db": -7000})").ok());  // a factor of 0 is fine
  EXPECT_FALSE(one_node("AudioGain", "{}").ok());                // db is required
}

// --------------------------------------------------------------------------- AudioNormalize

TEST(AudioNormalize, PeakAndRmsReachTheTarget) {
  // Peak 0.5 to 0 dB: a factor of exactly 2.
  std::vector<Value> out = run_ok("AudioNormalize", R"({"target_db": 0})", {audio<double>({0.25, -0.5, 0.125}, {3})});
  EXPECT_EQ(samples_of<double>(out[0]), (std::vector<double>{0.5, -1.0, 0.25}));
  // RMS of (0.5, -0.5, 0.5, -0.5) is 0.5: to 0 dB doubles too.
  out = run_ok("AudioNormalize", R"({"mode": "rms", "target_db": 0})",
               {audio<double>({0.5, -0.5, 0.5, -0.5}, {2, 2})});
  EXPECT_EQ(samples_of<double>(out[0]), (std::vector<double>{1.0, -1.0, 1.0, -1.0}));
  // Default -1 dB peak on int16: the loudest sample lands at round(32768 * 10^(-1/20)).
  out = run_ok("AudioNormalize", "{}", {audio<int16_t>({100, -200, 50}, {3})});
  const std::vector<int16_t> s = samples_of<int16_t>(out[0]);
  EXPECT_EQ(s[1], static_cast<int16_t>(-std::nearbyint(32768 * std::pow(10.0, -1.0 / 20.0))));
}

TEST(AudioNormalize, PeakOfMostNegativeIntegerIsFullScale) {
  // -32768 is a peak of exactly 1.0, so 0 dB changes nothing but still makes a new buffer.
  std::vector<Value> out = run_ok("AudioNormalize", R"({"target_db": 0})", {audio<int16_t>({-32768, 5}, {2})});
  EXPECT_EQ(samples_of<int16_t>(out[0]), (std::vector<int16_t>{-32768, 5}));
}

TEST(AudioNormalize, SilenceEmptyAndNaNPassUnchanged) {
  const double nan = std::nan("");
  for (Value in : {audio<float>({0.0f, -0.0f}, {2}), audio<int16_t>({}, {0}), audio<double>({0.5, nan}, {2})}) {
    for (const char* params : {R"({"mode": "peak"})", R"({"mode": "rms"})"}) {
      std::vector<Value> out = run_ok("AudioNormalize", params, {in});
      ASSERT_EQ(out.size(), 1u);
      EXPECT_EQ(&out[0].as_audio(), &in.as_audio()) << params;
    }
  }
}

TEST(AudioNormalize, ErrorsAndParameters) {
  EXPECT_EQ(run_error("AudioNormalize", "{}", {Value::string("x")}).message(), "expects audio, got str");
  EXPECT_EQ(one_node("AudioNormalize", R"({"mode": "loudness"})").status().path(), "$.nodes[0].params.mode");
  EXPECT_EQ(one_node("AudioNormalize", R"({"target_db": 9000})").status().path(), "$.nodes[0].params.target_db");
  EXPECT_TRUE(one_node("AudioNormalize", R"({"target_db": 6})").ok());  // above full scale is allowed
}

}  // namespace
}  // namespace remotemedia

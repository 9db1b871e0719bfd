// AudioLevel and EnergyVAD (src/nodes/audio_analysis.cpp) through the executor: levels and stream
// times on hand-checked signals, and the VAD's segments at known times (hangover, min_speech,
// max_segment, the last frame at end of input), the same for every way of chunking the stream.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "audio_test_util.h"
#include "remotemedia/audio.h"

namespace remotemedia {
namespace {

using audio_test::audio;
using audio_test::one_node;
using audio_test::run_node;

double field(const Value& m, const char* key) {
  const Value* v = m.find(key);
  EXPECT_NE(v, nullptr) << key;
  return v == nullptr ? std::nan("") : v->as_float();
}

// ------------------------------------------------------------------------------- AudioLevel

TEST(AudioLevel, LevelsAndStreamTimes) {
  std::vector<Value> items{audio<float>(std::vector<float>(160, 0.5f), {160}),
                           audio<float>({}, {0}),
                           audio<float>({0.25f, -1.0f, 0.0f, 0.0f}, {4})};
  Result<std::vector<Value>> out = run_node("AudioLevel", "{}", items);
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  ASSERT_EQ(out->size(), 3u);  // one map per item, the empty one too
  const Value& a = (*out)[0];
  EXPECT_EQ(field(a, "start"), 0.0);
  EXPECT_EQ(field(a, "duration"), 0.01);
  EXPECT_EQ(field(a, "rms"), 0.5);
  EXPECT_EQ(field(a, "peak"), 0.5);
  EXPECT_EQ(field(a, "rms_db"), 20.0 * std::log10(0.5));
  const Value& empty = (*out)[1];
  EXPECT_EQ(field(empty, "start"), 0.01);
  EXPECT_EQ(field(empty, "duration"), 0.0);
  EXPECT_EQ(field(empty, "rms"), 0.0);
  EXPECT_EQ(field(empty, "peak_db"), -200.0);
  EXPECT_EQ(field(empty, "rms_db"), -200.0);
  const Value& c = (*out)[2];
  EXPECT_EQ(field(c, "start"), 0.01);
  EXPECT_EQ(field(c, "peak"), 1.0);
  EXPECT_EQ(field(c, "peak_db"), 0.0);
  EXPECT_EQ(field(c, "rms"), std::sqrt((0.0625 + 1.0) / 4));
  std::vector<std::string> keys;
  for (const auto& [k, v] : c.as_map()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"start", "duration", "rms", "peak", "rms_db", "peak_db"}));
}

TEST(AudioLevel, IntegerPeakIncludesTheMostNegativeSample) {
  Result<std::vector<Value>> out = run_node("AudioLevel", "{}", {audio<int16_t>({-32768, 16384}, {1, 2})});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(field((*out)[0], "peak"), 1.0);
  EXPECT_EQ(field((*out)[0], "rms"), std::sqrt((1.0 + 0.25) / 2));
  out = run_node("AudioLevel", "{}", {audio<int32_t>({-2147483647 - 1}, {1})});
  EXPECT_EQ(field((*out)[0], "peak"), 1.0);
}

TEST(AudioLevel, NaNMakesThePeakNaN) {
  Result<std::vector<Value>> out = run_node("AudioLevel", "{}", {audio<double>({0.5, std::nan(""), 0.25}, {3})});
  ASSERT_TRUE(out.ok());
  EXPECT_TRUE(std::isnan(field((*out)[0], "peak")));
  EXPECT_TRUE(std::isnan(field((*out)[0], "peak_db")));
}

TEST(AudioLevel, RateOrChannelChangeIsAValueError) {
  Result<std::vector<Value>> out = run_node(
      "AudioLevel", "{}", {audio<float>({0.0f}, {1}, 48000), audio<float>({0.0f}, {1}, 44100)});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kValueError);
  EXPECT_EQ(out.status().message(), "sample rate changed from 48000 to 44100 Hz");
  EXPECT_EQ(out.status().item_index(), 1);
  out = run_node("AudioLevel", "{}", {audio<float>({0.0f}, {1}), audio<float>({0.0f, 0.0f}, {1, 2})});
  EXPECT_EQ(out.status().message(), "channel count changed from 1 to 2");
  out = run_node("AudioLevel", "{}", {Value::real(1.5)});
  EXPECT_EQ(out.status().code(), StatusCode::kTypeError);
  EXPECT_EQ(out.status().message(), "expects audio, got float");
}

// -------------------------------------------------------------------------------- EnergyVAD

constexpr int kRate = 16000;

// Seconds [from, to) of loud noise (about -20 dB RMS) in a signal of quiet noise (about -80 dB).
std::vector<float> bursts(double seconds, const std::vector<std::pair<double, double>>& loud, uint32_t seed = 7) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(seconds * kRate));
  for (float& v : x) v = 1e-4f * u(gen);
  for (const auto& [from, to] : loud) {
    for (auto i = static_cast<size_t>(from * kRate); i < static_cast<size_t>(to * kRate); ++i) x[i] = 0.17f * u(gen);
  }
  return x;
}

// The stream cut into items of the given sizes (cycled), as 1-D float32 audio.
std::vector<Value> chunked(const std::vector<float>& x, const std::vector<size_t>& sizes) {
  std::vector<Value> items;
  size_t i = 0;
  for (size_t k = 0; i < x.size(); ++k) {
    const size_t n = std::min(sizes[k % sizes.size()], x.size() - i);
    items.push_back(audio<float>(std::vector<float>(x.begin() + i, x.begin() + i + n), {static_cast<int64_t>(n)}));
    i += n;
  }
  return items;
}

std::vector<std::pair<double, double>> segments(const std::vector<Value>& out) {
  std::vector<std::pair<double, double>> s;
  for (const Value& m : out) s.emplace_back(field(m, "start"), field(m, "end"));
  return s;
}

using Segments = std::vector<std::pair<double, double>>;

TEST(EnergyVAD, SegmentsAtTheBurstsWhateverTheChunking) {
  // 20 ms frames (320 samples) and bursts on frame boundaries: each segment is its burst exactly.
  // 1.0-1.5 and 1.7-2.0 merge (a 200 ms gap is within the 300 ms hangover); 3.0-3.06 is shorter
  // than min_speech; 4.0-6.5 is cut by max_segment 1 s; 7.5-8.0 is open at the end of input.
  const std::vector<float> x = bursts(8.0, {{1.0, 1.5}, {1.7, 2.0}, {3.0, 3.06}, {4.0, 6.5}, {7.5, 8.0}});
  const std::string params = R"({"max_segment_ms": 1000})";
  const Segments expected{{1.0, 2.0}, {4.0, 5.0}, {5.0, 6.0}, {6.0, 6.5}, {7.5, 8.0}};
  std::mt19937 gen(3);
  std::vector<size_t> random_sizes;
  for (int i = 0; i < 200; ++i) random_sizes.push_back(std::uniform_int_distribution<size_t>(0, 2000)(gen));
  for (const std::vector<size_t>& sizes : {std::vector<size_t>{x.size()}, std::vector<size_t>{320},
                                           std::vector<size_t>{1000}, random_sizes}) {
    Result<std::vector<Value>> out = run_node("EnergyVAD", params, chunked(x, sizes));
    ASSERT_TRUE(out.ok()) << out.status().to_string();
    EXPECT_EQ(segments(*out), expected) << "chunks of " << sizes[0];
    for (const Value& m : *out) {
      const AudioBuffer& a = m.find("audio")->as_audio();
      const auto from = static_cast<size_t>(std::llround(field(m, "start") * kRate));
      ASSERT_EQ(a.frames(), std::llround((field(m, "end") - field(m, "start")) * kRate));
      EXPECT_EQ(a.samples()->shape().size(), 1u);
      EXPECT_EQ(std::vector<float>(a.samples()->data_as<float>(), a.samples()->data_as<float>() + a.frames()),
                std::vector<float>(x.begin() + from, x.begin() + from + a.frames()));
    }
  }
}

TEST(EnergyVAD, HangoverMinSpeechAndThreshold) {
  const std::vector<float> x = bursts(3.0, {{0.5, 0.8}, {1.2, 1.6}});  // a 400 ms gap
  auto run_with = [&](const std::string& params) {
    Result<std::vector<Value>> out = run_node("EnergyVAD", params, chunked(x, {480}));
    EXPECT_TRUE(out.ok()) << out.status().to_string();
    return out.ok() ? segments(*out) : Segments{};
  };
  EXPECT_EQ(run_with("{}"), (Segments{{0.5, 0.8}, {1.2, 1.6}}));
  // The quiet run reaches 400 ms at the end of the frame before the second burst: that ends it.
  EXPECT_EQ(run_with(R"({"hangover_ms": 400})"), (Segments{{0.5, 0.8}, {1.2, 1.6}}));
  EXPECT_EQ(run_with(R"({"hangover_ms": 420})"), (Segments{{0.5, 1.6}}));
  EXPECT_EQ(run_with(R"({"min_speech_ms": 350})"), (Segments{{1.2, 1.6}}));  // 300 ms is too short
  EXPECT_EQ(run_with(R"({"threshold_db": -10})"), Segments{});             // nothing is that loud
  EXPECT_EQ(run_with(R"({"threshold_db": -100})"), (Segments{{0.0, 3.0}}));  // the quiet noise is
}

TEST(EnergyVAD, FrameBoundariesAndTheLastShortFrame) {
  // A burst from 0.51 s: its frame (0.50-0.52) is loud and starts the segment. The stream ends 5 ms
  // into a frame that is loud: it counts as a (shorter) frame.
  std::vector<float> x = bursts(1.0, {{0.51, 0.7}});
  x.insert(x.end(), 40, 1e-5f);
  x.insert(x.end(), 40, 0.3f);  // 16080 samples: 1.005 s
  Result<std::vector<Value>> out = run_node("EnergyVAD", R"({"min_speech_ms": 0})", chunked(x, {700}));
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(segments(*out), (Segments{{0.5, 0.7}, {1.0, 1.005}}));
}

TEST(EnergyVAD, MaxSegmentShorterThanAFrameTilesTheSpeech) {
  const std::vector<float> x = bursts(0.1, {{0.0, 0.1}});  // 1600 samples, all loud
  Result<std::vector<Value>> out =
      run_node("EnergyVAD", R"({"frame_ms": 20, "max_segment_ms": 15, "min_speech_ms": 0})", chunked(x, {333}));
  ASSERT_TRUE(out.ok());
  Segments expected;
  for (int k = 0; k * 240 < 1600; ++k) expected.emplace_back(k * 240.0 / kRate, std::min(1600, (k + 1) * 240) / double(kRate));
  EXPECT_EQ(segments(*out), expected);
}

TEST(EnergyVAD, PlanarStereoKeepsItsLayoutAndTheAudioCanBeLeftOut) {
  const std::vector<float> mono = bursts(1.0, {{0.2, 0.4}});
  std::vector<int16_t> planar(2 * mono.size());
  for (size_t i = 0; i < mono.size(); ++i) {
    planar[i] = static_cast<int16_t>(mono[i] * 30000);
    planar[mono.size() + i] = static_cast<int16_t>(-mono[i] * 20000);
  }
  const auto n = static_cast<int64_t>(mono.size());
  Value item = audio<int16_t>(planar, {2, n}, kRate, ChannelLayout::kPlanar);
  Result<std::vector<Value>> out = run_node("EnergyVAD", "{}", {item});
  ASSERT_TRUE(out.ok());
  ASSERT_EQ(segments(*out), (Segments{{0.2, 0.4}}));
  const AudioBuffer& a = (*out)[0].find("audio")->as_audio();
  EXPECT_EQ(a.layout(), ChannelLayout::kPlanar);
  EXPECT_EQ(a.samples()->shape(), (std::vector<int64_t>{2, 3200}));
  EXPECT_EQ(a.samples()->data_as<int16_t>()[0], planar[3200]);
  EXPECT_EQ(a.samples()->data_as<int16_t>()[3200], planar[n + 3200]);
  out = run_node("EnergyVAD", R"({"include_audio": false})", {item});
  ASSERT_TRUE(out.ok());
  ASSERT_EQ(out->size(), 1u);
  EXPECT_EQ((*out)[0].as_map().size(), 2u);
  EXPECT_EQ((*out)[0].find("audio"), nullptr);
}

TEST(EnergyVAD, StreamChangesAndParameters) {
  Result<std::vector<Value>> out =
      run_node("EnergyVAD", "{}", {audio<float>({0.0f}, {1}), audio<int16_t>({0}, {1})});
  EXPECT_EQ(out.status().code(), StatusCode::kValueError);
  EXPECT_EQ(out.status().message(), "sample type changed from float32 to int16");
  EXPECT_EQ(out.status().item_index(), 1);
  out = run_node("EnergyVAD", "{}", {audio<float>({0, 0}, {1, 2}), audio<float>({0, 0}, {2, 1}, kRate, ChannelLayout::kPlanar)});
  EXPECT_EQ(out.status().message(), "layout changed from interleaved to planar");
  out = run_node("EnergyVAD", R"({"frame_ms": 0.01})", {audio<float>({0.0f}, {1}, 8000)});
  EXPECT_EQ(out.status().code(), StatusCode::kValueError);
  EXPECT_EQ(out.status().message(), "frame_ms gives frames of 0 samples at 8000 Hz; it must give at least 1");
  for (const auto& [params, path] : std::vector<std::pair<std::string, std::string>>{
           {R"({"frame_ms": 0})", "$.nodes[0].params.frame_ms"},
           {R"({"frame_ms": 10001})", "$.nodes[0].params.frame_ms"},
           {R"({"max_segment_ms": 0})", "$.nodes[0].params.max_segment_ms"},
           {R"({"hangover_ms": -1})", "$.nodes[0].params.hangover_ms"},
           {R"({"include_audio": 1})", "$.nodes[0].params.include_audio"}}) {
    Result<Graph> g = one_node("EnergyVADNode", params);
    ASSERT_FALSE(g.ok()) << params;
    EXPECT_EQ(g.status().code(), StatusCode::kInvalidParameter);
    EXPECT_EQ(g.status().path(), path);
  }
}

}  // namespace
}  // namespace remotemedia

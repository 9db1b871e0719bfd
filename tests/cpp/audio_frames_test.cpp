// AudioChunkerNode (src/nodes/audio_frames.cpp). What a plausible bug would change: chunk sizes,
// frames lost or repeated where items meet, the remainder (dropped, padded when it should not be),
// duration_ms rounding, planar channels interleaved by mistake, views pointing at the wrong frames,
// the stream rules and the parameter checks.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "audio_test_util.h"
#include "remotemedia/audio.h"
#include "remotemedia/audio_samples.h"
#include "remotemedia/executor.h"
#include "remotemedia/graph.h"
#include "remotemedia/json.h"
#include "remotemedia/manifest.h"
#include "remotemedia/node.h"
#include "remotemedia/registry.h"

namespace remotemedia {
namespace {

using audio_test::audio_shape;
using audio_test::frames_of;
using audio_test::make_node;
using audio_test::one_node;
using audio_test::stream;

std::unique_ptr<Node> chunker(const std::string& params_json) { return make_node("AudioChunker", params_json); }

// A signal whose sample at frame f, channel c is f * 8 + c (exact in every sample type), so any
// frame out of place shows.
Ref<AudioBuffer> ramp(DType dtype, int channels, bool planar, int64_t frames, int rate = 16000) {
  Ref<NDArray> a = NDArray::allocate(dtype, audio_shape(frames, channels, planar));
  visit_sample_type(dtype, [&](auto tag) {
    using T = decltype(tag);
    T* d = a->mutable_data_as<T>();
    for (int64_t f = 0; f < frames; ++f) {
      for (int c = 0; c < channels; ++c) {
        const int64_t i = planar && channels > 1 ? c * frames + f : f * channels + c;
        d[i] = static_cast<T>((f * 8 + c) % 30000);
      }
    }
  });
  return AudioBuffer::make(a, rate, planar ? ChannelLayout::kPlanar : ChannelLayout::kInterleaved).value();
}

// Frame f of a buffer whose samples are `all` (samples_to_double), one double per channel.
std::vector<double> frame(const AudioBuffer& a, const std::vector<double>& all, int64_t f) {
  std::vector<double> out;
  const bool planar = a.samples()->ndim() == 2 && a.layout() == ChannelLayout::kPlanar;
  for (int c = 0; c < a.channels(); ++c) out.push_back(all[planar ? c * a.frames() + f : f * a.channels() + c]);
  return out;
}

std::vector<double> doubles(const AudioBuffer& a) {
  std::vector<double> all(static_cast<size_t>(a.samples()->size()));
  samples_to_double(*a.samples(), all.data());
  return all;
}

std::vector<Value> random_items(std::mt19937_64& rng, const AudioBuffer& whole, int64_t max_item) {
  std::vector<Value> items;
  for (int64_t i = 0; i < whole.frames();) {
    const int64_t n = std::min<int64_t>(std::uniform_int_distribution<int64_t>(0, max_item)(rng), whole.frames() - i);
    items.push_back(frames_of(whole, i, n));
    i += n;
  }
  return items;
}

TEST(AudioChunker, ChunksAreExactAndIndependentOfTheInputsItems) {
  std::mt19937_64 rng(11);
  for (DType dtype : {DType::kInt16, DType::kInt32, DType::kFloat32, DType::kFloat64}) {
    for (int channels : {1, 2, 3}) {
      for (bool planar : {false, true}) {
        if (channels == 1 && planar) continue;
        for (bool pad : {false, true}) {
          SCOPED_TRACE(std::string(dtype_name(dtype)) + " " + std::to_string(channels) + (planar ? " planar" : "") +
                       (pad ? " pad" : ""));
          const int64_t total = 5000, size = 320;
          Ref<AudioBuffer> whole = ramp(dtype, channels, planar, total);
          const std::string params = R"({"frames": 320, "pad": )" + std::string(pad ? "true" : "false") + "}";
          std::vector<Value> reference = stream(*chunker(params), {Value::audio(whole)});
          for (int trial = 0; trial < 5; ++trial) {
            std::vector<Value> outs = stream(*chunker(params), random_items(rng, *whole, trial < 2 ? 100 : 1500));
            ASSERT_EQ(outs.size(), reference.size());
            for (size_t i = 0; i < outs.size(); ++i) EXPECT_TRUE(outs[i] == reference[i]) << "chunk " << i;
          }
          ASSERT_EQ(reference.size(), 16u);  // 15 full chunks and 200 frames
          int64_t f0 = 0;
          const std::vector<double> whole_samples = doubles(*whole);
          for (size_t i = 0; i < reference.size(); ++i) {
            const AudioBuffer& c = reference[i].as_audio();
            const std::vector<double> chunk_samples = doubles(c);
            EXPECT_EQ(c.frames(), i < 15 || pad ? size : total % size);
            EXPECT_EQ(c.dtype(), dtype);
            EXPECT_EQ(c.layout(), whole->layout());
            EXPECT_EQ(c.channels(), channels);
            EXPECT_EQ(c.sample_rate(), 16000);
            for (int64_t f = 0; f < c.frames(); ++f, ++f0) {
              if (f0 < total) {
                EXPECT_EQ(frame(c, chunk_samples, f), frame(*whole, whole_samples, f0)) << "chunk " << i << " frame " << f;
              } else {
                EXPECT_EQ(frame(c, chunk_samples, f), std::vector<double>(static_cast<size_t>(channels), 0.0)) << "padding";
              }
            }
          }
        }
      }
    }
  }
}

TEST(AudioChunker, ChunksInsideAnItemShareItsSamples) {
  Ref<AudioBuffer> whole = ramp(DType::kFloat32, 2, false, 1000);
  Value item = Value::audio(whole);
  std::vector<Value> outs = stream(*chunker(R"({"frames": 300})"), {item});
  ASSERT_EQ(outs.size(), 4u);
  const auto* base = static_cast<const char*>(whole->samples()->data());
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(outs[i].as_audio().samples()->data(), base + i * 300 * 2 * sizeof(float));
  }
  EXPECT_NE(outs[3].as_audio().samples()->data(), base + 900 * 2 * sizeof(float));  // the held remainder: a copy
  // An item that is exactly a chunk is the chunk.
  std::vector<Value> same = stream(*chunker(R"({"frames": 1000})"), {item});
  ASSERT_EQ(same.size(), 1u);
  EXPECT_EQ(&same[0].as_audio(), whole.get());
}

TEST(AudioChunker, DurationIsRoundedHalfToEvenAtTheFirstRate) {
  struct Case { const char* ms; int rate; int64_t frames; };
  // 20 ms at 16 kHz: 320; 2.5 ms at 1 kHz: 2.5 -> 2; 3.5 ms: 3.5 -> 4; 0.7 ms at 1 kHz: 0.7 -> 1.
  for (const Case& c : {Case{"20", 16000, 320}, Case{"20.0", 44100, 882}, Case{"2.5", 1000, 2},
                        Case{"3.5", 1000, 4}, Case{"0.7", 1000, 1}, Case{"10", 22050, 220}}) {
    SCOPED_TRACE(std::string(c.ms) + " ms at " + std::to_string(c.rate));
    Ref<AudioBuffer> whole = ramp(DType::kInt16, 1, false, 3 * c.frames + 1, c.rate);
    std::vector<Value> outs = stream(*chunker(std::string(R"({"duration_ms": )") + c.ms + "}"), {Value::audio(whole)});
    ASSERT_EQ(outs.size(), 4u);
    EXPECT_EQ(outs[0].as_audio().frames(), c.frames);
    EXPECT_EQ(outs[3].as_audio().frames(), 1);
  }
}

TEST(AudioChunker, DurationBelowOneFrameIsAValueError) {
  auto node = chunker(R"({"duration_ms": 0.4})");
  std::vector<Value> out;
  VectorEmitter emit(out);
  Status s = node->process(Value::audio(ramp(DType::kFloat32, 1, false, 10, 1000)), emit);
  EXPECT_EQ(s.code(), StatusCode::kValueError);
  EXPECT_EQ(s.message(), "duration_ms 0.4 at 1000 Hz is less than one frame");
}

TEST(AudioChunker, EmptyInputEmitsNothingAndAnExactMultipleHasNoRemainder) {
  EXPECT_TRUE(stream(*chunker(R"({"frames": 4, "pad": true})"), {}).empty());
  EXPECT_TRUE(stream(*chunker(R"({"frames": 4, "pad": true})"), {Value::audio(ramp(DType::kInt16, 2, false, 0))}).empty());
  EXPECT_EQ(stream(*chunker(R"({"frames": 4, "pad": true})"), {Value::audio(ramp(DType::kInt16, 2, false, 8))}).size(), 2u);
}

TEST(AudioChunker, StreamChangesAndNonAudioAreErrors) {
  struct Case { Ref<AudioBuffer> second; const char* message; };
  const std::vector<Case> cases = {
      {ramp(DType::kFloat32, 2, false, 10, 8000), "sample rate changed from 16000 to 8000 Hz"},
      {ramp(DType::kFloat32, 3, false, 10), "channel count changed from 2 to 3"},
      {ramp(DType::kInt16, 2, false, 10), "sample type changed from float32 to int16"},
      {ramp(DType::kFloat32, 2, true, 10), "layout changed from interleaved to planar"},
  };
  for (const Case& c : cases) {
    auto node = chunker(R"({"frames": 4})");
    std::vector<Value> out;
    VectorEmitter emit(out);
    ASSERT_TRUE(node->process(Value::audio(ramp(DType::kFloat32, 2, false, 10)), emit).ok());
    Status s = node->process(Value::audio(c.second), emit);
    EXPECT_EQ(s.code(), StatusCode::kValueError);
    EXPECT_EQ(s.message(), c.message);
  }
  auto mono = chunker(R"({"frames": 4})");
  std::vector<Value> out;
  VectorEmitter emit(out);
  ASSERT_TRUE(mono->process(Value::audio(ramp(DType::kFloat32, 1, false, 10)), emit).ok());
  Ref<NDArray> column = NDArray::allocate(DType::kFloat32, {10, 1});
  Status s = mono->process(Value::audio(AudioBuffer::make(column, 16000).value()), emit);
  EXPECT_EQ(s.message(), "layout changed from 1-D mono to interleaved");
  Status t = mono->process(Value::real(1.5), emit);
  EXPECT_EQ(t.code(), StatusCode::kTypeError);
  EXPECT_EQ(t.message(), "expects audio, got float");
}

TEST(AudioChunker, ParametersNeedExactlyOneLength) {
  auto compile = [](const std::string& params) { return one_node("AudioChunker", params); };
  struct Case { const char* params; const char* path; const char* message; };
  for (const Case& c : {
           Case{R"({})", "$.nodes[0].params", "give exactly one of 'frames' and 'duration_ms'"},
           Case{R"({"pad": true})", "$.nodes[0].params", "give exactly one of 'frames' and 'duration_ms'"},
           Case{R"({"frames": 10, "duration_ms": 20})", "$.nodes[0].params.duration_ms",
                "give exactly one of 'frames' and 'duration_ms'"},
           Case{R"({"frames": 0})", "$.nodes[0].params.frames", "parameter 'frames' must be at least 1"},
           Case{R"({"duration_ms": 0})", "$.nodes[0].params.duration_ms", "parameter 'duration_ms' must be more than 0"},
           Case{R"({"duration_ms": -2.5})", "$.nodes[0].params.duration_ms", "parameter 'duration_ms' must be more than 0"},
           Case{R"({"frames": 2.0})", "$.nodes[0].params.frames", nullptr},
           Case{R"({"frames": null})", "$.nodes[0].params.frames", nullptr},
       }) {
    Result<Graph> g = compile(c.params);
    ASSERT_FALSE(g.ok()) << c.params;
    EXPECT_EQ(g.status().code(), StatusCode::kInvalidParameter) << c.params;
    EXPECT_EQ(g.status().path(), c.path) << c.params;
    if (c.message) {
      EXPECT_EQ(g.status().message(), c.message) << c.params;
    }
  }
  EXPECT_TRUE(compile(R"({"duration_ms": 20, "pad": true})").ok());
  EXPECT_TRUE(compile(R"({"frames": 1})").ok());
}

TEST(AudioChunker, ErrorsNameTheNodeAndItemInAPipeline) {
  Manifest m = parse_manifest(R"({"version": "v1", "nodes": [
      {"id": "chunks", "node_type": "AudioChunkerNode", "params": {"frames": 160}}]})").value();
  Graph g = Graph::compile(m, Registry::global()).value();
  Result<std::vector<Value>> out = run(g, {Value::audio(ramp(DType::kInt16, 1, false, 500)),
                                           Value::audio(ramp(DType::kInt16, 1, false, 500, 48000))});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kValueError);
  EXPECT_EQ(out.status().node_id(), "chunks");
  EXPECT_EQ(out.status().item_index(), 1);
}

}  // namespace
}  // namespace remotemedia

// AudioResampleNode (src/nodes/audio_resample.cpp): libsoxr streaming. What a plausible bug would
// change: the frequency or level of a tone, the output length, output that depends on how the input
// was chunked, dithered (run-dependent) integer output, layouts or sample types mixed up, the
// stream rules and their messages.
#include <gtest/gtest.h>

#include <cmath>
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
using audio_test::audio_value;
using audio_test::frames_of;
using audio_test::make_node;
using audio_test::one_node;
using audio_test::stream;

constexpr double kPi = 3.14159265358979323846;

std::unique_ptr<Node> resampler(int rate, const char* quality = "high") {
  return make_node("AudioResample", R"({"sample_rate": )" + std::to_string(rate) + R"(, "quality": ")" + quality + "\"}");
}

// The outputs joined along frames (all of one form), as float64 interleaved [frames][channels].
struct Joined {
  std::vector<double> samples;
  int64_t frames = 0;
  int channels = 0;
};
Joined join(const std::vector<Value>& outs) {
  Joined j;
  for (const Value& v : outs) {
    Ref<AudioBuffer> a = to_layout(Ref<AudioBuffer>(const_cast<AudioBuffer*>(&v.as_audio())), ChannelLayout::kInterleaved);
    std::vector<double> d(static_cast<size_t>(a->samples()->size()));
    samples_to_double(*a->samples(), d.data());
    j.samples.insert(j.samples.end(), d.begin(), d.end());
    j.frames += a->frames();
    j.channels = a->channels();
  }
  return j;
}

// The raw bytes of all outputs, in order: exact comparisons of outputs of one layout.
bool same_samples(const std::vector<Value>& a, const std::vector<Value>& b) {
  std::string x, y;
  for (const Value& v : a) {
    const NDArray& s = *v.as_audio().samples();
    x.append(static_cast<const char*>(s.data()), s.nbytes());
  }
  for (const Value& v : b) {
    const NDArray& s = *v.as_audio().samples();
    y.append(static_cast<const char*>(s.data()), s.nbytes());
  }
  return x == y;
}

// A sine of `freq` Hz and amplitude `amp` at `rate`, float64 mono.
Ref<NDArray> sine(double freq, double amp, int rate, int64_t frames) {
  Ref<NDArray> a = NDArray::allocate(DType::kFloat64, {frames});
  for (int64_t i = 0; i < frames; ++i) {
    a->mutable_data_as<double>()[i] = amp * std::sin(2 * kPi * freq * static_cast<double>(i) / rate);
  }
  return a;
}

// Random samples of a type, shape and layout, in about [-1, 1) scale (ints at ~full scale).
Value noise(std::mt19937_64& rng, DType dtype, int rate, int channels, bool planar, int64_t frames) {
  Ref<NDArray> f = NDArray::allocate(DType::kFloat64, audio_shape(frames, channels, planar));
  std::uniform_real_distribution<double> u(-0.9, 0.9);
  for (int64_t i = 0; i < f->size(); ++i) f->mutable_data_as<double>()[i] = u(rng);
  return audio_value(convert_samples(f, dtype), rate, planar ? ChannelLayout::kPlanar : ChannelLayout::kInterleaved);
}

TEST(AudioResample, SineKeepsItsFrequencyAndAmplitude) {
  struct Case {
    int in, out;
    const char* quality;
    double tolerance;  // max |error| against the analytic sine, away from the edges
  };
  for (const Case& c : {Case{48000, 16000, "high", 1e-5}, Case{44100, 48000, "high", 1e-5},
                        Case{16000, 48000, "high", 1e-5}, Case{48000, 16000, "very_high", 1e-8},
                        Case{16000, 48000, "quick", 1e-3}}) {
    SCOPED_TRACE(std::to_string(c.in) + " -> " + std::to_string(c.out) + " " + c.quality);
    auto node = resampler(c.out, c.quality);
    Ref<NDArray> x = sine(1000.0, 0.5, c.in, c.in);  // one second
    std::vector<Value> items;
    Ref<AudioBuffer> whole = AudioBuffer::make(x, c.in).value();
    for (int64_t i = 0; i < c.in; i += c.in / 50) items.push_back(frames_of(*whole, i, std::min<int64_t>(c.in / 50, c.in - i)));
    Joined y = join(stream(*node, items));
    ASSERT_EQ(y.frames, c.out);
    double worst = 0, peak = 0;
    for (int64_t k = c.out / 10; k < c.out - c.out / 10; ++k) {
      const double want = 0.5 * std::sin(2 * kPi * 1000.0 * static_cast<double>(k) / c.out);
      worst = std::max(worst, std::fabs(y.samples[k] - want));
      peak = std::max(peak, std::fabs(y.samples[k]));
    }
    EXPECT_LT(worst, c.tolerance);
    EXPECT_NEAR(peak, 0.5, 1e-3);
  }
}

TEST(AudioResample, RemovesWhatTheNewRateCannotCarry) {
  // 10 kHz is above 16 kHz's Nyquist frequency: the filter removes it (aliasing would leave a
  // 6 kHz tone at the full level).
  auto node = resampler(16000);
  Joined y = join(stream(*node, {audio_value(sine(10000.0, 0.5, 48000, 48000), 48000)}));
  double peak = 0;
  for (int64_t k = 1600; k < 14400; ++k) peak = std::max(peak, std::fabs(y.samples[k]));
  EXPECT_LT(peak, 1e-4);
}

TEST(AudioResample, TotalLengthIsTheRatioRoundedHalfUp) {
  // soxr's rule, checked here for ties too: 5 frames at 16 kHz -> 2.5 at 8 kHz -> 3.
  struct Case { int in, out; int64_t frames, want; };
  for (const Case& c : {Case{16000, 8000, 5, 3}, Case{16000, 8000, 1, 1}, Case{16000, 8000, 4, 2},
                        Case{32000, 48000, 3, 5}, Case{48000, 16000, 961, 320}, Case{48000, 16000, 962, 321},
                        Case{44100, 48000, 44100, 48000}, Case{44100, 48000, 12345, 13437},
                        Case{8000, 44100, 1001, 5518}, Case{48000, 16000, 0, 0}}) {
    SCOPED_TRACE(std::to_string(c.in) + " -> " + std::to_string(c.out) + ", " + std::to_string(c.frames));
    std::mt19937_64 rng(7);
    auto node = resampler(c.out);
    Joined y = join(stream(*node, {noise(rng, DType::kFloat32, c.in, 1, false, c.frames)}));
    EXPECT_EQ(y.frames, c.want);
  }
}

TEST(AudioResample, ChunkingDoesNotChangeTheOutput) {
  std::mt19937_64 rng(42);
  for (DType dtype : {DType::kInt16, DType::kInt32, DType::kFloat32, DType::kFloat64}) {
    for (int channels : {1, 2}) {
      for (bool planar : {false, true}) {
        if (channels == 1 && planar) continue;
        SCOPED_TRACE(std::string(dtype_name(dtype)) + " " + std::to_string(channels) + (planar ? " planar" : ""));
        Value whole = noise(rng, dtype, 48000, channels, planar, 24000);
        const AudioBuffer& w = whole.as_audio();
        std::vector<Value> reference = stream(*resampler(16000), {whole});
        EXPECT_EQ(reference.size(), 2u);  // the item's output, then the flushed tail
        // 20 ms chunks, then random sizes with empty items among them.
        std::vector<Value> chunks20, random;
        for (int64_t i = 0; i < 24000; i += 960) chunks20.push_back(frames_of(w, i, std::min<int64_t>(960, 24000 - i)));
        for (int64_t i = 0; i < 24000;) {
          const int64_t n = std::min<int64_t>(std::uniform_int_distribution<int64_t>(0, 3000)(rng), 24000 - i);
          random.push_back(frames_of(w, i, n));
          i += n;
        }
        std::vector<Value> a = stream(*resampler(16000), chunks20);
        std::vector<Value> b = stream(*resampler(16000), random);
        // (float64 holds every sample type exactly, so equal doubles are equal samples)
        EXPECT_EQ(join(reference).samples, join(a).samples);
        EXPECT_EQ(join(reference).samples, join(b).samples);
        for (const Value& v : b) {  // every output has the input's form, and no output is empty
          EXPECT_EQ(v.as_audio().dtype(), dtype);
          EXPECT_EQ(v.as_audio().layout(), w.layout());
          EXPECT_EQ(v.as_audio().channels(), channels);
          EXPECT_EQ(v.as_audio().sample_rate(), 16000);
          EXPECT_GT(v.as_audio().frames(), 0);
        }
      }
    }
  }
}

TEST(AudioResample, IntegerOutputIsUnditheredAndRoundsAsConvertSamples) {
  // int16 through libsoxr with its default TPDF dither differs from run to run; without it, the
  // result is the float64 resampling rounded by the shared rule (what the Python executor does).
  std::mt19937_64 rng(3);
  for (DType dtype : {DType::kInt16, DType::kInt32}) {
    for (const char* quality : {"quick", "high", "very_high"}) {
      Value x = noise(rng, dtype, 44100, 2, false, 20000);
      std::vector<Value> a = stream(*resampler(48000, quality), {x});
      std::vector<Value> b = stream(*resampler(48000, quality), {x});
      EXPECT_TRUE(same_samples(a, b));
      Value as_float = Value::audio(convert_audio(Ref<AudioBuffer>(const_cast<AudioBuffer*>(&x.as_audio())), DType::kFloat64));
      std::vector<Value> f = stream(*resampler(48000, quality), {as_float});
      ASSERT_EQ(a.size(), f.size());
      for (size_t i = 0; i < a.size(); ++i) {
        Ref<AudioBuffer> rounded = convert_audio(Ref<AudioBuffer>(const_cast<AudioBuffer*>(&f[i].as_audio())), dtype);
        EXPECT_TRUE(rounded->samples()->equals(*a[i].as_audio().samples())) << dtype_name(dtype) << " " << quality;
      }
    }
  }
}

TEST(AudioResample, PlanarAndInterleavedGiveTheSameSamples) {
  std::mt19937_64 rng(5);
  Value inter = noise(rng, DType::kFloat32, 48000, 3, false, 9000);
  Value planar = Value::audio(to_layout(Ref<AudioBuffer>(const_cast<AudioBuffer*>(&inter.as_audio())), ChannelLayout::kPlanar));
  Joined a = join(stream(*resampler(22050), {inter}));
  Joined b = join(stream(*resampler(22050), {planar}));
  EXPECT_EQ(a.frames, b.frames);
  EXPECT_EQ(a.samples, b.samples);
}

TEST(AudioResample, ItemsChangingTypeOrLayoutKeepTheirOwnForm) {
  // The stream resamples in its first item's type and layout; a later item of another type or
  // layout is converted in and its output converted back (docs/AUDIO.md's conversions).
  std::mt19937_64 rng(9);
  Value first = noise(rng, DType::kInt16, 48000, 2, false, 4800);
  Value second = noise(rng, DType::kFloat64, 48000, 2, true, 4800);
  std::vector<Value> outs = stream(*resampler(16000), {first, second});
  ASSERT_GE(outs.size(), 2u);
  EXPECT_EQ(outs[0].as_audio().dtype(), DType::kInt16);
  EXPECT_EQ(outs[0].as_audio().layout(), ChannelLayout::kInterleaved);
  for (size_t i = 1; i < outs.size(); ++i) {  // the later output and the flushed tail: the last item's form
    EXPECT_EQ(outs[i].as_audio().dtype(), DType::kFloat64);
    EXPECT_EQ(outs[i].as_audio().layout(), ChannelLayout::kPlanar);
  }
  // The same as converting the second item first.
  Value converted = Value::audio(to_layout(convert_audio(Ref<AudioBuffer>(const_cast<AudioBuffer*>(&second.as_audio())), DType::kInt16),
                                           ChannelLayout::kInterleaved));
  std::vector<Value> ref = stream(*resampler(16000), {first, converted});
  ASSERT_EQ(ref.size(), outs.size());
  for (size_t i = 1; i < outs.size(); ++i) {
    Ref<AudioBuffer> back = convert_audio(to_layout(Ref<AudioBuffer>(const_cast<AudioBuffer*>(&ref[i].as_audio())), ChannelLayout::kPlanar), DType::kFloat64);
    EXPECT_TRUE(back->samples()->equals(*outs[i].as_audio().samples()));
  }
}

TEST(AudioResample, AtTheOutputRateItemsPassThroughUnchanged) {
  auto node = resampler(16000);
  std::mt19937_64 rng(1);
  Value a = noise(rng, DType::kFloat32, 16000, 1, false, 320);
  Value empty = noise(rng, DType::kFloat32, 16000, 1, false, 0);
  std::vector<Value> out = stream(*node, {a, empty, a});
  ASSERT_EQ(out.size(), 2u);  // the empty item emits nothing
  EXPECT_EQ(&out[0].as_audio(), &a.as_audio());
  EXPECT_EQ(&out[1].as_audio(), &a.as_audio());
}

TEST(AudioResample, EmptyItemsAndNoItemsEmitNothing) {
  std::mt19937_64 rng(1);
  EXPECT_TRUE(stream(*resampler(16000), {}).empty());
  EXPECT_TRUE(stream(*resampler(16000), {noise(rng, DType::kInt16, 48000, 2, false, 0)}).empty());
}

TEST(AudioResample, StreamChangesAndNonAudioAreErrors) {
  std::mt19937_64 rng(1);
  std::vector<Value> out;
  VectorEmitter emit(out);
  auto node = resampler(16000);
  EXPECT_TRUE(node->process(noise(rng, DType::kFloat32, 48000, 2, false, 100), emit).ok());
  Status rate = node->process(noise(rng, DType::kFloat32, 44100, 2, false, 100), emit);
  EXPECT_EQ(rate.code(), StatusCode::kValueError);
  EXPECT_EQ(rate.message(), "sample rate changed from 48000 to 44100 Hz");
  Status channels = node->process(noise(rng, DType::kFloat32, 48000, 1, false, 100), emit);
  EXPECT_EQ(channels.code(), StatusCode::kValueError);
  EXPECT_EQ(channels.message(), "channel count changed from 2 to 1");
  Status type = node->process(Value::integer(3), emit);
  EXPECT_EQ(type.code(), StatusCode::kTypeError);
  EXPECT_EQ(type.message(), "expects audio, got int");
  // Passing through, the stream rules hold all the same.
  auto same = resampler(16000);
  EXPECT_TRUE(same->process(noise(rng, DType::kFloat32, 16000, 1, false, 10), emit).ok());
  EXPECT_EQ(same->process(noise(rng, DType::kFloat32, 8000, 1, false, 10), emit).code(), StatusCode::kValueError);
}

TEST(AudioResample, ErrorsNameTheNodeAndItemInAPipeline) {
  Manifest m = parse_manifest(R"({"version": "v1", "nodes": [
      {"id": "rs", "node_type": "AudioResample", "params": {"sample_rate": 16000}}]})").value();
  Graph g = Graph::compile(m, Registry::global()).value();
  std::mt19937_64 rng(1);
  Result<std::vector<Value>> out = run(g, {noise(rng, DType::kFloat32, 48000, 1, false, 960),
                                           noise(rng, DType::kFloat32, 48000, 1, false, 960), Value::string("x")});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kTypeError);
  EXPECT_EQ(out.status().node_id(), "rs");
  EXPECT_EQ(out.status().item_index(), 2);
  EXPECT_EQ(out.status().message(), "expects audio, got str");
}

TEST(AudioResample, ParametersAreChecked) {
  auto compile = [](const std::string& params) { return one_node("AudioResampleNode", params); };
  struct Case { const char* params; const char* path; };
  for (const Case& c : {Case{R"({})", "$.nodes[0].params"},
                        Case{R"({"sample_rate": 0})", "$.nodes[0].params.sample_rate"},
                        Case{R"({"sample_rate": 16000.0})", "$.nodes[0].params.sample_rate"},
                        Case{R"({"sample_rate": 4294967296})", "$.nodes[0].params.sample_rate"},
                        Case{R"({"sample_rate": 16000, "quality": "best"})", "$.nodes[0].params.quality"}}) {
    Result<Graph> g = compile(c.params);
    ASSERT_FALSE(g.ok()) << c.params;
    EXPECT_EQ(g.status().code(), StatusCode::kInvalidParameter) << c.params;
    EXPECT_EQ(g.status().path(), c.path) << c.params;
  }
  EXPECT_TRUE(compile(R"({"sample_rate": 16000, "quality": "very_high"})").ok());
}

}  // namespace
}  // namespace remotemedia

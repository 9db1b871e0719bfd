// AudioFileSource and AudioFileSink (src/nodes/audio_files.cpp) through the executor, on files this
// test writes with libsndfile in a temporary directory: exact samples and chunking for WAV and FLAC,
// Ogg Vorbis within a codec's tolerance, the sample-type and layout conversions, the failures
// (missing, corrupt, truncated and unsupported files, wrong item types, stream changes) and the
// sink's round trip, summary and closing on error.
#include <gtest/gtest.h>
#include <sndfile.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
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
#include "remotemedia/registry.h"

namespace remotemedia {
namespace {

namespace fs = std::filesystem;
using audio_test::audio_value;
using audio_test::one_node;

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "rm-audio-files-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  std::string file(const std::string& name) const { return (fs::path(path_) / name).string(); }

 private:
  std::string path_;
};

Graph source_graph(const std::string& params = "{}") {
  Result<Graph> g = one_node("AudioFileSource", params, "src");
  EXPECT_TRUE(g.ok()) << g.status().to_string();
  return std::move(g).value();
}

Graph sink_graph(const std::string& params) {
  Result<Graph> g = one_node("AudioFileSink", params, "sink");
  EXPECT_TRUE(g.ok()) << g.status().to_string();
  return std::move(g).value();
}

std::string quoted(const std::string& s) { return "\"" + s + "\""; }

// Random 16-bit samples, interleaved, covering the full range including the extremes.
std::vector<int16_t> random_int16(int64_t frames, int channels, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> d(-32768, 32767);
  std::vector<int16_t> v(static_cast<size_t>(frames * channels));
  for (auto& s : v) s = static_cast<int16_t>(d(rng));
  if (v.size() >= 2) {
    v[0] = -32768;
    v[1] = 32767;
  }
  return v;
}

template <typename T>
void write_file(const std::string& path, int format, int rate, int channels, const std::vector<T>& interleaved) {
  SF_INFO info{};
  info.samplerate = rate;
  info.channels = channels;
  info.format = format;
  SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
  ASSERT_NE(f, nullptr) << sf_strerror(nullptr);
  const sf_count_t frames = static_cast<sf_count_t>(interleaved.size()) / channels;
  sf_count_t wrote = 0;
  if constexpr (std::is_same_v<T, int16_t>) wrote = sf_writef_short(f, interleaved.data(), frames);
  else if constexpr (std::is_same_v<T, int32_t>) wrote = sf_writef_int(f, interleaved.data(), frames);
  else wrote = sf_writef_float(f, interleaved.data(), frames);
  EXPECT_EQ(wrote, frames);
  EXPECT_EQ(sf_close(f), 0);
}

template <typename T>
std::vector<T> read_file(const std::string& path, SF_INFO* info) {
  *info = SF_INFO{};
  SNDFILE* f = sf_open(path.c_str(), SFM_READ, info);
  EXPECT_NE(f, nullptr) << path << ": " << sf_strerror(nullptr);
  if (f == nullptr) return {};
  std::vector<T> v(static_cast<size_t>(info->frames * info->channels));
  sf_count_t got = 0;
  if constexpr (std::is_same_v<T, int16_t>) got = sf_readf_short(f, v.data(), info->frames);
  else if constexpr (std::is_same_v<T, int32_t>) got = sf_readf_int(f, v.data(), info->frames);
  else got = sf_readf_float(f, v.data(), info->frames);
  EXPECT_EQ(got, info->frames);
  sf_close(f);
  return v;
}

std::vector<Ref<AudioBuffer>> run_source(const Graph& g, std::vector<Value> items) {
  Result<std::vector<Value>> out = run(g, std::move(items));
  EXPECT_TRUE(out.ok()) << out.status().to_string();
  std::vector<Ref<AudioBuffer>> chunks;
  if (!out.ok()) return chunks;
  for (const Value& v : *out) {
    EXPECT_EQ(v.kind(), ValueKind::kAudio);
    chunks.emplace_back(const_cast<AudioBuffer*>(&v.as_audio()));
  }
  return chunks;
}

// The chunks' samples back to back, as interleaved T.
template <typename T>
std::vector<T> concat_interleaved(const std::vector<Ref<AudioBuffer>>& chunks) {
  std::vector<T> all;
  for (const auto& c : chunks) {
    Ref<AudioBuffer> inter = to_layout(c, ChannelLayout::kInterleaved);
    const T* p = inter->samples()->data_as<T>();
    all.insert(all.end(), p, p + inter->samples()->size());
  }
  return all;
}

template <typename T>
Ref<NDArray> array_of(const std::vector<T>& values, std::vector<int64_t> shape) {
  Ref<NDArray> a = NDArray::allocate(DTypeOf<T>::value, std::move(shape));
  std::copy(values.begin(), values.end(), a->mutable_data_as<T>());
  return a;
}

// ------------------------------------------------------------------------------ source

TEST(AudioFileSource, WavInt16IsExactAndChunkedByChunkMs) {
  TempDir dir;
  const std::string path = dir.file("a.wav");
  const auto samples = random_int16(1000, 2, 1);
  write_file(path, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 2, samples);

  auto chunks = run_source(source_graph(R"({"dtype": "int16"})"), {Value::string(path)});
  // 20 ms at 8000 Hz = 160 frames: six full chunks and the remaining 40 frames.
  ASSERT_EQ(chunks.size(), 7u);
  for (size_t i = 0; i < 6; ++i) EXPECT_EQ(chunks[i]->frames(), 160);
  EXPECT_EQ(chunks[6]->frames(), 40);
  for (const auto& c : chunks) {
    EXPECT_EQ(c->dtype(), DType::kInt16);
    EXPECT_EQ(c->channels(), 2);
    EXPECT_EQ(c->sample_rate(), 8000);
    EXPECT_EQ(c->layout(), ChannelLayout::kInterleaved);
  }
  EXPECT_EQ(concat_interleaved<int16_t>(chunks), samples);
}

TEST(AudioFileSource, ConvertsBySharedRulesNotLibsndfiles) {
  TempDir dir;
  const std::string path = dir.file("a.wav");
  const auto samples = random_int16(500, 1, 2);
  write_file(path, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1, samples);

  auto as_float = concat_interleaved<float>(run_source(source_graph(R"({"dtype": "float32"})"), {Value::string(path)}));
  auto as_int32 = concat_interleaved<int32_t>(run_source(source_graph(R"({"dtype": "int32"})"), {Value::string(path)}));
  ASSERT_EQ(as_float.size(), samples.size());
  ASSERT_EQ(as_int32.size(), samples.size());
  for (size_t i = 0; i < samples.size(); ++i) {
    EXPECT_EQ(as_float[i], static_cast<float>(samples[i]) / 32768.0f);  // exact power-of-two scale
    EXPECT_EQ(as_int32[i], static_cast<int32_t>(samples[i]) * 65536);
  }
}

TEST(AudioFileSource, PlanarLayoutAndMonoAre1D) {
  TempDir dir;
  const std::string stereo = dir.file("s.wav"), mono = dir.file("m.wav");
  const auto s = random_int16(300, 2, 3), m = random_int16(300, 1, 4);
  write_file(stereo, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 2, s);
  write_file(mono, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 1, m);

  auto planar = run_source(source_graph(R"({"dtype": "int16", "layout": "planar", "chunk_ms": 1000})"),
                           {Value::string(stereo)});
  ASSERT_EQ(planar.size(), 1u);
  EXPECT_EQ(planar[0]->layout(), ChannelLayout::kPlanar);
  EXPECT_EQ(planar[0]->samples()->shape(), (std::vector<int64_t>{2, 300}));
  const int16_t* p = planar[0]->samples()->data_as<int16_t>();
  for (int64_t f = 0; f < 300; ++f) {
    ASSERT_EQ(p[f], s[f * 2]);
    ASSERT_EQ(p[300 + f], s[f * 2 + 1]);
  }
  auto mono_chunks = run_source(source_graph(R"({"dtype": "int16", "layout": "planar"})"), {Value::string(mono)});
  ASSERT_FALSE(mono_chunks.empty());
  EXPECT_EQ(mono_chunks[0]->samples()->ndim(), 1);
  EXPECT_EQ(concat_interleaved<int16_t>(mono_chunks), m);
}

TEST(AudioFileSource, ChunkFramesRoundHalfToEven) {
  TempDir dir;
  const std::string path = dir.file("a.wav");
  write_file(path, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 1000, 1, random_int16(10, 1, 5));
  auto sizes = [&](const std::string& ms) {
    std::vector<int64_t> out;
    for (const auto& c : run_source(source_graph(R"({"chunk_ms": )" + ms + "}"), {Value::string(path)}))
      out.push_back(c->frames());
    return out;
  };
  EXPECT_EQ(sizes("2.5"), (std::vector<int64_t>{2, 2, 2, 2, 2}));  // 2.5 frames -> 2
  EXPECT_EQ(sizes("3.5"), (std::vector<int64_t>{4, 4, 2}));        // 3.5 frames -> 4
  EXPECT_EQ(sizes("0.1"), std::vector<int64_t>(10, 1));            // never fewer than one frame
  EXPECT_EQ(sizes("100000"), (std::vector<int64_t>{10}));          // a chunk longer than the file
}

TEST(AudioFileSource, FlacAndWav24BitReadAsInt32Exactly) {
  TempDir dir;
  std::mt19937 rng(6);
  std::uniform_int_distribution<int32_t> d(-(1 << 23), (1 << 23) - 1);
  std::vector<int32_t> samples(2 * 777);
  for (auto& s : samples) s = d(rng) * 256;  // 24-bit values, as libsndfile hands them out
  for (const auto& [name, format] : {std::pair{"a.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_24},
                                     std::pair{"a.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_24}}) {
    const std::string path = dir.file(name);
    write_file(path, format, 44100, 2, samples);
    auto chunks = run_source(source_graph(R"({"dtype": "int32", "chunk_ms": 5})"), {Value::string(path)});
    EXPECT_EQ(chunks.front()->frames(), 220) << name;  // round(220.5) = 220
    EXPECT_EQ(concat_interleaved<int32_t>(chunks), samples) << name;
  }
}

TEST(AudioFileSource, FlacInt16IsExact) {
  TempDir dir;
  const std::string path = dir.file("a.flac");
  const auto samples = random_int16(4097, 2, 7);
  write_file(path, SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 48000, 2, samples);
  EXPECT_EQ(concat_interleaved<int16_t>(run_source(source_graph(R"({"dtype": "int16"})"), {Value::string(path)})),
            samples);
}

TEST(AudioFileSource, OggVorbisDecodesCloseToTheSignal) {
  TempDir dir;
  const std::string path = dir.file("a.ogg");
  const int rate = 48000, frames = 48000;
  std::vector<float> sine(static_cast<size_t>(frames));
  for (int i = 0; i < frames; ++i) sine[i] = 0.5f * static_cast<float>(std::sin(2.0 * M_PI * 440.0 * i / rate));
  write_file(path, SF_FORMAT_OGG | SF_FORMAT_VORBIS, rate, 1, sine);

  auto chunks = run_source(source_graph(), {Value::string(path)});
  auto decoded = concat_interleaved<float>(chunks);
  ASSERT_EQ(decoded.size(), sine.size());  // Vorbis keeps the length
  double err = 0, energy = 0;
  for (size_t i = 0; i < sine.size(); ++i) {
    err += (decoded[i] - sine[i]) * (decoded[i] - sine[i]);
    energy += sine[i] * sine[i];
  }
  EXPECT_GT(10 * std::log10(energy / err), 20.0);  // a lossy codec, but a faithful one
  for (size_t i = 0; i + 1 < chunks.size(); ++i) EXPECT_EQ(chunks[i]->frames(), 960);
}

TEST(AudioFileSource, SeveralPathsEmitEachFileInTurnWithoutMixingChunks) {
  TempDir dir;
  const auto a = random_int16(250, 1, 8), b = random_int16(100, 1, 9);
  write_file(dir.file("a.wav"), SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 1, a);
  write_file(dir.file("b.wav"), SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 1, b);
  auto chunks = run_source(source_graph(R"({"dtype": "int16"})"),
                           {Value::string(dir.file("a.wav")), Value::string(dir.file("b.wav"))});
  std::vector<int64_t> sizes;
  for (const auto& c : chunks) sizes.push_back(c->frames());
  EXPECT_EQ(sizes, (std::vector<int64_t>{160, 90, 100}));
  auto all = concat_interleaved<int16_t>(chunks);
  std::vector<int16_t> expected = a;
  expected.insert(expected.end(), b.begin(), b.end());
  EXPECT_EQ(all, expected);
}

TEST(AudioFileSource, AnEmptyFileEmitsNothing) {
  TempDir dir;
  write_file(dir.file("e.wav"), SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 2, std::vector<int16_t>{});
  EXPECT_TRUE(run_source(source_graph(), {Value::string(dir.file("e.wav"))}).empty());
}

TEST(AudioFileSource, TruncatedDataGivesTheFramesThatAreThere) {
  TempDir dir;
  const std::string path = dir.file("t.wav");
  const auto samples = random_int16(1000, 1, 10);
  write_file(path, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 1, samples);
  fs::resize_file(path, 44 + 2 * 600);  // the header still says 1000 frames
  auto decoded = concat_interleaved<int16_t>(run_source(source_graph(R"({"dtype": "int16"})"), {Value::string(path)}));
  EXPECT_EQ(decoded, std::vector<int16_t>(samples.begin(), samples.begin() + 600));
}

Status run_error(const Graph& g, std::vector<Value> items) {
  Result<std::vector<Value>> out = run(g, std::move(items));
  EXPECT_FALSE(out.ok());
  return out.ok() ? Status::OK() : out.status();
}

TEST(AudioFileSource, UnreadableFilesAreValueErrorsNamingThePathAndTheReason) {
  TempDir dir;
  const std::string good = dir.file("good.wav");
  write_file(good, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 1, random_int16(100, 1, 11));
  std::string bytes;
  {
    std::ifstream in(good, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  std::ofstream(dir.file("header.wav"), std::ios::binary) << bytes.substr(0, 30);
  std::mt19937 rng(12);
  std::string noise(4096, '\0');
  for (char& c : noise) c = static_cast<char>(rng());
  std::ofstream(dir.file("noise.wav"), std::ios::binary) << noise;
  std::ofstream(dir.file("notes.txt")) << "not audio\n";

  const struct {
    std::string path, reason;
  } cases[] = {
      {dir.file("missing.wav"), "No such file or directory"},
      {dir.file("noise.wav"), "Format not recognised."},
      {dir.file("notes.txt"), "Format not recognised."},
      {dir.file("header.wav"), ""},  // libsndfile's words for a cut header; checked non-empty below
      {dir.file(""), "Is a directory"},
  };
  Graph g = source_graph();
  for (const auto& c : cases) {
    Status s = run_error(g, {Value::string(good), Value::string(c.path)});
    EXPECT_EQ(s.code(), StatusCode::kValueError) << c.path;
    EXPECT_EQ(s.node_id(), "src");
    EXPECT_EQ(s.item_index(), 1);
    const std::string prefix = "cannot read audio file '" + c.path + "': ";
    EXPECT_EQ(s.message().substr(0, prefix.size()), prefix) << s.message();
    if (!c.reason.empty()) EXPECT_EQ(s.message(), prefix + c.reason);
    else EXPECT_GT(s.message().size(), prefix.size());
  }
}

TEST(AudioFileSource, NonStringItemsAreTypeErrors) {
  Status s = run_error(source_graph(), {Value::integer(3)});
  EXPECT_EQ(s.code(), StatusCode::kTypeError);
  EXPECT_EQ(s.message(), "expects a path string, got int");
  s = run_error(source_graph(), {audio_value(NDArray::allocate(DType::kInt16, {4}), 8000)});
  EXPECT_EQ(s.message(), "expects a path string, got audio");
}

TEST(AudioFileSource, ChunkMsMustBePositive) {
  for (const char* ms : {"0", "-5", "0.0"}) {
    Result<Graph> g = one_node("AudioFileSource", std::string(R"({"chunk_ms": )") + ms + "}", "s");
    ASSERT_FALSE(g.ok());
    EXPECT_EQ(g.status().code(), StatusCode::kInvalidParameter);
    EXPECT_EQ(g.status().path(), "$.nodes[0].params.chunk_ms");
    EXPECT_EQ(g.status().message(), "parameter 'chunk_ms' must be greater than 0");
  }
}

// ------------------------------------------------------------------------------ sink

TEST(AudioFileSink, WritesEveryChunkAndSummarisesAtEnd) {
  TempDir dir;
  const std::string path = dir.file("out.wav");
  const auto samples = random_int16(1000, 2, 13);
  std::vector<Value> items;
  for (int64_t start = 0; start < 1000; start += 300) {
    const int64_t n = std::min<int64_t>(300, 1000 - start);
    std::vector<int16_t> part(samples.begin() + start * 2, samples.begin() + (start + n) * 2);
    items.push_back(audio_value(array_of(part, {n, 2}), 22050));
  }
  Result<std::vector<Value>> out = run(sink_graph(R"({"path": )" + quoted(path) + "}"), std::move(items));
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  ASSERT_EQ(out->size(), 1u);
  EXPECT_EQ(to_json(out->front()).value(), R"({"path": ")" + path +
                                               R"(", "frames": 1000, "sample_rate": 22050, "channels": 2, "duration": )" +
                                               to_json(Value::real(1000.0 / 22050)).value() + "}");
  SF_INFO info;
  EXPECT_EQ(read_file<int16_t>(path, &info), samples);
  EXPECT_EQ(info.format, SF_FORMAT_WAV | SF_FORMAT_PCM_16);  // the default subtype
  EXPECT_EQ(info.samplerate, 22050);
}

TEST(AudioFileSink, ConvertsFloatsByTheSharedRulesAndPlanarToInterleaved) {
  TempDir dir;
  const std::string path = dir.file("f.flac");
  // Planar stereo: channel 0 then channel 1. Half-way values round to even, beyond full scale clip,
  // NaN is 0 (docs/AUDIO.md) - libsndfile alone would scale by 32767.
  const double k = 1.0 / 32768;
  std::vector<double> planar = {0.5 * k, 1.5 * k, 2.5 * k, -0.5 * k, 1.5, -2.0, std::nan(""), 0.25,
                                -1.5 * k, 1.0, -1.0, 32767 * k, 0.0, -0.25, 3 * k, -32768 * k};
  Value item = audio_value(array_of(planar, {2, 8}), 8000, ChannelLayout::kPlanar);
  Result<std::vector<Value>> out =
      run(sink_graph(R"({"path": )" + quoted(path) + "}"), {item});
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  SF_INFO info;
  std::vector<int16_t> got = read_file<int16_t>(path, &info);
  EXPECT_EQ(info.format, SF_FORMAT_FLAC | SF_FORMAT_PCM_16);
  const std::vector<int16_t> ch0 = {0, 2, 2, 0, 32767, -32768, 0, 8192};
  const std::vector<int16_t> ch1 = {-2, 32767, -32768, 32767, 0, -8192, 3, -32768};
  std::vector<int16_t> expected;
  for (size_t f = 0; f < 8; ++f) {
    expected.push_back(ch0[f]);
    expected.push_back(ch1[f]);
  }
  EXPECT_EQ(got, expected);
}

TEST(AudioFileSink, SinkThenSourceRoundTripsEverySubtypeExactly) {
  TempDir dir;
  const auto samples = random_int16(2000, 2, 14);
  const struct {
    const char* name;
    const char* subtype;
    int format;
  } cases[] = {
      {"a.wav", "PCM_16", SF_FORMAT_WAV | SF_FORMAT_PCM_16}, {"b.wav", "PCM_24", SF_FORMAT_WAV | SF_FORMAT_PCM_24},
      {"c.wav", "FLOAT", SF_FORMAT_WAV | SF_FORMAT_FLOAT},   {"d.wav", "DOUBLE", SF_FORMAT_WAV | SF_FORMAT_DOUBLE},
      {"e.flac", "pcm_24", SF_FORMAT_FLAC | SF_FORMAT_PCM_24}, {"f.wav", "PCM_32", SF_FORMAT_WAV | SF_FORMAT_PCM_32},
  };
  for (const auto& c : cases) {
    const std::string path = dir.file(c.name);
    Result<std::vector<Value>> out =
        run(sink_graph(R"({"path": )" + quoted(path) + R"(, "subtype": ")" + c.subtype + "\"}"),
            {audio_value(array_of(samples, {2000, 2}), 32000)});
    ASSERT_TRUE(out.ok()) << out.status().to_string();
    SF_INFO info;
    (void)read_file<int16_t>(path, &info);
    EXPECT_EQ(info.format, c.format) << c.name;
    // 16-bit samples survive every subtype at least as wide.
    auto back = concat_interleaved<int16_t>(run_source(source_graph(R"({"dtype": "int16"})"), {Value::string(path)}));
    EXPECT_EQ(back, samples) << c.name;
  }
}

TEST(AudioFileSink, FormatParamOverridesTheExtension) {
  TempDir dir;
  const std::string path = dir.file("audio.bin");
  Result<std::vector<Value>> out = run(sink_graph(R"({"path": )" + quoted(path) + R"(, "format": "FLAC"})"),
                                       {audio_value(array_of(random_int16(100, 1, 15), {100}), 8000)});
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  SF_INFO info;
  (void)read_file<int16_t>(path, &info);
  EXPECT_EQ(info.format & SF_FORMAT_TYPEMASK, SF_FORMAT_FLAC);
}

TEST(AudioFileSink, OggVorbisWritesAndReadsBack) {
  TempDir dir;
  const std::string path = dir.file("v.ogg");
  std::vector<float> sine(24000);
  for (size_t i = 0; i < sine.size(); ++i) sine[i] = 0.3f * static_cast<float>(std::sin(0.05 * static_cast<double>(i)));
  Result<std::vector<Value>> out =
      run(sink_graph(R"({"path": )" + quoted(path) + "}"), {audio_value(array_of(sine, {24000}), 24000)});
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  auto back = concat_interleaved<float>(run_source(source_graph(), {Value::string(path)}));
  ASSERT_EQ(back.size(), sine.size());
  double worst = 0;
  for (size_t i = 0; i < sine.size(); ++i) worst = std::max(worst, std::abs(static_cast<double>(back[i] - sine[i])));
  EXPECT_LT(worst, 0.05);
}

TEST(AudioFileSink, AHugeItemGoesToTheVorbisEncoderInBlocks) {
  // One sf_writef_float of three million frames crashes libsndfile's Vorbis encoder.
  TempDir dir;
  const std::string path = dir.file("big.ogg");
  Ref<NDArray> silence = NDArray::allocate(DType::kFloat32, {3'000'000});
  std::fill_n(silence->mutable_data_as<float>(), silence->size(), 0.0f);
  Result<std::vector<Value>> out = run(sink_graph(R"({"path": )" + quoted(path) + "}"), {audio_value(silence, 48000)});
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  SF_INFO info{};
  SNDFILE* f = sf_open(path.c_str(), SFM_READ, &info);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(info.frames, 3'000'000);
  sf_close(f);
}

TEST(AudioFileSink, NoItemsNoFileNoOutput) {
  TempDir dir;
  const std::string path = dir.file("none.wav");
  Result<std::vector<Value>> out = run(sink_graph(R"({"path": )" + quoted(path) + "}"), {});
  ASSERT_TRUE(out.ok());
  EXPECT_TRUE(out->empty());
  EXPECT_FALSE(fs::exists(path));
}

TEST(AudioFileSink, StreamChangesAreValueErrorsAndTheFileIsClosedValid) {
  TempDir dir;
  const std::string path = dir.file("x.wav");
  Graph g = sink_graph(R"({"path": )" + quoted(path) + "}");
  auto mono = [](int rate, int64_t frames) { return audio_value(NDArray::allocate(DType::kInt16, {frames}), rate); };
  Status s = run_error(g, {mono(8000, 100), mono(8000, 50), mono(16000, 10)});
  EXPECT_EQ(s.code(), StatusCode::kValueError);
  EXPECT_EQ(s.message(), "sample rate changed from 8000 to 16000 Hz");
  EXPECT_EQ(s.item_index(), 2);
  SF_INFO info;
  EXPECT_EQ(read_file<int16_t>(path, &info).size(), 150u);  // closed with a header for what was written

  s = run_error(g, {mono(8000, 10), audio_value(NDArray::allocate(DType::kFloat32, {10, 2}), 8000)});
  EXPECT_EQ(s.message(), "channel count changed from 1 to 2");
  s = run_error(g, {Value::string("a.wav")});
  EXPECT_EQ(s.code(), StatusCode::kTypeError);
  EXPECT_EQ(s.message(), "expects audio, got str");
}

TEST(AudioFileSink, AnUnwritablePathIsAValueErrorAtTheFirstItem) {
  TempDir dir;
  const std::string path = dir.file("no/such/dir/x.wav");
  Status s = run_error(sink_graph(R"({"path": )" + quoted(path) + "}"),
                       {audio_value(NDArray::allocate(DType::kInt16, {10}), 8000)});
  EXPECT_EQ(s.code(), StatusCode::kValueError);
  EXPECT_EQ(s.message(), "cannot write audio file '" + path + "': No such file or directory");
  EXPECT_EQ(s.item_index(), 0);
}

TEST(AudioFileSink, ParametersAreCheckedWhenTheGraphCompiles) {
  const struct {
    std::string params, path, message;
  } cases[] = {
      {R"({"path": "x.txt"})", ".path",
       "cannot tell the file format from the path 'x.txt' (extension .txt); use a .wav, .flac or .ogg path or give "
       "format: wav, flac or ogg"},
      {R"({"path": "noext"})", ".path",
       "cannot tell the file format from the path 'noext' (no extension); use a .wav, .flac or .ogg path or give "
       "format: wav, flac or ogg"},
      {R"({"path": "x.wav", "format": "mp3"})", ".format",
       "parameter 'format' must be null or one of wav, flac, ogg; got 'mp3'"},
      {R"({"path": "x.wav", "format": 3})", ".format", "parameter 'format' must be null or one of wav, flac, ogg; got int"},
      {R"({"path": "x.ogg", "subtype": "PCM_16"})", ".subtype",
       "parameter 'subtype' must be null or one of VORBIS, OPUS for ogg; got 'PCM_16'"},
      {R"({"path": "x.flac", "subtype": "FLOAT"})", ".subtype",
       "parameter 'subtype' must be null or one of PCM_S8, PCM_16, PCM_24 for flac; got 'FLOAT'"},
  };
  for (const auto& c : cases) {
    Result<Graph> g = one_node("AudioFileSink", c.params, "k");
    ASSERT_FALSE(g.ok()) << c.params;
    EXPECT_EQ(g.status().code(), StatusCode::kInvalidParameter);
    EXPECT_EQ(g.status().path(), "$.nodes[0].params" + c.path) << c.params;
    EXPECT_EQ(g.status().message(), c.message);
  }
}

}  // namespace
}  // namespace remotemedia

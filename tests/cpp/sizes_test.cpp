// Sizes and parameters from input are always checked (docs/NODES.md, "Limits"): array shapes whose
// size overflows, parameters that ask for more than a node may allocate, resampling ratios libsoxr
// cannot take, and buffers that must grow with their items instead of being reserved up front.
#include <gtest/gtest.h>

#include <cstdint>
#include <new>
#include <string>
#include <vector>

#include "audio_test_util.h"
#include "remotemedia/ndarray.h"

namespace remotemedia {
namespace {

using audio_test::audio;
using audio_test::run_node;

std::string error_of(const Result<std::vector<Value>>& r) { return r.ok() ? "ok" : r.status().message(); }

TEST(CheckedSize, OverflowAndNegativeDimensionsAreRefused) {
  int64_t n = 0, bytes = 0;
  EXPECT_TRUE(checked_size({3, 4}, 8, &n, &bytes));
  EXPECT_EQ(n, 12);
  EXPECT_EQ(bytes, 96);
  EXPECT_FALSE(checked_size({int64_t{1} << 62, 2}, 4, &n, &bytes));  // 2^63 elements
  EXPECT_FALSE(checked_size({int64_t{1} << 62}, 4, &n, &bytes));     // 2^64 bytes
  EXPECT_FALSE(checked_size({-1, 4}, 4, &n, &bytes));
  EXPECT_TRUE(checked_size({0, int64_t{1} << 62, 1000}, 8, &n, &bytes));  // empty: 0 bytes
  EXPECT_EQ(bytes, 0);
}

TEST(CheckedSize, AllocateRefusesAShapeThatOverflowsInsteadOfAllocatingTooLittle) {
  // 2^62 float32 frames: the unchecked product of bytes wrapped to 0, and writing the chunk's
  // samples then corrupted the heap.
  EXPECT_THROW(NDArray::allocate(DType::kFloat32, {int64_t{1} << 62}), std::bad_array_new_length);
  EXPECT_THROW(NDArray::allocate(DType::kInt16, {int64_t{1} << 40, int64_t{1} << 40}), std::bad_array_new_length);
}

TEST(ChunkerLimits, FramesAboveTheLimitAreAParameterError) {
  for (const char* frames : {"4611686018427387904", "9223372036854775807", "1000000000000", "2147483648"}) {
    auto r = run_node("AudioChunkerNode", std::string(R"({"frames": )") + frames + R"(, "pad": true})", {});
    ASSERT_FALSE(r.ok()) << frames;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidParameter);
    EXPECT_EQ(r.status().message(), "parameter 'frames' must be at most 2147483647");
    EXPECT_EQ(r.status().path(), "$.nodes[0].params.frames");
  }
}

TEST(ChunkerLimits, ChunksLargerThanANodeMayAllocateAreRefusedAtTheFirstItem) {
  // The padded chunk of one frame would have been 16 GiB of zeros.
  auto r = run_node("AudioChunkerNode", R"({"frames": 2147483647, "pad": true})",
                    {audio<float>({0.5f, -0.5f}, {1, 2})});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kValueError);
  EXPECT_EQ(r.status().message(),
            "chunks of 2147483647 frames x 2 channels of float32 would take more than 4294967296 bytes, the most a "
            "node allocates for one array");
  // The largest that fits: int16 mono, 2^31 - 1 frames (without padding nothing that big is made).
  auto ok = run_node("AudioChunkerNode", R"({"frames": 2147483647})", {audio<int16_t>({1, 2, 3}, {3})});
  ASSERT_TRUE(ok.ok()) << ok.status().to_string();
  ASSERT_EQ(ok->size(), 1u);
  EXPECT_EQ(ok->at(0).as_audio().frames(), 3);
}

TEST(ChunkerLimits, DurationGivingTooManyFramesIsAValueErrorNamingTheLimit) {
  auto r = run_node("AudioChunkerNode", R"({"duration_ms": 1e300})", {audio<float>({0.0f}, {1}, 16000)});
  EXPECT_EQ(error_of(r), "duration_ms 1e+300 at 16000 Hz is more than 2147483647 frames");
  // 134217.728 s at 16 kHz is 2147483648 frames: one too many.
  r = run_node("AudioChunkerNode", R"({"duration_ms": 134217728})", {audio<float>({0.0f}, {1}, 16000)});
  EXPECT_EQ(error_of(r), "duration_ms 134217728 at 16000 Hz is more than 2147483647 frames");
}

TEST(BufferLimits, AHugeBufferSizeGrowsWithItsItemsInsteadOfReserving) {
  // Reserving 10^12 values threw bad_alloc, which aborted the program.
  auto r = run_node("BufferNode", R"({"buffer_size": 1000000000000})",
                    {Value::integer(1), Value::integer(2), Value::integer(3)});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ(r->at(0).as_list().size(), 3u);
  r = run_node("BufferNode", R"({"buffer_size": 9223372036854775807})", {Value::integer(1)});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->size(), 1u);
}

TEST(ResampleLimits, RatiosBeyondWhatLibsoxrHandlesAreRefusedNamingBothRates) {
  // 1 Hz -> 384 kHz at quick crashed inside libsoxr.
  for (const char* quality : {"quick", "low", "medium", "high", "very_high"}) {
    auto r = run_node("AudioResampleNode", std::string(R"({"sample_rate": 384000, "quality": ")") + quality + "\"}",
                      {audio<float>({0.1f, 0.2f, 0.3f}, {3}, 1)});
    EXPECT_EQ(error_of(r), "cannot resample from 1 to 384000 Hz: the rates differ by more than a factor of 65536")
        << quality;
  }
  auto down = run_node("AudioResampleNode", R"({"sample_rate": 1})", {audio<float>({0.1f}, {1}, 65537)});
  EXPECT_EQ(error_of(down), "cannot resample from 65537 to 1 Hz: the rates differ by more than a factor of 65536");
}

TEST(ResampleLimits, TheLargestRatioResamples) {
  std::vector<float> x(8);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 2 ? 0.25 : -0.25);
  auto r = run_node("AudioResampleNode", R"({"sample_rate": 65536, "quality": "quick"})",
                    {audio<float>(x, {8}, 1)});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  int64_t total = 0;
  for (const Value& v : *r) total += v.as_audio().frames();
  EXPECT_EQ(total, 8 * 65536);  // floor(N * out / in + 1/2)
}

TEST(ResampleLimits, AnItemWhoseOutputWouldBeTooLargeIsAValueError) {
  // 8193 frames at 1 Hz, stereo float64, to 65536 Hz: 536936449 frames, 8.6 GB.
  std::vector<double> x(8193 * 2, 0.0);
  auto r = run_node("AudioResampleNode", R"({"sample_rate": 65536})", {audio<double>(x, {8193, 2}, 1)});
  EXPECT_EQ(error_of(r),
            "the output of an item resampled to 65536 Hz of 536936449 frames x 2 channels of float64 would take more "
            "than 4294967296 bytes, the most a node allocates for one array");
}

TEST(FormatLimits, ChannelsAboveTheLimitAreAParameterError) {
  auto r = run_node("AudioFormatNode", R"({"channels": 1000000000000})", {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "parameter 'channels' must be at most 65536");
  EXPECT_EQ(r.status().path(), "$.nodes[0].params.channels");
}

TEST(FormatLimits, DuplicatingMonoToMoreThanANodeMayAllocateIsAValueError) {
  std::vector<double> x(1 << 16, 0.25);
  auto r = run_node("AudioFormatNode", R"({"channels": 65536})", {audio<double>(x, {1 << 16})});
  EXPECT_EQ(error_of(r),
            "the output of 65536 frames x 65536 channels of float64 would take more than 4294967296 bytes, the most a "
            "node allocates for one array");
  // The wider of the input's and the output's sample types counts.
  std::vector<int16_t> y(1 << 16, 1);
  r = run_node("AudioFormatNode", R"({"channels": 40000, "dtype": "float64"})", {audio<int16_t>(y, {1 << 16})});
  EXPECT_EQ(error_of(r),
            "the output of 65536 frames x 40000 channels of float64 would take more than 4294967296 bytes, the most a "
            "node allocates for one array");
}

TEST(VadLimits, AFrameLengthFromAHugeRateIsNotReservedUpFront) {
  // frame_ms 10000 at 2^31 - 1 Hz is 2.1e10 samples a channel: the engine reserved them all.
  auto r = run_node("EnergyVADNode", R"({"frame_ms": 10000})",
                    {audio<float>({0.5f, -0.5f, 0.5f, -0.5f}, {2, 2}, 2147483647),
                     audio<float>({0.5f, -0.5f}, {1, 2}, 2147483647)});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_TRUE(r->empty());  // 3 frames: shorter than min_speech_ms
}

}  // namespace
}  // namespace remotemedia

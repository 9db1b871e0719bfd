// AudioBuffer: samples plus what it takes to interpret them (sample rate, channel layout).
//
// Samples are an NDArray of a sample type (int16, int32, float32 or float64): shape [frames] for
// mono, [frames, channels] when interleaved, [channels, frames] when planar. Like every heavy
// payload it is immutable and shared, so a chunk fanned out to several nodes is never copied, and a
// numpy array crosses to and from Python without a copy. The Python counterpart is
// remotemedia.core.audio.Audio; the rules both follow are in docs/AUDIO.md.
#pragma once

#include <cstdint>
#include <string>

#include "remotemedia/ndarray.h"
#include "remotemedia/status.h"

namespace remotemedia {

enum class ChannelLayout : uint8_t { kInterleaved, kPlanar };

const char* layout_name(ChannelLayout layout);  // "interleaved", "planar"
bool parse_layout(const std::string& name, ChannelLayout* out);

// int16, int32, float32, float64: the types audio samples may have.
bool is_sample_type(DType dtype);
// An integer sample s stands for s / full_scale(dtype) in [-1, 1); 0 for the float types.
double full_scale(DType dtype);

class AudioBuffer final : public HeapObject {
 public:
  // Checks the samples (a sample type, 1-D or 2-D) and the rate (positive); a 1-D array is mono and
  // always counts as interleaved.
  static Result<Ref<AudioBuffer>> make(Ref<NDArray> samples, int64_t sample_rate,
                                       ChannelLayout layout = ChannelLayout::kInterleaved);

  const Ref<NDArray>& samples() const { return samples_; }
  DType dtype() const { return samples_->dtype(); }
  int32_t sample_rate() const { return sample_rate_; }
  int32_t channels() const { return channels_; }
  ChannelLayout layout() const { return layout_; }
  int64_t frames() const { return frames_; }
  double duration_seconds() const { return static_cast<double>(frames_) / sample_rate_; }
  // "48000 Hz, 2 ch, float32, interleaved, 960 frames": for messages.
  std::string describe() const;

 private:
  AudioBuffer(Ref<NDArray> samples, int32_t sample_rate, ChannelLayout layout);

  Ref<NDArray> samples_;
  int32_t sample_rate_;
  int32_t channels_;
  int64_t frames_;
  ChannelLayout layout_;
};

}  // namespace remotemedia

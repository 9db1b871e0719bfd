// Audio: samples plus what it takes to interpret them (sample rate, channel count, layout).
//
// Samples are an NDArray: shape [frames] for mono, [frames, channels] when interleaved, [channels,
// frames] when planar. Like every heavy payload it is immutable and shared, so a chunk fanned out to
// several nodes is never copied.
#pragma once

#include <cstdint>

#include "remotemedia/ndarray.h"

namespace remotemedia {

enum class ChannelLayout : uint8_t { kInterleaved, kPlanar };

class AudioBuffer final : public HeapObject {
 public:
  AudioBuffer(Ref<NDArray> samples, int32_t sample_rate, int32_t channels, ChannelLayout layout)
      : samples_(std::move(samples)), sample_rate_(sample_rate), channels_(channels), layout_(layout) {}

  const Ref<NDArray>& samples() const { return samples_; }
  int32_t sample_rate() const { return sample_rate_; }
  int32_t channels() const { return channels_; }
  ChannelLayout layout() const { return layout_; }
  int64_t frames() const {
    if (samples_->ndim() <= 1) return samples_->size();
    return layout_ == ChannelLayout::kInterleaved ? samples_->shape()[0] : samples_->shape()[1];
  }
  double duration_seconds() const {
    return sample_rate_ > 0 ? static_cast<double>(frames()) / sample_rate_ : 0.0;
  }

 private:
  Ref<NDArray> samples_;
  int32_t sample_rate_;
  int32_t channels_;
  ChannelLayout layout_;
};

}  // namespace remotemedia

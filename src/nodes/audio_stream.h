// What an audio node accepts, with the errors of docs/AUDIO.md ("Nodes"), shared by the native
// audio nodes (src/nodes/audio_*.cpp). Private to the runtime. The Python executor's twin, with the
// same messages, is remotemedia/nodes/_audio_stream.py.
//
// A stateful audio node (resampler, chunker, level, VADs, file sink) counts time and frames in
// samples of one rate and channel count, so the first item fixes them for the whole stream; nodes
// that join the samples of several items into one array (AudioChunker, EnergyVAD) fix the sample
// type and the layout too. A later item that differs is a ValueError saying what changed, from
// what to what ("sample rate changed from 48000 to 44100 Hz").
#pragma once

#include <cstdint>
#include <string>

#include "remotemedia/audio.h"
#include "remotemedia/ref.h"
#include "remotemedia/status.h"
#include "remotemedia/value.h"

namespace remotemedia {

// OK when the item is audio, else the TypeError every audio node gives for anything else.
inline Status expect_audio(const Value& item) {
  if (item.kind() != ValueKind::kAudio) return TypeError("expects audio, got " + item.type_name());
  return Status::OK();
}

// The item as audio (a reference to its buffer), or that TypeError. AudioChunker and AudioResample
// hand most items on as they are and take no reference (expect_audio, then item.as_audio()): its
// atomic increment and decrement are a measurable part of their work per item.
inline Result<Ref<AudioBuffer>> audio_of(const Value& item) {
  RM_RETURN_IF_ERROR(expect_audio(item));
  return Ref<AudioBuffer>(const_cast<AudioBuffer*>(&item.as_audio()));
}

// "1-D mono", "interleaved" or "planar": how samples of rank `ndim` are laid out, for messages.
// A 1-D mono stream and (frames, 1) items count as different layouts.
inline const char* shape_name(int ndim, ChannelLayout layout) {
  return ndim == 1 ? "1-D mono" : layout_name(layout);
}
inline const char* shape_name(const AudioBuffer& a) { return shape_name(a.samples()->ndim(), a.layout()); }

// The most frames an audio node's parameter may ask for at once (AudioChunker's chunks): an
// AudioBuffer's frame count always fits 32 bits for a node to make, as its rate does.
constexpr int64_t kMaxNodeFrames = 2147483647;

// Whether `frames` x `channels` samples of `dtype` fit kMaxAllocationBytes (no product overflows):
// asked before a node allocates an array whose size a parameter or an item's header decides.
inline bool audio_fits(int64_t frames, int64_t channels, DType dtype) {
  int64_t samples = 0, bytes = 0;
  return checked_size({frames, channels}, dtype_size(dtype), &samples, &bytes) && bytes <= kMaxAllocationBytes;
}

// The ValueError of an array that does not fit: "chunks of 2147483647 frames x 2 channels of
// float32 would take more than 4294967296 bytes, the most a node allocates for one array".
inline Status too_large(const std::string& what, int64_t frames, int64_t channels, DType dtype) {
  return ValueError(what + " of " + std::to_string(frames) + " frames x " + std::to_string(channels) + " channels of " +
                    dtype_name(dtype) + " would take more than " + std::to_string(kMaxAllocationBytes) +
                    " bytes, the most a node allocates for one array");
}

// The format of a stream, fixed by its first item. One per node instance (a node belongs to one run
// or session), checked on every item before the node uses it.
class StreamFormat {
 public:
  enum class Fixes : uint8_t {
    kRateAndChannels,  // the sample type and layout may change from item to item
    kEverything,       // rate, channels, sample type and layout (rank included)
  };

  explicit StreamFormat(Fixes fixes) : fixes_(fixes) {}

  // Whether the first item has fixed the format.
  bool started() const { return started_; }

  // The first item fixes the format; a later one must have it, else a ValueError naming the first
  // difference, in the order rate, channels, sample type, layout.
  Status check(const AudioBuffer& a) {
    if (!started_) {
      started_ = true;
      rate_ = a.sample_rate();
      channels_ = a.channels();
      dtype_ = a.dtype();
      layout_ = a.layout();
      ndim_ = a.samples()->ndim();
      return Status::OK();
    }
    if (a.sample_rate() != rate_) {
      return ValueError("sample rate changed from " + std::to_string(rate_) + " to " +
                        std::to_string(a.sample_rate()) + " Hz");
    }
    if (a.channels() != channels_) {
      return ValueError("channel count changed from " + std::to_string(channels_) + " to " +
                        std::to_string(a.channels()));
    }
    if (fixes_ == Fixes::kRateAndChannels) return Status::OK();
    if (a.dtype() != dtype_) {
      return ValueError(std::string("sample type changed from ") + dtype_name(dtype_) + " to " + dtype_name(a.dtype()));
    }
    if (a.samples()->ndim() != ndim_ || (ndim_ == 2 && a.layout() != layout_)) {
      return ValueError(std::string("layout changed from ") + shape_name(ndim_, layout_) + " to " + shape_name(a));
    }
    return Status::OK();
  }

  // The first item's (meaningful once started()).
  int32_t sample_rate() const { return rate_; }
  int32_t channels() const { return channels_; }
  DType dtype() const { return dtype_; }
  ChannelLayout layout() const { return layout_; }
  int ndim() const { return ndim_; }

 private:
  Fixes fixes_;
  bool started_ = false;
  int32_t rate_ = 0;
  int32_t channels_ = 0;
  DType dtype_ = DType::kFloat32;
  ChannelLayout layout_ = ChannelLayout::kInterleaved;
  int ndim_ = 1;
};

}  // namespace remotemedia

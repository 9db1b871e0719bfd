// AudioChunkerNode: audio cut into chunks of exactly `frames` frames, whatever the input's item
// sizes; the remainder comes at end of input (short, or zero-padded to full length). The Python
// executor's version is remotemedia/nodes/audio_frames.py; docs/AUDIO.md states the rules.
//
// A chunk that lies wholly inside one item is a view of that item's samples (it keeps the item's
// array alive), except in planar audio of several channels, whose chunks are not contiguous and
// are copied; a chunk that is a whole item is the item itself. A chunk spanning items is copied
// once, from the pieces held back (references to the items, not copies).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "nodes/audio_stream.h"
#include "remotemedia/audio.h"
#include "remotemedia/json.h"
#include "remotemedia/node.h"
#include "remotemedia/registry.h"

namespace remotemedia {

namespace {

Status param_error(std::string message, std::string path) {
  return std::move(Status(StatusCode::kInvalidParameter, std::move(message)).with_path(std::move(path)));
}

// A parameter's number as Python prints it (str of an int or a float: the shortest round trip).
std::string number_text(const Value& v) {
  if (v.is_int()) return std::to_string(v.as_int());
  const double x = v.as_float();
  if (x == std::floor(x) && std::fabs(x) < 1e16) return std::to_string(static_cast<int64_t>(x)) + ".0";
  char buf[32];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, x);
    if (std::strtod(buf, nullptr) == x) break;
  }
  return buf;
}

// A run of frames of one item, held back until a chunk is complete.
struct Piece {
  Ref<NDArray> samples;
  int64_t start = 0;
  int64_t frames = 0;
};

class AudioChunkerNode final : public Node {
 public:
  // `frames` > 0, or 0 and the chunk length is `duration_ms` at the first item's rate.
  AudioChunkerNode(int64_t frames, const Value& duration_ms, bool pad)
      : frames_(frames),
        duration_ms_(duration_ms.is_int() ? static_cast<double>(duration_ms.as_int()) : duration_ms.as_float()),
        duration_text_(frames > 0 ? std::string() : number_text(duration_ms)),
        pad_(pad) {}

  Status process(Value item, Emitter& out) override {
    RM_RETURN_IF_ERROR(expect_audio(item));
    const AudioBuffer& audio = item.as_audio();
    const bool first = !stream_.started();
    RM_RETURN_IF_ERROR(stream_.check(audio));
    if (first) {
      if (frames_ == 0) RM_RETURN_IF_ERROR(frames_at_first_rate());
      // Every chunk is an array of frames_ frames (a padded one whatever the input), so a size no
      // node may allocate is refused before any is made.
      if (!audio_fits(frames_, audio.channels(), audio.dtype())) {
        return too_large("chunks", frames_, audio.channels(), audio.dtype());
      }
    }
    const int64_t n = audio.frames();
    if (n == 0) return Status::OK();
    const Ref<NDArray>& samples = audio.samples();
    int64_t pos = 0;
    if (held_ > 0) {  // complete the chunk started by earlier items
      pos = std::min(frames_ - held_, n);
      pieces_.push_back(Piece{samples, 0, pos});
      held_ += pos;
      if (held_ < frames_) return Status::OK();
      out.emit(join(frames_));
    }
    if (pos == 0 && n == frames_) {  // the item is a chunk
      out.emit(std::move(item));
      return Status::OK();
    }
    for (; n - pos >= frames_; pos += frames_) out.emit(slice(samples, pos, frames_));
    if (pos < n) {
      pieces_.push_back(Piece{samples, pos, n - pos});
      held_ = n - pos;
    }
    return Status::OK();
  }

  Status flush(Emitter& out) override {
    if (held_ > 0) out.emit(join(pad_ ? frames_ : held_));
    return Status::OK();
  }

 private:
  // duration_ms at the first item's rate; Python's round(): half to even.
  Status frames_at_first_rate() {
    const int32_t rate = stream_.sample_rate();
    const double f = std::nearbyint(duration_ms_ * static_cast<double>(rate) / 1000.0);
    if (f < 1 || f > static_cast<double>(kMaxNodeFrames)) {
      return ValueError("duration_ms " + duration_text_ + " at " + std::to_string(rate) + " Hz is " +
                        (f < 1 ? "less than one frame" : "more than " + std::to_string(kMaxNodeFrames) + " frames"));
    }
    frames_ = static_cast<int64_t>(f);
    return Status::OK();
  }

  std::vector<int64_t> shape(int64_t frames) const {
    if (stream_.ndim() == 1) return {frames};
    if (stream_.layout() == ChannelLayout::kPlanar) return {stream_.channels(), frames};
    return {frames, stream_.channels()};
  }

  Value audio_value(Ref<NDArray> samples) const {
    return Value::audio(AudioBuffer::make(std::move(samples), stream_.sample_rate(), stream_.layout()).value());
  }

  bool planar_rows() const {
    return stream_.ndim() == 2 && stream_.layout() == ChannelLayout::kPlanar && stream_.channels() > 1;
  }

  // Frames [start, start + frames) of an item of this stream.
  Value slice(const Ref<NDArray>& samples, int64_t start, int64_t frames) const {
    const size_t sample = dtype_size(stream_.dtype());
    if (!planar_rows()) {  // contiguous: a view
      const auto* data = static_cast<const unsigned char*>(samples->data()) + start * stream_.channels() * sample;
      return audio_value(NDArray::wrap(stream_.dtype(), shape(frames), data, samples, /*is_source=*/false));
    }
    Ref<NDArray> out = NDArray::allocate(stream_.dtype(), shape(frames));
    copy_rows(*samples, start, frames, out->mutable_data(), 0, frames);
    return audio_value(std::move(out));
  }

  // Channel rows of a planar array: frames [start, start + frames) to column `at` of rows of
  // `stride` frames.
  void copy_rows(const NDArray& src, int64_t start, int64_t frames, void* dst, int64_t at, int64_t stride) const {
    const size_t sample = dtype_size(stream_.dtype());
    const int64_t src_stride = src.shape()[1];
    const auto* s = static_cast<const unsigned char*>(src.data());
    auto* d = static_cast<unsigned char*>(dst);
    for (int64_t c = 0; c < stream_.channels(); ++c) {
      std::memcpy(d + (c * stride + at) * sample, s + (c * src_stride + start) * sample, frames * sample);
    }
  }

  // The held pieces as one chunk of `frames` frames (zeros after them, when padding).
  Value join(int64_t frames) {
    const size_t frame_bytes = dtype_size(stream_.dtype()) * static_cast<size_t>(stream_.channels());
    Ref<NDArray> out = NDArray::allocate(stream_.dtype(), shape(frames), false, /*zeroed=*/frames > held_);
    int64_t at = 0;
    for (const Piece& p : pieces_) {
      if (planar_rows()) {
        copy_rows(*p.samples, p.start, p.frames, out->mutable_data(), at, frames);
      } else {
        std::memcpy(static_cast<unsigned char*>(out->mutable_data()) + at * frame_bytes,
                    static_cast<const unsigned char*>(p.samples->data()) + p.start * frame_bytes,
                    static_cast<size_t>(p.frames) * frame_bytes);
      }
      at += p.frames;
    }
    pieces_.clear();
    held_ = 0;
    return audio_value(std::move(out));
  }

  int64_t frames_;
  const double duration_ms_;
  const std::string duration_text_;
  const bool pad_;

  // Chunks join the samples of several items, so every item has the first one's format.
  StreamFormat stream_{StreamFormat::Fixes::kEverything};

  std::vector<Piece> pieces_;
  int64_t held_ = 0;  // frames in pieces_, always < frames_ between items
};

}  // namespace

void register_audio_frame_nodes(Registry& registry) {
  (void)registry.add(NodeTypeInfo{
      "AudioChunkerNode",
      {"AudioChunker"},
      "Cuts audio into chunks of exactly frames (or duration_ms) frames; the remainder comes at end of input.",
      {ParamSpec{"frames", ParamType::kInt, false, Value(), {},
                 "Frames per chunk (at least 1, at most 2147483647); give this or duration_ms.", 1.0,
                 static_cast<double>(kMaxNodeFrames)},
       ParamSpec{"duration_ms", ParamType::kNumber, false, Value(), {},
                 "Chunk length in milliseconds (more than 0), rounded to frames at the first item's rate; give this or frames."},
       ParamSpec{"pad", ParamType::kBool, false, Value::boolean(false), {}, "Zero-pad the last chunk to full length."}},
      [](const Value& params) -> Result<std::unique_ptr<Node>> {
        const Value* frames = params.find("frames");
        return std::unique_ptr<Node>(std::make_unique<AudioChunkerNode>(
            frames->is_null() ? 0 : frames->as_int(), *params.find("duration_ms"), params.find("pad")->as_bool()));
      },
      nullptr,
      [](const Value& params, const std::string& params_path) -> Status {
        const Value* frames = params.find("frames");
        const Value* duration = params.find("duration_ms");
        if (frames->is_null() == duration->is_null()) {
          return param_error("give exactly one of 'frames' and 'duration_ms'",
                             frames->is_null() ? params_path : key_path(params_path, "duration_ms"));
        }
        if (!duration->is_null()) {
          const double ms = duration->is_int() ? static_cast<double>(duration->as_int()) : duration->as_float();
          if (!(ms > 0)) return param_error("parameter 'duration_ms' must be more than 0", key_path(params_path, "duration_ms"));
        }
        return Status::OK();
      },
  });
}

}  // namespace remotemedia

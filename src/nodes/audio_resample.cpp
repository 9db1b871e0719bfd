// AudioResampleNode: streaming sample-rate conversion with libsoxr. The Python executor's version
// (remotemedia/nodes/audio_resample.py) drives the soxr PyPI package's ResampleStream, which bundles
// its own build of libsoxr; docs/AUDIO.md says why the two agree bit for bit:
//
// - Same engine, same recipe: soxr_quality_spec(recipe, 0) and the default runtime spec (one
//   thread), as the package. Float I/O gives identical samples from both builds.
// - No dither. libsoxr dithers int16 output by default, seeded from time() and an address, so the
//   same input gives different output from run to run (the package's fork seeds it from the input
//   instead, which Debian's library cannot do). We ask for SOXR_NO_DITHER; the Python side feeds
//   integer streams through float64 and rounds with convert_samples, which is what libsoxr's own
//   undithered int output does (round half to even, clip).
// - Same output per item: libsoxr's output does not depend on how the input is chunked, and each
//   item gets what soxr has ready after it, bounded as the package bounds it
//   (delay + frames * out/in + 1, truncated), so even the split between items agrees.
#include <soxr.h>

#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "nodes/audio_stream.h"
#include "remotemedia/audio.h"
#include "remotemedia/audio_samples.h"
#include "remotemedia/json.h"
#include "remotemedia/node.h"
#include "remotemedia/registry.h"

namespace remotemedia {

namespace {

struct Quality {
  const char* name;
  unsigned long recipe;
};
constexpr Quality kQualities[] = {
    {"quick", SOXR_QQ}, {"low", SOXR_LQ}, {"medium", SOXR_MQ}, {"high", SOXR_HQ}, {"very_high", SOXR_VHQ},
};

constexpr int64_t kMaxRate = std::numeric_limits<int32_t>::max();

// The largest ratio of the two rates, either way, that the node lets libsoxr resample. libsoxr
// 0.1.3 crashes upsampling by 2^18 or more at `quick`; docs/AUDIO.md gives the measurements.
constexpr int64_t kMaxRatio = 65536;
// The channel counts libsoxr is given: it crashes on 0 channels, and the soxr package (the Python
// executor's) takes at most 65536.
constexpr int32_t kMaxChannels = 65536;

soxr_datatype_t soxr_type(DType dtype, bool planar) {
  soxr_datatype_t t = SOXR_FLOAT32_I;
  switch (dtype) {
    case DType::kInt16: t = SOXR_INT16_I; break;
    case DType::kInt32: t = SOXR_INT32_I; break;
    case DType::kFloat64: t = SOXR_FLOAT64_I; break;
    default: break;
  }
  return planar ? static_cast<soxr_datatype_t>(t | SOXR_SPLIT) : t;
}

struct SoxrDelete {
  void operator()(soxr_t p) const { soxr_delete(p); }
};
using SoxrHandle = std::unique_ptr<std::remove_pointer_t<soxr_t>, SoxrDelete>;

// What the output of an item looks like: the item's array rank, layout and sample type.
struct Form {
  int ndim = 1;
  ChannelLayout layout = ChannelLayout::kInterleaved;
  DType dtype = DType::kFloat32;
};

Form form_of(const AudioBuffer& a) { return Form{a.samples()->ndim(), a.layout(), a.dtype()}; }

class AudioResampleNode final : public Node {
 public:
  AudioResampleNode(int32_t out_rate, unsigned long recipe) : out_rate_(out_rate), recipe_(recipe) {}

  Status process(Value item, Emitter& out) override {
    RM_RETURN_IF_ERROR(expect_audio(item));
    const AudioBuffer& audio = item.as_audio();
    const bool first = !stream_.started();
    RM_RETURN_IF_ERROR(stream_.check(audio));
    if (first) RM_RETURN_IF_ERROR(start(audio));
    last_ = form_of(audio);
    if (audio.frames() == 0) return Status::OK();
    if (!soxr_) {  // already at the output rate
      out.emit(std::move(item));
      return Status::OK();
    }
    // The stream's sample type and memory layout (mono is the same memory in any shape).
    Ref<AudioBuffer> in(const_cast<AudioBuffer*>(&audio));
    if (in->dtype() != dtype_) in = convert_audio(in, dtype_);
    if (channels_ > 1 && (in->layout() == ChannelLayout::kPlanar) != planar_) {
      in = to_layout(in, planar_ ? ChannelLayout::kPlanar : ChannelLayout::kInterleaved);
    }
    // What the item makes (its frames times the ratio, exact in 128 bits), checked before soxr
    // writes it anywhere. The ratio is bounded (start), so the count fits 64 bits for any item
    // that has samples.
    const unsigned __int128 made =
        static_cast<unsigned __int128>(in->frames()) * static_cast<uint64_t>(out_rate_) / static_cast<uint64_t>(in->sample_rate()) + 1;
    if (channels_ > 0 && made > static_cast<uint64_t>(kMaxAllocationBytes) / frame_bytes_) {
      return too_large("the output of an item resampled to " + std::to_string(out_rate_) + " Hz",
                       static_cast<int64_t>(made), channels_, dtype_);
    }
    const size_t frames = static_cast<size_t>(in->frames());
    const size_t capacity = static_cast<size_t>(soxr_delay(soxr_.get()) + static_cast<double>(frames) * ratio_ + 1);
    size_t done = 0;
    RM_RETURN_IF_ERROR(run(in->samples()->data(), frames, capacity, &done));
    if (done > 0) emit_like(last_, static_cast<int64_t>(done), out);
    return Status::OK();
  }

  // End of input: soxr flushes the filter's tail. One call, bounded as the package bounds it
  // (soxr's delay is what is left), normally takes it all; more calls follow while one fills up.
  Status flush(Emitter& out) override {
    if (!soxr_) return Status::OK();
    std::vector<std::vector<unsigned char>> pieces;
    std::vector<size_t> piece_frames;
    for (;;) {
      const size_t capacity = static_cast<size_t>(soxr_delay(soxr_.get()) + 1);
      size_t done = 0;
      RM_RETURN_IF_ERROR(run(nullptr, 0, capacity, &done));
      if (done > 0) {
        pieces.emplace_back(scratch_.begin(), scratch_.begin() + static_cast<ptrdiff_t>(done * frame_bytes_));
        piece_frames.push_back(done);
      }
      if (done < capacity) break;
    }
    if (pieces.empty()) return Status::OK();
    size_t total = 0;
    for (size_t f : piece_frames) total += f;
    if (pieces.size() > 1) {  // joined in scratch_, rows of `total` when planar
      scratch_.resize(total * frame_bytes_);
      size_t at = 0;
      for (size_t p = 0; p < pieces.size(); ++p) {
        const size_t row = piece_frames[p] * sample_bytes_;
        if (!planar_) {
          std::memcpy(scratch_.data() + at * frame_bytes_, pieces[p].data(), piece_frames[p] * frame_bytes_);
        } else {
          for (size_t c = 0; c < static_cast<size_t>(channels_); ++c) {
            std::memcpy(scratch_.data() + (c * total + at) * sample_bytes_, pieces[p].data() + c * row, row);
          }
        }
        at += piece_frames[p];
      }
    }
    emit_like(last_, static_cast<int64_t>(total), out);
    return Status::OK();
  }

 private:
  Status start(const AudioBuffer& audio) {
    const int32_t in_rate = audio.sample_rate();
    channels_ = audio.channels();
    dtype_ = audio.dtype();
    planar_ = channels_ > 1 && audio.layout() == ChannelLayout::kPlanar;
    sample_bytes_ = dtype_size(dtype_);
    frame_bytes_ = sample_bytes_ * static_cast<size_t>(channels_);
    if (in_rate == out_rate_) return Status::OK();
    if (static_cast<int64_t>(out_rate_) > kMaxRatio * in_rate || static_cast<int64_t>(in_rate) > kMaxRatio * out_rate_) {
      return ValueError("cannot resample from " + std::to_string(in_rate) + " to " + std::to_string(out_rate_) +
                        " Hz: the rates differ by more than a factor of " + std::to_string(kMaxRatio));
    }
    if (channels_ < 1 || channels_ > kMaxChannels) {
      return ValueError("cannot resample audio of " + std::to_string(channels_) + " channels: libsoxr takes 1 to " +
                        std::to_string(kMaxChannels));
    }
    ratio_ = static_cast<double>(out_rate_) / static_cast<double>(in_rate);
    soxr_io_spec_t io = soxr_io_spec(soxr_type(dtype_, planar_), soxr_type(dtype_, planar_));
    io.flags |= SOXR_NO_DITHER;  // deterministic output (see the top of this file)
    soxr_quality_spec_t quality = soxr_quality_spec(recipe_, 0);
    soxr_error_t error = nullptr;
    soxr_.reset(soxr_create(in_rate, out_rate_, static_cast<unsigned>(channels_), &error, &io, &quality, nullptr));
    if (error != nullptr || !soxr_) {
      soxr_.reset();
      return ValueError(std::string("libsoxr cannot resample ") + audio.describe() + " to " +
                        std::to_string(out_rate_) + " Hz: " + (error ? error : "soxr_create failed"));
    }
    in_ptrs_.resize(static_cast<size_t>(channels_));
    out_ptrs_.resize(static_cast<size_t>(channels_));
    return Status::OK();
  }

  // One soxr_process call: all `frames` input frames (none and data == nullptr: end of input), up
  // to `capacity` output frames into scratch_, packed (planar rows of *done frames).
  Status run(const void* data, size_t frames, size_t capacity, size_t* done) {
    scratch_.resize(capacity * frame_bytes_);
    const void* in = data;
    void* out = scratch_.data();
    if (planar_) {  // soxr's split buffers: one pointer per channel
      const auto* base = static_cast<const unsigned char*>(data);
      for (size_t c = 0; c < in_ptrs_.size(); ++c) {
        if (data != nullptr) in_ptrs_[c] = base + c * frames * sample_bytes_;
        out_ptrs_[c] = scratch_.data() + c * capacity * sample_bytes_;
      }
      if (data != nullptr) in = in_ptrs_.data();
      out = out_ptrs_.data();
    }
    soxr_error_t error = soxr_process(soxr_.get(), in, frames, nullptr, out, capacity, done);
    if (error != nullptr) return InternalError(std::string("libsoxr failed: ") + error);
    if (planar_ && *done < capacity) {
      for (size_t c = 1; c < static_cast<size_t>(channels_); ++c) {
        std::memmove(scratch_.data() + c * *done * sample_bytes_, scratch_.data() + c * capacity * sample_bytes_,
                     *done * sample_bytes_);
      }
    }
    return Status::OK();
  }

  // Emits the `frames` frames packed in scratch_ (the stream's type and layout) shaped, typed and
  // laid out like `like`.
  void emit_like(const Form& like, int64_t frames, Emitter& out) {
    // The stream's layout first; another one (a stream that changes layout: rare) is converted.
    // Mono is the same memory in every shape.
    const ChannelLayout stream_layout =
        channels_ == 1 ? like.layout : (planar_ ? ChannelLayout::kPlanar : ChannelLayout::kInterleaved);
    std::vector<int64_t> shape;
    if (like.ndim == 1) shape = {frames};
    else if (stream_layout == ChannelLayout::kPlanar) shape = {channels_, frames};
    else shape = {frames, channels_};
    Ref<NDArray> samples = NDArray::allocate(dtype_, std::move(shape));
    std::memcpy(samples->mutable_data(), scratch_.data(), static_cast<size_t>(frames) * frame_bytes_);
    Ref<AudioBuffer> audio = AudioBuffer::make(std::move(samples), out_rate_, stream_layout).value();
    if (stream_layout != like.layout) audio = to_layout(audio, like.layout);
    if (like.dtype != dtype_) audio = convert_audio(audio, like.dtype);
    out.emit(Value::audio(std::move(audio)));
  }

  const int32_t out_rate_;
  const unsigned long recipe_;

  // The stream, as its first item set it. Its sample type and layout may change: items of another
  // are converted to the first one's (dtype_, planar_), which libsoxr is set up with.
  StreamFormat stream_{StreamFormat::Fixes::kRateAndChannels};
  int32_t channels_ = 0;
  DType dtype_ = DType::kFloat32;
  bool planar_ = false;
  size_t sample_bytes_ = 0;
  size_t frame_bytes_ = 0;
  double ratio_ = 1.0;
  SoxrHandle soxr_;              // null while passing through (input already at the output rate)
  Form last_;                    // the latest item's: the flushed tail has it

  // Reused across items, so an item costs one allocation: its output array.
  std::vector<unsigned char> scratch_;
  std::vector<const void*> in_ptrs_;
  std::vector<void*> out_ptrs_;
};

}  // namespace

void register_audio_resample_nodes(Registry& registry) {
  std::vector<std::string> quality_names;
  for (const Quality& q : kQualities) quality_names.emplace_back(q.name);
  (void)registry.add(NodeTypeInfo{
      "AudioResampleNode",
      {"AudioResample"},
      "Resamples audio to sample_rate with libsoxr, streaming; the filter's delayed tail comes at end of input.",
      {ParamSpec{"sample_rate", ParamType::kInt, true, Value(), {}, "Output sample rate in Hz (at least 1).", 1.0},
       ParamSpec{"quality", ParamType::kString, false, Value::string("high"), quality_names,
                 "libsoxr quality recipe: quick, low, medium, high or very_high."}},
      [](const Value& params) -> Result<std::unique_ptr<Node>> {
        const std::string& quality = params.find("quality")->as_string();
        unsigned long recipe = SOXR_HQ;
        for (const Quality& q : kQualities) {
          if (quality == q.name) recipe = q.recipe;
        }
        return std::unique_ptr<Node>(std::make_unique<AudioResampleNode>(
            static_cast<int32_t>(params.find("sample_rate")->as_int()), recipe));
      },
      nullptr,
      [](const Value& params, const std::string& params_path) -> Status {
        // An Audio's rate is 32 bits (AudioBuffer); the schema's type says int64.
        if (params.find("sample_rate")->as_int() > kMaxRate) {
          return std::move(Status(StatusCode::kInvalidParameter, "parameter 'sample_rate' must be at most 2147483647")
                               .with_path(key_path(params_path, "sample_rate")));
        }
        return Status::OK();
      },
  });
}

}  // namespace remotemedia

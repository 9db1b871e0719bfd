// The audio analysis nodes (docs/AUDIO.md): AudioLevel (the level of each item) and EnergyVAD
// (speech segments by frame energy). Both keep stream state; both are bit for bit the numpy code of
// remotemedia/nodes/audio_analysis.py.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
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

Status param_error(std::string message, std::string path) {
  return std::move(Status(StatusCode::kInvalidParameter, std::move(message)).with_path(std::move(path)));
}

double number(const Value& v) { return v.is_int() ? static_cast<double>(v.as_int()) : v.as_float(); }

// A level in dB: 20 * log10(max(level, 1e-10)), so silence is -200 dB; a NaN level stays NaN.
double level_db(double level) { return 20.0 * std::log10(level < 1e-10 ? 1e-10 : level); }

// ---------------------------------------------------------------------------------- level

class AudioLevelNode final : public Node {
 public:
  Status process(Value item, Emitter& out) override {
    RM_ASSIGN_OR_RETURN(Ref<AudioBuffer> in, audio_of(item));
    RM_RETURN_IF_ERROR(stream_.check(*in));
    const double rate = in->sample_rate();
    const NDArray& s = *in->samples();
    const double rms = rms_level(s);
    const double peak = peak_level(s);
    Map m;
    m.reserve(6);
    m.emplace_back("start", Value::real(static_cast<double>(frames_before_) / rate));
    m.emplace_back("duration", Value::real(static_cast<double>(in->frames()) / rate));
    m.emplace_back("rms", Value::real(rms));
    m.emplace_back("peak", Value::real(peak));
    m.emplace_back("rms_db", Value::real(level_db(rms)));
    m.emplace_back("peak_db", Value::real(level_db(peak)));
    frames_before_ += in->frames();
    out.emit(Value::map(std::move(m)));
    return Status::OK();
  }

 private:
  // Times are counted in frames of the first item's rate.
  StreamFormat stream_{StreamFormat::Fixes::kRateAndChannels};
  int64_t frames_before_ = 0;
};

// ------------------------------------------------------------------------------ EnergyVAD

struct VadParams {
  double threshold_db = -40.0;
  double frame_ms = 20.0;
  double hangover_ms = 300.0;
  double min_speech_ms = 100.0;
  double max_segment_ms = 30000.0;
  bool include_audio = true;
};

constexpr double kMaxFrameMs = 10000.0;
constexpr int64_t kSampleCountCap = int64_t{1} << 62;  // "never" for a hangover or a segment length

// round(ms * rate / 1000) (half to even), capped where it can only mean "longer than any stream".
int64_t ms_to_samples(double ms, int32_t rate) {
  const double x = ms * static_cast<double>(rate) / 1000.0;
  if (x >= static_cast<double>(kSampleCountCap)) return kSampleCountCap;
  return static_cast<int64_t>(std::nearbyint(x));
}

// Frames [a, b) of the stream somewhere in memory: sample (f, c) is base[f * frame_step + c *
// channel_step], f counted from a.
template <typename T>
struct FrameView {
  const T* base;
  int64_t frame_step;
  int64_t channel_step;
  int64_t frames;
};

// The typed engine: the stream's sample type is fixed by its first item, so the per-sample loops
// are compiled for it and the node makes one virtual call per item.
class VadEngine {
 public:
  virtual ~VadEngine() = default;
  virtual void push(const AudioBuffer& a, Emitter& out) = 0;
  virtual void finish(Emitter& out) = 0;
};

template <typename T>
class TypedVadEngine final : public VadEngine {
 public:
  struct Lengths {
    int64_t frame, hangover, min_speech, max_segment;
  };

  TypedVadEngine(const VadParams& p, const Lengths& n, const AudioBuffer& first)
      : threshold_db_(p.threshold_db),
        include_audio_(p.include_audio),
        n_(n),
        rate_(first.sample_rate()),
        channels_(first.channels()),
        one_d_(first.samples()->ndim() == 1),
        layout_(first.layout()),
        channel_major_(first.layout() == ChannelLayout::kPlanar && first.channels() > 1) {}
  // held_ and scratch_ grow with the samples that come (and keep their capacity): a frame's length
  // comes from frame_ms and the rate, and reserving it up front could ask for any size at all.

  void push(const AudioBuffer& a, Emitter& out) override {
    const int64_t frames = a.frames();
    const T* x = a.samples()->data_as<T>();
    FrameView<T> whole{x, channels_, 1, frames};
    if (a.samples()->ndim() == 1) whole = {x, 1, 0, frames};
    else if (a.layout() == ChannelLayout::kPlanar) whole = {x, 1, frames, frames};
    int64_t f = 0;
    if (held_frames_ > 0) {  // complete the frame the last item began
      f = std::min(n_.frame - held_frames_, frames);
      hold(slice(whole, 0, f));
      if (held_frames_ < n_.frame) return;
      on_frame(held_view(), out);
      release_held();
    }
    for (; frames - f >= n_.frame; f += n_.frame) on_frame(slice(whole, f, n_.frame), out);
    if (f < frames) hold(slice(whole, f, frames - f));
  }

  void finish(Emitter& out) override {
    if (held_frames_ > 0) on_frame(held_view(), out);  // the last, shorter frame
    release_held();
    if (in_speech_) close_segment(last_loud_end_, out);
  }

 private:
  FrameView<T> held_view() const { return {held_.data(), channels_, 1, held_frames_}; }
  static FrameView<T> slice(const FrameView<T>& v, int64_t from, int64_t count) {
    return {v.base + from * v.frame_step, v.frame_step, v.channel_step, count};
  }
  // Whether the view's samples are one run in interleaved order.
  bool contiguous(const FrameView<T>& v) const {
    return (channels_ == 1 && v.frame_step == 1) || (v.frame_step == channels_ && v.channel_step == 1);
  }

  // The frame's RMS in dB, over its samples in storage order. Interleaved (and mono) frames are one
  // run in memory, whether in an item or held back across items; a planar frame is channel by
  // channel, from an item's rows or from the (interleaved) held frame, so its squares are put in
  // that order first.
  double frame_db(const FrameView<T>& v) {
    const int64_t n = v.frames * channels_;
    if (!channel_major_) return level_db(rms_from_sum(sum_of_squares(v.base, n), n));
    if (scratch_.size() < static_cast<size_t>(n)) scratch_.resize(static_cast<size_t>(n));
    double* s = scratch_.data();
    for (int64_t c = 0; c < channels_; ++c) {
      const T* src = v.base + c * v.channel_step;
      double* dst = s + c * v.frames;
      for (int64_t f = 0; f < v.frames; ++f) dst[f] = squared_sample(src[f * v.frame_step]);
    }
    return level_db(rms_from_sum(pairwise_sum(s, n), n));
  }

  // The state machine of docs/AUDIO.md (EnergyVAD) for the frame [pos_, pos_ + v.frames).
  void on_frame(const FrameView<T>& v, Emitter& out) {
    const int64_t a = pos_;
    const int64_t b = pos_ + v.frames;
    pos_ = b;
    const bool loud = frame_db(v) > threshold_db_;
    if (!in_speech_) {
      if (!loud) return;
      in_speech_ = true;
      start_ = a;
      segment_.clear();
    }
    if (include_audio_) append_interleaved_frames(v);
    if (loud) last_loud_end_ = b;
    // At max_segment samples the segment is cut; a loud frame that goes on past the cut begins the
    // next segment there, so continuous speech comes out as contiguous segments.
    while (in_speech_ && b - start_ >= n_.max_segment) {
      const int64_t cut = start_ + n_.max_segment;
      const bool goes_on = loud && cut < b;
      std::vector<T> rest;  // the samples after the cut (less than a frame's worth)
      if (goes_on && include_audio_) rest.assign(segment_.begin() + (cut - start_) * channels_, segment_.end());
      close_segment(std::min(last_loud_end_, cut), out);
      if (goes_on) {
        in_speech_ = true;
        start_ = cut;
        segment_ = std::move(rest);
      }
    }
    if (in_speech_ && !loud && b - last_loud_end_ >= n_.hangover) close_segment(last_loud_end_, out);
  }

  // Emits [start_, end) unless it is shorter than min_speech; the segment's samples go with it.
  void close_segment(int64_t end, Emitter& out) {
    in_speech_ = false;
    const int64_t length = end - start_;
    if (length < n_.min_speech) {
      segment_.clear();  // keeps its capacity for the next segment
      return;
    }
    const double rate = rate_;
    Map m;
    m.reserve(3);
    m.emplace_back("start", Value::real(static_cast<double>(start_) / rate));
    m.emplace_back("end", Value::real(static_cast<double>(end) / rate));
    if (include_audio_) m.emplace_back("audio", Value::audio(take_segment(length)));
    out.emit(Value::map(std::move(m)));
  }

  // The first `frames` frames of the segment as a new array of the stream's dtype, layout and shape.
  // segment_ keeps its capacity (warm memory) for the next segment.
  Ref<AudioBuffer> take_segment(int64_t frames) {
    const int64_t c = channels_;
    std::vector<int64_t> shape{frames};
    if (!one_d_) shape = layout_ == ChannelLayout::kInterleaved ? std::vector<int64_t>{frames, c} : std::vector<int64_t>{c, frames};
    Ref<NDArray> arr = NDArray::allocate(DTypeOf<T>::value, std::move(shape));
    T* dst = arr->mutable_data_as<T>();
    if (channel_major_) {
      for (int64_t ch = 0; ch < c; ++ch)
        for (int64_t f = 0; f < frames; ++f) dst[ch * frames + f] = segment_[f * c + ch];
    } else if (frames * c > 0) {
      std::memcpy(dst, segment_.data(), static_cast<size_t>(frames * c) * sizeof(T));
    }
    segment_.clear();
    return AudioBuffer::make(std::move(arr), rate_, layout_).value();
  }

  void append_interleaved_frames(const FrameView<T>& v) { copy_interleaved(segment_, v); }

  void hold(const FrameView<T>& v) {
    copy_interleaved(held_, v);
    held_frames_ += v.frames;
  }
  void release_held() {
    held_.clear();
    held_frames_ = 0;
  }

  // Appends frames of `v` to `to` in interleaved order.
  void copy_interleaved(std::vector<T>& to, const FrameView<T>& v) const {
    const size_t old = to.size();
    const int64_t n = v.frames * channels_;
    to.resize(old + static_cast<size_t>(n));
    T* dst = to.data() + old;
    if (contiguous(v)) {
      if (n > 0) std::memcpy(dst, v.base, static_cast<size_t>(n) * sizeof(T));
      return;
    }
    for (int64_t f = 0; f < v.frames; ++f)
      for (int64_t c = 0; c < channels_; ++c) dst[f * channels_ + c] = v.base[f * v.frame_step + c * v.channel_step];
  }

  const double threshold_db_;
  const bool include_audio_;
  const Lengths n_;
  const int32_t rate_;
  const int64_t channels_;
  const bool one_d_;
  const ChannelLayout layout_;
  const bool channel_major_;  // planar with several channels: a frame's samples channel by channel

  std::vector<T> held_;         // the frame begun but not complete, interleaved
  int64_t held_frames_ = 0;
  std::vector<double> scratch_;  // one planar frame's squared samples
  int64_t pos_ = 0;             // stream frames evaluated so far (where held_ begins)
  bool in_speech_ = false;
  int64_t start_ = 0;           // of the open segment
  int64_t last_loud_end_ = 0;
  std::vector<T> segment_;      // the open segment's samples, interleaved, from start_ to pos_
};

class EnergyVADNode final : public Node {
 public:
  explicit EnergyVADNode(VadParams params) : params_(params) {}

  Status process(Value item, Emitter& out) override {
    RM_ASSIGN_OR_RETURN(Ref<AudioBuffer> in, audio_of(item));
    RM_RETURN_IF_ERROR(stream_.check(*in));
    if (!engine_) RM_RETURN_IF_ERROR(start(*in));
    engine_->push(*in, out);
    return Status::OK();
  }

  Status flush(Emitter& out) override {
    if (engine_) engine_->finish(out);
    return Status::OK();
  }

 private:
  Status start(const AudioBuffer& first) {
    const int32_t rate = first.sample_rate();
    typename TypedVadEngine<float>::Lengths n{
        ms_to_samples(params_.frame_ms, rate), ms_to_samples(params_.hangover_ms, rate),
        ms_to_samples(params_.min_speech_ms, rate), ms_to_samples(params_.max_segment_ms, rate)};
    if (n.frame < 1) {
      return ValueError("frame_ms gives frames of 0 samples at " + std::to_string(rate) + " Hz; it must give at least 1");
    }
    if (n.max_segment < 1) {
      return ValueError("max_segment_ms gives segments of 0 samples at " + std::to_string(rate) +
                        " Hz; it must give at least 1");
    }
    visit_sample_type(first.dtype(), [&](auto tag) {
      using T = decltype(tag);
      const typename TypedVadEngine<T>::Lengths lengths{n.frame, n.hangover, n.min_speech, n.max_segment};
      engine_ = std::make_unique<TypedVadEngine<T>>(params_, lengths, first);
    });
    return Status::OK();
  }

  VadParams params_;
  // The engine is compiled for the first item's sample type and joins samples of several items.
  StreamFormat stream_{StreamFormat::Fixes::kEverything};
  std::unique_ptr<VadEngine> engine_;
};

Status check_vad(const Value& params, const std::string& params_path) {
  const double frame_ms = number(*params.find("frame_ms"));
  if (!(frame_ms > 0.0 && frame_ms <= kMaxFrameMs)) {
    return param_error("parameter 'frame_ms' must be greater than 0 and at most 10000",
                       key_path(params_path, "frame_ms"));
  }
  if (!(number(*params.find("max_segment_ms")) > 0.0)) {
    return param_error("parameter 'max_segment_ms' must be greater than 0", key_path(params_path, "max_segment_ms"));
  }
  return Status::OK();
}

Result<std::unique_ptr<Node>> make_vad(const Value& params) {
  VadParams p;
  p.threshold_db = number(*params.find("threshold_db"));
  p.frame_ms = number(*params.find("frame_ms"));
  p.hangover_ms = number(*params.find("hangover_ms"));
  p.min_speech_ms = number(*params.find("min_speech_ms"));
  p.max_segment_ms = number(*params.find("max_segment_ms"));
  p.include_audio = params.find("include_audio")->as_bool();
  return std::unique_ptr<Node>(std::make_unique<EnergyVADNode>(p));
}

}  // namespace

void register_audio_analysis_nodes(Registry& registry) {
  (void)registry.add(NodeTypeInfo{
      "AudioLevelNode",
      {"AudioLevel"},
      "Emits each audio item's start time, duration, RMS and peak level (linear and in dB).",
      {},
      [](const Value&) -> Result<std::unique_ptr<Node>> {
        return std::unique_ptr<Node>(std::make_unique<AudioLevelNode>());
      },
  });
  (void)registry.add(NodeTypeInfo{
      "EnergyVADNode",
      {"EnergyVAD"},
      "Finds speech by frame energy; emits {start, end, audio} per segment, in seconds.",
      {ParamSpec{"threshold_db", ParamType::kNumber, false, Value::real(-40.0), {},
                 "A frame is loud when its RMS level in dB is above this."},
       ParamSpec{"frame_ms", ParamType::kNumber, false, Value::real(20.0), {},
                 "Analysis frame length in ms (more than 0, at most 10000)."},
       ParamSpec{"hangover_ms", ParamType::kNumber, false, Value::real(300.0), {},
                 "Quiet time after the last loud frame that ends a segment.", 0.0},
       ParamSpec{"min_speech_ms", ParamType::kNumber, false, Value::real(100.0), {},
                 "Segments shorter than this are dropped.", 0.0},
       ParamSpec{"max_segment_ms", ParamType::kNumber, false, Value::real(30000.0), {},
                 "Segments are cut at this length (more than 0)."},
       ParamSpec{"include_audio", ParamType::kBool, false, Value::boolean(true), {},
                 "Attach the segment's samples as \"audio\"."}},
      make_vad,
      nullptr,
      check_vad,
  });
}

}  // namespace remotemedia

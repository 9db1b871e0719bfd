// The basic audio nodes (docs/AUDIO.md): AudioFormat (sample type, channels, layout), AudioGain
// and AudioNormalize. Each is one output per input item, stateless, and bit for bit the numpy code
// of remotemedia/nodes/audio_basic.py.
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
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

Status param_error(std::string message, std::string path) {
  return std::move(Status(StatusCode::kInvalidParameter, std::move(message)).with_path(std::move(path)));
}

// 10 ** (db / 20): the linear factor of a level in dB. CPython's float ** is the C library's pow,
// so the Python nodes compute the same double.
double db_to_factor(double db) { return std::pow(10.0, db / 20.0); }

double number(const Value& v) { return v.is_int() ? static_cast<double>(v.as_int()) : v.as_float(); }

// A dB parameter whose factor must be finite (Python's ** raises OverflowError where pow gives inf).
ParamsCheck finite_factor_check(const char* name) {
  return [name](const Value& params, const std::string& params_path) -> Status {
    if (!std::isfinite(db_to_factor(number(*params.find(name))))) {
      return param_error(std::string("parameter '") + name + "' is too large: 10 ** (" + name + " / 20) overflows",
                         key_path(params_path, name));
    }
    return Status::OK();
  };
}

// ------------------------------------------------------------------------------------ gain

// out = in * g with the sample type's rule (docs/AUDIO.md, AudioGain): float64 multiplies in
// float64, float32 in float32 by float32(g), integers in float64 then round half to even and clip.
// Plain loops over contiguous arrays, which the compiler vectorises.
template <typename T>
void scale_samples(const T* in, T* out, int64_t n, double g) {
  if constexpr (std::is_same_v<T, double>) {
    for (int64_t i = 0; i < n; ++i) out[i] = in[i] * g;
  } else if constexpr (std::is_same_v<T, float>) {
    const float gf = static_cast<float>(g);
    for (int64_t i = 0; i < n; ++i) out[i] = in[i] * gf;
  } else if (std::isfinite(g)) {
    // sample_from_scaled without its NaN test, which a finite factor never needs (x * g is finite
    // or +-inf, and the clip takes care of those): a loop the compiler vectorises.
    constexpr double lo = std::numeric_limits<T>::min(), hi = std::numeric_limits<T>::max();
    for (int64_t i = 0; i < n; ++i) {
      double r = std::nearbyint(static_cast<double>(static_cast<int32_t>(in[i])) * g);
      r = r < lo ? lo : r;
      r = r > hi ? hi : r;
      out[i] = static_cast<T>(static_cast<int32_t>(r));
    }
  } else {
    for (int64_t i = 0; i < n; ++i) out[i] = sample_from_scaled<T>(static_cast<double>(in[i]) * g);
  }
}

Ref<AudioBuffer> apply_gain(const AudioBuffer& in, double g) {
  const NDArray& s = *in.samples();
  Ref<NDArray> out = NDArray::allocate(s.dtype(), s.shape());
  visit_sample_type(s.dtype(), [&](auto tag) {
    using T = decltype(tag);
    scale_samples<T>(s.data_as<T>(), out->mutable_data_as<T>(), s.size(), g);
  });
  return AudioBuffer::make(std::move(out), in.sample_rate(), in.layout()).value();
}

class AudioGainNode final : public Node {
 public:
  explicit AudioGainNode(double db) : factor_(db_to_factor(db)) {}

  Status process(Value item, Emitter& out) override {
    RM_ASSIGN_OR_RETURN(Ref<AudioBuffer> in, audio_of(item));
    // A factor of exactly 1 changes no sample: hand on the same buffer (both runtimes do).
    if (factor_ == 1.0) out.emit(std::move(item));
    else out.emit(Value::audio(apply_gain(*in, factor_)));
    return Status::OK();
  }

 private:
  double factor_;
};

// ------------------------------------------------------------------------------- normalize

class AudioNormalizeNode final : public Node {
 public:
  AudioNormalizeNode(bool rms, double target_db) : rms_(rms), target_(db_to_factor(target_db)) {}

  Status process(Value item, Emitter& out) override {
    RM_ASSIGN_OR_RETURN(Ref<AudioBuffer> in, audio_of(item));
    const NDArray& s = *in->samples();
    if (s.size() == 0) {
      out.emit(std::move(item));
      return Status::OK();
    }
    const double level = rms_ ? rms_level(s) : peak_level(s);
    // Silence (or a NaN / infinite level) has no gain that reaches the target: the item as it is.
    if (level == 0.0 || !std::isfinite(level)) {
      out.emit(std::move(item));
      return Status::OK();
    }
    out.emit(Value::audio(apply_gain(*in, target_ / level)));
    return Status::OK();
  }

 private:
  bool rms_;
  double target_;
};

// ---------------------------------------------------------------------------------- format

// The most channels `channels` may ask for: duplicating mono to more is never meant (and the
// duplicates' index list is as long as the count). docs/NODES.md, "Limits".
constexpr int64_t kMaxFormatChannels = 65536;

struct FormatSpec {
  std::optional<DType> dtype;
  std::optional<int64_t> channels;
  std::vector<int64_t> select;  // empty: no selection (an empty list is a parameter error)
  std::optional<ChannelLayout> layout;
};

DType dtype_from_name(const std::string& name) {
  if (name == "int16") return DType::kInt16;
  if (name == "int32") return DType::kInt32;
  if (name == "float32") return DType::kFloat32;
  return DType::kFloat64;
}

Status check_format(const Value& params, const std::string& params_path) {
  const Value& select = *params.find("select");
  if (select.is_null()) return Status::OK();
  const std::string path = key_path(params_path, "select");
  if (!params.find("channels")->is_null()) return param_error("select and channels cannot be used together", path);
  const List& indices = select.as_list();
  if (indices.empty()) return param_error("parameter 'select' must list at least one channel", path);
  for (size_t i = 0; i < indices.size(); ++i) {
    if (!indices[i].is_int() || indices[i].as_int() < 0) {
      return param_error("a channel index must be an integer of at least 0, got " +
                             std::string(indices[i].is_int() ? std::to_string(indices[i].as_int())
                                                             : json_type_name(indices[i])),
                         path + "[" + std::to_string(i) + "]");
    }
  }
  return Status::OK();
}

// Where sample (frame f, channel c) of a buffer is: data[f * frame_step + c * channel_step].
struct Strides {
  int64_t frame_step;
  int64_t channel_step;
};

Strides strides_of(const AudioBuffer& a) {
  if (a.samples()->ndim() == 1) return {1, 0};
  if (a.layout() == ChannelLayout::kInterleaved) return {a.channels(), 1};
  return {1, a.frames()};
}

// Gathered channels are an array of frames x k in the input's sample type, then in the output's:
// the wider of the two must fit what a node allocates.
Status check_gathered_size(const AudioBuffer& in, int64_t k, DType to) {
  const DType wider = dtype_size(to) > dtype_size(in.dtype()) ? to : in.dtype();
  if (!audio_fits(in.frames(), k, wider)) return too_large("the output", in.frames(), k, wider);
  return Status::OK();
}

// The channels `pick` of `in` (same sample type) in `layout`; one channel gives 1-D mono.
Ref<AudioBuffer> gather_channels(const AudioBuffer& in, const std::vector<int64_t>& pick, ChannelLayout layout) {
  const int64_t frames = in.frames();
  const int64_t k = static_cast<int64_t>(pick.size());
  std::vector<int64_t> shape;
  if (k == 1) shape = {frames};
  else if (layout == ChannelLayout::kInterleaved) shape = {frames, k};
  else shape = {k, frames};
  Ref<NDArray> out = NDArray::allocate(in.dtype(), shape);
  const Strides s = strides_of(in);
  const Strides o = k == 1 ? Strides{1, 0} : layout == ChannelLayout::kInterleaved ? Strides{k, 1} : Strides{1, frames};
  visit_sample_type(in.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* x = in.samples()->data_as<T>();
    T* y = out->mutable_data_as<T>();
    for (int64_t j = 0; j < k; ++j) {
      const T* src = x + pick[j] * s.channel_step;
      T* dst = y + j * o.channel_step;
      for (int64_t f = 0; f < frames; ++f) dst[f * o.frame_step] = src[f * s.frame_step];
    }
  });
  return AudioBuffer::make(std::move(out), in.sample_rate(), layout).value();
}

// Mono float64: per frame (((c0 + c1) + c2) + ...) / C of the samples scaled to [-1, 1). Channel
// by channel over all frames, which keeps each frame's order of additions and vectorises.
Ref<AudioBuffer> mix_down(const AudioBuffer& in) {
  const int64_t frames = in.frames();
  const int64_t channels = in.channels();
  Ref<NDArray> out = NDArray::allocate(DType::kFloat64, {frames});
  double* m = out->mutable_data_as<double>();
  const Strides s = strides_of(in);
  visit_sample_type(in.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* x = in.samples()->data_as<T>();
    for (int64_t f = 0; f < frames; ++f) m[f] = scaled_sample(x[f * s.frame_step]);
    for (int64_t c = 1; c < channels; ++c) {
      const T* src = x + c * s.channel_step;
      for (int64_t f = 0; f < frames; ++f) m[f] += scaled_sample(src[f * s.frame_step]);
    }
    const double count = static_cast<double>(channels);
    for (int64_t f = 0; f < frames; ++f) m[f] /= count;
  });
  return AudioBuffer::make(std::move(out), in.sample_rate()).value();
}

class AudioFormatNode final : public Node {
 public:
  explicit AudioFormatNode(FormatSpec spec) : spec_(std::move(spec)) {}

  Status process(Value item, Emitter& out) override {
    RM_ASSIGN_OR_RETURN(Ref<AudioBuffer> in, audio_of(item));
    const int64_t channels = in->channels();
    const DType to = spec_.dtype.value_or(in->dtype());
    const ChannelLayout layout = spec_.layout.value_or(in->layout());
    Ref<AudioBuffer> r = in;
    if (!spec_.select.empty()) {
      bool identity = static_cast<int64_t>(spec_.select.size()) == channels;
      for (size_t j = 0; j < spec_.select.size(); ++j) {
        const int64_t c = spec_.select[j];
        if (c >= channels) {
          return ValueError("channel " + std::to_string(c) + " selected, but the audio has " +
                            std::to_string(channels) + (channels == 1 ? " channel" : " channels"));
        }
        identity = identity && c == static_cast<int64_t>(j);
      }
      if (!identity) {
        RM_RETURN_IF_ERROR(check_gathered_size(*in, static_cast<int64_t>(spec_.select.size()), to));
        r = gather_channels(*in, spec_.select, layout);
      }
    } else if (spec_.channels && *spec_.channels != channels) {
      const int64_t n = *spec_.channels;
      if (n == 1 && channels > 0) r = mix_down(*in);  // float64, converted to `to` below (docs/AUDIO.md)
      else if (channels == 1) {
        RM_RETURN_IF_ERROR(check_gathered_size(*in, n, to));
        r = gather_channels(*in, std::vector<int64_t>(static_cast<size_t>(n), 0), layout);
      } else return ValueError("cannot map " + std::to_string(channels) + " channels to " + std::to_string(n) + "; use select");
    }
    r = to_layout(convert_audio(r, to), layout);
    if (r.get() == in.get()) out.emit(std::move(item));  // nothing to do: the very same item
    else out.emit(Value::audio(std::move(r)));
    return Status::OK();
  }

 private:
  FormatSpec spec_;
};

Result<std::unique_ptr<Node>> make_format(const Value& params) {
  FormatSpec spec;
  if (const Value* v = params.find("dtype"); v && !v->is_null()) spec.dtype = dtype_from_name(v->as_string());
  if (const Value* v = params.find("channels"); v && !v->is_null()) spec.channels = v->as_int();
  if (const Value* v = params.find("select"); v && !v->is_null()) {
    for (const Value& c : v->as_list()) spec.select.push_back(c.as_int());
  }
  if (const Value* v = params.find("layout"); v && !v->is_null()) {
    ChannelLayout l = ChannelLayout::kInterleaved;
    parse_layout(v->as_string(), &l);
    spec.layout = l;
  }
  return std::unique_ptr<Node>(std::make_unique<AudioFormatNode>(std::move(spec)));
}

}  // namespace

void register_audio_basic_nodes(Registry& registry) {
  (void)registry.add(NodeTypeInfo{
      "AudioFormatNode",
      {"AudioFormat"},
      "Converts audio to another sample type, channel count or layout (docs/AUDIO.md).",
      {ParamSpec{"dtype", ParamType::kString, false, Value(), {"int16", "int32", "float32", "float64"},
                 "Output sample type (absent: the input's)."},
       ParamSpec{"channels", ParamType::kInt, false, Value(), {},
                 "Output channel count (at most 65536): 1 mixes down, from mono duplicates (absent: the input's).", 1.0,
                 static_cast<double>(kMaxFormatChannels)},
       ParamSpec{"select", ParamType::kList, false, Value(), {},
                 "Channel indices to keep, in this order (absent: all); not with channels."},
       ParamSpec{"layout", ParamType::kString, false, Value(), {"interleaved", "planar"},
                 "Output layout (absent: the input's); mono output is 1-D."}},
      make_format,
      nullptr,
      check_format,
  });
  (void)registry.add(NodeTypeInfo{
      "AudioGainNode",
      {"AudioGain"},
      "Multiplies audio by a gain in dB (integer samples are rounded and clipped, floats are not clipped).",
      {ParamSpec{"db", ParamType::kNumber, true, Value(), {}, "Gain in dB: samples are multiplied by 10 ** (db / 20)."}},
      [](const Value& params) -> Result<std::unique_ptr<Node>> {
        return std::unique_ptr<Node>(std::make_unique<AudioGainNode>(number(*params.find("db"))));
      },
      nullptr,
      finite_factor_check("db"),
  });
  (void)registry.add(NodeTypeInfo{
      "AudioNormalizeNode",
      {"AudioNormalize"},
      "Scales each audio item so that its peak or RMS level is target_db (silence passes unchanged).",
      {ParamSpec{"mode", ParamType::kString, false, Value::string("peak"), {"peak", "rms"},
                 "The level to bring to target_db: peak or rms."},
       ParamSpec{"target_db", ParamType::kNumber, false, Value::real(-1.0), {},
                 "Target level in dB relative to full scale."}},
      [](const Value& params) -> Result<std::unique_ptr<Node>> {
        return std::unique_ptr<Node>(std::make_unique<AudioNormalizeNode>(
            params.find("mode")->as_string() == "rms", number(*params.find("target_db"))));
      },
      nullptr,
      finite_factor_check("target_db"),
  });
}

}  // namespace remotemedia

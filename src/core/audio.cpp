// AudioBuffer and the shared sample arithmetic (include/remotemedia/audio.h, audio_samples.h;
// docs/AUDIO.md). Every rule here has a numpy twin in remotemedia/core/audio.py.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>

#include "remotemedia/audio.h"
#include "remotemedia/audio_samples.h"

namespace remotemedia {

const char* layout_name(ChannelLayout layout) {
  return layout == ChannelLayout::kPlanar ? "planar" : "interleaved";
}

bool parse_layout(const std::string& name, ChannelLayout* out) {
  if (name == "interleaved") *out = ChannelLayout::kInterleaved;
  else if (name == "planar") *out = ChannelLayout::kPlanar;
  else return false;
  return true;
}

bool is_sample_type(DType dtype) {
  return dtype == DType::kInt16 || dtype == DType::kInt32 || dtype == DType::kFloat32 ||
         dtype == DType::kFloat64;
}

double full_scale(DType dtype) {
  if (dtype == DType::kInt16) return 32768.0;
  if (dtype == DType::kInt32) return 2147483648.0;
  return 0.0;
}

AudioBuffer::AudioBuffer(Ref<NDArray> samples, int32_t sample_rate, ChannelLayout layout)
    : samples_(std::move(samples)), sample_rate_(sample_rate), layout_(layout) {
  const auto& shape = samples_->shape();
  if (shape.size() == 1) {
    channels_ = 1;
    frames_ = shape[0];
    layout_ = ChannelLayout::kInterleaved;
  } else if (layout_ == ChannelLayout::kInterleaved) {
    frames_ = shape[0];
    channels_ = static_cast<int32_t>(shape[1]);
  } else {
    channels_ = static_cast<int32_t>(shape[0]);
    frames_ = shape[1];
  }
}

Result<Ref<AudioBuffer>> AudioBuffer::make(Ref<NDArray> samples, int64_t sample_rate, ChannelLayout layout) {
  if (!samples) return Status(StatusCode::kTypeError, "audio samples are missing");
  if (!is_sample_type(samples->dtype())) {
    return Status(StatusCode::kTypeError, std::string("audio samples must be int16, int32, float32 or float64, not ") +
                                              dtype_name(samples->dtype()));
  }
  if (samples->ndim() != 1 && samples->ndim() != 2) {
    return Status(StatusCode::kValueError,
                  "audio samples must be 1-D (mono) or 2-D, not " + std::to_string(samples->ndim()) + "-D");
  }
  if (sample_rate <= 0 || sample_rate > std::numeric_limits<int32_t>::max()) {
    return Status(StatusCode::kValueError, "sample_rate must be positive and fit 32 bits, not " +
                                               std::to_string(sample_rate));
  }
  if (samples->ndim() == 2) {
    const int64_t channels = layout == ChannelLayout::kInterleaved ? samples->shape()[1] : samples->shape()[0];
    if (channels > std::numeric_limits<int32_t>::max()) {
      return Status(StatusCode::kValueError, "too many audio channels: " + std::to_string(channels));
    }
  }
  return Ref<AudioBuffer>(new AudioBuffer(std::move(samples), static_cast<int32_t>(sample_rate), layout));
}

std::string AudioBuffer::describe() const {
  return std::to_string(sample_rate_) + " Hz, " + std::to_string(channels_) + " ch, " + dtype_name(dtype()) +
         ", " + layout_name(layout_) + ", " + std::to_string(frames_) + " frames";
}

namespace {

template <typename From, typename To>
void convert_range(const From* in, To* out, int64_t n) {
  constexpr bool from_int = std::is_integral_v<From>;
  constexpr bool to_int = std::is_integral_v<To>;
  if constexpr (!from_int && !to_int) {
    for (int64_t i = 0; i < n; ++i) out[i] = static_cast<To>(in[i]);
  } else if constexpr (from_int && !to_int) {
    // One rounding (int32 -> float32), then an exact power-of-two scale.
    const To k = static_cast<To>(1.0 / full_scale(DTypeOf<From>::value));
    for (int64_t i = 0; i < n; ++i) out[i] = static_cast<To>(in[i]) * k;
  } else {
    const double to_scale = full_scale(DTypeOf<To>::value);
    const double from_scale = from_int ? full_scale(DTypeOf<From>::value) : 1.0;
    const double inv = 1.0 / from_scale;
    for (int64_t i = 0; i < n; ++i) {
      double x = static_cast<double>(in[i]);
      if constexpr (from_int) x *= inv;
      out[i] = sample_from_scaled<To>(x * to_scale);
    }
  }
}

}  // namespace

Ref<NDArray> convert_samples(const Ref<NDArray>& samples, DType to) {
  if (samples->dtype() == to) return samples;
  Ref<NDArray> out = NDArray::allocate(to, samples->shape());
  const int64_t n = samples->size();
  visit_sample_type(samples->dtype(), [&](auto from_tag) {
    using From = decltype(from_tag);
    visit_sample_type(to, [&](auto to_tag) {
      using To = decltype(to_tag);
      convert_range<From, To>(samples->data_as<From>(), out->mutable_data_as<To>(), n);
    });
  });
  return out;
}

Ref<AudioBuffer> convert_audio(const Ref<AudioBuffer>& audio, DType to) {
  if (audio->dtype() == to) return audio;
  return AudioBuffer::make(convert_samples(audio->samples(), to), audio->sample_rate(), audio->layout()).value();
}

Ref<AudioBuffer> to_layout(const Ref<AudioBuffer>& audio, ChannelLayout layout) {
  const NDArray& s = *audio->samples();
  if (audio->layout() == layout || s.ndim() == 1) return audio;
  const int64_t rows = s.shape()[0], cols = s.shape()[1];
  Ref<NDArray> out = NDArray::allocate(s.dtype(), {cols, rows});
  const auto* in = static_cast<const unsigned char*>(s.data());
  auto* dst = static_cast<unsigned char*>(out->mutable_data());
  visit_sample_type(s.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* src = reinterpret_cast<const T*>(in);
    T* o = reinterpret_cast<T*>(dst);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c) o[c * rows + r] = src[r * cols + c];
  });
  return AudioBuffer::make(std::move(out), audio->sample_rate(), layout).value();
}

double pairwise_sum(const double* x, int64_t n) {
  // numpy's pairwise_sum (numpy/_core/src/umath/loops_utils.h.src), the order np.sum uses on a
  // contiguous float64 array.
  if (n < 8) {
    double r = 0.0;
    for (int64_t i = 0; i < n; ++i) r += x[i];
    return r;
  }
  if (n <= 128) {
    double r[8];
    for (int j = 0; j < 8; ++j) r[j] = x[j];
    int64_t i = 8;
    for (; i < n - (n % 8); i += 8)
      for (int j = 0; j < 8; ++j) r[j] += x[i + j];
    double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) res += x[i];
    return res;
  }
  int64_t n2 = n / 2;
  n2 -= n2 % 8;
  return pairwise_sum(x, n2) + pairwise_sum(x + n2, n - n2);
}

namespace {

// The splits of pairwise_sum (numpy's), down to its blocks of at most 128 terms, whose squares go
// through a small buffer into pairwise_sum itself: the same additions in the same order.
template <typename T>
double sum_of_squares_of(const T* x, int64_t n) {
  if (n <= 128) {
    double squares[128];
    for (int64_t i = 0; i < n; ++i) squares[i] = squared_sample(x[i]);
    return pairwise_sum(squares, n);
  }
  int64_t half = n / 2;
  half -= half % 8;
  return sum_of_squares_of(x, half) + sum_of_squares_of(x + half, n - half);
}

}  // namespace

double sum_of_squares(const int16_t* x, int64_t n) { return sum_of_squares_of(x, n); }
double sum_of_squares(const int32_t* x, int64_t n) { return sum_of_squares_of(x, n); }
double sum_of_squares(const float* x, int64_t n) { return sum_of_squares_of(x, n); }
double sum_of_squares(const double* x, int64_t n) { return sum_of_squares_of(x, n); }

double rms_level(const NDArray& s) {
  return visit_sample_type(s.dtype(), [&](auto tag) {
    using T = decltype(tag);
    return rms_from_sum(sum_of_squares(s.data_as<T>(), s.size()), s.size());
  });
}

double peak_level(const NDArray& s) {
  return visit_sample_type(s.dtype(), [&](auto tag) -> double {
    using T = decltype(tag);
    const T* x = s.data_as<T>();
    const int64_t n = s.size();
    if (n == 0) return 0.0;
    if constexpr (std::is_integral_v<T>) {
      // The extremes as integers, then the larger magnitude scaled (exact and monotonic).
      T lo = x[0], hi = x[0];
      for (int64_t i = 0; i < n; ++i) {
        lo = x[i] < lo ? x[i] : lo;
        hi = x[i] > hi ? x[i] : hi;
      }
      const int64_t m = std::max(-static_cast<int64_t>(lo), static_cast<int64_t>(hi));
      return static_cast<double>(m) * kSampleScale<T>;
    } else {
      // |x| as the bits of x without the sign: for non-negative IEEE values (NaN last) the order
      // of the bits as unsigned integers is the order of the values, so an integer maximum (which
      // vectorises) finds the largest |x|, and a NaN if there is one.
      using Bits = std::conditional_t<std::is_same_v<T, float>, uint32_t, uint64_t>;
      constexpr Bits kMagnitude = std::numeric_limits<Bits>::max() >> 1;
      constexpr Bits kInfinity = std::bit_cast<Bits>(std::numeric_limits<T>::infinity());
      Bits m = 0;
      for (int64_t i = 0; i < n; ++i) {
        const Bits a = std::bit_cast<Bits>(x[i]) & kMagnitude;
        m = a > m ? a : m;
      }
      return m > kInfinity ? std::nan("") : static_cast<double>(std::bit_cast<T>(m));
    }
  });
}

void samples_to_double(const NDArray& samples, double* out) {
  const int64_t n = samples.size();
  visit_sample_type(samples.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* in = samples.data_as<T>();
    for (int64_t i = 0; i < n; ++i) out[i] = scaled_sample(in[i]);
  });
}

}  // namespace remotemedia

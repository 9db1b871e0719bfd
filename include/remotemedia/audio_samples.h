// Sample arithmetic both runtimes share bit for bit (docs/AUDIO.md): conversions between sample
// types and layouts, and the reductions (sums, levels) audio nodes compute. The Python executor's
// versions are in remotemedia/core/audio.py; tests compare the two on random signals.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <utility>

#include "remotemedia/audio.h"
#include "remotemedia/ndarray.h"

namespace remotemedia {

// Calls f(T{}) with T the C++ type of a sample type (int16_t, int32_t, float, double).
template <typename F>
decltype(auto) visit_sample_type(DType dtype, F&& f) {
  switch (dtype) {
    case DType::kInt16: return f(int16_t{});
    case DType::kInt32: return f(int32_t{});
    case DType::kFloat32: return f(float{});
    default: return f(double{});
  }
}

// A float64 value in [-1, 1) scale turned into an integer sample of T: multiplied by the full
// scale, rounded half to even, clipped to T's range; NaN becomes 0 (numpy: rint, clip, NaN -> 0).
template <typename T>
inline T sample_from_scaled(double scaled) {
  static_assert(std::is_integral_v<T>);
  constexpr double lo = static_cast<double>(std::numeric_limits<T>::min());
  constexpr double hi = static_cast<double>(std::numeric_limits<T>::max());
  double r = std::nearbyint(scaled);  // half to even in the default rounding mode
  if (std::isnan(r)) return 0;
  if (r < lo) r = lo;
  if (r > hi) r = hi;
  return static_cast<T>(r);
}

// The samples as `to`: int -> float divides by the full scale (int32 -> float32 rounds once),
// float -> int scales, rounds half to even and clips, int -> int goes through float64 the same way,
// float -> float is a cast. Returns `samples` itself when the type is already `to`.
Ref<NDArray> convert_samples(const Ref<NDArray>& samples, DType to);

// The same audio as another sample type / layout (the buffer itself when nothing changes).
Ref<AudioBuffer> convert_audio(const Ref<AudioBuffer>& audio, DType to);
Ref<AudioBuffer> to_layout(const Ref<AudioBuffer>& audio, ChannelLayout layout);

// 1 / full scale of an integer sample type (exact: a power of two); 1 for the float types.
template <typename T>
inline constexpr double kSampleScale = std::is_same_v<T, int16_t>   ? 1.0 / 32768.0
                                       : std::is_same_v<T, int32_t> ? 1.0 / 2147483648.0
                                                                    : 1.0;

// A sample as float64 in [-1, 1) scale (integers divided by the full scale), and its square, a
// term of an RMS. Inline: the per-sample loops that call them vectorise.
template <typename T>
inline double scaled_sample(T v) {
  if constexpr (std::is_integral_v<T>) return static_cast<double>(v) * kSampleScale<T>;
  else return static_cast<double>(v);
}
template <typename T>
inline double squared_sample(T v) {
  const double d = scaled_sample(v);
  return d * d;
}

// The sum of n doubles in numpy's order (pairwise summation over blocks of 128 with eight
// accumulators), so a native sum equals np.sum of the same float64 array exactly.
double pairwise_sum(const double* x, int64_t n);

// pairwise_sum of squared_sample(x[i]) for i < n, without storing n squares: equal, bit for bit,
// to pairwise_sum over the array of squares (np.sum(np.square(x)) of the scaled samples).
double sum_of_squares(const int16_t* x, int64_t n);
double sum_of_squares(const int32_t* x, int64_t n);
double sum_of_squares(const float* x, int64_t n);
double sum_of_squares(const double* x, int64_t n);

// sqrt(sum / n), 0 for no samples: an RMS from its sum of squares.
inline double rms_from_sum(double sum, int64_t n) {
  return n == 0 ? 0.0 : std::sqrt(sum / static_cast<double>(n));
}

// The levels of docs/AUDIO.md ("Reductions") over every sample in storage order, scaled to
// [-1, 1); 0 for no samples. RMS: sqrt(sum(x * x) / n) in numpy's order. Peak: max |x|, exact
// (-32768 in int16 is 1.0); NaN when a sample is NaN, as np.max. The numpy twins are rms_level and
// peak_level in remotemedia/nodes/audio_basic.py.
double rms_level(const NDArray& samples);
double peak_level(const NDArray& samples);

// Every sample in storage order as float64 in [-1, 1) scale (integers divided by the full scale).
void samples_to_double(const NDArray& samples, double* out);

}  // namespace remotemedia

// Exact comparison of Values, shared by the C++ tests and the fuzz targets (the oracles of both
// must mean the same thing by "the same result").
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "remotemedia/audio.h"
#include "remotemedia/ndarray.h"
#include "remotemedia/value.h"

namespace remotemedia::test_support {

// Same kind and same value: 1, 1.0 and true differ; floats compare by bits except that any NaN
// equals any NaN; arrays by dtype, shape, scalar flag and bytes; big integers by digits.
inline bool same(const Value& a, const Value& b) {
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case ValueKind::kFloat: {
      const double x = a.as_float(), y = b.as_float();
      if (std::isnan(x) || std::isnan(y)) return std::isnan(x) && std::isnan(y);
      return x == y && std::signbit(x) == std::signbit(y);
    }
    case ValueKind::kList: {
      if (a.as_list().size() != b.as_list().size()) return false;
      for (size_t i = 0; i < a.as_list().size(); ++i) {
        if (!same(a.as_list()[i], b.as_list()[i])) return false;
      }
      return true;
    }
    case ValueKind::kMap: {
      if (a.as_map().size() != b.as_map().size()) return false;
      for (size_t i = 0; i < a.as_map().size(); ++i) {
        if (a.as_map()[i].first != b.as_map()[i].first || !same(a.as_map()[i].second, b.as_map()[i].second)) {
          return false;
        }
      }
      return true;
    }
    case ValueKind::kArray: {
      const NDArray& x = a.as_array();
      const NDArray& y = b.as_array();
      if (x.dtype() != y.dtype() || x.shape() != y.shape() || x.numpy_scalar() != y.numpy_scalar()) return false;
      if (x.dtype() == DType::kFloat64 || x.dtype() == DType::kFloat32) {  // NaN payloads may differ
        for (int64_t i = 0; i < x.size(); ++i) {
          const double p = x.dtype() == DType::kFloat64 ? x.data_as<double>()[i] : x.data_as<float>()[i];
          const double q = y.dtype() == DType::kFloat64 ? y.data_as<double>()[i] : y.data_as<float>()[i];
          if (std::isnan(p) || std::isnan(q) ? !(std::isnan(p) && std::isnan(q))
                                             : std::bit_cast<uint64_t>(p) != std::bit_cast<uint64_t>(q)) {
            return false;
          }
        }
        return true;
      }
      return x.nbytes() == 0 || std::memcmp(x.data(), y.data(), x.nbytes()) == 0;
    }
    case ValueKind::kAudio: {
      const AudioBuffer& x = a.as_audio();
      const AudioBuffer& y = b.as_audio();
      return x.sample_rate() == y.sample_rate() && x.channels() == y.channels() && x.layout() == y.layout() &&
             same(Value::array(x.samples()), Value::array(y.samples()));
    }
    case ValueKind::kObject:
      if (a.as_object().is_big_integer() && b.as_object().is_big_integer()) {
        return a.as_object().big_integer_digits() == b.as_object().big_integer_digits();
      }
      return a == b;
    default: return a == b;
  }
}

}  // namespace remotemedia::test_support

// What the fuzz targets share: a reader of the fuzzer's bytes, Values decoded from them (the item
// encoding of fuzz/make_corpus.py, which writes the seed corpora), and exact comparison of Values.
//
// The decoder's sizes are capped (string length, list length, nesting, array elements) so that no
// input allocates much by design; what the runtime does with the values is not capped.
#pragma once

#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "remotemedia/audio.h"
#include "remotemedia/json.h"
#include "remotemedia/ndarray.h"
#include "remotemedia/value.h"
#include "same_value.h"

namespace remotemedia::fuzz {

using remotemedia::test_support::same;

// False when RM_FUZZ_UNCAPPED is set. The harnesses skip the inputs of faults already recorded
// (known, or in fuzz/regressions/) while fuzzing, so that a run looks past them; scripts/fuzz.sh
// replays the regression files uncapped, so each fails until its fault is fixed.
inline bool capped() {
  static const bool on = std::getenv("RM_FUZZ_UNCAPPED") == nullptr;
  return on;
}

// Reads from the front; past the end every read gives zeros, so any input decodes.
class ByteReader {
 public:
  ByteReader(const uint8_t* data, size_t size) : p_(data), n_(size) {}
  explicit ByteReader(std::string_view s) : ByteReader(reinterpret_cast<const uint8_t*>(s.data()), s.size()) {}

  bool empty() const { return n_ == 0; }
  int peek() const { return n_ == 0 ? -1 : *p_; }
  size_t remaining() const { return n_; }
  uint8_t u8() {
    if (n_ == 0) return 0;
    --n_;
    return *p_++;
  }
  // Little-endian, as make_corpus.py's struct.pack("<q") and ("<d").
  uint64_t u64() {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(u8()) << (8 * i);
    return v;
  }
  int64_t i64() { return static_cast<int64_t>(u64()); }
  double f64() { return std::bit_cast<double>(u64()); }
  std::string_view take(size_t count) {
    const size_t k = count < n_ ? count : n_;
    std::string_view s(reinterpret_cast<const char*>(p_), k);
    p_ += k;
    n_ -= k;
    return s;
  }
  std::string_view rest() { return take(n_); }

 private:
  const uint8_t* p_;
  size_t n_;
};

// Replaces every byte that does not start a valid UTF-8 sequence by '?': Value strings are text
// (the binding only makes them from Python str), bytes travel as kBytes.
inline std::string valid_utf8(std::string_view s) {
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    bool ok = len > 0 && i + len <= s.size();
    uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
    for (size_t k = 1; ok && k < len; ++k) {
      const auto d = static_cast<unsigned char>(s[i + k]);
      ok = (d & 0xC0) == 0x80;
      cp = (cp << 6) | (d & 0x3F);
    }
    // Overlong forms, surrogates and code points past U+10FFFF are not UTF-8 either.
    if (ok && ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
               (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)) {
      ok = false;
    }
    if (ok) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out.push_back('?');
      ++i;
    }
  }
  return out;
}

inline DType dtype_from(uint8_t b) { return static_cast<DType>(b % 12); }

// An array of `dtype` and `shape` whose bytes come from the input (zeros once it runs out).
inline Ref<NDArray> array_from(ByteReader& in, DType dtype, std::vector<int64_t> shape, bool numpy_scalar) {
  Ref<NDArray> a = NDArray::allocate(dtype, std::move(shape), numpy_scalar, /*zeroed=*/true);
  std::string_view bytes = in.take(a->nbytes());
  if (!bytes.empty()) std::memcpy(a->mutable_data(), bytes.data(), bytes.size());
  if (dtype == DType::kBool) {  // numpy bools are 0 or 1; other bytes are no bool
    auto* b = static_cast<uint8_t*>(a->mutable_data());
    for (int64_t i = 0; i < a->size(); ++i) b[i] &= 1;
  }
  return a;
}

// Item encoding (one tag byte, then its payload; fuzz/make_corpus.py writes the same):
//   0 null   1 false   2 true   3 int (8 bytes)   4 int (1 signed byte)   5 float (8 bytes)
//   6 float from kFloatEdges (1 byte)   7 str (length byte <= 63, bytes; made valid UTF-8)
//   8 bytes (length byte, bytes)   9 list (count byte <= 8, items)   10 map (count byte <= 8,
//   then per entry a key as a str payload and an item)   11 numpy int64 scalar (8 bytes)
//   12 numpy float64 scalar (8 bytes)   13 numpy scalar (dtype byte, its bytes)
//   14 array (dtype byte, ndim byte <= 3, dims bytes <= 8, data)   15 big integer (digit count
//   byte, 19..60 digits)   16 audio (dtype, channels, frames bytes, rate (4 bytes), data)
inline constexpr double kFloatEdges[] = {0.0, -0.0, 0.5, -0.5, 1.5, 2.5, -2.5, 1e300, -1e300, 1e-310,
                                         INFINITY, -INFINITY, NAN, 9.2233720368547758e18,
                                         -9.2233720368547758e18, 4.5e15, 3.0, 7.0, 1e16, 0.1};
inline constexpr int kItemTags = 17;
inline constexpr int kMaxDepth = 6;

inline Value decode_value(ByteReader& in, int depth = 0) {
  const int tag = in.u8() % kItemTags;
  switch (tag) {
    case 0: return Value::null();
    case 1: return Value::boolean(false);
    case 2: return Value::boolean(true);
    case 3: return Value::integer(in.i64());
    case 4: return Value::integer(static_cast<int8_t>(in.u8()));
    case 5: return Value::real(in.f64());
    case 6: return Value::real(kFloatEdges[in.u8() % std::size(kFloatEdges)]);
    case 7: return Value::string(valid_utf8(in.take(in.u8() % 64)));
    case 8: return Value::bytes(std::string(in.take(in.u8() % 64)));
    case 9: {
      List items;
      const int n = depth < kMaxDepth ? in.u8() % 9 : 0;
      for (int i = 0; i < n; ++i) items.push_back(decode_value(in, depth + 1));
      return Value::list(std::move(items));
    }
    case 10: {
      Map entries;
      const int n = depth < kMaxDepth ? in.u8() % 9 : 0;
      for (int i = 0; i < n; ++i) {
        std::string key = valid_utf8(in.take(in.u8() % 64));
        Value v = decode_value(in, depth + 1);
        bool repeated = false;  // keys are unique (value.h)
        for (const auto& [k, unused] : entries) repeated = repeated || k == key;
        if (!repeated) entries.emplace_back(std::move(key), std::move(v));
      }
      return Value::map(std::move(entries));
    }
    case 11: return Value::array(array_from(in, DType::kInt64, {}, true));
    case 12: return Value::array(array_from(in, DType::kFloat64, {}, true));
    case 13: return Value::array(array_from(in, dtype_from(in.u8()), {}, true));
    case 14: {
      const DType dtype = dtype_from(in.u8());
      const int ndim = in.u8() % 4;
      std::vector<int64_t> shape;
      for (int d = 0; d < ndim; ++d) shape.push_back(in.u8() % 9);
      return Value::array(array_from(in, dtype, std::move(shape), false));
    }
    case 15: {
      // Through the JSON parser: the one maker of big integers (an opaque object of json.cpp).
      std::string digits(19 + in.u8() % 42, '9');
      for (char& c : digits) c = static_cast<char>('0' + in.u8() % 10);
      digits[0] = '9';  // at least 9e18: beyond int64
      Result<Value> v = parse_json(digits);
      return v.ok() ? *v : Value::null();
    }
    default: {
      const DType dtypes[] = {DType::kInt16, DType::kInt32, DType::kFloat32, DType::kFloat64};
      const DType dtype = dtypes[in.u8() % 4];
      const int channels = 1 + in.u8() % 3;
      const int64_t frames = in.u8() % 17;
      const int64_t rate = 1 + static_cast<int64_t>(in.u64() % 200000);
      std::vector<int64_t> shape = channels == 1 ? std::vector<int64_t>{frames} : std::vector<int64_t>{frames, channels};
      Result<Ref<AudioBuffer>> a = AudioBuffer::make(array_from(in, dtype, std::move(shape), false), rate);
      return a.ok() ? Value::audio(*a) : Value::null();
    }
  }
}


}  // namespace remotemedia::fuzz

#include "arithmetic.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <type_traits>

namespace remotemedia::arith {

std::optional<Op> parse_op(std::string_view name) {
  if (name == "add") return Op::kAdd;
  if (name == "subtract") return Op::kSubtract;
  if (name == "multiply") return Op::kMultiply;
  if (name == "divide") return Op::kDivide;
  if (name == "power") return Op::kPower;
  if (name == "modulo") return Op::kModulo;
  return std::nullopt;
}

const char* op_symbol(Op op) {
  switch (op) {
    case Op::kAdd: return "+";
    case Op::kSubtract: return "-";
    case Op::kMultiply: return "*";
    case Op::kDivide: return "/";
    case Op::kPower: return "**";
    case Op::kModulo: return "%";
    case Op::kFloorDivide: return "//";
  }
  return "?";
}

std::string float_repr(double x) {
  if (std::isnan(x)) return "nan";
  if (std::isinf(x)) return x < 0 ? "-inf" : "inf";
  // The shortest digits that read back as x (what CPython's repr picks), then CPython's layout:
  // positional when the decimal point falls within 16 digits of the first one, else exponent.
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof(buf), std::fabs(x), std::chars_format::scientific);
  const std::string_view sci(buf, static_cast<size_t>(res.ptr - buf));  // "d.ddde+XX" or "de+XX"
  const size_t e = sci.find('e');
  std::string digits(sci.substr(0, 1));
  if (e > 1) digits.append(sci.substr(2, e - 2));
  int exponent = 0;
  std::from_chars(sci.data() + e + (sci[e + 1] == '+' ? 2 : 1), sci.data() + sci.size(), exponent);
  const int point = exponent + 1;  // digits before the decimal point
  std::string out = std::signbit(x) ? "-" : "";
  if (point > 16 || point <= -4) {
    out.push_back(digits[0]);
    if (digits.size() > 1) {
      out.push_back('.');
      out.append(digits, 1);
    }
    const int magnitude = exponent < 0 ? -exponent : exponent;
    out.append(exponent < 0 ? "e-" : "e+");
    if (magnitude < 10) out.push_back('0');
    out.append(std::to_string(magnitude));
  } else if (point <= 0) {
    out.append("0.");
    out.append(static_cast<size_t>(-point), '0');
    out.append(digits);
  } else if (static_cast<size_t>(point) >= digits.size()) {
    out.append(digits);
    out.append(static_cast<size_t>(point) - digits.size(), '0');
    out.append(".0");
  } else {
    out.append(digits, 0, static_cast<size_t>(point));
    out.push_back('.');
    out.append(digits, static_cast<size_t>(point));
  }
  return out;
}

namespace {

constexpr int64_t kMaxExact = int64_t{1} << 53;  // every int of magnitude <= 2^53 is a double

int bit_length(unsigned __int128 x) {
  int n = 0;
  while (x) {
    ++n;
    x >>= 1;
  }
  return n;
}

// Exact integer power; false when the result leaves T's range.
template <typename T>
bool checked_ipow(T base, int64_t exp, T* out) {
  T result = 1;
  while (exp) {
    if ((exp & 1) && __builtin_mul_overflow(result, base, &result)) return false;
    exp >>= 1;
    if (exp && __builtin_mul_overflow(base, base, &base)) return false;
  }
  *out = result;
  return true;
}

// Python's floor modulo on integers (the sign of the divisor). b != 0.
template <typename T>
T int_mod(T a, T b) {
  if (b == -1) return 0;  // also avoids INT_MIN % -1, which traps in C++
  T r = a % b;
  if (r != 0 && ((r < 0) != (b < 0))) r += b;
  return r;
}

// Python's floor division on integers; false for the one result outside T (INT_MIN // -1). b != 0.
template <typename T>
bool int_floor_div(T a, T b, T* out) {
  if (b == -1) {
    if (a == std::numeric_limits<T>::min()) return false;
    *out = static_cast<T>(-a);
    return true;
  }
  T q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  *out = q;
  return true;
}

// CPython's _float_div_mod (and numpy's npy_floor_divide), computed in F. A zero b reaches here only
// when a nonzero operand underflowed to zero in float32, where numpy gives a / b.
template <typename F>
F floor_div_impl(F a, F b) {
  if (b == 0) return a / b;
  F mod = std::fmod(a, b);
  F div = (a - mod) / b;
  if (mod != 0) {
    if ((b < 0) != (mod < 0)) div -= F(1);
  }
  F floordiv;
  if (div != 0) {
    floordiv = std::floor(div);
    if (div - floordiv > F(0.5)) floordiv += F(1);
  } else {
    floordiv = std::copysign(F(0), a / b);
  }
  return floordiv;
}

bool is_odd_integer(double x) { return std::fmod(std::fabs(x), 2.0) == 1.0; }

// One message per operation, whatever the operands (int, float, numpy), as the Python executor
// words it (docs/SEMANTICS.md): CPython's own wording changes between versions (3.11 says "integer
// division or modulo by zero" for 1 // 0, 3.14 "division by zero" for 1.0 % 0).
// An int dtype's result out of range, as "int64 * 3: a result does not fit in int64": each operand
// by its dtype, or a Python number by its value.
Status element_overflow(Op op, const std::string& a, const std::string& b, DType result) {
  return OverflowError(a + " " + op_symbol(op) + " " + b + ": a result does not fit in " + dtype_name(result));
}

Status zero_divisor(Op op) { return ZeroDivisionError(op == Op::kModulo ? "modulo by zero" : "division by zero"); }

// The Python executor's words: the operation as Python would write it, then the fault.
Status int_overflow(Op op, int64_t a, int64_t b) {
  return OverflowError(std::to_string(a) + " " + op_symbol(op) + " " + std::to_string(b) + " does not fit in int64");
}

std::string base_repr(const Scalar& a) {
  std::string text = a.repr();
  if (a.as_double() < 0) {
    text.insert(text.begin(), '(');
    text.push_back(')');
  }
  return text;
}

// float_pow's fault named with the operands as given (an int base stays an int: "(-8) ** 0.5").
Status pow_failure(const Status& s, Scalar a, Scalar b) {
  const std::string expr = base_repr(a) + " ** " + b.repr();
  switch (s.code()) {
    case StatusCode::kOverflow: return OverflowError(expr + " is too large for a float");
    case StatusCode::kValueError:
      return ValueError(expr + ": a negative base to a fractional power has no real result");
    default: return s;
  }
}

}  // namespace

double int_true_divide(int64_t a, int64_t b) {
  if (-kMaxExact <= a && a <= kMaxExact && -kMaxExact <= b && b <= kMaxExact) {
    return static_cast<double>(a) / static_cast<double>(b);  // both exact: one rounding
  }
  const bool negative = (a < 0) != (b < 0);
  unsigned __int128 x = a < 0 ? -static_cast<unsigned __int128>(a) : static_cast<unsigned __int128>(a);
  unsigned __int128 y = b < 0 ? -static_cast<unsigned __int128>(b) : static_cast<unsigned __int128>(b);
  if (x == 0) return negative ? -0.0 : 0.0;
  // Scale so the integer quotient has 55-56 bits: 53 for the mantissa, the rest for rounding.
  const int shift = 55 - (bit_length(x) - bit_length(y));
  if (shift >= 0) x <<= shift;
  else y <<= -shift;
  const unsigned __int128 q = x / y;
  const bool sticky = x % y != 0;
  const int extra = bit_length(q) - 53;
  uint64_t mantissa = static_cast<uint64_t>(q >> extra);
  const uint64_t dropped = static_cast<uint64_t>(q & ((static_cast<unsigned __int128>(1) << extra) - 1));
  const uint64_t half = uint64_t{1} << (extra - 1);
  if (dropped > half || (dropped == half && (sticky || (mantissa & 1)))) ++mantissa;  // half to even
  const double magnitude = std::ldexp(static_cast<double>(mantissa), extra - shift);
  return negative ? -magnitude : magnitude;
}

Status float_pow(double iv, double iw, double* out) {
  const double base = iv;
  // The order of these cases is CPython's float_pow (Objects/floatobject.c).
  if (iw == 0) {
    *out = 1.0;
    return Status::OK();
  }
  if (std::isnan(iv)) {
    *out = iv;
    return Status::OK();
  }
  if (std::isnan(iw)) {
    *out = iv == 1.0 ? 1.0 : iw;
    return Status::OK();
  }
  if (std::isinf(iw)) {
    iv = std::fabs(iv);
    if (iv == 1.0) *out = 1.0;
    else if ((iw > 0.0) == (iv > 1.0)) *out = std::fabs(iw);
    else *out = 0.0;
    return Status::OK();
  }
  if (std::isinf(iv)) {
    const bool odd = is_odd_integer(iw);
    if (iw > 0.0) *out = odd ? iv : std::fabs(iv);
    else *out = odd ? std::copysign(0.0, iv) : 0.0;
    return Status::OK();
  }
  if (iv == 0.0) {
    const bool odd = is_odd_integer(iw);
    if (iw < 0.0) return ZeroDivisionError("0.0 cannot be raised to a negative power");
    *out = odd ? iv : 0.0;
    return Status::OK();
  }
  bool negate = false;
  if (iv < 0.0) {
    if (iw != std::floor(iw)) {
      return pow_failure(ValueError(""), Scalar::of_float(base), Scalar::of_float(iw));
    }
    iv = -iv;
    negate = is_odd_integer(iw);
  }
  if (iv == 1.0) {
    *out = negate ? -1.0 : 1.0;
    return Status::OK();
  }
  double ix = std::pow(iv, iw);
  if (std::isinf(ix)) return pow_failure(OverflowError(""), Scalar::of_float(base), Scalar::of_float(iw));
  *out = negate ? -ix : ix;
  return Status::OK();
}

double float_floor_div(double a, double b) { return floor_div_impl(a, b); }
float float_floor_div(float a, float b) { return floor_div_impl(a, b); }

double float_mod(double a, double b) {
  double mod = std::fmod(a, b);
  if (mod != 0.0) {
    if ((b < 0) != (mod < 0)) mod += b;
  } else {
    mod = std::copysign(0.0, b);
  }
  return mod;
}

Status python_binary(Op op, Scalar a, Scalar b, Value* out) {
  if (a.is_int && b.is_int) {
    int64_t r = 0;
    switch (op) {
      case Op::kAdd:
        if (__builtin_add_overflow(a.i, b.i, &r)) return int_overflow(op, a.i, b.i);
        *out = Value::integer(r);
        return Status::OK();
      case Op::kSubtract:
        if (__builtin_sub_overflow(a.i, b.i, &r)) return int_overflow(op, a.i, b.i);
        *out = Value::integer(r);
        return Status::OK();
      case Op::kMultiply:
        if (__builtin_mul_overflow(a.i, b.i, &r)) return int_overflow(op, a.i, b.i);
        *out = Value::integer(r);
        return Status::OK();
      case Op::kDivide:
        if (b.i == 0) return zero_divisor(op);
        *out = Value::real(int_true_divide(a.i, b.i));
        return Status::OK();
      case Op::kModulo:
        if (b.i == 0) return zero_divisor(op);
        *out = Value::integer(int_mod(a.i, b.i));
        return Status::OK();
      case Op::kFloorDivide:
        if (b.i == 0) return zero_divisor(op);
        if (!int_floor_div(a.i, b.i, &r)) return int_overflow(op, a.i, b.i);
        *out = Value::integer(r);
        return Status::OK();
      case Op::kPower:
        if (b.i < 0) break;  // Python: float power
        if (!checked_ipow(a.i, b.i, &r)) return int_overflow(op, a.i, b.i);
        *out = Value::integer(r);
        return Status::OK();
    }
  }
  const double x = a.as_double(), y = b.as_double();
  switch (op) {
    case Op::kAdd: *out = Value::real(x + y); return Status::OK();
    case Op::kSubtract: *out = Value::real(x - y); return Status::OK();
    case Op::kMultiply: *out = Value::real(x * y); return Status::OK();
    case Op::kDivide:
      if (y == 0.0) return zero_divisor(op);
      *out = Value::real(x / y);
      return Status::OK();
    case Op::kModulo:
      if (y == 0.0) return zero_divisor(op);
      *out = Value::real(float_mod(x, y));
      return Status::OK();
    case Op::kFloorDivide:
      if (y == 0.0) return zero_divisor(op);
      *out = Value::real(float_floor_div(x, y));
      return Status::OK();
    case Op::kPower: {
      double r = 0.0;
      Status s = float_pow(x, y, &r);
      if (!s.ok()) return pow_failure(s, a, b);
      *out = Value::real(r);
      return Status::OK();
    }
  }
  return InternalError("unknown operation");
}

// ---------------------------------------------------------------------------------------------
// numpy kernels

bool supports_dtype(DType dtype) {
  return dtype == DType::kInt32 || dtype == DType::kInt64 || dtype == DType::kFloat32 ||
         dtype == DType::kFloat64;
}

Status unsupported_dtype(DType dtype) {
  return TypeError(std::string("unsupported dtype ") + dtype_name(dtype) + " (expected int32, int64, float32 or float64)");
}

Status unsupported_operand(const std::string& type_name) {
  return TypeError("unsupported operand type " + type_name + " (expected int, float or a numeric numpy array)");
}

Status big_int_overflow() { return OverflowError("int too large to convert to int64"); }

namespace {

// Result of an element-wise kernel over `n` elements: how many succeeded.
template <typename T, typename R, typename F>
int64_t apply(const T* in, R* out, int64_t n, F&& f) {
  for (int64_t i = 0; i < n; ++i) {
    if (!f(in[i], &out[i])) return i;
  }
  return n;
}

// Float arithmetic, numpy style: IEEE results, no errors (zero operands were rejected earlier).
template <typename F>
int64_t float_kernel(Op op, const F* in, F* out, int64_t n, F b) {
  switch (op) {
    case Op::kAdd: for (int64_t i = 0; i < n; ++i) out[i] = in[i] + b; break;
    case Op::kSubtract: for (int64_t i = 0; i < n; ++i) out[i] = in[i] - b; break;
    case Op::kMultiply: for (int64_t i = 0; i < n; ++i) out[i] = in[i] * b; break;
    case Op::kDivide: for (int64_t i = 0; i < n; ++i) out[i] = in[i] / b; break;
    case Op::kPower: for (int64_t i = 0; i < n; ++i) out[i] = std::pow(in[i], b); break;
    case Op::kModulo:
      for (int64_t i = 0; i < n; ++i) out[i] = static_cast<F>(float_mod(in[i], b));
      break;
    case Op::kFloorDivide:
      for (int64_t i = 0; i < n; ++i) out[i] = floor_div_impl<F>(in[i], b);
      break;
  }
  return n;
}

// numpy's float32 remainder is computed in float32; float_mod in double then rounded to float
// gives the same value because fmod is exact and the one addition is exact in double.

// The inputs x for which x op b stays in T's range, as [lo, hi]; b is the (constant) operand.
template <typename T>
void safe_range(Op op, T b, T* lo, T* hi) {
  constexpr T kMin = std::numeric_limits<T>::min(), kMax = std::numeric_limits<T>::max();
  *lo = kMin;
  *hi = kMax;
  switch (op) {
    case Op::kAdd:
      if (b >= 0) *hi = kMax - b;
      else *lo = kMin - b;
      break;
    case Op::kSubtract:
      if (b >= 0) *lo = kMin + b;
      else *hi = kMax + b;
      break;
    case Op::kMultiply:  // integer division truncates toward zero: that is the ceiling / floor needed
      if (b > 0) {
        *lo = kMin / b;
        *hi = kMax / b;
      } else if (b == -1) {
        *lo = kMin + 1;
      } else if (b < -1) {
        *lo = kMax / b;
        *hi = kMin / b;
      }
      break;
    default: break;
  }
}

// + - * with overflow checks, written so the compiler vectorises it: wrap-around arithmetic on the
// unsigned type and a range test per element, then (only if something overflowed) a second pass
// to find the first element that did.
template <typename T, typename F>
int64_t checked_linear(const T* in, T* out, int64_t n, T lo, T hi, F wrapping_op) {
  T overflow = 0;  // an integer flag (not bool) keeps the loop vectorisable
  for (int64_t i = 0; i < n; ++i) {
    const T x = in[i];
    out[i] = wrapping_op(x);
    overflow |= static_cast<T>(x < lo) | static_cast<T>(x > hi);
  }
  if (!overflow) return n;
  for (int64_t i = 0; i < n; ++i) {
    if (in[i] < lo || in[i] > hi) return i;
  }
  return n;
}

template <typename T>
int64_t checked_linear(Op op, const T* in, T* out, int64_t n, T b) {
  using U = std::make_unsigned_t<T>;
  T lo, hi;
  safe_range(op, b, &lo, &hi);
  const U ub = static_cast<U>(b);
  switch (op) {
    case Op::kAdd: return checked_linear(in, out, n, lo, hi, [ub](T x) { return static_cast<T>(static_cast<U>(x) + ub); });
    case Op::kSubtract: return checked_linear(in, out, n, lo, hi, [ub](T x) { return static_cast<T>(static_cast<U>(x) - ub); });
    default: return checked_linear(in, out, n, lo, hi, [ub](T x) { return static_cast<T>(static_cast<U>(x) * ub); });
  }
}

template <typename T>
int64_t int_kernel(Op op, const T* in, T* out, int64_t n, T b) {
  switch (op) {
    case Op::kAdd:
    case Op::kSubtract:
    case Op::kMultiply: return checked_linear(op, in, out, n, b);
    case Op::kModulo: return apply(in, out, n, [b](T x, T* r) { *r = int_mod(x, b); return true; });
    case Op::kFloorDivide: return apply(in, out, n, [b](T x, T* r) { return int_floor_div(x, b, r); });
    case Op::kPower:
      return apply(in, out, n, [b](T x, T* r) { return checked_ipow<T>(x, static_cast<int64_t>(b), r); });
    case Op::kDivide: break;  // produces float64; handled by the caller
  }
  return n;
}

template <typename T>
bool fits(int64_t v) {
  return v >= std::numeric_limits<T>::min() && v <= std::numeric_limits<T>::max();
}

// The output array: same shape and scalar flag as the input, or on failure a 1-D prefix of the
// `done` elements computed before it.
Ref<NDArray> finish(Ref<NDArray> full, const NDArray& a, int64_t done) {
  if (done == a.size()) return full;
  return NDArray::wrap(full->dtype(), {done}, full->data(), full, /*is_source=*/false);
}

template <typename T>
Status numpy_int(Op op, const NDArray& a, Scalar operand, Ref<NDArray>* out, int64_t* failed) {
  const int64_t n = a.size();
  const T* in = a.data_as<T>();
  // numpy 2 converts a Python int operand to the array's dtype first, whatever the operation.
  if (operand.is_int && !fits<T>(operand.i)) {
    *failed = 0;
    return OverflowError("Python integer " + std::to_string(operand.i) + " out of bounds for " +
                         dtype_name(a.dtype()));
  }
  if (!operand.is_int || op == Op::kDivide) {
    // An int array with a float operand, or true division: float64 results.
    const double b = operand.as_double();
    if ((op == Op::kDivide || op == Op::kModulo || op == Op::kFloorDivide) && b == 0.0) {
      *failed = 0;
      return zero_divisor(op);
    }
    Ref<NDArray> r = NDArray::allocate(DType::kFloat64, a.shape(), a.numpy_scalar());
    double* o = r->mutable_data_as<double>();
    for (int64_t i = 0; i < n; ++i) o[i] = static_cast<double>(in[i]);
    float_kernel<double>(op, o, o, n, b);
    *out = r;
    return Status::OK();
  }
  if ((op == Op::kModulo || op == Op::kFloorDivide) && operand.i == 0) {
    *failed = 0;
    return zero_divisor(op);
  }
  if (op == Op::kPower && operand.i < 0) {
    *failed = 0;
    return ValueError("integers to negative integer powers are not allowed");
  }
  Ref<NDArray> r = NDArray::allocate(a.dtype(), a.shape(), a.numpy_scalar());
  const int64_t done = int_kernel<T>(op, in, r->mutable_data_as<T>(), n, static_cast<T>(operand.i));
  *out = finish(r, a, done);
  if (done < n) {
    *failed = done;
    return element_overflow(op, dtype_name(a.dtype()), std::to_string(operand.i), a.dtype());
  }
  return Status::OK();
}

template <typename F>
Status numpy_float(Op op, const NDArray& a, Scalar operand, Ref<NDArray>* out, int64_t* failed) {
  const F b = static_cast<F>(operand.as_double());
  if ((op == Op::kDivide || op == Op::kModulo || op == Op::kFloorDivide) && operand.as_double() == 0.0) {
    *failed = 0;
    return zero_divisor(op);
  }
  Ref<NDArray> r = NDArray::allocate(a.dtype(), a.shape(), a.numpy_scalar());
  float_kernel<F>(op, a.data_as<F>(), r->mutable_data_as<F>(), a.size(), b);
  *out = r;
  return Status::OK();
}

}  // namespace

Status numpy_binary(Op op, const NDArray& a, Scalar operand, Ref<NDArray>* out,
                    int64_t* failed_element) {
  switch (a.dtype()) {
    case DType::kInt32: return numpy_int<int32_t>(op, a, operand, out, failed_element);
    case DType::kInt64: return numpy_int<int64_t>(op, a, operand, out, failed_element);
    case DType::kFloat32: return numpy_float<float>(op, a, operand, out, failed_element);
    case DType::kFloat64: return numpy_float<double>(op, a, operand, out, failed_element);
    default:
      *failed_element = 0;
      return unsupported_dtype(a.dtype());
  }
}

// ---------------------------------------------------------------------------------------------
// numpy_general: element-wise over two operands, each an array (0-d broadcasts) or a Python number

namespace {

bool is_int_dtype(DType d) { return d == DType::kInt32 || d == DType::kInt64; }

// numpy 2's promotion of two array dtypes among int32, int64, float32, float64.
DType promote(DType a, DType b) {
  if (a == b) return a;
  if (is_int_dtype(a) && is_int_dtype(b)) return DType::kInt64;
  return DType::kFloat64;  // int with float32 (numpy gives float64), or anything with float64
}

// One operand, read element by element as T (0-d operands broadcast).
struct Operand {
  const NDArray* array;  // null: the Python number
  Scalar number;
  int64_t stride;        // 0 for a 0-d array or a number
  // For messages: a numpy operand's dtype, a Python number's value.
  std::string describe() const { return array ? dtype_name(array->dtype()) : number.repr(); }
  template <typename T>
  T get(int64_t i) const {
    if (!array) return number.is_int ? static_cast<T>(number.i) : static_cast<T>(number.f);
    const int64_t k = i * stride;
    switch (array->dtype()) {
      case DType::kInt32: return static_cast<T>(array->data_as<int32_t>()[k]);
      case DType::kInt64: return static_cast<T>(array->data_as<int64_t>()[k]);
      case DType::kFloat32: return static_cast<T>(array->data_as<float>()[k]);
      default: return static_cast<T>(array->data_as<double>()[k]);
    }
  }
};

template <typename T>
bool int_element(Op op, int64_t x, int64_t y, T* out) {
  int64_t r = 0;
  switch (op) {
    case Op::kAdd: if (__builtin_add_overflow(x, y, &r)) return false; break;
    case Op::kSubtract: if (__builtin_sub_overflow(x, y, &r)) return false; break;
    case Op::kMultiply: if (__builtin_mul_overflow(x, y, &r)) return false; break;
    case Op::kModulo: r = int_mod(x, y); break;
    case Op::kFloorDivide: if (!int_floor_div(x, y, &r)) return false; break;
    case Op::kPower: if (!checked_ipow(x, y, &r)) return false; break;
    case Op::kDivide: return false;  // never: / on ints gives float64
  }
  if (!fits<T>(r)) return false;
  *out = static_cast<T>(r);
  return true;
}

template <typename F>
F float_element(Op op, F x, F y) {
  switch (op) {
    case Op::kAdd: return x + y;
    case Op::kSubtract: return x - y;
    case Op::kMultiply: return x * y;
    case Op::kDivide: return x / y;
    case Op::kModulo: return static_cast<F>(float_mod(x, y));
    case Op::kFloorDivide: return floor_div_impl<F>(x, y);
    case Op::kPower: return std::pow(x, y);
  }
  return x;
}

template <typename T>
Status fill_int(Op op, const Operand& a, const Operand& b, NDArray* r) {
  T* o = r->mutable_data_as<T>();
  for (int64_t i = 0, n = r->size(); i < n; ++i) {
    if (!int_element<T>(op, a.get<int64_t>(i), b.get<int64_t>(i), &o[i])) {
      return element_overflow(op, a.describe(), b.describe(), r->dtype());
    }
  }
  return Status::OK();
}

template <typename F>
void fill_float(Op op, const Operand& a, const Operand& b, NDArray* r) {
  F* o = r->mutable_data_as<F>();
  for (int64_t i = 0, n = r->size(); i < n; ++i) o[i] = float_element<F>(op, a.get<F>(i), b.get<F>(i));
}

}  // namespace

Status numpy_general(Op op, const NDArray* a_array, Scalar a_number, const NDArray& b,
                     Ref<NDArray>* out) {
  for (const NDArray* x : {a_array, &b}) {
    if (x && !supports_dtype(x->dtype())) {
      return unsupported_dtype(x->dtype());
    }
  }
  // The result dtype (numpy 2: a Python int takes an int array's dtype and must fit it; a Python
  // float turns an int dtype into float64 and keeps a float dtype).
  DType dtype;
  if (a_array) {
    dtype = promote(a_array->dtype(), b.dtype());
  } else if (a_number.is_int) {
    dtype = b.dtype();
    if (is_int_dtype(dtype) &&
        !(dtype == DType::kInt32 ? fits<int32_t>(a_number.i) : fits<int64_t>(a_number.i))) {
      return OverflowError("Python integer " + std::to_string(a_number.i) + " out of bounds for " +
                           dtype_name(dtype));
    }
  } else {
    dtype = is_int_dtype(b.dtype()) ? DType::kFloat64 : b.dtype();
  }
  const bool a_shaped = a_array && a_array->ndim() > 0, b_shaped = b.ndim() > 0;
  if (a_shaped && b_shaped && a_array->shape() != b.shape()) {
    return ValueError("operands of different shapes");
  }
  const Operand x{a_array, a_number, a_shaped ? 1 : 0};
  const Operand y{&b, Scalar::of_int(0), b_shaped ? 1 : 0};
  const int64_t n = b_shaped ? b.size() : a_shaped ? a_array->size() : 1;
  if (op == Op::kDivide || op == Op::kModulo || op == Op::kFloorDivide) {
    for (int64_t i = 0; i < n; ++i) {
      if (y.get<double>(i) == 0.0) {
        return zero_divisor(op);
      }
    }
  }
  if (op == Op::kDivide && is_int_dtype(dtype)) dtype = DType::kFloat64;
  if (op == Op::kPower && is_int_dtype(dtype)) {
    for (int64_t i = 0; i < n; ++i) {
      if (y.get<int64_t>(i) < 0) return ValueError("integers to negative integer powers are not allowed");
    }
  }
  const bool numpy_scalar = (!a_array || a_array->numpy_scalar()) && b.numpy_scalar();
  std::vector<int64_t> shape = b_shaped ? b.shape() : a_shaped ? a_array->shape() : std::vector<int64_t>{};
  Ref<NDArray> r = NDArray::allocate(dtype, std::move(shape), numpy_scalar);
  switch (dtype) {
    case DType::kInt32: RM_RETURN_IF_ERROR(fill_int<int32_t>(op, x, y, r.get())); break;
    case DType::kInt64: RM_RETURN_IF_ERROR(fill_int<int64_t>(op, x, y, r.get())); break;
    case DType::kFloat32: fill_float<float>(op, x, y, r.get()); break;
    default: fill_float<double>(op, x, y, r.get()); break;
  }
  *out = std::move(r);
  return Status::OK();
}

}  // namespace remotemedia::arith

// Arithmetic of the Calculator (src/nodes/arithmetic.h): Python numbers, CPython's float_pow and
// float_rem, correctly rounded int / int, and the numpy kernels with the errors of docs/SEMANTICS.md.
// Expected values come from Python / numpy semantics worked out by hand or by exact integer
// reasoning, never from this implementation.
#include "nodes/arithmetic.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <random>
#include <vector>

#include "remotemedia/json.h"
#include "remotemedia/registry.h"

namespace remotemedia {
namespace {

using arith::Op;
using arith::Scalar;

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
const double kInf = std::numeric_limits<double>::infinity();
const double kNaN = std::numeric_limits<double>::quiet_NaN();

Scalar I(int64_t v) { return Scalar::of_int(v); }
Scalar F(double v) { return Scalar::of_float(v); }

Result<Value> py(Op op, Scalar a, Scalar b) {
  Value out;
  Status s = arith::python_binary(op, a, b, &out);
  if (!s.ok()) return s;
  return out;
}

StatusCode py_error(Op op, Scalar a, Scalar b) { return py(op, a, b).status().code(); }

int64_t py_int(Op op, Scalar a, Scalar b) {
  Result<Value> r = py(op, a, b);
  EXPECT_TRUE(r.ok()) << r.status().to_string();
  if (!r.ok()) return 0;
  EXPECT_TRUE(r->is_int()) << r->type_name();
  return r->as_int();
}

double py_float(Op op, Scalar a, Scalar b) {
  Result<Value> r = py(op, a, b);
  EXPECT_TRUE(r.ok()) << r.status().to_string();
  if (!r.ok()) return kNaN;
  EXPECT_TRUE(r->is_float()) << r->type_name();
  return r->as_float();
}

// ---------------------------------------------------------------------------------------------
// int / int, correctly rounded

unsigned __int128 magnitude(int64_t v) {
  return v < 0 ? -static_cast<unsigned __int128>(v) : static_cast<unsigned __int128>(v);
}

// True when r is a / b rounded to nearest, ties to even, judged exactly: with |r| = m * 2^e
// (2^52 <= m < 2^53) the residual |a| - m * 2^e * |b| must be within half a unit of r's last place on
// the side it falls (the unit below a power of two is half the unit above). Requires e >= -63, i.e.
// |a / b| of at least about 2^-10, so everything fits in 128 bits.
::testing::AssertionResult correctly_rounded(int64_t a, int64_t b, double r) {
  if (a == 0) {
    if (r == 0.0) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "0 / b gave " << r;
  }
  const bool negative = (a < 0) != (b < 0);
  if (std::signbit(r) != negative || !std::isfinite(r) || r == 0.0) {
    return ::testing::AssertionFailure() << "wrong sign or not finite: " << r;
  }
  int exp2 = 0;
  const double frac = std::frexp(std::fabs(r), &exp2);  // |r| = frac * 2^exp2, frac in [0.5, 1)
  const auto m = static_cast<int64_t>(std::ldexp(frac, 53));
  const int e = exp2 - 53;
  if (e < -63) return ::testing::AssertionFailure() << "test precondition: quotient too small";
  const int k = e < 0 ? -e : 0;
  const unsigned __int128 A = magnitude(a), B = magnitude(b);
  const __int128 exact = static_cast<__int128>(A << k);                         // |a| * 2^k
  const __int128 approx = static_cast<__int128>((static_cast<unsigned __int128>(m) * B) << (e + k));
  const __int128 unit = static_cast<__int128>(B << (e + k));  // one unit of m, times |b| * 2^k
  const __int128 d = exact - approx;                          // (|q| - |r|) * |b| * 2^k
  const bool even = m % 2 == 0;
  if (d >= unit || -d >= unit) {
    return ::testing::AssertionFailure() << a << " / " << b << " gave " << std::hexfloat << r
                                         << ", off by a unit or more";
  }
  bool ok;
  if (d >= 0) {
    ok = 2 * d < unit || (2 * d == unit && even);
  } else {
    const __int128 below = m == (int64_t{1} << 52) ? unit : 2 * unit;  // 4 * half-unit below
    ok = -4 * d < below || (-4 * d == below && even);
  }
  if (ok) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << a << " / " << b << " gave " << std::hexfloat << r
                                       << " which is not the nearest double";
}

TEST(IntTrueDivide, MatchesPythonWhereNaiveDoubleDivisionRoundsTwice) {
  // (a, b, a / b in Python): in each case (double)a / (double)b is one ulp off.
  struct Case {
    int64_t a, b;
    double python;
  };
  const Case cases[] = {
      {9007199254740993, 3, 0x1.5555555555556p+51},  // 2^53 + 1
      {9007199254740995, 3, 0x1.5555555555557p+51},
      {9007199254740995, 5, 0x1.999999999999cp+50},
      {9007199254740993, 7, 0x1.2492492492493p+50},
      {9007199254740993, 11, 0x1.745d1745d1747p+49},
      {9007199254740995, 9007199254740993, 0x1.0000000000001p+0},
      {4611686018427387905, 9007199254740993, 0x1.fffffffffffffp+8},
      {kMax, 9007199254740993, 0x1.fffffffffffffp+9},
      {kMin, 9007199254740993, -0x1.fffffffffffffp+9},
      {27021597764222980, 9007199254740993, 0x1.8000000000000p+1},
      {9007199254740993, 9007199254740995, 0x1.ffffffffffffep-1},
      {5258986265376043509, 869, 0x1.5800d0137cb79p+52},
      {7053584670082022960, 66, 0x1.7baff7cccf0c9p+56},
  };
  for (const Case& c : cases) {
    const double got = arith::int_true_divide(c.a, c.b);
    EXPECT_EQ(got, c.python) << c.a << " / " << c.b << " gave " << std::hexfloat << got;
    EXPECT_TRUE(correctly_rounded(c.a, c.b, got));
    if (c.a != kMin) {
      EXPECT_EQ(arith::int_true_divide(-c.a, c.b), -c.python);  // sign symmetry
    }
    EXPECT_EQ(arith::int_true_divide(c.a, -c.b), -c.python);
    // the naive route really is wrong here, so the cases test something
    EXPECT_NE(static_cast<double>(c.a) / static_cast<double>(c.b), c.python);
  }
}

TEST(IntTrueDivide, Boundaries) {
  // (2^62 + 1) / 3 = 1537228672809129301.67: the nearest double is 0x1.5555555555555p+60.
  EXPECT_TRUE(correctly_rounded((int64_t{1} << 62) + 1, 3, arith::int_true_divide((int64_t{1} << 62) + 1, 3)));
  EXPECT_EQ(arith::int_true_divide((int64_t{1} << 62) + 1, 3), 0x1.5555555555555p+60);
  EXPECT_EQ(arith::int_true_divide(kMin, -1), 9223372036854775808.0);  // 2^63, as Python gives
  EXPECT_EQ(arith::int_true_divide(kMin, 1), -9223372036854775808.0);
  EXPECT_EQ(arith::int_true_divide(kMin, kMin), 1.0);
  EXPECT_EQ(arith::int_true_divide(kMax, kMax), 1.0);
  EXPECT_EQ(arith::int_true_divide(kMax, kMin), -1.0);  // -(1 - 2^-63) is nearer -1 than the next double
  // 2^53 + 1 is exactly between two doubles: ties to even gives 2^53.
  EXPECT_EQ(arith::int_true_divide((int64_t{1} << 53) + 1, 1), 9007199254740992.0);
  EXPECT_EQ(arith::int_true_divide((int64_t{1} << 53) + 3, 1), 9007199254740996.0);
  EXPECT_EQ(arith::int_true_divide(kMax, 1), 9223372036854775808.0);
  // Python: 0 / -5 is -0.0.
  const double z = arith::int_true_divide(0, -5);
  EXPECT_EQ(z, 0.0);
  EXPECT_TRUE(std::signbit(z));
  EXPECT_FALSE(std::signbit(arith::int_true_divide(0, 5)));
  // A small quotient of large operands stays accurate.
  EXPECT_EQ(arith::int_true_divide(1, kMin), -0x1p-63);
  EXPECT_EQ(arith::int_true_divide(3, int64_t{3} << 60), 0x1p-60);
}

TEST(IntTrueDivide, RandomOperandsAreCorrectlyRounded) {
  std::mt19937_64 rng(20261127);
  std::uniform_int_distribution<int64_t> big(int64_t{1} << 53, kMax);
  std::uniform_int_distribution<int64_t> small(1, 1 << 20);
  std::uniform_int_distribution<int> shift(0, 56);
  for (int i = 0; i < 20000; ++i) {
    int64_t a = big(rng);
    int64_t b = (i % 2) ? small(rng) : std::max<int64_t>(1, big(rng) >> shift(rng));
    if (i % 3 == 0) a = -a;
    if (i % 5 == 0) b = -b;
    ASSERT_TRUE(correctly_rounded(a, b, arith::int_true_divide(a, b)));
  }
}

// ---------------------------------------------------------------------------------------------
// Python ints: overflow instead of growing

TEST(PythonInt, OverflowBoundaries) {
  EXPECT_EQ(py_int(Op::kAdd, I(kMax - 1), I(1)), kMax);
  EXPECT_EQ(py_error(Op::kAdd, I(kMax), I(1)), StatusCode::kOverflow);
  EXPECT_EQ(py_int(Op::kSubtract, I(kMin + 1), I(1)), kMin);
  EXPECT_EQ(py_error(Op::kSubtract, I(kMin), I(1)), StatusCode::kOverflow);
  EXPECT_EQ(py_error(Op::kSubtract, I(0), I(kMin)), StatusCode::kOverflow);  // -(-2^63)
  EXPECT_EQ(py_error(Op::kMultiply, I(kMin), I(-1)), StatusCode::kOverflow);
  EXPECT_EQ(py_int(Op::kMultiply, I(kMin), I(1)), kMin);
  EXPECT_EQ(py_error(Op::kMultiply, I(int64_t{1} << 32), I(int64_t{1} << 31)), StatusCode::kOverflow);
  EXPECT_EQ(py_int(Op::kMultiply, I(-(int64_t{1} << 32)), I(int64_t{1} << 31)), kMin);
  EXPECT_EQ(py_int(Op::kModulo, I(kMin), I(-1)), 0);  // C++'s INT64_MIN % -1 traps; Python gives 0
  EXPECT_EQ(py_int(Op::kModulo, I(kMin), I(kMin)), 0);
  EXPECT_EQ(py_float(Op::kDivide, I(kMin), I(-1)), 9223372036854775808.0);
}

TEST(PythonInt, Power) {
  EXPECT_EQ(py_int(Op::kPower, I(2), I(62)), int64_t{1} << 62);
  EXPECT_EQ(py_error(Op::kPower, I(2), I(63)), StatusCode::kOverflow);
  EXPECT_EQ(py_int(Op::kPower, I(-2), I(63)), kMin);  // fits exactly
  EXPECT_EQ(py_error(Op::kPower, I(-2), I(64)), StatusCode::kOverflow);
  EXPECT_EQ(py_int(Op::kPower, I(3), I(39)), 4052555153018976267);
  EXPECT_EQ(py_error(Op::kPower, I(3), I(40)), StatusCode::kOverflow);
  EXPECT_EQ(py_int(Op::kPower, I(-1), I(kMax)), -1);
  EXPECT_EQ(py_int(Op::kPower, I(1), I(kMax)), 1);
  EXPECT_EQ(py_int(Op::kPower, I(0), I(kMax)), 0);
  EXPECT_EQ(py_int(Op::kPower, I(0), I(0)), 1);
  EXPECT_EQ(py_error(Op::kPower, I(2), I(kMax)), StatusCode::kOverflow);
  // A negative exponent is float power.
  EXPECT_EQ(py_float(Op::kPower, I(2), I(-1)), 0.5);
  EXPECT_EQ(py_float(Op::kPower, I(-2), I(-3)), -0.125);
  EXPECT_EQ(py_error(Op::kPower, I(0), I(-1)), StatusCode::kZeroDivision);
}

TEST(PythonInt, DivisionAndModuloFollowPython) {
  EXPECT_EQ(py_float(Op::kDivide, I(6), I(3)), 2.0);  // int / int is a float even when exact
  EXPECT_EQ(py_float(Op::kDivide, I(7), I(2)), 3.5);
  EXPECT_EQ(py_error(Op::kDivide, I(7), I(0)), StatusCode::kZeroDivision);
  EXPECT_EQ(py_error(Op::kModulo, I(7), I(0)), StatusCode::kZeroDivision);
  EXPECT_EQ(py_error(Op::kDivide, I(0), I(0)), StatusCode::kZeroDivision);
  // floor modulo: the sign of the divisor
  EXPECT_EQ(py_int(Op::kModulo, I(-7), I(3)), 2);
  EXPECT_EQ(py_int(Op::kModulo, I(7), I(-3)), -2);
  EXPECT_EQ(py_int(Op::kModulo, I(-7), I(-3)), -1);
  EXPECT_EQ(py_int(Op::kModulo, I(7), I(3)), 1);
  EXPECT_EQ(py_int(Op::kModulo, I(-6), I(3)), 0);
  EXPECT_EQ(py_int(Op::kModulo, I(kMin), I(3)), 1);  // -2^63 = 3 * -3074457345618258603 + 1
  EXPECT_EQ(py_int(Op::kModulo, I(kMax), I(-2)), -1);
}

TEST(PythonNumber, MixedIntAndFloatConvertsTheInt) {
  EXPECT_EQ(py_float(Op::kAdd, I(1), F(0.5)), 1.5);
  EXPECT_EQ(py_float(Op::kAdd, F(0.5), I(1)), 1.5);
  EXPECT_EQ(py_float(Op::kMultiply, I(3), F(2.0)), 6.0);  // a float, not the int 6
  // float(2^53 + 1) rounds to 2^53 before the addition
  EXPECT_EQ(py_float(Op::kAdd, I((int64_t{1} << 53) + 1), F(0.0)), 9007199254740992.0);
  EXPECT_EQ(py_float(Op::kPower, I(4), F(0.5)), 2.0);
  EXPECT_EQ(py_error(Op::kPower, I(-8), F(1.0 / 3)), StatusCode::kValueError);
  EXPECT_EQ(py_error(Op::kPower, I(10), F(400.0)), StatusCode::kOverflow);
  EXPECT_EQ(py_error(Op::kDivide, I(1), F(0.0)), StatusCode::kZeroDivision);
  EXPECT_EQ(py_error(Op::kDivide, F(1.5), I(0)), StatusCode::kZeroDivision);
  EXPECT_EQ(py_error(Op::kModulo, F(kNaN), F(0.0)), StatusCode::kZeroDivision);
  EXPECT_EQ(py_error(Op::kModulo, F(1.5), F(-0.0)), StatusCode::kZeroDivision);
}

TEST(PythonFloat, IeeeWithoutErrorsForAddSubtractMultiplyDivide) {
  EXPECT_EQ(py_float(Op::kMultiply, F(1e308), F(10.0)), kInf);
  EXPECT_TRUE(std::isnan(py_float(Op::kSubtract, F(kInf), F(kInf))));
  EXPECT_TRUE(std::isnan(py_float(Op::kAdd, F(kNaN), I(1))));
  EXPECT_EQ(py_float(Op::kDivide, F(1.0), F(kInf)), 0.0);
  EXPECT_TRUE(std::isnan(py_float(Op::kDivide, F(kInf), F(kInf))));
}

TEST(PythonFloat, ModuloTakesTheSignOfTheDivisor) {
  EXPECT_EQ(py_float(Op::kModulo, F(-7.5), I(2)), 0.5);
  EXPECT_EQ(py_float(Op::kModulo, F(7.5), I(-2)), -0.5);
  EXPECT_EQ(py_float(Op::kModulo, F(-7.5), F(-2.0)), -1.5);
  const double negzero = py_float(Op::kModulo, F(0.0), I(-1));
  EXPECT_EQ(negzero, 0.0);
  EXPECT_TRUE(std::signbit(negzero));  // Python: 0.0 % -1 == -0.0
  const double poszero = py_float(Op::kModulo, F(-6.0), F(3.0));
  EXPECT_EQ(poszero, 0.0);
  EXPECT_FALSE(std::signbit(poszero));  // fmod gives -0.0; Python gives 0.0
  EXPECT_EQ(py_float(Op::kModulo, F(-1e-20), F(1.0)), 1.0);  // -1e-20 + 1.0 rounds to 1.0
  EXPECT_TRUE(std::isnan(py_float(Op::kModulo, F(kInf), F(2.0))));
  EXPECT_EQ(py_float(Op::kModulo, F(5.0), F(kInf)), 5.0);
  EXPECT_EQ(py_float(Op::kModulo, F(-5.0), F(kInf)), kInf);  // Python: -5.0 % inf == inf
  EXPECT_EQ(py_float(Op::kModulo, I(-7), F(3.0)), 2.0);
}

// ---------------------------------------------------------------------------------------------
// CPython's float_pow

struct PowCase {
  double base, exponent;
  double expected;  // ignored when error != kOk
  StatusCode error = StatusCode::kOk;
};

TEST(FloatPow, FollowsCPython) {
  const PowCase cases[] = {
      {0.0, -1.0, 0, StatusCode::kZeroDivision},
      {-0.0, -1.0, 0, StatusCode::kZeroDivision},
      {0.0, -0.5, 0, StatusCode::kZeroDivision},
      {0.0, -kInf, kInf},  // the infinite-exponent rule comes before the zero-base rule
      {-8.0, 1.0 / 3, 0, StatusCode::kValueError},
      {-8.0, -1.0 / 3, 0, StatusCode::kValueError},
      {10.0, 400.0, 0, StatusCode::kOverflow},
      {-10.0, 401.0, 0, StatusCode::kOverflow},
      {10.0, 308.5, 0, StatusCode::kOverflow},
      {2.0, -1075.0, 0.0},  // underflow is not an error
      {kInf, 2.0, kInf},
      {kInf, -1.0, 0.0},
      {-kInf, 3.0, -kInf},
      {-kInf, 2.0, kInf},
      {-kInf, -3.0, -0.0},
      {-kInf, -2.0, 0.0},
      {-kInf, 0.5, kInf},  // no complex error for an infinite base
      {-kInf, 1e300, kInf},
      {kNaN, 0.0, 1.0},
      {kNaN, -0.0, 1.0},
      {1.0, kNaN, 1.0},
      {-1.0, kInf, 1.0},
      {0.5, kInf, 0.0},
      {-0.5, kInf, 0.0},
      {2.0, -kInf, 0.0},
      {0.5, -kInf, kInf},
      {-2.0, 3.0, -8.0},
      {-2.0, 2.0, 4.0},
      {-2.0, -1.0, -0.5},
      {-1.0, 1e300, 1.0},
      {-1.0, 9007199254740991.0, -1.0},
      {0.0, 3.0, 0.0},
      {-0.0, 3.0, -0.0},
      {-0.0, 2.0, 0.0},
      {-0.0, 0.5, 0.0},
      {0.0, 0.0, 1.0},
      {4.0, 0.5, 2.0},
  };
  for (const PowCase& c : cases) {
    double out = 12345.0;
    Status s = arith::float_pow(c.base, c.exponent, &out);
    SCOPED_TRACE(::testing::Message() << c.base << " ** " << c.exponent);
    EXPECT_EQ(s.code(), c.error) << s.to_string();
    if (c.error == StatusCode::kOk) {
      EXPECT_EQ(out, c.expected);
      EXPECT_EQ(std::signbit(out), std::signbit(c.expected));
    }
  }
  double out = 0;
  ASSERT_TRUE(arith::float_pow(kNaN, 1.0, &out).ok());
  EXPECT_TRUE(std::isnan(out));
  ASSERT_TRUE(arith::float_pow(2.0, kNaN, &out).ok());
  EXPECT_TRUE(std::isnan(out));
}

// ---------------------------------------------------------------------------------------------
// numpy kernels

template <typename T>
Ref<NDArray> make_array(const std::vector<T>& values, std::vector<int64_t> shape = {}, bool scalar = false) {
  if (shape.empty() && !scalar) shape = {static_cast<int64_t>(values.size())};
  Ref<NDArray> a = NDArray::allocate(DTypeOf<T>::value, std::move(shape), scalar);
  std::copy(values.begin(), values.end(), a->mutable_data_as<T>());
  return a;
}

template <typename T>
std::vector<T> values_of(const NDArray& a) {
  return std::vector<T>(a.data_as<T>(), a.data_as<T>() + a.size());
}

struct Kernel {
  Status status;
  Ref<NDArray> out;
  int64_t failed = -1;
};

Kernel kernel(Op op, const Ref<NDArray>& a, Scalar operand) {
  Kernel k;
  k.status = arith::numpy_binary(op, *a, operand, &k.out, &k.failed);
  return k;
}

TEST(NumpyKernel, IntOperandOutsideTheDtypeOverflowsAtElementZero) {
  auto a = make_array<int32_t>({1, 2});
  Kernel k = kernel(Op::kAdd, a, I(int64_t{1} << 31));
  EXPECT_EQ(k.status.code(), StatusCode::kOverflow);
  EXPECT_EQ(k.failed, 0);
  k = kernel(Op::kAdd, a, I(-(int64_t{1} << 31) - 1));
  EXPECT_EQ(k.status.code(), StatusCode::kOverflow);
  EXPECT_EQ(k.failed, 0);
  // The operand error comes before the zero-division and negative-power checks would matter.
  EXPECT_EQ(kernel(Op::kModulo, a, I(int64_t{1} << 40)).status.code(), StatusCode::kOverflow);
  EXPECT_EQ(kernel(Op::kPower, a, I(-(int64_t{1} << 40))).status.code(), StatusCode::kOverflow);
  // True division too: the reference (python/remotemedia/nodes/calculator.py) checks the operand
  // against the dtype for every operation.
  EXPECT_EQ(kernel(Op::kDivide, a, I(int64_t{1} << 40)).status.code(), StatusCode::kOverflow);
  // At the bound it fits.
  k = kernel(Op::kAdd, make_array<int32_t>({0, -1}), I((int64_t{1} << 31) - 1));
  ASSERT_TRUE(k.status.ok()) << k.status.to_string();
  EXPECT_EQ(values_of<int32_t>(*k.out), (std::vector<int32_t>{2147483647, 2147483646}));
}

TEST(NumpyKernel, ZeroOperandForDivideOrModuloIsZeroDivision) {
  for (Op op : {Op::kDivide, Op::kModulo}) {
    Kernel k = kernel(op, make_array<int64_t>({1, 2, 3}), I(0));
    EXPECT_EQ(k.status.code(), StatusCode::kZeroDivision) << arith::op_symbol(op);
    EXPECT_EQ(k.failed, 0);
    EXPECT_EQ(kernel(op, make_array<int32_t>({1}), F(0.0)).status.code(), StatusCode::kZeroDivision);
    EXPECT_EQ(kernel(op, make_array<double>({1.0}), F(-0.0)).status.code(), StatusCode::kZeroDivision);
    EXPECT_EQ(kernel(op, make_array<float>({1.0f}), I(0)).status.code(), StatusCode::kZeroDivision);
  }
}

TEST(NumpyKernel, IntArrayToNegativeIntPowerIsValueError) {
  Kernel k = kernel(Op::kPower, make_array<int64_t>({1, 2}), I(-1));
  EXPECT_EQ(k.status.code(), StatusCode::kValueError);
  EXPECT_EQ(k.failed, 0);
  // A float exponent is fine and gives float64.
  k = kernel(Op::kPower, make_array<int64_t>({1, 2}), F(-1.0));
  ASSERT_TRUE(k.status.ok());
  EXPECT_EQ(k.out->dtype(), DType::kFloat64);
  EXPECT_EQ(values_of<double>(*k.out), (std::vector<double>{1.0, 0.5}));
  k = kernel(Op::kPower, make_array<int32_t>({5, -3}), I(0));
  ASSERT_TRUE(k.status.ok());
  EXPECT_EQ(values_of<int32_t>(*k.out), (std::vector<int32_t>{1, 1}));
}

TEST(NumpyKernel, ElementOverflowReportsTheFirstFailingElementAndThePrefix) {
  Kernel k = kernel(Op::kAdd, make_array<int64_t>({1, 2, kMax, 4, kMax}), I(1));
  EXPECT_EQ(k.status.code(), StatusCode::kOverflow);
  EXPECT_EQ(k.failed, 2);
  ASSERT_TRUE(k.out);
  EXPECT_EQ(k.out->shape(), std::vector<int64_t>{2});
  EXPECT_EQ(values_of<int64_t>(*k.out), (std::vector<int64_t>{2, 3}));

  k = kernel(Op::kMultiply, make_array<int32_t>({10, 1 << 30, 5}), I(2));
  EXPECT_EQ(k.status.code(), StatusCode::kOverflow);
  EXPECT_EQ(k.failed, 1);
  EXPECT_EQ(values_of<int32_t>(*k.out), (std::vector<int32_t>{20}));

  k = kernel(Op::kPower, make_array<int32_t>({2, -3, 1 << 16, 2}), I(2));  // 2^32 > int32 max
  EXPECT_EQ(k.status.code(), StatusCode::kOverflow);
  EXPECT_EQ(k.failed, 2);
  EXPECT_EQ(values_of<int32_t>(*k.out), (std::vector<int32_t>{4, 9}));

  k = kernel(Op::kSubtract, make_array<int64_t>({kMin}), I(1));
  EXPECT_EQ(k.status.code(), StatusCode::kOverflow);
  EXPECT_EQ(k.failed, 0);
  EXPECT_EQ(k.out->size(), 0);

  // int32 wraps at 2^31, not at int64's bound.
  k = kernel(Op::kAdd, make_array<int32_t>({2147483647}), I(1));
  EXPECT_EQ(k.status.code(), StatusCode::kOverflow);
}

TEST(NumpyKernel, LinearOverflowBoundsForEveryOperandSign) {
  constexpr int64_t kHalf = int64_t{1} << 62;
  struct Case {
    Op op;
    int64_t operand;
    std::vector<int64_t> fits, overflows;  // elements at the edge of the range, just inside / outside
  };
  const Case cases[] = {
      {Op::kAdd, 5, {kMax - 5, kMin}, {kMax - 4}},
      {Op::kAdd, -5, {kMin + 5, kMax}, {kMin + 4}},
      {Op::kSubtract, 5, {kMin + 5, kMax}, {kMin + 4}},
      {Op::kSubtract, -5, {kMax - 5, kMin}, {kMax - 4}},
      {Op::kSubtract, kMin, {-1, kMin}, {0}},
      {Op::kMultiply, -1, {kMax, kMin + 1}, {kMin}},
      {Op::kMultiply, 2, {kHalf - 1, -kHalf}, {kHalf, -kHalf - 1}},
      {Op::kMultiply, -2, {kHalf, -(kHalf - 1)}, {kHalf + 1, -kHalf}},
      {Op::kMultiply, 3, {kMax / 3, kMin / 3}, {kMax / 3 + 1, kMin / 3 - 1}},
      {Op::kMultiply, -3, {kMax / 3, kMin / 3}, {kMax / 3 + 1, kMin / 3 - 1}},
      {Op::kMultiply, 0, {kMax, kMin}, {}},
      {Op::kMultiply, kMin, {1, 0}, {-1, 2}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(::testing::Message() << arith::op_symbol(c.op) << " " << c.operand);
    Kernel k = kernel(c.op, make_array<int64_t>(c.fits), I(c.operand));
    EXPECT_TRUE(k.status.ok()) << k.status.to_string();
    for (const int64_t bad : c.overflows) {
      std::vector<int64_t> items = c.fits;
      items.push_back(bad);
      items.push_back(0);
      k = kernel(c.op, make_array<int64_t>(items), I(c.operand));
      EXPECT_EQ(k.status.code(), StatusCode::kOverflow) << bad;
      EXPECT_EQ(k.failed, static_cast<int64_t>(c.fits.size())) << bad;
    }
  }
  // the same for int32, whose bounds are not int64's
  constexpr int32_t kMax32 = std::numeric_limits<int32_t>::max(), kMin32 = std::numeric_limits<int32_t>::min();
  Kernel k = kernel(Op::kMultiply, make_array<int32_t>({kMax32, kMin32 + 1, kMin32, 7}), I(-1));
  EXPECT_EQ(k.status.code(), StatusCode::kOverflow);
  EXPECT_EQ(k.failed, 2);
  EXPECT_EQ(values_of<int32_t>(*k.out), (std::vector<int32_t>{-kMax32, kMax32}));
  k = kernel(Op::kSubtract, make_array<int32_t>({0, -1, kMax32}), I(kMin32));
  EXPECT_EQ(k.status.code(), StatusCode::kOverflow);
  EXPECT_EQ(k.failed, 0);
  k = kernel(Op::kSubtract, make_array<int32_t>({-1, kMin32, 0}), I(kMin32));
  EXPECT_EQ(k.failed, 2);
  EXPECT_EQ(values_of<int32_t>(*k.out), (std::vector<int32_t>{kMax32, 0}));
}

TEST(NumpyKernel, IntModuloFollowsPythonSigns) {
  Kernel k = kernel(Op::kModulo, make_array<int64_t>({-7, 7, kMin}), I(3));
  ASSERT_TRUE(k.status.ok());
  EXPECT_EQ(values_of<int64_t>(*k.out), (std::vector<int64_t>{2, 1, 1}));
  k = kernel(Op::kModulo, make_array<int64_t>({-7, 7}), I(-3));
  EXPECT_EQ(values_of<int64_t>(*k.out), (std::vector<int64_t>{-1, -2}));
  k = kernel(Op::kModulo, make_array<int32_t>({std::numeric_limits<int32_t>::min(), 5}), I(-1));
  ASSERT_TRUE(k.status.ok());
  EXPECT_EQ(values_of<int32_t>(*k.out), (std::vector<int32_t>{0, 0}));
}

TEST(NumpyKernel, DtypeRules) {
  // int array with a float operand: float64
  Kernel k = kernel(Op::kAdd, make_array<int64_t>({1, 2, 3}), F(0.5));
  ASSERT_TRUE(k.status.ok());
  EXPECT_EQ(k.out->dtype(), DType::kFloat64);
  EXPECT_EQ(values_of<double>(*k.out), (std::vector<double>{1.5, 2.5, 3.5}));
  k = kernel(Op::kMultiply, make_array<int32_t>({3}), F(2.0));
  EXPECT_EQ(k.out->dtype(), DType::kFloat64);
  // int array / int: float64
  k = kernel(Op::kDivide, make_array<int32_t>({7, 1}), I(2));
  ASSERT_TRUE(k.status.ok());
  EXPECT_EQ(k.out->dtype(), DType::kFloat64);
  EXPECT_EQ(values_of<double>(*k.out), (std::vector<double>{3.5, 0.5}));
  // int op int keeps the dtype
  k = kernel(Op::kAdd, make_array<int32_t>({1}), I(1));
  EXPECT_EQ(k.out->dtype(), DType::kInt32);
  // float32 stays float32 and computes in float32
  k = kernel(Op::kDivide, make_array<float>({1.0f, 1.5f}), I(3));
  ASSERT_TRUE(k.status.ok());
  EXPECT_EQ(k.out->dtype(), DType::kFloat32);
  EXPECT_EQ(values_of<float>(*k.out), (std::vector<float>{1.0f / 3.0f, 0.5f}));
  k = kernel(Op::kAdd, make_array<float>({1.0f}), F(0.1));
  EXPECT_EQ(k.out->dtype(), DType::kFloat32);
  EXPECT_EQ(values_of<float>(*k.out)[0], 1.0f + 0.1f);
  k = kernel(Op::kModulo, make_array<float>({-7.5f}), I(2));
  EXPECT_EQ(values_of<float>(*k.out)[0], 0.5f);
  // float32 + a large int operand: no overflow error, the operand becomes float32
  k = kernel(Op::kAdd, make_array<float>({1.5f}), I(int64_t{1} << 40));
  ASSERT_TRUE(k.status.ok());
  EXPECT_EQ(values_of<float>(*k.out)[0], static_cast<float>(1099511627776.0 + 1.5));
  // unsupported dtypes are a TypeError
  auto bytes = NDArray::allocate(DType::kInt8, {2});
  EXPECT_FALSE(arith::supports_dtype(DType::kInt8));
  EXPECT_EQ(kernel(Op::kAdd, bytes, I(1)).status.code(), StatusCode::kTypeError);
}

TEST(NumpyKernel, FloatArraysFollowIeee) {
  Kernel k = kernel(Op::kAdd, make_array<double>({kNaN, 1.0, kInf}), I(1));
  ASSERT_TRUE(k.status.ok());
  std::vector<double> v = values_of<double>(*k.out);
  EXPECT_TRUE(std::isnan(v[0]));
  EXPECT_EQ(v[1], 2.0);
  EXPECT_EQ(v[2], kInf);
  k = kernel(Op::kPower, make_array<double>({-8.0, 1e300}), F(1.0 / 3));  // no complex error
  ASSERT_TRUE(k.status.ok());
  EXPECT_TRUE(std::isnan(values_of<double>(*k.out)[0]));
  k = kernel(Op::kPower, make_array<double>({10.0}), F(400.0));  // no overflow error
  ASSERT_TRUE(k.status.ok());
  EXPECT_EQ(values_of<double>(*k.out)[0], kInf);
  k = kernel(Op::kModulo, make_array<double>({-7.5, 0.0, kNaN}), F(2.0));
  v = values_of<double>(*k.out);
  EXPECT_EQ(v[0], 0.5);
  EXPECT_FALSE(std::signbit(v[1]));
  EXPECT_TRUE(std::isnan(v[2]));
  k = kernel(Op::kMultiply, make_array<float>({std::numeric_limits<float>::quiet_NaN(), 2.0f}), F(0.0));
  EXPECT_TRUE(std::isnan(values_of<float>(*k.out)[0]));
}

TEST(NumpyKernel, KeepsShapeAndScalarFlag) {
  auto scalar = make_array<int64_t>({41}, {}, /*scalar=*/true);
  ASSERT_EQ(scalar->ndim(), 0);
  Kernel k = kernel(Op::kAdd, scalar, I(1));
  ASSERT_TRUE(k.status.ok());
  EXPECT_EQ(k.out->ndim(), 0);
  EXPECT_TRUE(k.out->numpy_scalar());
  EXPECT_EQ(k.out->data_as<int64_t>()[0], 42);
  k = kernel(Op::kDivide, scalar, I(2));
  EXPECT_TRUE(k.out->numpy_scalar());
  EXPECT_EQ(k.out->data_as<double>()[0], 20.5);
  auto matrix = make_array<double>({1, 2, 3, 4, 5, 6}, {2, 3});
  k = kernel(Op::kMultiply, matrix, I(2));
  EXPECT_EQ(k.out->shape(), (std::vector<int64_t>{2, 3}));
  EXPECT_FALSE(k.out->numpy_scalar());
  EXPECT_EQ(values_of<double>(*k.out), (std::vector<double>{2, 4, 6, 8, 10, 12}));
  // the input is not modified
  EXPECT_EQ(values_of<double>(*matrix), (std::vector<double>{1, 2, 3, 4, 5, 6}));
}

// ---------------------------------------------------------------------------------------------
// The node itself (built by the registry's factory)

std::unique_ptr<Node> calculator(const char* operation, Value operand) {
  const NodeTypeInfo* info = Registry::global().find("CalculatorNode");
  EXPECT_NE(info, nullptr);
  auto made = info->factory(Value::map({{"operation", Value::string(operation)}, {"operand", operand}}));
  EXPECT_TRUE(made.ok());
  return std::move(made).value();
}

Result<Value> process_one(Node& node, Value item) {
  std::vector<Value> out;
  VectorEmitter emitter(out);
  Status s = node.process(std::move(item), emitter);
  if (!s.ok()) return s;
  EXPECT_EQ(out.size(), 1u);
  return out.at(0);
}

TEST(CalculatorNode, ItemTypes) {
  auto add = calculator("add", Value::integer(1));
  EXPECT_EQ(process_one(*add, Value::integer(1)).value(), Value::integer(2));
  EXPECT_EQ(process_one(*add, Value::boolean(true)).value(), Value::integer(2));  // bool counts as int
  EXPECT_EQ(process_one(*add, Value::real(0.5)).value(), Value::real(1.5));
  EXPECT_EQ(process_one(*add, Value::string("1")).status().code(), StatusCode::kTypeError);
  EXPECT_EQ(process_one(*add, Value::null()).status().code(), StatusCode::kTypeError);
  EXPECT_EQ(process_one(*add, Value::list({Value::integer(1)})).status().code(), StatusCode::kTypeError);
  // An int beyond int64 (here from JSON) is an overflow, as the Python executor reports.
  Result<Value> big = parse_json("[9223372036854775808]");
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(process_one(*add, big->as_list()[0]).status().code(), StatusCode::kOverflow);
  // numpy scalars stay numpy scalars
  Result<Value> r = process_one(*add, Value::array(make_array<int32_t>({7}, {}, true)));
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->is_array());
  EXPECT_TRUE(r->as_array().numpy_scalar());
  EXPECT_EQ(r->as_array().dtype(), DType::kInt32);
  EXPECT_EQ(r->as_array().data_as<int32_t>()[0], 8);
  auto int8 = NDArray::allocate(DType::kInt8, {1});
  EXPECT_EQ(process_one(*add, Value::array(int8)).status().code(), StatusCode::kTypeError);
}

TEST(CalculatorNode, BatchStopsAtTheFirstFailureWithThePrefix) {
  auto add = calculator("add", Value::integer(1));
  std::vector<Value> items = {Value::integer(1), Value::real(2.5), Value::integer(kMax), Value::integer(4)};
  std::vector<Value> out;
  size_t failed_at = 99;
  Status s = add->process_batch(items, out, &failed_at);
  EXPECT_EQ(s.code(), StatusCode::kOverflow);
  EXPECT_EQ(failed_at, 2u);
  EXPECT_EQ(out, (std::vector<Value>{Value::integer(2), Value::real(3.5)}));

  auto div = calculator("divide", Value::real(2.0));
  items = {Value::integer(1), Value::integer(3), Value::string("x")};
  out.clear();
  s = div->process_batch(items, out, &failed_at);
  EXPECT_EQ(s.code(), StatusCode::kTypeError);
  EXPECT_EQ(failed_at, 2u);
  EXPECT_EQ(out, (std::vector<Value>{Value::real(0.5), Value::real(1.5)}));
}

// Expected strings are CPython's repr of the same doubles.
TEST(FloatRepr, WritesFloatsAsPythonReprDoes) {
  const std::pair<double, const char*> cases[] = {
      {0.0, "0.0"},        {-0.0, "-0.0"},          {1.0, "1.0"},
      {0.5, "0.5"},        {100.0, "100.0"},        {1e15, "1000000000000000.0"},
      {1e16, "1e+16"},     {1.5e16, "1.5e+16"},     {123456789012345678.0, "1.2345678901234568e+17"},
      {1e-4, "0.0001"},    {1e-5, "1e-05"},         {0.00012345, "0.00012345"},
      {1e308, "1e+308"},   {-1.5, "-1.5"},          {1.0 / 3, "0.3333333333333333"},
      {5e-324, "5e-324"},  {2.2250738585072014e-308, "2.2250738585072014e-308"},
      {0.1 + 0.2, "0.30000000000000004"},           {18446744073709551616.0, "1.8446744073709552e+19"},
      {kInf, "inf"},       {-kInf, "-inf"},         {kNaN, "nan"},
  };
  for (const auto& [x, text] : cases) EXPECT_EQ(arith::float_repr(x), text) << text;
}

// The messages the Python executor gives (tests/python/system/test_error_wording.py holds both
// executors to them).
TEST(Messages, NameTheOperandsAsPythonWritesThem) {
  auto message = [](Op op, Scalar a, Scalar b) {
    Value out;
    return arith::python_binary(op, a, b, &out).message();
  };
  EXPECT_EQ(message(Op::kAdd, I(kMax), I(1)), "9223372036854775807 + 1 does not fit in int64");
  EXPECT_EQ(message(Op::kMultiply, I(kMin), I(-1)), "-9223372036854775808 * -1 does not fit in int64");
  EXPECT_EQ(message(Op::kFloorDivide, I(kMin), I(-1)), "-9223372036854775808 // -1 does not fit in int64");
  EXPECT_EQ(message(Op::kPower, I(-1), F(0.5)), "(-1) ** 0.5: a negative base to a fractional power has no real result");
  EXPECT_EQ(message(Op::kPower, F(1e308), I(2)), "1e+308 ** 2 is too large for a float");
  EXPECT_EQ(message(Op::kPower, I(-2), F(1025.0)), "(-2) ** 1025.0 is too large for a float");
  Ref<NDArray> r;
  int64_t failed = 0;
  Ref<NDArray> a = NDArray::allocate(DType::kInt32, {1}, false);
  a->mutable_data_as<int32_t>()[0] = 1 << 20;
  EXPECT_EQ(arith::numpy_binary(Op::kAdd, *a, I(int64_t{1} << 31), &r, &failed).message(),
            "Python integer 2147483648 out of bounds for int32");
  EXPECT_EQ(arith::numpy_binary(Op::kPower, *a, I(2), &r, &failed).message(),
            "int32 ** 2: a result does not fit in int32");
  EXPECT_EQ(arith::numpy_binary(Op::kPower, *a, I(-1), &r, &failed).message(),
            "integers to negative integer powers are not allowed");
  EXPECT_EQ(arith::numpy_general(Op::kMultiply, a.get(), I(0), *a, &r).message(),
            "int32 * int32: a result does not fit in int32");
  EXPECT_EQ(arith::numpy_general(Op::kSubtract, nullptr, I(kMin), *a, &r).message(),
            "Python integer -9223372036854775808 out of bounds for int32");
  EXPECT_EQ(arith::numpy_general(Op::kSubtract, nullptr, I(10), *a, &r).ok(), true);
  EXPECT_EQ(arith::unsupported_dtype(DType::kInt8).message(),
            "unsupported dtype int8 (expected int32, int64, float32 or float64)");
}

}  // namespace
}  // namespace remotemedia

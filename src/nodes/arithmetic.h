// Arithmetic with the semantics of docs/SEMANTICS.md, shared by the nodes that compute: the
// Calculator and the expression language (src/core/expression.cpp). Private to the runtime.
//
// Two families: Python numbers (int64 with overflow errors instead of growing, correctly rounded
// int/int division, CPython's float_pow and float_rem), and numpy arrays / scalars (numpy 2 dtype
// rules, plus errors where numpy would wrap or divide by zero).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "remotemedia/ndarray.h"
#include "remotemedia/status.h"
#include "remotemedia/value.h"

namespace remotemedia::arith {

// kFloorDivide (Python's //) is the expression language's; the Calculator does not offer it.
enum class Op : uint8_t { kAdd, kSubtract, kMultiply, kDivide, kPower, kModulo, kFloorDivide };

std::optional<Op> parse_op(std::string_view name);
const char* op_symbol(Op op);

// Python's repr of a float ("1e+308", "0.5", "100.0", "inf", "nan"): messages name operands as
// the Python executor writes them.
std::string float_repr(double x);

// A Python-number operand: an int64 (bools are ints) or a double.
struct Scalar {
  bool is_int;
  int64_t i;
  double f;
  double as_double() const { return is_int ? static_cast<double>(i) : f; }
  static Scalar of_int(int64_t v) { return {true, v, 0.0}; }
  static Scalar of_float(double v) { return {false, 0, v}; }
  // As Python's repr writes it (an int in decimal, a float by float_repr).
  std::string repr() const { return is_int ? std::to_string(i) : float_repr(f); }
};

// a op b on Python numbers. The result is an int or a float Value.
Status python_binary(Op op, Scalar a, Scalar b, Value* out);

// Correctly rounded a / b (what Python's int true division returns). b != 0.
double int_true_divide(int64_t a, int64_t b);
// CPython's float ** float, including its errors (kOverflow, kValueError, kZeroDivision; the
// messages name the operands as floats: python_binary words them for int operands).
Status float_pow(double base, double exponent, double* out);
// CPython's float % float (the sign of the divisor). b != 0.
double float_mod(double a, double b);
// CPython's float // float (float_floor_div; numpy's npy_floor_divide is the same). b != 0.
double float_floor_div(double a, double b);
float float_floor_div(float a, float b);

// numpy: every element of `a` op `operand`. dtype must be int32, int64, float32 or float64
// (supports_dtype). Returns the result array (same shape and numpy_scalar flag) in *out. On an
// element's failure returns the error with *failed_element set and *out holding the results of
// the elements before it (as a 1-D prefix). A failure that concerns the operand rather than an
// element (it does not fit the dtype, division by zero) fails at element 0.
bool supports_dtype(DType dtype);
// The Calculator's type faults, worded as the Python executor words them: a numpy value of another
// dtype, and an item that is no number (named by Value::type_name).
Status unsupported_dtype(DType dtype);
Status unsupported_operand(const std::string& type_name);
// An int beyond int64 (an opaque big integer), whose value the runtime cannot use.
Status big_int_overflow();
Status numpy_binary(Op op, const NDArray& a, Scalar operand, Ref<NDArray>* out,
                    int64_t* failed_element);

// numpy beyond numpy_binary: a Python number on the left (`a` null: `a_number` is it), or numpy
// values on both sides. numpy 2 dtype rules (a Python number is weak; two arrays promote: int32
// with int64 gives int64, an int dtype with float32 gives float64). Shapes must be equal unless one
// side is 0-d (kValueError otherwise). The checks, in the Calculator's order: dtypes (kTypeError),
// a Python int that does not fit the int dtype (kOverflow), shapes, a zero divisor anywhere for
// / // % (kZeroDivision), a negative exponent anywhere for int ** (kValueError), an int result
// outside its dtype (kOverflow). The result is a numpy scalar when no operand is an ndarray proper
// (every array operand is numpy_scalar()), else an ndarray of the non-0-d operand's shape.
Status numpy_general(Op op, const NDArray* a, Scalar a_number, const NDArray& b, Ref<NDArray>* out);

}  // namespace remotemedia::arith

// The expression language (include/remotemedia/expression.h, docs/EXPRESSIONS.md): the shared
// vectors of tests/data/expressions.json (the Python executor runs the same file), then what JSON
// cannot express (NaN, bytes, numpy values, opaque objects), and the typed batch / column paths,
// which must give exactly what item-at-a-time evaluation gives, error and index included.
#include "remotemedia/expression.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "expression_reference.h"
#include "remotemedia/json.h"
#include "same_value.h"

namespace remotemedia {
namespace {

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
const double kInf = std::numeric_limits<double>::infinity();
const double kNaN = std::numeric_limits<double>::quiet_NaN();

Expression parse(const std::string& text) {
  Result<Expression> e = Expression::parse(text);
  EXPECT_TRUE(e.ok()) << text << ": " << e.status().to_string();
  return e.ok() ? *e : Expression();
}

Result<Value> eval(const std::string& text, const Value& item) {
  Expression e = parse(text);
  Value out;
  Status s = e.evaluate(item, &out);
  if (!s.ok()) return s;
  return out;
}

// The value, or (after recording a failure) a string saying what went wrong.
Value val(const std::string& text, const Value& item) {
  Result<Value> r = eval(text, item);
  EXPECT_TRUE(r.ok()) << text << ": " << r.status().to_string();
  return r.ok() ? *r : Value::string("error: " + r.status().to_string());
}

StatusCode eval_error(const std::string& text, const Value& item) {
  return eval(text, item).status().code();
}

using test_support::same;

std::string show(const Value& v) {
  Result<std::string> j = to_json(v);
  return j.ok() ? *j : v.type_name();
}

StatusCode code_named(const std::string& name) {
  if (name == "NodeTypeError") return StatusCode::kTypeError;
  if (name == "NodeValueError") return StatusCode::kValueError;
  if (name == "NodeZeroDivisionError") return StatusCode::kZeroDivision;
  if (name == "NodeOverflowError") return StatusCode::kOverflow;
  ADD_FAILURE() << "unknown error class " << name;
  return StatusCode::kInternal;
}

struct Vector {
  std::string expr;
  Value item;
  const Value* result = nullptr;
  std::string error;
  int64_t syntax_column = 0;
  std::string message;
};

const std::vector<Vector>& vectors() {
  static const Value doc = [] {
    std::ifstream in(RM_SOURCE_DIR "/tests/data/expressions.json");
    std::stringstream text;
    text << in.rdbuf();
    Result<Value> v = parse_json(text.str());
    EXPECT_TRUE(v.ok()) << v.status().to_string();
    return v.ok() ? *v : Value();
  }();
  static const std::vector<Vector> cases = [] {
    std::vector<Vector> out;
    if (!doc.is_map()) return out;
    for (const Value& c : doc.find("cases")->as_list()) {
      Vector v;
      v.expr = c.find("expr")->as_string();
      if (const Value* item = c.find("item")) v.item = *item;
      v.result = c.find("result");
      if (const Value* e = c.find("error")) v.error = e->as_string();
      if (const Value* col = c.find("syntax_error_column")) v.syntax_column = col->as_int();
      if (const Value* m = c.find("message")) v.message = m->as_string();
      out.push_back(std::move(v));
    }
    return out;
  }();
  return cases;
}

// ----------------------------------------------------------------------------- shared vectors

TEST(ExpressionVectors, FileHasEnoughCasesOfEachOutcome) {
  int results = 0, errors = 0, syntax = 0;
  for (const Vector& v : vectors()) {
    results += v.result != nullptr;
    errors += !v.error.empty();
    syntax += v.syntax_column > 0;
  }
  EXPECT_GE(results + errors + syntax, 150);
  EXPECT_GE(results, 100);
  EXPECT_GE(errors, 40);
  EXPECT_GE(syntax, 40);
}

TEST(ExpressionVectors, EachGivesItsResultErrorOrSyntaxError) {
  for (const Vector& v : vectors()) {
    SCOPED_TRACE(v.expr);
    Result<Expression> e = Expression::parse(v.expr);
    if (v.syntax_column > 0) {
      ASSERT_FALSE(e.ok()) << "parsed, expected a syntax error at column " << v.syntax_column;
      EXPECT_EQ(e.status().code(), StatusCode::kInvalidParameter);
      EXPECT_TRUE(e.status().path().empty());
      const std::string prefix = "syntax error at column " + std::to_string(v.syntax_column) + ": ";
      EXPECT_EQ(e.status().message().rfind(prefix, 0), 0u) << e.status().message();
      if (!v.message.empty()) {
        EXPECT_EQ(e.status().message(), prefix + v.message);
      }
      continue;
    }
    ASSERT_TRUE(e.ok()) << e.status().to_string();
    EXPECT_EQ(e->text(), v.expr);
    Value out;
    Status s = e->evaluate(v.item, &out);
    if (v.result) {
      ASSERT_TRUE(s.ok()) << s.to_string();
      EXPECT_TRUE(same(out, *v.result)) << "got " << show(out) << " (" << out.type_name() << "), want "
                                        << show(*v.result);
    } else {
      ASSERT_FALSE(s.ok()) << "got " << show(out) << ", want " << v.error;
      EXPECT_EQ(s.code(), code_named(v.error)) << s.to_string();
      if (!v.message.empty()) {
        EXPECT_EQ(s.message(), v.message);
      }
    }
  }
}

// The batch forms run every vector's item among numbers, so the typed path (for the numbers) and
// the evaluator (for the rest) share each batch; each item's outcome must be the vector's.
TEST(ExpressionVectors, BatchFormsGiveTheSameOutcomes) {
  for (const Vector& v : vectors()) {
    if (v.syntax_column > 0) continue;
    SCOPED_TRACE(v.expr);
    Expression e = parse(v.expr);
    Value filler_value;
    bool filler_truth = false;
    const Value filler = Value::integer(2);
    const bool filler_ok = e.evaluate(filler, &filler_value).ok() && e.evaluate_truth(filler, &filler_truth).ok();
    if (!filler_ok) continue;  // an expression that fails on 2 would fail before the vector's item
    std::vector<Value> batch(5, filler);
    batch[3] = v.item;
    size_t failed_at = 99;
    std::vector<Value> mapped = batch;
    Status s = e.evaluate_batch(mapped, &failed_at);
    std::vector<uint8_t> truth;
    size_t truth_failed_at = 99;
    Status ts = e.truth_batch(batch, &truth, &truth_failed_at);
    if (v.result) {
      ASSERT_TRUE(s.ok()) << s.to_string();
      ASSERT_EQ(mapped.size(), 5u);
      EXPECT_TRUE(same(mapped[3], *v.result)) << show(mapped[3]);
      EXPECT_TRUE(same(mapped[0], filler_value)) << show(mapped[0]);
      bool t;
      if (e.evaluate_truth(v.item, &t).ok()) {
        ASSERT_TRUE(ts.ok()) << ts.to_string();
        EXPECT_EQ(truth[3], t);
        EXPECT_EQ(truth[4], filler_truth);
      }
    } else {
      ASSERT_FALSE(s.ok());
      EXPECT_EQ(s.code(), code_named(v.error));
      EXPECT_EQ(failed_at, 3u);
      ASSERT_EQ(mapped.size(), 3u);
      EXPECT_TRUE(same(mapped[2], filler_value));
      ASSERT_FALSE(ts.ok());
      EXPECT_EQ(truth_failed_at, 3u);
      EXPECT_EQ(truth.size(), 3u);
    }
  }
}

// ------------------------------------------------------------------- parsing and the object

TEST(ExpressionParse, ColumnsCountCodePointsNotBytes) {
  // 'é' is 2 bytes, '日' 3, '😀' 4: the unknown name is at code point 9 in every case.
  for (const std::string text : {"'abcd' + x", "'ébcd' + x", "'日bcd' + x", "'😀bcd' + x"}) {
    Result<Expression> e = Expression::parse(text);
    ASSERT_FALSE(e.ok());
    EXPECT_EQ(e.status().message(), "syntax error at column 10: unknown name 'x'") << text;
  }
}

TEST(ExpressionParse, InvalidUtf8IsASyntaxErrorAtItsColumn) {
  Result<Expression> e = Expression::parse(std::string("'é' + \xff"));
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().message(), "syntax error at column 7: invalid UTF-8");
}

TEST(ExpressionParse, LexicalErrorsComeBeforeSyntaxErrors) {
  // The unknown name is first, but the text is tokenized whole before parsing.
  Result<Expression> e = Expression::parse("x + 'unterminated");
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().message(), "syntax error at column 5: unterminated string");
}

TEST(ExpressionParse, DeepButAllowedNestingEvaluates) {
  std::string text;
  for (int i = 0; i < Expression::kNestingLimit; ++i) text += "[";
  for (int i = 0; i < Expression::kNestingLimit; ++i) text += "]";
  Result<Value> v = eval(text, Value());
  ASSERT_TRUE(v.ok());
  const Value* x = &*v;
  for (int i = 1; i < Expression::kNestingLimit; ++i) {
    ASSERT_TRUE(x->is_list());
    ASSERT_EQ(x->as_list().size(), 1u);
    x = &x->as_list()[0];
  }
  EXPECT_TRUE(x->is_list() && x->as_list().empty());
}

TEST(ExpressionParse, ATwoThousandTermChainNeitherNestsNorOverflowsTheStack) {
  std::string text = "item";
  for (int i = 0; i < 2000; ++i) text += i % 2 ? " - 1" : " + 2";
  Result<Value> v = eval(text, Value::integer(5));
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->as_int(), 5 + 1000);
}

TEST(ExpressionParse, MoreTokensThanTheLimitIsASyntaxErrorAtTheFirstOneTooMany) {
  // 65,535 terms once wrapped the typed program's 16-bit register indices (a heap overflow).
  std::string text = "item";
  for (int terms = 1; terms <= Expression::kTokenLimit / 2 + 1; ++terms) text += " + item";
  Result<Expression> e = Expression::parse(text);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), StatusCode::kInvalidParameter);
  // Tokens alternate "item", "+": token kTokenLimit + 1 (0-based kTokenLimit) is an "item".
  const size_t column = static_cast<size_t>(Expression::kTokenLimit / 2) * 7 + 1;
  EXPECT_EQ(e.status().message(), "syntax error at column " + std::to_string(column) + ": expression longer than " +
                                      std::to_string(Expression::kTokenLimit) + " tokens");
  std::string longest = "item";
  for (int tokens = 1; tokens + 2 <= Expression::kTokenLimit; tokens += 2) longest += " + item";
  Result<Value> v = eval(longest, Value::integer(1));
  ASSERT_TRUE(v.ok()) << v.status().to_string();
  EXPECT_EQ(v->as_int(), Expression::kTokenLimit / 2);
  Ref<NDArray> out;
  size_t failed_at = 0;
  Ref<NDArray> ints = NDArray::allocate(DType::kInt64, {2});
  ints->mutable_data_as<int64_t>()[0] = 1;
  ints->mutable_data_as<int64_t>()[1] = 2;
  ASSERT_TRUE(parse(longest).evaluate_column(*ints, &out, &failed_at).ok())
      << "the longest expression still compiles to a typed program";
  EXPECT_EQ(out->data_as<int64_t>()[1], Expression::kTokenLimit);
}

TEST(ExpressionObject, CopiesShareTheProgramAndTheEmptyOneFails) {
  Expression a = parse("item + 1");
  Expression b = a;
  EXPECT_EQ(&a.text(), &b.text());
  Value out;
  ASSERT_TRUE(b.evaluate(Value::integer(1), &out).ok());
  EXPECT_EQ(out.as_int(), 2);
  Expression empty;
  EXPECT_EQ(empty.evaluate(Value(), &out).code(), StatusCode::kInternal);
  EXPECT_EQ(empty.text(), "");
}

TEST(ExpressionObject, EvaluatesFromSeveralThreadsAtOnce) {
  const Expression e = parse("item % 7 == 3 or item < 0 and is_int(item)");
  std::vector<Value> items;
  for (int64_t i = -500; i < 5000; ++i) items.push_back(i % 3 ? Value::integer(i) : Value::real(i * 0.5));
  std::vector<uint8_t> expected;
  size_t failed_at = 0;
  ASSERT_TRUE(e.truth_batch(items, &expected, &failed_at).ok());
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 20; ++round) {
        std::vector<uint8_t> truth;
        size_t f = 0;
        if (!e.truth_batch(items, &truth, &f).ok() || truth != expected) ++mismatches[t];
        bool one;
        if (!e.evaluate_truth(items[static_cast<size_t>(round)], &one).ok() || one != expected[static_cast<size_t>(round)]) {
          ++mismatches[t];
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches, std::vector<int>(4, 0));
}

// ---------------------------------------------------------------- what JSON cannot express

TEST(ExpressionValues, NaNAndInfinity) {
  const Value nan = Value::real(kNaN), inf = Value::real(kInf);
  EXPECT_FALSE(val("item == item", nan).as_bool());
  EXPECT_TRUE(val("item != item", nan).as_bool());
  EXPECT_FALSE(val("item > 1 or item <= 1", nan).as_bool());
  EXPECT_FALSE(val("[item] == [item]", nan).as_bool()) << "no identity shortcut, unlike Python lists";
  EXPECT_FALSE(val("item in [item]", nan).as_bool());
  EXPECT_TRUE(std::isnan(val("min(item, 1)", nan).as_float()));
  EXPECT_EQ(val("min(1, item)", nan).as_int(), 1);
  EXPECT_FALSE(val("not item", nan).as_bool()) << "NaN is true";
  EXPECT_EQ(eval_error("round(item)", nan), StatusCode::kValueError);
  EXPECT_EQ(eval_error("int(item)", nan), StatusCode::kValueError);
  EXPECT_EQ(eval_error("round(item)", inf), StatusCode::kOverflow);
  EXPECT_EQ(eval_error("int(-item)", inf), StatusCode::kOverflow);
  EXPECT_TRUE(std::isnan(val("item % 1.0", inf).as_float()));
  EXPECT_TRUE(std::isnan(val("item // 1", inf).as_float()));
  EXPECT_EQ(val("1 // item", inf).as_float(), 0.0);
  EXPECT_EQ(val("-1 // item", inf).as_float(), -1.0);
  EXPECT_EQ(val("(-2) ** item", inf).as_float(), kInf) << "CPython: |base| > 1 to +inf";
  EXPECT_TRUE(std::isnan(val("(-2) ** item", nan).as_float()));
  EXPECT_EQ(val("round(item, 2)", inf).as_float(), kInf);
  EXPECT_TRUE(val("item > 9223372036854775807", inf).as_bool());
  EXPECT_TRUE(val("abs(-item) == item", inf).as_bool());
}

TEST(ExpressionValues, BytesHaveLengthEqualityAndTruthOnly) {
  const Value b = Value::bytes(std::string("a\0b", 3));
  EXPECT_EQ(val("len(item)", b).as_int(), 3);
  EXPECT_TRUE(val("item == item", b).as_bool());
  EXPECT_FALSE(val("item == 'a'", b).as_bool()) << "bytes never equal a str";
  EXPECT_TRUE(val("not not item", b).as_bool());
  EXPECT_TRUE(val("not item", Value::bytes("")).as_bool());
  EXPECT_EQ(eval_error("item + item", b), StatusCode::kTypeError);
  EXPECT_EQ(eval_error("item < item", b), StatusCode::kTypeError);
  EXPECT_EQ(eval_error("item[0]", b), StatusCode::kTypeError);
  EXPECT_EQ(eval_error("'a' in item", b), StatusCode::kTypeError);
  EXPECT_FALSE(val("is_str(item)", b).as_bool());
}

class Opaque final : public OpaqueObject {
 public:
  explicit Opaque(bool big) : big_(big) {}
  std::string type_name() const override { return big_ ? "int" : "tuple"; }
  bool is_big_integer() const override { return big_; }
  std::string big_integer_digits() const override { return big_ ? "9223372036854775808" : ""; }

 private:
  bool big_;
};

TEST(ExpressionValues, OpaqueObjectsCompareByIdentityAndHaveNoTruth) {
  const Value tuple = Value::object(Ref<OpaqueObject>(new Opaque(false)));
  const Value other = Value::object(Ref<OpaqueObject>(new Opaque(false)));
  EXPECT_TRUE(val("item == item", tuple).as_bool());
  EXPECT_FALSE(val("item[0] == item[1]", Value::list({tuple, other})).as_bool());
  EXPECT_EQ(eval_error("not item", tuple), StatusCode::kTypeError);
  EXPECT_EQ(eval_error("item + 1", tuple), StatusCode::kTypeError);
  EXPECT_EQ(eval_error("item < 1", tuple), StatusCode::kTypeError);
  EXPECT_FALSE(val("is_int(item) or is_list(item) or is_null(item)", tuple).as_bool());
  EXPECT_TRUE(same(val("item", tuple), tuple)) << "passes through untouched";
}

Ref<NDArray> int64s(std::vector<int64_t> v, std::vector<int64_t> shape = {}) {
  if (shape.empty()) shape = {static_cast<int64_t>(v.size())};
  Ref<NDArray> a = NDArray::allocate(DType::kInt64, shape);
  std::memcpy(a->mutable_data(), v.data(), v.size() * 8);
  return a;
}
template <typename T>
Value scalar_of(DType dtype, T x) {
  Ref<NDArray> a = NDArray::allocate(dtype, {}, /*numpy_scalar=*/true);
  std::memcpy(a->mutable_data(), &x, sizeof x);
  return Value::array(a);
}
template <typename T>
Value scalar(T x) {
  return scalar_of(DTypeOf<T>::value, x);
}
template <typename T>
Value array_of(std::vector<T> v) {
  Ref<NDArray> a = NDArray::allocate(DTypeOf<T>::value, {static_cast<int64_t>(v.size())});
  std::memcpy(a->mutable_data(), v.data(), v.size() * sizeof(T));
  return Value::array(a);
}

TEST(ExpressionNumpy, ScalarsStayNumpyInArithmeticAndAreNumbersElsewhere) {
  const Value x = scalar<int64_t>(7);
  Result<Value> r = eval("item * 2", x);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(same(*r, scalar<int64_t>(14)));
  EXPECT_TRUE(same(val("10 - item", x), scalar<int64_t>(3))) << "a Python int on the left";
  EXPECT_TRUE(same(val("item / 2", x), scalar<double>(3.5)));
  EXPECT_TRUE(same(val("item // 2", x), scalar<int64_t>(3)));
  EXPECT_TRUE(same(val("item * item", x), scalar<int64_t>(49)));
  EXPECT_TRUE(same(val("item + 0.5", x), scalar<double>(7.5)));
  EXPECT_TRUE(same(val("-item", x), scalar<int64_t>(-7)));
  EXPECT_TRUE(same(val("item > 3", x), Value::boolean(true))) << "comparisons give Python bools";
  EXPECT_TRUE(same(val("abs(item)", x), Value::integer(7))) << "functions give Python numbers";
  EXPECT_TRUE(same(val("max(item, 3)", x), x)) << "min / max return the operand itself";
  EXPECT_TRUE(same(val("item and 5", x), Value::integer(5)));
  EXPECT_TRUE(val("is_int(item) and is_number(item) and not is_float(item)", x).as_bool());
  EXPECT_TRUE(val("item == 7.0", x).as_bool());
  EXPECT_TRUE(val("is_float(item)", scalar<float>(0.5f)).as_bool());
  EXPECT_FALSE(val("item == 0.1", scalar<float>(0.1f)).as_bool()) << "float32 0.1 compared as the double it is";
  EXPECT_TRUE(same(val("item * 2", scalar<float>(1.5f)), scalar<float>(3.0f))) << "float32 stays float32";
  EXPECT_TRUE(same(val("item + item", scalar<int32_t>(5)), scalar<int32_t>(10)));
  EXPECT_TRUE(same(val("item[0] + item[1]", Value::list({scalar<int32_t>(5), scalar<int64_t>(1)})),
                   scalar<int64_t>(6)))
      << "int32 with int64 promotes to int64";
  EXPECT_TRUE(same(val("item[0] + item[1]", Value::list({scalar<int32_t>(5), scalar<float>(1)})),
                   scalar<double>(6.0)))
      << "int32 with float32 promotes to float64";
}

TEST(ExpressionNumpy, NumpyErrors) {
  EXPECT_EQ(eval_error("item + 1", scalar<int64_t>(kMax)), StatusCode::kOverflow);
  EXPECT_EQ(eval_error("1 - item", scalar<int64_t>(kMin)), StatusCode::kOverflow);
  EXPECT_EQ(eval_error("-item", scalar<int64_t>(kMin)), StatusCode::kOverflow);
  EXPECT_EQ(eval_error("item + 3000000000", scalar<int32_t>(1)), StatusCode::kOverflow);
  EXPECT_EQ(eval_error("3000000000 + item", scalar<int32_t>(1)), StatusCode::kOverflow);
  EXPECT_EQ(eval_error("item ** -1", scalar<int64_t>(2)), StatusCode::kValueError) << "numpy, unlike Python";
  EXPECT_EQ(val("item ** -1", Value::integer(2)).as_float(), 0.5);
  EXPECT_EQ(eval_error("2 ** item", scalar<int64_t>(-1)), StatusCode::kValueError);
  EXPECT_EQ(eval_error("item / 0", scalar<double>(1.0)), StatusCode::kZeroDivision);
  EXPECT_EQ(eval_error("1.0 % item", scalar<double>(0.0)), StatusCode::kZeroDivision);
  EXPECT_EQ(eval_error("item + 1", scalar_of<uint8_t>(DType::kUInt8, 1)), StatusCode::kTypeError) << "not a Calculator dtype";
  EXPECT_EQ(eval_error("item > 1", scalar_of<uint64_t>(DType::kUInt64, uint64_t{1} << 63)), StatusCode::kOverflow);
  EXPECT_TRUE(val("item > 1", scalar_of<uint8_t>(DType::kUInt8, 200)).as_bool()) << "any dtype compares as its number";
}

TEST(ExpressionNumpy, ArraysHaveNoTruthAndCompareNothing) {
  const Value a = array_of<int64_t>({1, 2, 3});
  EXPECT_EQ(eval_error("not item", a), StatusCode::kTypeError);
  EXPECT_EQ(eval_error("item and 1", a), StatusCode::kTypeError);
  EXPECT_EQ(eval_error("item == 1", a), StatusCode::kTypeError);
  EXPECT_EQ(eval_error("item == item", a), StatusCode::kTypeError);
  EXPECT_EQ(eval_error("1 in [item]", a), StatusCode::kTypeError);
  EXPECT_EQ(eval_error("'x' in item", a), StatusCode::kTypeError);
  EXPECT_EQ(eval_error("abs(item)", a), StatusCode::kTypeError);
  EXPECT_EQ(val("len(item)", a).as_int(), 3);
  EXPECT_EQ(eval_error("len(item)", scalar<int64_t>(3)), StatusCode::kTypeError);
}

TEST(ExpressionNumpy, ArrayArithmeticIndexingAndShapes) {
  const Value a = array_of<int64_t>({1, 2, 3});
  EXPECT_TRUE(same(val("item * 2", a), array_of<int64_t>({2, 4, 6})));
  EXPECT_TRUE(same(val("10 - item", a), array_of<int64_t>({9, 8, 7})));
  EXPECT_TRUE(same(val("item + item", a), array_of<int64_t>({2, 4, 6})));
  EXPECT_TRUE(same(val("item / item", a), array_of<double>({1, 1, 1})));
  EXPECT_TRUE(same(val("item ** item[1]", a), array_of<int64_t>({1, 4, 9}))) << "a numpy scalar broadcasts";
  EXPECT_TRUE(same(val("item[-1]", a), scalar<int64_t>(3)));
  EXPECT_EQ(eval_error("item[3]", a), StatusCode::kValueError);
  const Value b = array_of<int64_t>({1, 0});
  EXPECT_EQ(eval_error("item[0] + item[1]", Value::list({a, b})), StatusCode::kValueError) << "shapes differ";
  EXPECT_EQ(eval_error("7 // item", b), StatusCode::kZeroDivision) << "a zero divisor anywhere";
  EXPECT_EQ(eval_error("item[0] * item[1]", Value::list({array_of<int64_t>({1, kMax}), array_of<int64_t>({2, 2})})),
            StatusCode::kOverflow);
  EXPECT_TRUE(same(val("item[0] * item[1]", Value::list({array_of<int32_t>({3, 1}), array_of<float>({0.5f, 2})})),
                   array_of<double>({1.5, 2.0})));
  const Value m = Value::array(int64s({1, 2, 3, 4, 5, 6}, {2, 3}));
  Result<Value> row = eval("item[-1]", m);
  ASSERT_TRUE(row.ok());
  EXPECT_TRUE(same(*row, array_of<int64_t>({4, 5, 6})));
  EXPECT_EQ(val("item[1][2]", m).as_array().data_as<int64_t>()[0], 6);
  EXPECT_EQ(val("len(item)", m).as_int(), 2);
}

// ------------------------------------------------------------- typed paths == the evaluator

using test_support::Outcome;
using test_support::reference;

// Every batch and column form over `items` against item-at-a-time evaluation.
void expect_batches_agree(const Expression& e, const std::vector<Value>& items) {
  SCOPED_TRACE(e.text());
  std::vector<Outcome> ref;
  for (const Value& v : items) ref.push_back(reference(e, v));
  size_t first_error = items.size(), first_truth_error = items.size();
  for (size_t i = 0; i < items.size(); ++i) {
    if (!ref[i].status.ok() && first_error == items.size()) first_error = i;
    if (!ref[i].truth_status.ok() && first_truth_error == items.size()) first_truth_error = i;
  }
  // evaluate_batch
  std::vector<Value> mapped = items;
  size_t failed_at = 12345;
  Status s = e.evaluate_batch(mapped, &failed_at);
  if (first_error == items.size()) {
    ASSERT_TRUE(s.ok()) << s.to_string();
  } else {
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(failed_at, first_error);
    EXPECT_EQ(s.code(), ref[first_error].status.code());
  }
  ASSERT_EQ(mapped.size(), first_error);
  for (size_t i = 0; i < mapped.size(); ++i) {
    ASSERT_TRUE(same(mapped[i], ref[i].value)) << "item " << i << " " << show(items[i]) << ": batch "
                                               << show(mapped[i]) << ", item at a time " << show(ref[i].value);
  }
  // truth_batch and filter_batch
  std::vector<uint8_t> truth;
  s = e.truth_batch(items, &truth, &failed_at);
  EXPECT_EQ(s.ok(), first_truth_error == items.size());
  if (!s.ok()) {
    EXPECT_EQ(failed_at, first_truth_error);
  }
  ASSERT_EQ(truth.size(), first_truth_error);
  std::vector<Value> kept_ref;
  for (size_t i = 0; i < first_truth_error; ++i) {
    ASSERT_EQ(truth[i] != 0, ref[i].truth) << "item " << i << " " << show(items[i]);
    if (ref[i].truth) kept_ref.push_back(items[i]);
  }
  std::vector<Value> kept = items;
  s = e.filter_batch(kept, &failed_at);
  EXPECT_EQ(s.ok(), first_truth_error == items.size());
  ASSERT_EQ(kept.size(), kept_ref.size());
  for (size_t i = 0; i < kept.size(); ++i) ASSERT_TRUE(same(kept[i], kept_ref[i]));
}

// Columns: the same items as numpy scalars of one dtype.
void expect_columns_agree(const Expression& e, const NDArray& column) {
  SCOPED_TRACE(e.text() + " on a column of " + dtype_name(column.dtype()));
  std::vector<Value> boxed;
  for (int64_t i = 0; i < column.size(); ++i) boxed.push_back(Value::array(column.element(i)));
  std::vector<Outcome> ref;
  for (const Value& v : boxed) ref.push_back(reference(e, v));
  size_t first_truth_error = boxed.size(), first_error = boxed.size();
  for (size_t i = boxed.size(); i-- > 0;) {
    if (!ref[i].truth_status.ok()) first_truth_error = i;
    if (!ref[i].status.ok()) first_error = i;
  }
  Ref<NDArray> out;
  size_t failed_at = 12345;
  Status s = e.filter_column(column, &out, &failed_at);
  if (!e.has_typed_column_program(column.dtype())) {
    EXPECT_EQ(s.code(), StatusCode::kNotImplemented);
    return;
  }
  EXPECT_EQ(s.ok(), first_truth_error == boxed.size()) << s.to_string();
  if (!s.ok()) {
    EXPECT_EQ(failed_at, first_truth_error);
  }
  std::vector<int64_t> kept;
  for (size_t i = 0; i < first_truth_error; ++i) {
    if (ref[i].truth) kept.push_back(column.data_as<int64_t>()[i]);
  }
  ASSERT_EQ(out->size(), static_cast<int64_t>(kept.size()));
  if (!kept.empty()) {  // memcmp with an empty vector's null data is UB
    EXPECT_EQ(std::memcmp(out->data(), kept.data(), kept.size() * 8), 0);
  }
  std::vector<uint8_t> truth;
  s = e.truth_column(column, &truth, &failed_at);
  ASSERT_EQ(truth.size(), first_truth_error);
  for (size_t i = 0; i < truth.size(); ++i) ASSERT_EQ(truth[i] != 0, ref[i].truth) << i;
  s = e.evaluate_column(column, &out, &failed_at);
  if (s.code() == StatusCode::kNotImplemented) {
    // Only when the values are not numpy scalars of one dtype.
    for (size_t i = 0; i < first_error; ++i) {
      if (ref[i].value.is_array() && ref[i].value.as_array().numpy_scalar()) {
        const DType d = ref[i].value.as_array().dtype();
        EXPECT_FALSE(d == DType::kInt64 || d == DType::kFloat64) << "a column result was possible";
        break;
      }
    }
    return;
  }
  EXPECT_EQ(s.ok(), first_error == boxed.size());
  if (!s.ok()) {
    EXPECT_EQ(failed_at, first_error);
  }
  ASSERT_EQ(out->size(), static_cast<int64_t>(first_error));
  for (size_t i = 0; i < first_error; ++i) {
    ASSERT_TRUE(ref[i].value.is_array());
    ASSERT_EQ(ref[i].value.as_array().dtype(), out->dtype());
    ASSERT_EQ(std::memcmp(ref[i].value.as_array().data(), out->data_as<int64_t>() + i, 8), 0) << i;
  }
}

const char* const kTypedExpressions[] = {
    "item > 3", "item * 2 + 1", "item % 3 == 0 and item > 10", "item // 7", "item % -7", "item % 1",
    "item // 1000003", "item % 4294967311", "item // 4611686018427387904", "item % 9223372036854775807",
    "-item", "+item", "not item", "item and 5", "item or 7", "item - 1 and item + 1", "item ** 2", "item ** 3",
    "2 ** item", "item ** 0.5", "item ** -1", "item / 3", "3 / item", "item / 0.5", "item // 2.5", "item % 2.5",
    "1 < item <= 1000", "item == 3.0", "item != 2", "item >= 9007199254740993", "item < 0.5", "abs(item)",
    "round(item)", "int(item)", "float(item)", "min(item, 5)", "max(item, item * -1)", "min(item, 2, -3)",
    "is_int(item)", "is_float(item)", "is_number(item) and is_bool(item)", "is_int(1 // item)", "item * item",
    "item * 3037000500", "item + 9223372036854775000", "item - -9223372036854775000", "(item + 1) * (item - 1)",
    "not (item > 2 or item < -2)", "item * 1.5 > item", "round(item / 3)", "int(item * 1e10)",
    "item % 3 == 0 or 1 / item > 0", "item > 0 and 100 // item > 3", "True + item", "item * True",
    "item // 0", "item % 0.0", "item % 3", "item % 0.1", "item // 0.1", "item % -7.5", "item // -3",
    "item % 1e-300", "item % 1e300", "item // 3 == 2", "item % 3.0 == 0 and item > 10",
    "3.5 % item", "-2 // item", "item % (item - 1)", "item < 9007199254740993", "9007199254740993 >= item",
};

std::vector<Value> numeric_items(ValueKind kind, std::mt19937_64& rng, size_t n) {
  const int64_t edges[] = {0, 1, -1, 2, 3, -3, 7, 10, 11, 12, kMax, kMin, kMax - 1, kMin + 1,
                           int64_t{1} << 53, (int64_t{1} << 53) + 1, 3037000499, 3037000500, -3037000500,
                           4294967311, 1000003, -1000003};
  const double fedges[] = {0.0, -0.0, 0.5, -0.5, 1.5, 2.5, -2.5, 1e300, -1e300, 1e-310, kInf, -kInf, kNaN,
                           9.2233720368547758e18, -9.2233720368547758e18, 4.5e15, 3.0, 7.0};
  std::vector<Value> items;
  std::uniform_int_distribution<int> pick(0, 9);
  for (size_t i = 0; i < n; ++i) {
    const int p = pick(rng);
    switch (kind) {
      case ValueKind::kInt:
        items.push_back(Value::integer(p == 0 ? edges[rng() % std::size(edges)]
                                              : p < 5 ? static_cast<int64_t>(rng() % 200) - 100
                                                      : static_cast<int64_t>(rng())));
        break;
      case ValueKind::kFloat: {
        double d;
        if (p == 0) d = fedges[rng() % std::size(fedges)];
        else if (p < 5) d = static_cast<double>(static_cast<int64_t>(rng() % 200) - 100) / 4.0;
        else d = std::ldexp(static_cast<double>(static_cast<int64_t>(rng() >> 11)) - 4.5e15, static_cast<int>(rng() % 40) - 30);
        items.push_back(Value::real(d));
        break;
      }
      default: items.push_back(Value::boolean(p & 1)); break;
    }
  }
  return items;
}

TEST(ExpressionTyped, TheCommonExpressionsHaveTypedPrograms) {
  for (const char* text : {"item > 3", "item * 2 + 1", "item % 3 == 0 and item > 10"}) {
    Expression e = parse(text);
    EXPECT_TRUE(e.has_typed_program(ValueKind::kInt)) << text;
    EXPECT_TRUE(e.has_typed_program(ValueKind::kFloat)) << text;
    EXPECT_TRUE(e.has_typed_column_program(DType::kInt64)) << text;
    EXPECT_TRUE(e.has_typed_column_program(DType::kFloat64)) << text;
    EXPECT_FALSE(e.has_typed_column_program(DType::kInt32)) << text;
  }
  EXPECT_FALSE(parse("item in [1, 2]").has_typed_program(ValueKind::kInt));
  EXPECT_FALSE(parse("item > 0 and item").has_typed_program(ValueKind::kInt)) << "bool or int: no one type";
  EXPECT_FALSE(parse("len(item)").has_typed_program(ValueKind::kInt));
}

TEST(ExpressionTyped, BatchesOfNumbersAgreeWithItemAtATime) {
  std::mt19937_64 rng(7);
  for (const char* text : kTypedExpressions) {
    Result<Expression> e = Expression::parse(text);
    ASSERT_TRUE(e.ok()) << text;
    for (ValueKind kind : {ValueKind::kInt, ValueKind::kFloat, ValueKind::kBool}) {
      // Several chunks, so chunk boundaries are crossed.
      expect_batches_agree(*e, numeric_items(kind, rng, 700));
    }
    // Mixed kinds: runs of each kind, and items no typed program takes.
    std::vector<Value> mixed;
    for (int i = 0; i < 300; ++i) {
      const int k = static_cast<int>(rng() % 11);
      if (k < 4) mixed.push_back(Value::integer(static_cast<int64_t>(rng() % 50) - 25));
      else if (k < 8) mixed.push_back(Value::real(static_cast<double>(rng() % 50) / 4.0 - 6));
      else if (k < 9) mixed.push_back(Value::boolean(rng() & 1));
      else if (k < 10) mixed.push_back(scalar<int64_t>(static_cast<int64_t>(rng() % 50) - 25));
      else mixed.push_back(Value::string("s"));
    }
    expect_batches_agree(*e, mixed);
  }
}

TEST(ExpressionTyped, ColumnsAgreeWithBoxedNumpyScalars) {
  std::mt19937_64 rng(11);
  for (const char* text : kTypedExpressions) {
    Result<Expression> e = Expression::parse(text);
    ASSERT_TRUE(e.ok()) << text;
    std::vector<Value> ints = numeric_items(ValueKind::kInt, rng, 600);
    std::vector<int64_t> iv;
    for (const Value& v : ints) iv.push_back(v.as_int());
    expect_columns_agree(*e, array_of<int64_t>(iv).as_array());
    std::vector<Value> floats = numeric_items(ValueKind::kFloat, rng, 600);
    std::vector<double> fv;
    for (const Value& v : floats) fv.push_back(v.as_float());
    expect_columns_agree(*e, array_of<double>(fv).as_array());
    // Boxed numpy scalars through the Value batch path too.
    std::vector<Value> boxed;
    for (int64_t x : iv) boxed.push_back(scalar<int64_t>(x));
    expect_batches_agree(*e, boxed);
  }
}

TEST(ExpressionTyped, DivisionByAConstantIsExactForEveryDivisor) {
  std::mt19937_64 rng(3);
  std::vector<int64_t> divisors = {2, 3, 5, 6, 7, 9, 10, 641, 1000, 65537, 2147483647, 4294967295,
                                   4294967296, 4294967297, 1000000007, kMax, kMax - 1, int64_t{1} << 62};
  for (int i = 0; i < 40; ++i) divisors.push_back(static_cast<int64_t>(rng() >> (1 + rng() % 62)) | 2);
  std::vector<Value> items;
  for (int64_t x : {kMin, kMin + 1, int64_t{-1}, int64_t{0}, int64_t{1}, kMax, kMax - 1}) items.push_back(Value::integer(x));
  for (int i = 0; i < 500; ++i) items.push_back(Value::integer(static_cast<int64_t>(rng())));
  for (int64_t d : divisors) {
    for (int64_t k : {int64_t{-2}, int64_t{-1}, int64_t{1}, int64_t{2}}) {  // around multiples of d
      items.push_back(Value::integer(static_cast<int64_t>(static_cast<uint64_t>(d) * static_cast<uint64_t>(k) + 1)));
      items.push_back(Value::integer(static_cast<int64_t>(static_cast<uint64_t>(d) * static_cast<uint64_t>(k))));
    }
  }
  for (int64_t d : divisors) {
    for (const char* op : {" // ", " % "}) {
      Expression e = parse("item" + std::string(op) + std::to_string(d));
      std::vector<Value> out = items;
      size_t failed_at = 0;
      ASSERT_TRUE(e.evaluate_batch(out, &failed_at).ok());
      for (size_t i = 0; i < items.size(); ++i) {
        const int64_t x = items[i].as_int();
        int64_t q = x / d, r = x % d;
        if (r < 0) {
          r += d;
          --q;
        }
        ASSERT_EQ(out[i].as_int(), std::string(op) == " // " ? q : r) << x << op << d;
      }
    }
  }
}

// The typed float % and // compute fmod without the C library's loop (an exact two-product); the
// evaluator uses fmod itself. Divisors and items across the whole range, signs and magnitudes.
TEST(ExpressionTyped, FloatModuloAndFloorDivisionMatchFmod) {
  std::mt19937_64 rng(5);
  auto random_double = [&](int lo_exp, int hi_exp) {
    const double mantissa = 1.0 + static_cast<double>(rng() >> 12) * 0x1p-52;
    const int e = lo_exp + static_cast<int>(rng() % static_cast<uint64_t>(hi_exp - lo_exp + 1));
    return (rng() & 1 ? -1.0 : 1.0) * std::ldexp(mantissa, e);
  };
  std::vector<Value> items;
  for (int i = 0; i < 3000; ++i) items.push_back(Value::real(random_double(-60, 80)));
  for (int i = 0; i < 300; ++i) items.push_back(Value::real(random_double(-1074, 1023)));
  for (double x : {0.0, -0.0, 1.0, -1.0, 3.0, 6.0, -6.0, 0.1, 1e-320, 4503599627370495.5, 9007199254740993.0}) {
    items.push_back(Value::real(x));
  }
  std::vector<double> divisors = {3.0, -3.0, 0.1, -0.1, 0.7, 1.0, 2.0, 1e-300, 1e300, 0x1p-500, 0x1p500, 5e-324};
  for (int i = 0; i < 40; ++i) divisors.push_back(random_double(-40, 40));
  char text[64];
  for (double d : divisors) {
    for (const char* op : {"%", "//"}) {
      std::snprintf(text, sizeof text, "item %s %.17g", op, d);
      std::string expr = text;
      if (d < 0) {
        std::snprintf(text, sizeof text, "item %s (%.17g)", op, d);
        expr = text;
      }
      Expression e = parse(expr);
      ASSERT_TRUE(e.has_typed_program(ValueKind::kFloat)) << expr;
      expect_batches_agree(e, items);
    }
  }
}

TEST(ExpressionBatch, FailureKeepsTheOutputsBeforeTheFailingItem) {
  Expression e = parse("10 // item > 2");
  std::vector<Value> items = {Value::integer(1), Value::integer(5), Value::integer(2), Value::integer(0),
                              Value::integer(1)};
  std::vector<Value> kept = items;
  size_t failed_at = 99;
  Status s = e.filter_batch(kept, &failed_at);
  EXPECT_EQ(s.code(), StatusCode::kZeroDivision);
  EXPECT_EQ(failed_at, 3u);
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[0].as_int(), 1);
  EXPECT_EQ(kept[1].as_int(), 2);

  Ref<NDArray> out;
  s = e.filter_column(array_of<int64_t>({1, 5, 2, 0, 1}).as_array(), &out, &failed_at);
  EXPECT_EQ(s.code(), StatusCode::kZeroDivision);
  EXPECT_EQ(failed_at, 3u);
  ASSERT_EQ(out->size(), 2);
  EXPECT_EQ(out->data_as<int64_t>()[1], 2);

  Expression m = parse("100 // item");
  s = m.evaluate_column(array_of<int64_t>({1, 5, 0, 3}).as_array(), &out, &failed_at);
  EXPECT_EQ(s.code(), StatusCode::kZeroDivision);
  EXPECT_EQ(failed_at, 2u);
  ASSERT_EQ(out->size(), 2);
  EXPECT_EQ(out->data_as<int64_t>()[1], 20);
}

TEST(ExpressionBatch, AnIntPowerOfNegativeExponentIsAFloatOnTheTypedPathToo) {
  // `2 ** -1` is a float in Python; the typed program once typed it int and failed on the column.
  Ref<NDArray> out;
  size_t failed_at = 0;
  ASSERT_TRUE(parse("item + 2 ** -1").evaluate_column(array_of<int64_t>({0, 3}).as_array(), &out, &failed_at).ok());
  EXPECT_EQ(out->dtype(), DType::kFloat64);
  EXPECT_EQ(out->data_as<double>()[1], 3.5);
  Status s = parse("item + item ** -1").evaluate_column(array_of<int64_t>({1, 2}).as_array(), &out, &failed_at);
  EXPECT_EQ(s.code(), StatusCode::kValueError) << "numpy: integers to negative integer powers";
  std::vector<Value> items = {Value::integer(2), Value::integer(4)};
  ASSERT_TRUE(parse("2 ** item - item ** -1").evaluate_batch(items, &failed_at).ok());
  EXPECT_TRUE(same(items[0], Value::real(3.5)));
  EXPECT_TRUE(same(items[1], Value::real(15.75)));
}

TEST(ExpressionBatch, FilterDropsNoneItems) {
  std::vector<Value> items = {Value(), Value::integer(1), Value(), Value::integer(0)};
  size_t failed_at = 0;
  ASSERT_TRUE(parse("True").filter_batch(items, &failed_at).ok());
  ASSERT_EQ(items.size(), 2u) << "None is never a node's output";
  EXPECT_EQ(items[0].as_int(), 1);
  EXPECT_EQ(items[1].as_int(), 0);
}

TEST(ExpressionBatch, ColumnFormsDeclineWhatTheyCannotTake) {
  Ref<NDArray> out;
  size_t failed_at = 0;
  const Value ints = array_of<int64_t>({1, 2, 3});
  EXPECT_EQ(parse("item > 2").evaluate_column(ints.as_array(), &out, &failed_at).code(),
            StatusCode::kNotImplemented)
      << "the values are Python bools, not a column";
  EXPECT_EQ(parse("abs(item)").evaluate_column(ints.as_array(), &out, &failed_at).code(),
            StatusCode::kNotImplemented);
  EXPECT_EQ(parse("item > 2").filter_column(array_of<int32_t>({1, 2, 3}).as_array(), &out, &failed_at).code(),
            StatusCode::kNotImplemented);
  EXPECT_EQ(parse("item in [1]").filter_column(ints.as_array(), &out, &failed_at).code(),
            StatusCode::kNotImplemented);
  ASSERT_TRUE(parse("item * 2.5").evaluate_column(ints.as_array(), &out, &failed_at).ok());
  EXPECT_EQ(out->dtype(), DType::kFloat64);
  EXPECT_EQ(out->data_as<double>()[2], 7.5);
}

}  // namespace
}  // namespace remotemedia

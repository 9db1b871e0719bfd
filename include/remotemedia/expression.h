// Expression: the small, safe language of FilterNode conditions, MapNode transforms and RouterNode
// routes (docs/EXPRESSIONS.md). The Python executor's remotemedia.core.expression implements the
// same page; tests/data/expressions.json holds both to it.
//
// Parse once (when the node is made), evaluate per item. An Expression is immutable: copies share
// one compiled program, and every evaluation method is const and may run on several threads at
// once. Evaluation allocates nothing for int, float and bool items unless the expression builds a
// string or a list; the batch and column methods run a typed, vectorised form of the program over
// chunks of int64 / float64 / bool items and fall back to the item-at-a-time evaluator (the
// reference) for the items it cannot take (other kinds, or an error to report).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "remotemedia/ndarray.h"
#include "remotemedia/status.h"
#include "remotemedia/value.h"

namespace remotemedia {

namespace expression_internal {
struct Program;
}

class Expression {
 public:
  // Expressions nest at most this deep (parentheses, brackets, calls, indexes, unary operators
  // and exponents each open a level); deeper is a syntax error.
  static constexpr int kNestingLimit = 32;
  // An expression has at most this many tokens; more is a syntax error. Real conditions have tens;
  // the bound keeps the typed program's registers (16-bit indices, one 2 KiB row each) small.
  static constexpr int kTokenLimit = 4096;

  // A syntax error is kInvalidParameter, with no path (the node adds the parameter's path) and a
  // message "syntax error at column N: ..." (N 1-based, counted in Unicode code points).
  static Result<Expression> parse(std::string_view text);

  // An empty expression: evaluating it is an internal error. For members assigned later.
  Expression() = default;

  const std::string& text() const;

  // The value of the expression for `item`. Errors are kTypeError, kValueError, kZeroDivision or
  // kOverflow (the node adds its id and the item index).
  Status evaluate(const Value& item, Value* out) const;
  // The truth of that value (Python's truthiness; arrays have none: kTypeError).
  Status evaluate_truth(const Value& item, bool* out) const;

  // Batch forms, each the item-at-a-time result for every item in order. On failure they return
  // the first item's error with *failed_at set to its index, and the output holds what the items
  // before it produced.
  //
  // Map: replaces every item by its value (on failure, `items` is cut to the first *failed_at).
  Status evaluate_batch(std::vector<Value>& items, size_t* failed_at) const;
  // Filter: removes the items whose value is false, and None items (None is never a node's
  // output), keeping order (on failure, `items` keeps the kept ones of the first *failed_at).
  Status filter_batch(std::vector<Value>& items, size_t* failed_at) const;
  // Router: truth[i] = 1 when item i's value is true, else 0 (on failure, truth has *failed_at
  // entries).
  Status truth_batch(const std::vector<Value>& items, std::vector<uint8_t>* truth,
                     size_t* failed_at) const;

  // Column forms: `column` is a 1-D array whose elements are the items (numpy scalars). They
  // return kNotImplemented, having done nothing, when the typed program cannot take the column (a
  // dtype other than int64 / float64, or an expression outside the typed subset); the caller then
  // boxes the elements and uses a batch form.
  //
  // Map: *out is the column of the values (only when they are numpy scalars of one dtype: e.g.
  // `item * 2` on int64; `item > 2` gives Python bools, so kNotImplemented). On failure *out
  // holds the values of the elements before *failed_at.
  Status evaluate_column(const NDArray& column, Ref<NDArray>* out, size_t* failed_at) const;
  // Filter: *out is the column of the elements whose value is true (on failure, of those before
  // *failed_at).
  Status filter_column(const NDArray& column, Ref<NDArray>* out, size_t* failed_at) const;
  // Router: as truth_batch.
  Status truth_column(const NDArray& column, std::vector<uint8_t>* truth, size_t* failed_at) const;

  // True when batches of `kind` items (and columns of `dtype`) take the typed program; for tests
  // and benchmarks.
  bool has_typed_program(ValueKind kind) const;
  bool has_typed_column_program(DType dtype) const;

 private:
  explicit Expression(std::shared_ptr<const expression_internal::Program> program)
      : program_(std::move(program)) {}
  std::shared_ptr<const expression_internal::Program> program_;
};

}  // namespace remotemedia

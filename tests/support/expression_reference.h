// The item-at-a-time reference outcome of an expression, which every typed batch and column path
// must reproduce exactly (shared by tests/cpp/expression_test.cpp and fuzz/expression_fuzzer.cpp).
#pragma once

#include "remotemedia/expression.h"
#include "remotemedia/status.h"
#include "remotemedia/value.h"

namespace remotemedia::test_support {

// One item's outcome: a value or an error, and a truth value or an error.
struct Outcome {
  Status status;
  Value value;
  bool truth = false;
  Status truth_status;
};

inline Outcome reference(const Expression& e, const Value& item) {
  Outcome o;
  o.status = e.evaluate(item, &o.value);
  o.truth_status = e.evaluate_truth(item, &o.truth);
  return o;
}

}  // namespace remotemedia::test_support

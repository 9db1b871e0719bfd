// Expressions (src/core/expression.cpp). The input is an expression's text, a NUL byte, then items
// in the encoding of fuzz_input.h (0xFF n: the previous item n more times, so batches cross the
// typed path's 256-item chunks). A text either parses or is a syntax error. A parsed expression is
// evaluated on every item one at a time (the reference), and the ORACLE holds every batch and
// column form to it: evaluate_batch, truth_batch and filter_batch on the items, and
// evaluate_column, filter_column and truth_column on int64 and float64 columns of their numbers,
// must give the same values, the same first error (index, class and message) and keep the outputs
// before it. A difference is a __builtin_trap().
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "expression_reference.h"
#include "fuzz_input.h"
#include "remotemedia/expression.h"

using namespace remotemedia;

namespace {

constexpr size_t kMaxItems = 1024;  // four of the typed path's 256-item chunks

using test_support::Outcome;
using test_support::reference;

bool same_error(const Status& a, const Status& b) { return a.code() == b.code() && a.message() == b.message(); }

// The index of the first failed outcome (`truth`: of the truth), or n.
template <typename F>
size_t first_failure(const std::vector<Outcome>& ref, F&& status_of) {
  for (size_t i = 0; i < ref.size(); ++i) {
    if (!status_of(ref[i]).ok()) return i;
  }
  return ref.size();
}

// A batch form's status against the reference's first failure.
void expect_status(const Status& s, size_t failed_at, size_t first, const std::vector<Outcome>& ref, bool truth) {
  if (first == ref.size()) {
    if (!s.ok()) __builtin_trap();
    return;
  }
  if (s.ok() || failed_at != first) __builtin_trap();
  if (!same_error(s, truth ? ref[first].truth_status : ref[first].status)) __builtin_trap();
}

void check_batches(const Expression& e, const std::vector<Value>& items) {
  std::vector<Outcome> ref;
  ref.reserve(items.size());
  for (const Value& v : items) ref.push_back(reference(e, v));
  const size_t first_error = first_failure(ref, [](const Outcome& o) -> const Status& { return o.status; });
  const size_t first_truth_error = first_failure(ref, [](const Outcome& o) -> const Status& { return o.truth_status; });

  std::vector<Value> mapped = items;
  size_t failed_at = SIZE_MAX;
  Status s = e.evaluate_batch(mapped, &failed_at);
  expect_status(s, failed_at, first_error, ref, false);
  if (mapped.size() != first_error) __builtin_trap();
  for (size_t i = 0; i < mapped.size(); ++i) {
    if (!fuzz::same(mapped[i], ref[i].value)) __builtin_trap();
  }

  std::vector<uint8_t> truth;
  failed_at = SIZE_MAX;
  s = e.truth_batch(items, &truth, &failed_at);
  expect_status(s, failed_at, first_truth_error, ref, true);
  if (truth.size() != first_truth_error) __builtin_trap();
  for (size_t i = 0; i < truth.size(); ++i) {
    if ((truth[i] != 0) != ref[i].truth) __builtin_trap();
  }

  std::vector<Value> kept = items;
  failed_at = SIZE_MAX;
  s = e.filter_batch(kept, &failed_at);
  expect_status(s, failed_at, first_truth_error, ref, true);
  size_t k = 0;
  for (size_t i = 0; i < first_truth_error; ++i) {
    if (!ref[i].truth || items[i].is_null()) continue;  // None is never kept (expression.h)
    if (k >= kept.size() || !fuzz::same(kept[k], items[i])) __builtin_trap();
    ++k;
  }
  if (k != kept.size()) __builtin_trap();
}

bool same_bits(DType dtype, const void* a, const void* b) {
  if (dtype == DType::kFloat64) {
    double x, y;
    std::memcpy(&x, a, 8);
    std::memcpy(&y, b, 8);
    if (std::isnan(x) || std::isnan(y)) return std::isnan(x) && std::isnan(y);
  }
  return std::memcmp(a, b, 8) == 0;
}

// The column forms on `column` (int64 or float64) against its elements boxed as numpy scalars.
void check_column(const Expression& e, const Ref<NDArray>& column) {
  std::vector<Value> boxed;
  for (int64_t i = 0; i < column->size(); ++i) boxed.push_back(Value::array(column->element(i)));
  std::vector<Outcome> ref;
  for (const Value& v : boxed) ref.push_back(reference(e, v));
  const size_t n = boxed.size();
  const size_t first_error = first_failure(ref, [](const Outcome& o) -> const Status& { return o.status; });
  const size_t first_truth_error = first_failure(ref, [](const Outcome& o) -> const Status& { return o.truth_status; });
  const bool typed = e.has_typed_column_program(column->dtype());

  Ref<NDArray> out;
  size_t failed_at = SIZE_MAX;
  Status s = e.filter_column(*column, &out, &failed_at);
  if (!typed) {
    if (s.code() != StatusCode::kNotImplemented) __builtin_trap();
  } else {
    expect_status(s, failed_at, first_truth_error, ref, true);
    std::vector<int64_t> kept;
    for (size_t i = 0; i < first_truth_error; ++i) {
      if (ref[i].truth) kept.push_back(column->data_as<int64_t>()[i]);
    }
    if (!out || out->dtype() != column->dtype() || out->size() != static_cast<int64_t>(kept.size())) __builtin_trap();
    if (!kept.empty() && std::memcmp(out->data(), kept.data(), kept.size() * 8) != 0) __builtin_trap();
  }

  std::vector<uint8_t> truth;
  failed_at = SIZE_MAX;
  s = e.truth_column(*column, &truth, &failed_at);
  if (!typed) {
    if (s.code() != StatusCode::kNotImplemented) __builtin_trap();
  } else {
    expect_status(s, failed_at, first_truth_error, ref, true);
    if (truth.size() != first_truth_error) __builtin_trap();
    for (size_t i = 0; i < truth.size(); ++i) {
      if ((truth[i] != 0) != ref[i].truth) __builtin_trap();
    }
  }

  out = Ref<NDArray>();
  failed_at = SIZE_MAX;
  s = e.evaluate_column(*column, &out, &failed_at);
  if (s.code() == StatusCode::kNotImplemented) {
    // Declining is right only when the values are not all numpy scalars of one column dtype (the
    // typed program's result type is that of every value it computes).
    bool column_result = typed && n > 0 && first_error == n;
    for (size_t i = 0; i < n && column_result; ++i) {
      const Value& v = ref[i].value;
      column_result = v.is_array() && v.as_array().numpy_scalar() && v.as_array().ndim() == 0 &&
                      (v.as_array().dtype() == DType::kInt64 || v.as_array().dtype() == DType::kFloat64) &&
                      v.as_array().dtype() == ref[0].value.as_array().dtype();
    }
    if (column_result) __builtin_trap();
    return;
  }
  if (!typed) __builtin_trap();  // a column result needs the typed program
  expect_status(s, failed_at, first_error, ref, false);
  if (!out || out->size() != static_cast<int64_t>(first_error)) __builtin_trap();
  for (size_t i = 0; i < first_error; ++i) {
    const Value& v = ref[i].value;
    if (!v.is_array() || v.as_array().ndim() != 0 || v.as_array().dtype() != out->dtype()) __builtin_trap();
    if (!same_bits(out->dtype(), v.as_array().data(), out->data_as<int64_t>() + i)) __builtin_trap();
  }
}

std::vector<Value> decode_items(fuzz::ByteReader& in) {
  std::vector<Value> items;
  while (!in.empty() && items.size() < kMaxItems) {
    if (in.peek() == 0xFF) {
      in.u8();
      const size_t n = in.u8();
      if (items.empty()) continue;
      const Value last = items.back();
      for (size_t i = 0; i < n && items.size() < kMaxItems; ++i) items.push_back(last);
      continue;
    }
    items.push_back(fuzz::decode_value(in));
  }
  if (items.empty()) {
    const double inf = INFINITY;
    for (int64_t i : {int64_t{0}, int64_t{1}, int64_t{-1}, int64_t{2}, int64_t{3}, int64_t{7}, INT64_MAX, INT64_MIN}) {
      items.push_back(Value::integer(i));
    }
    for (double d : {0.5, -0.0, 2.5, -inf, inf, std::nan(""), 1e300}) items.push_back(Value::real(d));
    items.push_back(Value::boolean(true));
    items.push_back(Value::boolean(false));
  }
  return items;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t nul = input.find('\0');
  const std::string_view text = input.substr(0, nul);
  Result<Expression> e = Expression::parse(text);
  if (!e.ok()) {
    const Status& s = e.status();
    if (s.code() != StatusCode::kInvalidParameter || !s.path().empty() ||
        s.message().rfind("syntax error at column ", 0) != 0) {
      __builtin_trap();
    }
    return 0;
  }
  if (e->text() != text) __builtin_trap();
  fuzz::ByteReader in(nul == std::string_view::npos ? std::string_view() : input.substr(nul + 1));
  const std::vector<Value> items = decode_items(in);
  check_batches(*e, items);

  // The items' numbers as columns: ints (and numpy int64 scalars) and floats (and float64 ones).
  std::vector<int64_t> ints;
  std::vector<double> floats;
  for (const Value& v : items) {
    if (v.is_int()) ints.push_back(v.as_int());
    else if (v.is_float()) floats.push_back(v.as_float());
    else if (v.is_array() && v.as_array().ndim() == 0 && v.as_array().dtype() == DType::kInt64) {
      ints.push_back(v.as_array().data_as<int64_t>()[0]);
    } else if (v.is_array() && v.as_array().ndim() == 0 && v.as_array().dtype() == DType::kFloat64) {
      floats.push_back(v.as_array().data_as<double>()[0]);
    }
  }
  if (!ints.empty()) {
    Ref<NDArray> c = NDArray::allocate(DType::kInt64, {static_cast<int64_t>(ints.size())});
    std::memcpy(c->mutable_data(), ints.data(), ints.size() * 8);
    check_column(*e, c);
  }
  if (!floats.empty()) {
    Ref<NDArray> c = NDArray::allocate(DType::kFloat64, {static_cast<int64_t>(floats.size())});
    std::memcpy(c->mutable_data(), floats.data(), floats.size() * 8);
    check_column(*e, c);
  }
  return 0;
}

// The basic node family: PassThroughNode and CalculatorNode.
#include <memory>
#include <string>

#include "arithmetic.h"
#include "remotemedia/node.h"
#include "remotemedia/registry.h"

namespace remotemedia {

namespace {

// Emits every item unchanged, except None: returning None means "emit nothing" (docs/SEMANTICS.md),
// so the Python PassThrough drops a None item, and so does this one.
class PassThroughNode final : public Node {
 public:
  Status process(Value item, Emitter& out) override {
    if (!item.is_null()) out.emit(std::move(item));
    return Status::OK();
  }
  Status process_batch(std::vector<Value>& items, std::vector<Value>& out, size_t*) override {
    std::erase_if(items, [](const Value& v) { return v.is_null(); });
    if (out.empty()) out.swap(items);  // hand the whole vector on
    else for (Value& v : items) out.push_back(std::move(v));
    return Status::OK();
  }
  Status process_column(const Ref<NDArray>& column, Ref<NDArray>* out, size_t*) override {
    *out = column;
    return Status::OK();
  }
};

class CalculatorNode final : public Node {
 public:
  CalculatorNode(arith::Op op, arith::Scalar operand) : op_(op), operand_(operand) {}

  Status process(Value item, Emitter& out) override {
    Value result;
    RM_RETURN_IF_ERROR(compute(item, &result));
    out.emit(std::move(result));
    return Status::OK();
  }

  // Rewrites the vector in place (one output per input) and hands it on. Plain ints and floats,
  // the common case, take the inline path (try_inline, specialised per operation so the loop has
  // no dispatch); everything else, and every error, goes through compute().
  Status process_batch(std::vector<Value>& items, std::vector<Value>& out, size_t* failed_at) override {
    switch (op_) {
      case arith::Op::kAdd: return batch<arith::Op::kAdd>(items, out, failed_at);
      case arith::Op::kSubtract: return batch<arith::Op::kSubtract>(items, out, failed_at);
      case arith::Op::kMultiply: return batch<arith::Op::kMultiply>(items, out, failed_at);
      case arith::Op::kDivide: return batch<arith::Op::kDivide>(items, out, failed_at);
      case arith::Op::kModulo: return batch<arith::Op::kModulo>(items, out, failed_at);
      case arith::Op::kPower: return batch<arith::Op::kPower>(items, out, failed_at);
      case arith::Op::kFloorDivide: break;  // not a Calculator operation
    }
    return InternalError("unknown operation");
  }

  template <arith::Op kOp>
  Status batch(std::vector<Value>& items, std::vector<Value>& out, size_t* failed_at) {
    const size_t n = items.size();
    for (size_t i = 0; i < n; ++i) {
      Value& v = items[i];
      if (try_inline<kOp>(v)) continue;
      Value r;
      Status s = compute(v, &r);
      if (!s.ok()) {
        *failed_at = i;
        items.resize(i);
        append(items, out);
        return s;
      }
      v = std::move(r);
    }
    append(items, out);
    return Status::OK();
  }

  Status process_column(const Ref<NDArray>& column, Ref<NDArray>* out, size_t* failed_at) override {
    if (column->size() == 0) {
      *out = column;
      return Status::OK();
    }
    if (!arith::supports_dtype(column->dtype())) return Status(StatusCode::kNotImplemented, "");
    int64_t failed = 0;
    Status s = arith::numpy_binary(op_, *column, operand_, out, &failed);
    if (!s.ok()) {
      *failed_at = static_cast<size_t>(failed);
      if (!*out) *out = NDArray::allocate(column->dtype(), {0});
    }
    return s;
  }

 private:
  static void append(std::vector<Value>& items, std::vector<Value>& out) {
    if (out.empty()) out.swap(items);
    else for (Value& v : items) out.push_back(std::move(v));
  }

  // x op operand for a plain int or float item whose result is an ordinary number: rewrites `v`
  // and returns true. Returns false, leaving `v` alone, for anything else (other kinds, errors,
  // results outside int64), which compute() then handles with the full rules.
  template <arith::Op kOp>
  bool try_inline(Value& v) const {
    double x;
    if (v.is_int()) {
      const int64_t a = v.as_int();
      if (operand_.is_int) {
        const int64_t b = operand_.i;
        int64_t r;
        switch (kOp) {
          case arith::Op::kAdd: if (__builtin_add_overflow(a, b, &r)) return false; v = Value::integer(r); return true;
          case arith::Op::kSubtract: if (__builtin_sub_overflow(a, b, &r)) return false; v = Value::integer(r); return true;
          case arith::Op::kMultiply: if (__builtin_mul_overflow(a, b, &r)) return false; v = Value::integer(r); return true;
          case arith::Op::kDivide:
            if (b == 0) return false;
            v = Value::real(arith::int_true_divide(a, b));
            return true;
          case arith::Op::kModulo: {
            if (b == 0 || b == -1) return false;
            r = a % b;
            if (r != 0 && ((r < 0) != (b < 0))) r += b;
            v = Value::integer(r);
            return true;
          }
          case arith::Op::kPower:
            if (b != 2 || __builtin_mul_overflow(a, a, &r)) return false;
            v = Value::integer(r);
            return true;
          default: return false;
        }
      }
      x = static_cast<double>(a);
    } else if (v.is_float()) {
      x = v.as_float();
    } else {
      return false;
    }
    const double b = operand_.as_double();
    double r;
    switch (kOp) {
      case arith::Op::kAdd: r = x + b; break;
      case arith::Op::kSubtract: r = x - b; break;
      case arith::Op::kMultiply: r = x * b; break;
      case arith::Op::kDivide: if (b == 0.0) return false; r = x / b; break;
      case arith::Op::kModulo: if (b == 0.0) return false; r = arith::float_mod(x, b); break;
      case arith::Op::kPower: if (!arith::float_pow(x, b, &r).ok()) return false; break;
      default: return false;
    }
    v = Value::real(r);
    return true;
  }

  Status compute(const Value& item, Value* result) const {
    switch (item.kind()) {
      case ValueKind::kBool:
      case ValueKind::kInt:
        return arith::python_binary(op_, arith::Scalar::of_int(item.as_int()), operand_, result);
      case ValueKind::kFloat:
        return arith::python_binary(op_, arith::Scalar::of_float(item.as_float()), operand_, result);
      case ValueKind::kArray: {
        const NDArray& a = item.as_array();
        if (!arith::supports_dtype(a.dtype())) return arith::unsupported_dtype(a.dtype());
        Ref<NDArray> r;
        int64_t failed = 0;
        RM_RETURN_IF_ERROR(arith::numpy_binary(op_, a, operand_, &r, &failed));
        *result = Value::array(std::move(r));
        return Status::OK();
      }
      case ValueKind::kObject:
        if (item.as_object().is_big_integer()) return arith::big_int_overflow();
        [[fallthrough]];
      default: return arith::unsupported_operand(item.type_name());
    }
  }

  arith::Op op_;
  arith::Scalar operand_;
};

Result<std::unique_ptr<Node>> make_calculator(const Value& params) {
  auto op = arith::parse_op(params.find("operation")->as_string());
  const Value& operand = *params.find("operand");
  if (!op) return Status(StatusCode::kInvalidParameter, "unknown operation");
  arith::Scalar s = operand.is_int() ? arith::Scalar::of_int(operand.as_int())
                                     : arith::Scalar::of_float(operand.as_float());
  return std::unique_ptr<Node>(std::make_unique<CalculatorNode>(*op, s));
}

}  // namespace

void register_basic_nodes(Registry& registry) {
  (void)registry.add(NodeTypeInfo{
      "PassThroughNode",
      {"PassThrough"},
      "Emits every item unchanged.",
      {},
      [](const Value&) -> Result<std::unique_ptr<Node>> { return std::unique_ptr<Node>(std::make_unique<PassThroughNode>()); },
      nullptr,
  });
  (void)registry.add(NodeTypeInfo{
      "CalculatorNode",
      {"Calculator"},
      "Applies one arithmetic operation with a constant operand to numbers and numeric arrays.",
      {
          ParamSpec{"operation", ParamType::kString, true, Value(),
                    {"add", "subtract", "multiply", "divide", "power", "modulo"},
                    "The operation: add, subtract, multiply, divide, power or modulo."},
          ParamSpec{"operand", ParamType::kNumber, true, Value(), {}, "The right-hand operand (int or float)."},
      },
      make_calculator,
      nullptr,
  });
}

void register_flow_nodes(Registry& registry);            // src/nodes/flow.cpp
void register_audio_basic_nodes(Registry& registry);     // src/nodes/audio_basic.cpp
void register_audio_resample_nodes(Registry& registry);  // src/nodes/audio_resample.cpp
void register_audio_frame_nodes(Registry& registry);     // src/nodes/audio_frames.cpp
void register_audio_analysis_nodes(Registry& registry);  // src/nodes/audio_analysis.cpp
void register_audio_file_nodes(Registry& registry);      // src/nodes/audio_files.cpp

void register_builtin_nodes(Registry& registry) {
  register_basic_nodes(registry);
  register_flow_nodes(registry);
  register_audio_basic_nodes(registry);
  register_audio_resample_nodes(registry);
  register_audio_frame_nodes(registry);
  register_audio_analysis_nodes(registry);
  register_audio_file_nodes(registry);
}

}  // namespace remotemedia

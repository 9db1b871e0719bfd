// Status and Result<T>: how expected failures travel through the runtime.
//
// A Status is free on success (a null pointer) and carries a code, a message and the location of the
// fault (a JSON path for manifest faults; node id, node type and item index for node faults). The
// binding turns each code into one class of remotemedia.errors, so the same fault raises the same
// Python exception on both executors. Exceptions never cross the public API.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace remotemedia {

enum class StatusCode : uint8_t {
  kOk = 0,
  kManifestError,      // structural fault in a manifest           -> errors.ManifestError
  kUnknownNodeType,    // node type not in the registry             -> errors.UnknownNodeTypeError
  kInvalidParameter,   // node parameter fails its schema           -> errors.InvalidParameterError
  kGraphError,         // duplicate ids, dangling edges, cycles     -> errors.GraphError
  kTypeError,          // a node got an item of a type it rejects   -> errors.NodeTypeError
  kValueError,         // a node got an item value it rejects       -> errors.NodeValueError
  kZeroDivision,       // division / modulo by zero                  -> errors.NodeZeroDivisionError
  kOverflow,           // result does not fit its type               -> errors.NodeOverflowError
  kUserError,          // user code (a Python node) raised; the original travels in detail()
  kNotImplemented,     // an optional fast path is not available; callers fall back
  kCancelled,
  kInternal,
};

const char* status_code_name(StatusCode code);

// `text` as messages quote a node id, node type, parameter name or string value, the same on both
// runtimes (remotemedia.errors.quoted; not named quoted here, where ADL would pick std::quoted for
// a std::string): in single quotes, with backslash, single quote, newline, tab and carriage return
// escaped as \\ \' \n \t \r, other control characters (and DEL) as \xNN, and everything else,
// UTF-8 included, as is. A plain name reads as before: 'a'.
std::string quote(std::string_view text);

// What a layer above the runtime attaches to a Status and reads back: the Python binding keeps the
// original exception of a Python node here, so it re-raises intact (type, message, traceback).
class StatusDetail {
 public:
  virtual ~StatusDetail() = default;
  virtual std::string type_name() const = 0;
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message);
  Status(const Status& other);
  Status& operator=(const Status& other);
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;

  static Status OK() { return Status(); }

  bool ok() const { return state_ == nullptr; }
  StatusCode code() const { return state_ ? state_->code : StatusCode::kOk; }
  const std::string& message() const;
  // JSON path of a manifest fault ("$.nodes[1].id"); empty when not a manifest fault.
  const std::string& path() const;
  const std::string& node_id() const;
  const std::string& node_type() const;
  // Index in the failing node's input stream; nullopt for a fault at end of stream (flush).
  std::optional<int64_t> item_index() const;
  bool has_node() const { return state_ && !state_->node_id.empty(); }

  const std::shared_ptr<const StatusDetail>& detail() const;
  Status& with_detail(std::shared_ptr<const StatusDetail> detail);

  Status& with_path(std::string path);
  Status& with_node(std::string node_id, std::string node_type, std::optional<int64_t> item_index);

  // "path: message" or "node 'id' (type) failed on item 3: message", as Python's errors print.
  std::string to_string() const;

 private:
  struct State {
    StatusCode code;
    std::string message;
    std::string path;
    std::string node_id;
    std::string node_type;
    std::optional<int64_t> item_index;
    std::shared_ptr<const StatusDetail> detail;
  };
  std::unique_ptr<State> state_;
};

inline Status ManifestError(std::string msg, std::string path) {
  return std::move(Status(StatusCode::kManifestError, std::move(msg)).with_path(std::move(path)));
}
inline Status TypeError(std::string msg) { return Status(StatusCode::kTypeError, std::move(msg)); }
inline Status ValueError(std::string msg) { return Status(StatusCode::kValueError, std::move(msg)); }
inline Status ZeroDivisionError(std::string msg) {
  return Status(StatusCode::kZeroDivision, std::move(msg));
}
inline Status OverflowError(std::string msg) {
  return Status(StatusCode::kOverflow, std::move(msg));
}
inline Status InternalError(std::string msg) {
  return Status(StatusCode::kInternal, std::move(msg));
}

// Result<T>: a value or the Status saying why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::move(value)) {}  // NOLINT: implicit by design, like arrow::Result
  Result(Status status) : data_(std::move(status)) {}  // NOLINT
  bool ok() const { return std::holds_alternative<T>(data_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(data_);
  }
  Status take_status() { return std::move(std::get<Status>(data_)); }
  T& value() & { return std::get<T>(data_); }
  const T& value() const& { return std::get<T>(data_); }
  T&& value() && { return std::get<T>(std::move(data_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }

 private:
  std::variant<T, Status> data_;
};

}  // namespace remotemedia

#define RM_CONCAT_INNER(a, b) a##b
#define RM_CONCAT(a, b) RM_CONCAT_INNER(a, b)

#define RM_RETURN_IF_ERROR(expr)                         \
  do {                                                   \
    ::remotemedia::Status rm_status_ = (expr);           \
    if (!rm_status_.ok()) return rm_status_;             \
  } while (0)

#define RM_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return tmp.take_status();       \
  lhs = std::move(tmp).value()

#define RM_ASSIGN_OR_RETURN(lhs, expr) \
  RM_ASSIGN_OR_RETURN_IMPL(RM_CONCAT(rm_result_, __LINE__), lhs, expr)

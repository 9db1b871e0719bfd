#include "remotemedia/status.h"

namespace remotemedia {

const char* status_code_name(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "OK";
    case StatusCode::kManifestError: return "ManifestError";
    case StatusCode::kUnknownNodeType: return "UnknownNodeTypeError";
    case StatusCode::kInvalidParameter: return "InvalidParameterError";
    case StatusCode::kGraphError: return "GraphError";
    case StatusCode::kTypeError: return "NodeTypeError";
    case StatusCode::kValueError: return "NodeValueError";
    case StatusCode::kZeroDivision: return "NodeZeroDivisionError";
    case StatusCode::kOverflow: return "NodeOverflowError";
    case StatusCode::kUserError: return "UserError";
    case StatusCode::kNotImplemented: return "NotImplemented";
    case StatusCode::kCancelled: return "Cancelled";
    case StatusCode::kInternal: return "InternalError";
  }
  return "Unknown";
}

std::string quote(std::string_view text) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size() + 2);
  out += '\'';
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\'': out += "\\'"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += "\\x";
          out += kHex[c >> 4];
          out += kHex[c & 0xf];
        } else {
          out += ch;
        }
    }
  }
  out += '\'';
  return out;
}

Status::Status(StatusCode code, std::string message) {
  if (code != StatusCode::kOk) {
    state_ = std::make_unique<State>(State{code, std::move(message), {}, {}, {}, std::nullopt, nullptr});
  }
}

Status::Status(const Status& other)
    : state_(other.state_ ? std::make_unique<State>(*other.state_) : nullptr) {}

Status& Status::operator=(const Status& other) {
  if (this != &other) state_ = other.state_ ? std::make_unique<State>(*other.state_) : nullptr;
  return *this;
}

namespace {
const std::string& empty_string() {
  static const std::string kEmpty;
  return kEmpty;
}
}  // namespace

const std::string& Status::message() const { return state_ ? state_->message : empty_string(); }
const std::string& Status::path() const { return state_ ? state_->path : empty_string(); }
const std::string& Status::node_id() const { return state_ ? state_->node_id : empty_string(); }
const std::string& Status::node_type() const { return state_ ? state_->node_type : empty_string(); }
std::optional<int64_t> Status::item_index() const {
  return state_ ? state_->item_index : std::nullopt;
}

const std::shared_ptr<const StatusDetail>& Status::detail() const {
  static const std::shared_ptr<const StatusDetail> kNone;
  return state_ ? state_->detail : kNone;
}

Status& Status::with_detail(std::shared_ptr<const StatusDetail> detail) {
  if (state_) state_->detail = std::move(detail);
  return *this;
}

Status& Status::with_path(std::string path) {
  if (state_) state_->path = std::move(path);
  return *this;
}

Status& Status::with_node(std::string node_id, std::string node_type,
                          std::optional<int64_t> item_index) {
  if (state_) {
    state_->node_id = std::move(node_id);
    state_->node_type = std::move(node_type);
    state_->item_index = item_index;
  }
  return *this;
}

std::string Status::to_string() const {
  if (!state_) return "OK";
  if (!state_->path.empty()) return state_->path + ": " + state_->message;
  if (state_->detail && state_->message.empty()) return state_->detail->type_name();
  if (!state_->node_id.empty()) {
    std::string where = state_->item_index ? "on item " + std::to_string(*state_->item_index)
                                           : std::string("at end of stream");
    return "node " + quote(state_->node_id) + " (" + state_->node_type + ") failed " + where + ": " +
           state_->message;
  }
  return state_->message;
}

}  // namespace remotemedia

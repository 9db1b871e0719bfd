#include "remotemedia/json.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

#include "remotemedia/json_fault.h"

namespace remotemedia {

namespace {

// An integer literal too large for int64, kept as its digits (like a Python int, it is an "int").
class BigInteger final : public OpaqueObject {
 public:
  explicit BigInteger(std::string digits) : digits_(std::move(digits)) {}
  std::string type_name() const override { return "int"; }
  bool is_big_integer() const override { return true; }
  std::string big_integer_digits() const override { return digits_; }

 private:
  std::string digits_;
};

bool is_integer_literal(const std::string& raw) {
  return raw.find_first_of(".eE") == std::string::npos;
}

// Builds Values straight from nlohmann's SAX events: no intermediate DOM, and big integers keep
// their digits (nlohmann's DOM would turn them into doubles).
class ValueBuilder {
 public:
  using number_integer_t = nlohmann::json::number_integer_t;
  using number_unsigned_t = nlohmann::json::number_unsigned_t;
  using number_float_t = nlohmann::json::number_float_t;
  using string_t = nlohmann::json::string_t;
  using binary_t = nlohmann::json::binary_t;

  bool null() { return put(Value::null()); }
  bool boolean(bool b) { return put(Value::boolean(b)); }
  bool number_integer(number_integer_t i) { return put(Value::integer(i)); }
  bool number_unsigned(number_unsigned_t u) {
    if (u <= static_cast<uint64_t>(INT64_MAX)) return put(Value::integer(static_cast<int64_t>(u)));
    return put(Value::object(make_ref<BigInteger>(std::to_string(u))));
  }
  bool number_float(number_float_t d, const string_t& raw) {
    if (is_integer_literal(raw)) return put(Value::object(make_ref<BigInteger>(raw)));
    return put(Value::real(d));
  }
  bool string(string_t& s) { return put(Value::string(std::move(s))); }
  bool binary(binary_t&) { return put(Value::null()); }  // not produced by text JSON
  bool start_object(std::size_t) {
    stack_.push_back(Frame{true, {}, {}, {}});
    return true;
  }
  bool key(string_t& k) {
    for (const auto& [existing, unused] : stack_.back().map) {
      if (existing == k) return false;  // stops the parse; find_json_fault says where
    }
    stack_.back().key = std::move(k);
    return true;
  }
  bool end_object() {
    Frame f = std::move(stack_.back());
    stack_.pop_back();
    return put(Value::map(std::move(f.map)));
  }
  bool start_array(std::size_t) {
    stack_.push_back(Frame{false, {}, {}, {}});
    return true;
  }
  bool end_array() {
    Frame f = std::move(stack_.back());
    stack_.pop_back();
    return put(Value::list(std::move(f.list)));
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::json::exception& ex) {
    // Only for a text find_json_fault passes, which would be a disagreement of the two readers.
    // nlohmann quotes the offending bytes, which may not be UTF-8: keep the message ASCII.
    static const char* kHex = "0123456789abcdef";
    for (const char* p = ex.what(); *p; ++p) {
      const auto c = static_cast<unsigned char>(*p);
      if (c < 0x80) {
        error_.push_back(*p);
      } else {
        error_ += "\\x";
        error_.push_back(kHex[c >> 4]);
        error_.push_back(kHex[c & 15]);
      }
    }
    return false;
  }

  Value result;
  std::string error_;

 private:
  struct Frame {
    bool is_object;
    List list;
    Map map;
    std::string key;
  };

  bool put(Value v) {
    if (stack_.empty()) {
      result = std::move(v);
      return true;
    }
    Frame& f = stack_.back();
    if (!f.is_object) {
      f.list.push_back(std::move(v));
      return true;
    }
    f.map.emplace_back(std::move(f.key), std::move(v));
    return true;
  }

  std::vector<Frame> stack_;
};

// Nesting depth of the text's arrays and objects, found without parsing so that a hostile document
// cannot exhaust memory or stack before it is rejected.
int nesting_depth(std::string_view text) {
  int depth = 0, max_depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '[' || c == '{') max_depth = std::max(max_depth, ++depth);
    else if (c == ']' || c == '}') --depth;
  }
  return max_depth;
}

// Rule 3's refusal: the first fault as find_json_fault words it.
Status not_json(std::string_view text, const std::string& parser_message) {
  if (std::optional<JsonFault> fault = find_json_fault(text)) {
    return ManifestError("not valid JSON " + fault->where(), "$");
  }
  return ManifestError("not valid JSON: " + parser_message, "$");
}

Status write_json(const Value& v, int indent, int level, std::string& out);

void newline(int indent, int level, std::string& out) {
  if (indent < 0) return;
  out.push_back('\n');
  out.append(static_cast<size_t>(indent * level), ' ');
}

template <typename T>
void write_array_elements(const NDArray& a, int64_t offset, int dim, std::string& out) {
  out.push_back('[');
  const int64_t n = a.shape()[static_cast<size_t>(dim)];
  int64_t stride = 1;
  for (size_t d = static_cast<size_t>(dim) + 1; d < a.shape().size(); ++d) stride *= a.shape()[d];
  for (int64_t i = 0; i < n; ++i) {
    if (i) out.append(", ");
    if (dim + 1 < a.ndim()) {
      write_array_elements<T>(a, offset + i * stride, dim + 1, out);
    } else {
      out += nlohmann::json(a.data_as<T>()[offset + i]).dump();
    }
  }
  out.push_back(']');
}

Status write_ndarray(const NDArray& a, std::string& out) {
  auto write = [&](auto tag) {
    using T = decltype(tag);
    if (a.ndim() == 0) out += nlohmann::json(a.data_as<T>()[0]).dump();
    else write_array_elements<T>(a, 0, 0, out);
  };
  switch (a.dtype()) {
    case DType::kBool: write(bool{}); break;
    case DType::kInt8: write(int8_t{}); break;
    case DType::kInt16: write(int16_t{}); break;
    case DType::kInt32: write(int32_t{}); break;
    case DType::kInt64: write(int64_t{}); break;
    case DType::kUInt8: write(uint8_t{}); break;
    case DType::kUInt16: write(uint16_t{}); break;
    case DType::kUInt32: write(uint32_t{}); break;
    case DType::kUInt64: write(uint64_t{}); break;
    case DType::kFloat32: write(float{}); break;
    case DType::kFloat64: write(double{}); break;
    case DType::kFloat16: return TypeError("float16 arrays have no JSON form");
  }
  return Status::OK();
}

Status write_json(const Value& v, int indent, int level, std::string& out) {
  switch (v.kind()) {
    case ValueKind::kNull: out += "null"; return Status::OK();
    case ValueKind::kBool: out += v.as_bool() ? "true" : "false"; return Status::OK();
    case ValueKind::kInt: out += std::to_string(v.as_int()); return Status::OK();
    case ValueKind::kFloat:
      if (!std::isfinite(v.as_float())) return TypeError("a non-finite float has no JSON form");
      out += nlohmann::json(v.as_float()).dump();
      return Status::OK();
    case ValueKind::kString: out += nlohmann::json(v.as_string()).dump(); return Status::OK();
    case ValueKind::kList: {
      const List& items = v.as_list();
      out.push_back('[');
      for (size_t i = 0; i < items.size(); ++i) {
        if (i) out.push_back(',');
        if (i && indent < 0) out.push_back(' ');
        newline(indent, level + 1, out);
        RM_RETURN_IF_ERROR(write_json(items[i], indent, level + 1, out));
      }
      if (!items.empty()) newline(indent, level, out);
      out.push_back(']');
      return Status::OK();
    }
    case ValueKind::kMap: {
      const Map& entries = v.as_map();
      out.push_back('{');
      bool first = true;
      for (const auto& [k, item] : entries) {
        if (!first) out += indent < 0 ? ", " : ",";
        first = false;
        newline(indent, level + 1, out);
        out += nlohmann::json(k).dump();
        out += ": ";
        RM_RETURN_IF_ERROR(write_json(item, indent, level + 1, out));
      }
      if (!entries.empty()) newline(indent, level, out);
      out.push_back('}');
      return Status::OK();
    }
    case ValueKind::kArray: return write_ndarray(v.as_array(), out);
    case ValueKind::kObject:
      if (v.as_object().is_big_integer() && !v.as_object().big_integer_digits().empty()) {
        out += v.as_object().big_integer_digits();
        return Status::OK();
      }
      [[fallthrough]];
    case ValueKind::kBytes:
    case ValueKind::kAudio: return TypeError("a value of type '" + v.type_name() + "' has no JSON form");
  }
  return Status::OK();
}

}  // namespace

const char* json_type_name(const Value& v) {
  switch (v.kind()) {
    case ValueKind::kNull: return "null";
    case ValueKind::kBool: return "boolean";
    case ValueKind::kInt: return "integer";
    case ValueKind::kFloat: return "number";
    case ValueKind::kString: return "string";
    case ValueKind::kList: return "array";
    case ValueKind::kMap: return "object";
    case ValueKind::kObject: return v.as_object().is_big_integer() ? "integer" : "value";
    default: return "value";
  }
}

std::string key_path(const std::string& base, const std::string& key) {
  bool identifier = !key.empty() && !std::isdigit(static_cast<unsigned char>(key[0]));
  for (char c : key) {
    identifier = identifier && (std::isalnum(static_cast<unsigned char>(c)) || c == '_') &&
                 static_cast<unsigned char>(c) < 0x80;
  }
  if (identifier) return base + "." + key;
  return base + "[" + nlohmann::json(key).dump() + "]";
}

Result<Value> parse_json(std::string_view text) {
  if (text.size() > kMaxJsonBytes) {
    return ManifestError("manifest text is more than the 16 MiB limit (" + std::to_string(kMaxJsonBytes) + " bytes)",
                         "$");
  }
  if (nesting_depth(text) > kMaxJsonDepth) {
    return ManifestError("arrays and objects nested deeper than " + std::to_string(kMaxJsonDepth) + " levels", "$");
  }
  // nlohmann skips a byte-order mark; JSON has none (RFC 8259, section 8.1).
  if (text.substr(0, 3) == "\xEF\xBB\xBF") return not_json(text, "a byte-order mark");
  ValueBuilder builder;
  const bool ok = nlohmann::json::sax_parse(text, &builder, nlohmann::json::input_format_t::json,
                                            /*strict=*/true, /*ignore_comments=*/false);
  if (!ok) return not_json(text, builder.error_.empty() ? "a duplicate key" : builder.error_);
  return std::move(builder.result);
}

Result<std::string> to_json(const Value& value, int indent) {
  std::string out;
  RM_RETURN_IF_ERROR(write_json(value, indent, 0, out));
  return out;
}

}  // namespace remotemedia

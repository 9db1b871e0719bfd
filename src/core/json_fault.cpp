#include "remotemedia/json_fault.h"

#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <vector>

namespace remotemedia {

namespace {

// A recursive-descent reading of the text without recursion: `open` holds the brackets open, and
// each open object the keys seen so far (decoded, so "a" and "\u0061" are the same key).
class FaultScanner {
 public:
  explicit FaultScanner(std::string_view text) : t_(text) {}

  // False at the first fault, which offset_ and reason_ then describe.
  bool scan() {
    std::vector<char> open;  // the brackets open: '[' or '{'
    size_t i = 0;
    while (true) {
      i = skip_whitespace(i);  // a value at i
      if (i >= t_.size()) return fault(i, "unexpected end of input");
      const char b = t_[i];
      if (b == '[' || b == '{') {
        open.push_back(b);
        if (b == '{') keys_.emplace_back();
        i = skip_whitespace(i + 1);
        if (i < t_.size() && t_[i] == b + 2) {  // ] after [, } after {
          close(open);
          ++i;
        } else if (b == '{') {
          if (!key(i, &i)) return false;
          continue;
        } else {
          continue;
        }
      } else if (!scalar(i, &i)) {
        return false;
      }
      while (true) {  // after a value: a comma, a closing bracket or, at the top, the end
        i = skip_whitespace(i);
        if (open.empty()) return i < t_.size() ? fault(i, "extra data after the value") : true;
        if (i >= t_.size()) return fault(i, "unexpected end of input");
        if (t_[i] == ',') {
          if (open.back() == '{') {
            if (!key(i + 1, &i)) return false;
          } else {
            ++i;
          }
          break;
        }
        if (t_[i] != open.back() + 2) return character_fault(i);
        close(open);
        ++i;
      }
    }
  }

  JsonFault fault_found() const {
    JsonFault f;
    for (size_t i = 0; i < offset_; ++i) {
      const auto c = static_cast<unsigned char>(t_[i]);
      if (c == '\n') {
        ++f.line;
        f.column = 1;
      } else if (c < 0x80 || c > 0xBF) {  // not a continuation byte: the text is valid up to here
        ++f.column;
      }
    }
    f.reason = reason_;
    return f;
  }

 private:
  void close(std::vector<char>& open) {
    if (open.back() == '{') keys_.pop_back();
    open.pop_back();
  }

  // The text of the (valid) string literal [start, end), its escapes decoded to UTF-8.
  std::string decoded(size_t start, size_t end) const {
    std::string out;
    for (size_t i = start + 1; i + 1 < end;) {
      if (t_[i] != '\\') {
        out.push_back(t_[i++]);
        continue;
      }
      const char e = t_[i + 1];
      if (e != 'u') {
        const char* plain = "\"\\/\b\f\n\r\t";
        out.push_back(plain[std::string_view("\"\\/bfnrt").find(e)]);
        i += 2;
        continue;
      }
      uint32_t code = static_cast<uint32_t>(u_escape(i));
      i += 6;
      if (code >= 0xD800 && code <= 0xDBFF) {  // a valid pair: the scan has checked it
        code = 0x10000 + ((code - 0xD800) << 10) + (static_cast<uint32_t>(u_escape(i)) - 0xDC00);
        i += 6;
      }
      if (code < 0x80) {
        out.push_back(static_cast<char>(code));
      } else if (code < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (code >> 6)));
        out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
      } else if (code < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (code >> 12)));
        out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
      } else {
        out.push_back(static_cast<char>(0xF0 | (code >> 18)));
        out.push_back(static_cast<char>(0x80 | ((code >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
      }
    }
    return out;
  }

  bool fault(size_t offset, std::string reason) {
    offset_ = offset;
    reason_ = std::move(reason);
    return false;
  }

  size_t skip_whitespace(size_t i) const {
    while (i < t_.size() && (t_[i] == ' ' || t_[i] == '\t' || t_[i] == '\n' || t_[i] == '\r')) ++i;
    return i;
  }

  unsigned char at(size_t i) const { return static_cast<unsigned char>(t_[i]); }
  bool digit(size_t i) const { return i < t_.size() && t_[i] >= '0' && t_[i] <= '9'; }

  // The length of the UTF-8 character at i (RFC 3629: no overlong forms, surrogates or code points
  // past U+10FFFF), 0 if the bytes there are not one.
  size_t utf8_length(size_t i, uint32_t* code) const {
    const unsigned char b = at(i);
    size_t n = 1;
    unsigned char lo = 0x80, hi = 0xBF;
    if (b < 0x80) {
      *code = b;
      return 1;
    }
    if (b >= 0xC2 && b <= 0xDF) n = 2;
    else if (b == 0xE0) n = 3, lo = 0xA0;
    else if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF) n = 3;
    else if (b == 0xED) n = 3, hi = 0x9F;
    else if (b == 0xF0) n = 4, lo = 0x90;
    else if (b >= 0xF1 && b <= 0xF3) n = 4;
    else if (b == 0xF4) n = 4, hi = 0x8F;
    else return 0;
    if (i + n > t_.size() || at(i + 1) < lo || at(i + 1) > hi) return 0;
    *code = b & (0xFF >> (n + 1));
    for (size_t k = 1; k < n; ++k) {
      if (k > 1 && (at(i + k) < 0x80 || at(i + k) > 0xBF)) return 0;
      *code = (*code << 6) | (at(i + k) & 0x3F);
    }
    return n;
  }

  bool character_fault(size_t i) {
    uint32_t code = 0;
    char shown[32];
    if (utf8_length(i, &code) == 0) {
      std::snprintf(shown, sizeof shown, "invalid UTF-8 byte 0x%02x", at(i));
      return fault(i, shown);
    }
    if (code >= 0x21 && code <= 0x7E) std::snprintf(shown, sizeof shown, "'%c'", static_cast<char>(code));
    else std::snprintf(shown, sizeof shown, "U+%04X", static_cast<unsigned>(code));
    return fault(i, std::string("unexpected character ") + shown);
  }

  bool key(size_t i, size_t* end) {
    i = skip_whitespace(i);
    if (i >= t_.size()) return fault(i, "unexpected end of input");
    if (t_[i] != '"') return character_fault(i);
    const size_t start = i;
    if (!string(i, &i)) return false;
    if (!keys_.back().insert(decoded(start, i)).second) {
      return fault(start, "duplicate key " + std::string(t_.substr(start, i - start)));
    }
    i = skip_whitespace(i);
    if (i >= t_.size()) return fault(i, "unexpected end of input");
    if (t_[i] != ':') return character_fault(i);
    *end = i + 1;
    return true;
  }

  // The code unit of the escape backslash-u-XXXX at i, -1 if there is none.
  int u_escape(size_t i) const {
    if (i + 6 > t_.size() || t_[i] != '\\' || t_[i + 1] != 'u') return -1;
    int code = 0;
    for (size_t k = i + 2; k < i + 6; ++k) {
      const char h = t_[k];
      if (!std::isxdigit(static_cast<unsigned char>(h))) return -1;
      code = code * 16 + (h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10);
    }
    return code;
  }

  bool string(size_t start, size_t* end) {
    for (size_t i = start + 1;;) {
      if (i >= t_.size()) return fault(start, "unterminated string");
      const unsigned char b = at(i);
      if (b == '"') {
        *end = i + 1;
        return true;
      }
      if (b == '\\') {
        if (i + 1 >= t_.size()) return fault(start, "unterminated string");
        const char e = t_[i + 1];
        if (e != '\0' && std::string_view("\"\\/bfnrt").find(e) != std::string_view::npos) {
          i += 2;
        } else if (const int code = u_escape(i); code >= 0) {
          const int low = code >= 0xD800 && code <= 0xDBFF ? u_escape(i + 6) : -1;
          if (low >= 0xDC00 && low <= 0xDFFF) {
            i += 12;
          } else if (code >= 0xD800 && code <= 0xDFFF) {
            return fault(i, "lone surrogate escape");
          } else {
            i += 6;
          }
        } else {
          return fault(i, "invalid escape");
        }
      } else if (b < 0x20) {
        char reason[40];
        std::snprintf(reason, sizeof reason, "control character U+%04X in a string", b);
        return fault(i, reason);
      } else {
        uint32_t code = 0;
        const size_t n = utf8_length(i, &code);
        if (n == 0) return character_fault(i);
        i += n;
      }
    }
  }

  bool scalar(size_t i, size_t* end) {
    for (std::string_view constant : {"NaN", "Infinity", "-Infinity"}) {
      if (t_.substr(i).starts_with(constant)) return fault(i, std::string(constant) + " is not a JSON value");
    }
    const char b = t_[i];
    if (b == '"') return string(i, end);
    if (b == '-' || digit(i)) {
      size_t j = i + (b == '-' ? 1 : 0);
      if (j < t_.size() && t_[j] == '0') {
        ++j;
      } else if (digit(j)) {
        while (digit(j)) ++j;
      } else {
        return fault(i, "invalid number");
      }
      if (j < t_.size() && t_[j] == '.' && digit(j + 1)) {
        j += 2;
        while (digit(j)) ++j;
      }
      if (j < t_.size() && (t_[j] == 'e' || t_[j] == 'E')) {
        size_t k = j + 1;
        if (k < t_.size() && (t_[k] == '+' || t_[k] == '-')) ++k;
        if (digit(k)) {
          while (digit(k)) ++k;
          j = k;
        }
      }
      if (j < t_.size() && (t_[j] == '.' || t_[j] == 'e' || t_[j] == 'E')) return fault(i, "invalid number");
      if (std::isinf(std::strtod(std::string(t_.substr(i, j - i)).c_str(), nullptr))) {
        return fault(i, "number out of the range of a double");
      }
      *end = j;
      return true;
    }
    for (std::string_view literal : {"true", "false", "null"}) {
      if (b != literal[0]) continue;
      if (!t_.substr(i).starts_with(literal)) return fault(i, "invalid literal");
      *end = i + literal.size();
      return true;
    }
    return character_fault(i);
  }

  std::string_view t_;
  std::vector<std::set<std::string>> keys_;  // the keys of each open object so far
  size_t offset_ = 0;
  std::string reason_;
};

}  // namespace

std::string JsonFault::where() const {
  return "at line " + std::to_string(line) + " column " + std::to_string(column) + ": " + reason;
}

std::optional<JsonFault> find_json_fault(std::string_view text) {
  FaultScanner scanner(text);
  if (scanner.scan()) return std::nullopt;
  return scanner.fault_found();
}

}  // namespace remotemedia

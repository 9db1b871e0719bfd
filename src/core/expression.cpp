// The expression language (docs/EXPRESSIONS.md): lexer, parser, the item-at-a-time evaluator (the
// reference every other path must agree with), and the typed, chunked form that batches and
// columns of int64 / float64 / bool items run through.
//
// The parser mirrors python/remotemedia/core/expression.py function for function, so both accept
// the same texts and report a syntax error at the same column with the same message.
#include "remotemedia/expression.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <utility>

#include "nodes/arithmetic.h"

namespace remotemedia {
namespace expression_internal {

namespace {

constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

// ---------------------------------------------------------------------------------------- UTF-8

bool is_continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

size_t sequence_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) return 2;
  if ((lead & 0xF0) == 0xE0) return 3;
  return 4;
}

// The byte offset of the first byte that does not start a valid UTF-8 sequence, or npos.
size_t find_invalid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t n;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      n = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 4;
      cp = c & 0x07;
    } else {
      return i;
    }
    if (i + n > s.size()) return i;
    for (size_t k = 1; k < n; ++k) {
      const unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if (!is_continuation(cc)) return i;
      cp = (cp << 6) | (cc & 0x3F);
    }
    const uint32_t min_cp = n == 2 ? 0x80 : n == 3 ? 0x800 : 0x10000;
    if (cp < min_cp || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
    i += n;
  }
  return std::string_view::npos;
}

size_t count_code_points(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += !is_continuation(static_cast<unsigned char>(c));
  return n;
}

// The byte range of code point `index` of a valid UTF-8 string (index < count_code_points).
std::string_view code_point_at(std::string_view s, size_t index) {
  size_t i = 0;
  for (size_t k = 0; k < index; ++k) i += sequence_length(static_cast<unsigned char>(s[i]));
  return s.substr(i, sequence_length(static_cast<unsigned char>(s[i])));
}

void append_utf8(std::string* out, uint32_t cp) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// ---------------------------------------------------------------------------------------- lexer

Status syntax_error(int column, const std::string& detail) {
  return Status(StatusCode::kInvalidParameter,
                "syntax error at column " + std::to_string(column) + ": " + detail);
}

enum class TokKind : uint8_t { kNumber, kString, kName, kOp, kEnd };

struct Token {
  TokKind kind;
  std::string text;  // the source text (for a string: with its quotes)
  Value value;       // a number's or a string's value
  int column;

  bool is_op(std::string_view op) const { return kind == TokKind::kOp && text == op; }
  bool is_name(std::string_view name) const { return kind == TokKind::kName && text == name; }
  std::string describe() const {
    switch (kind) {
      case TokKind::kEnd: return "end of expression";
      case TokKind::kString: return "string";
      case TokKind::kNumber: return "number " + text;
      default: return "'" + text + "'";
    }
  }
};

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || is_digit(c); }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// A decimal float literal whose value from_chars reports out of range: infinity when its leading
// digit's power of ten is positive (overflow), else zero (underflow).
double out_of_range_literal(std::string_view t) {
  size_t i = 0;
  int64_t exponent = 0, integer_digits = 0, lead = std::numeric_limits<int64_t>::min();
  while (i < t.size() && is_digit(t[i])) {
    if (lead == std::numeric_limits<int64_t>::min() && t[i] != '0') lead = integer_digits;
    ++integer_digits;
    ++i;
  }
  int64_t fraction_index = 0;
  if (i < t.size() && t[i] == '.') {
    ++i;
    while (i < t.size() && is_digit(t[i])) {
      if (lead == std::numeric_limits<int64_t>::min() && t[i] != '0') lead = integer_digits + fraction_index;
      ++fraction_index;
      ++i;
    }
  }
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    bool negative = false;
    if (i < t.size() && (t[i] == '+' || t[i] == '-')) negative = t[i++] == '-';
    for (; i < t.size(); ++i) exponent = std::min<int64_t>(exponent * 10 + (t[i] - '0'), int64_t{1} << 40);
    if (negative) exponent = -exponent;
  }
  if (lead == std::numeric_limits<int64_t>::min()) return 0.0;
  const int64_t power = integer_digits - 1 - lead + exponent;  // of the leading nonzero digit
  return power > 0 ? std::numeric_limits<double>::infinity() : 0.0;
}

class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {
    columns_.resize(text.size() + 1);
    int column = 0;
    for (size_t i = 0; i < text.size(); ++i) {
      if (!is_continuation(static_cast<unsigned char>(text[i]))) ++column;
      columns_[i] = column;
    }
    columns_[text.size()] = column + 1;
  }

  Status tokenize(std::vector<Token>* tokens) {
    const size_t bad = find_invalid_utf8(text_);
    if (bad != std::string_view::npos) return syntax_error(columns_[bad], "invalid UTF-8");
    const size_t n = text_.size();
    size_t i = 0;
    while (true) {
      while (i < n && is_space(text_[i])) ++i;
      if (i >= n) {
        tokens->push_back(Token{TokKind::kEnd, "", Value(), columns_[n]});
        return Status::OK();
      }
      const char c = text_[i];
      const size_t start = i;
      if (tokens->size() == static_cast<size_t>(Expression::kTokenLimit)) {
        return syntax_error(columns_[start], "expression longer than " +
                                                 std::to_string(Expression::kTokenLimit) + " tokens");
      }
      if (is_digit(c) || (c == '.' && i + 1 < n && is_digit(text_[i + 1]))) {
        RM_RETURN_IF_ERROR(scan_number(&i));
        Token t;
        RM_RETURN_IF_ERROR(number_token(text_.substr(start, i - start), columns_[start], &t));
        tokens->push_back(std::move(t));
      } else if (c == '\'' || c == '"') {
        std::string value;
        RM_RETURN_IF_ERROR(scan_string(&i, &value));
        tokens->push_back(Token{TokKind::kString, std::string(text_.substr(start, i - start)),
                                Value::string(std::move(value)), columns_[start]});
      } else if (is_name_start(c)) {
        while (i < n && is_name_char(text_[i])) ++i;
        tokens->push_back(
            Token{TokKind::kName, std::string(text_.substr(start, i - start)), Value(), columns_[start]});
      } else if (i + 1 < n && is_two_char_op(text_.substr(i, 2))) {
        tokens->push_back(Token{TokKind::kOp, std::string(text_.substr(i, 2)), Value(), columns_[start]});
        i += 2;
      } else if (std::string_view("+-*/%<>()[],.").find(c) != std::string_view::npos) {
        tokens->push_back(Token{TokKind::kOp, std::string(1, c), Value(), columns_[start]});
        ++i;
      } else if (c == '=') {
        return syntax_error(columns_[start], "unexpected '=' (comparison is '==')");
      } else {
        const std::string_view ch =
            text_.substr(i, sequence_length(static_cast<unsigned char>(c)));
        return syntax_error(columns_[start], "unexpected character '" + std::string(ch) + "'");
      }
    }
  }

 private:
  static bool is_two_char_op(std::string_view s) {
    return s == "**" || s == "//" || s == "==" || s == "!=" || s == "<=" || s == ">=";
  }

  Status scan_number(size_t* pos) {
    const size_t n = text_.size(), start = *pos;
    size_t i = start;
    while (i < n && is_digit(text_[i])) ++i;
    if (i < n && text_[i] == '.') {
      ++i;
      while (i < n && is_digit(text_[i])) ++i;
    }
    if (i < n && (text_[i] == 'e' || text_[i] == 'E')) {
      size_t j = i + 1;
      if (j < n && (text_[j] == '+' || text_[j] == '-')) ++j;
      if (j < n && is_digit(text_[j])) {
        while (j < n && is_digit(text_[j])) ++j;
        i = j;
      }
    }
    if (i < n && is_name_char(text_[i])) {
      size_t end = i;
      while (end < n && is_name_char(text_[end])) ++end;
      return syntax_error(columns_[start],
                          "invalid number '" + std::string(text_.substr(start, end - start)) + "'");
    }
    *pos = i;
    return Status::OK();
  }

  static Status number_token(std::string_view t, int column, Token* out) {
    out->kind = TokKind::kNumber;
    out->text = std::string(t);
    out->column = column;
    if (t.find_first_of(".eE") != std::string_view::npos) {
      double d = 0.0;
      const auto r = std::from_chars(t.data(), t.data() + t.size(), d);
      if (r.ec == std::errc::result_out_of_range) d = out_of_range_literal(t);
      out->value = Value::real(d);
      return Status::OK();
    }
    if (t.size() > 1 && t[0] == '0' && t.find_first_not_of('0') != std::string_view::npos) {
      return syntax_error(column, "invalid number '" + std::string(t) + "' (leading zeros)");
    }
    int64_t v = 0;
    const auto r = std::from_chars(t.data(), t.data() + t.size(), v);
    if (r.ec != std::errc()) {
      return syntax_error(column, "integer literal " + std::string(t) + " does not fit in int64");
    }
    out->value = Value::integer(v);
    return Status::OK();
  }

  Status scan_string(size_t* pos, std::string* out) {
    const size_t n = text_.size(), start = *pos;
    const char quote = text_[start];
    size_t i = start + 1;
    while (true) {
      if (i >= n) return syntax_error(columns_[start], "unterminated string");
      const char c = text_[i];
      if (c == quote) {
        *pos = i + 1;
        return Status::OK();
      }
      if (c != '\\') {
        out->push_back(c);
        ++i;
        continue;
      }
      if (i + 1 >= n) return syntax_error(columns_[start], "unterminated string");
      const char e = text_[i + 1];
      switch (e) {
        case '\\': out->push_back('\\'); i += 2; continue;
        case '\'': out->push_back('\''); i += 2; continue;
        case '"': out->push_back('"'); i += 2; continue;
        case 'n': out->push_back('\n'); i += 2; continue;
        case 't': out->push_back('\t'); i += 2; continue;
        case 'r': out->push_back('\r'); i += 2; continue;
        case '0': out->push_back('\0'); i += 2; continue;
        default: break;
      }
      if (e == 'u') {
        bool ok = i + 6 <= n;
        for (size_t k = i + 2; ok && k < i + 6; ++k) ok = is_hex(text_[k]);
        if (!ok) return syntax_error(columns_[i], "invalid \\u escape (it takes 4 hex digits)");
        const std::string digits(text_.substr(i + 2, 4));
        const uint32_t cp = static_cast<uint32_t>(std::strtoul(digits.c_str(), nullptr, 16));
        if (cp >= 0xD800 && cp <= 0xDFFF) {
          return syntax_error(columns_[i], "invalid \\u escape (\\u" + digits + " is a surrogate)");
        }
        append_utf8(out, cp);
        i += 6;
        continue;
      }
      const std::string_view ch = text_.substr(i + 1, sequence_length(static_cast<unsigned char>(e)));
      return syntax_error(columns_[i], "invalid escape sequence '\\" + std::string(ch) + "'");
    }
  }

  std::string_view text_;
  std::vector<int> columns_;  // 1-based column of each byte offset (and of the end)
};

}  // namespace

// ----------------------------------------------------------------------------------- syntax tree

enum class Kind : uint8_t {
  kItem, kConst, kList, kPostfix, kNeg, kPos, kNot, kPow, kOr, kAnd, kCompare, kBinary, kCall,
};
enum class Fn : uint8_t {
  kAbs, kLen, kMin, kMax, kRound, kInt, kFloat,
  kIsInt, kIsFloat, kIsNumber, kIsBool, kIsStr, kIsList, kIsMap, kIsNull,
};
enum class Cmp : uint8_t { kEq, kNe, kLt, kLe, kGt, kGe, kIn, kNotIn };
enum Trailer : uint8_t { kField = 0, kIndex = 1 };

// One node of the tree. Children are children[first, first + count); kCompare and kBinary have
// count - 1 operators in ops[op_first...] (Cmp or arith::Op), kPostfix count - 1 trailer kinds
// (a field's child is a kConst holding the name).
struct AstNode {
  Kind kind;
  uint8_t fn = 0;
  uint32_t first = 0;
  uint32_t count = 0;
  uint32_t op_first = 0;
  Value value;
};

struct TypedProgram;  // below

struct Program {
  std::string text;
  std::vector<AstNode> nodes;
  std::vector<uint32_t> children;
  std::vector<uint8_t> ops;
  uint32_t root = 0;
  // The typed program for each item type (see TType), or null.
  std::unique_ptr<const TypedProgram> typed[5];

  ~Program();
  const AstNode& node(uint32_t id) const { return nodes[id]; }
  uint32_t child(const AstNode& n, uint32_t k) const { return children[n.first + k]; }

  Status eval(uint32_t id, const Value& item, Value* out) const;
  Status eval_call(const AstNode& n, const Value& item, Value* out) const;
  Status eval_postfix(const AstNode& n, const Value& item, Value* out) const;
};

// Compiles p->typed (the typed programs the tree has).
void compile_typed(Program* p);

namespace {

struct FunctionInfo {
  const char* name;
  Fn fn;
  int fewest;
  int most;  // -1: no upper bound
};

constexpr FunctionInfo kFunctions[] = {
    {"abs", Fn::kAbs, 1, 1},         {"len", Fn::kLen, 1, 1},
    {"min", Fn::kMin, 1, -1},        {"max", Fn::kMax, 1, -1},
    {"round", Fn::kRound, 1, 2},     {"int", Fn::kInt, 1, 1},
    {"float", Fn::kFloat, 1, 1},     {"is_int", Fn::kIsInt, 1, 1},
    {"is_float", Fn::kIsFloat, 1, 1}, {"is_number", Fn::kIsNumber, 1, 1},
    {"is_bool", Fn::kIsBool, 1, 1},  {"is_str", Fn::kIsStr, 1, 1},
    {"is_list", Fn::kIsList, 1, 1},  {"is_map", Fn::kIsMap, 1, 1},
    {"is_null", Fn::kIsNull, 1, 1},
};

const FunctionInfo* find_function(std::string_view name) {
  for (const FunctionInfo& f : kFunctions) {
    if (name == f.name) return &f;
  }
  return nullptr;
}

// ----------------------------------------------------------------------------------------- parser

class Parser {
 public:
  Parser(std::vector<Token> tokens, Program* program)
      : tokens_(std::move(tokens)), p_(program) {}

  Status parse(uint32_t* root) {
    RM_RETURN_IF_ERROR(expression(root));
    if (tok().kind != TokKind::kEnd) return unexpected();
    return Status::OK();
  }

 private:
  const Token& tok() const { return tokens_[pos_]; }
  const Token& advance() { return tokens_[pos_++]; }

  Status enter(int column) {
    if (++depth_ > Expression::kNestingLimit) {
      return syntax_error(column, "expression nested more than " +
                                      std::to_string(Expression::kNestingLimit) + " levels deep");
    }
    return Status::OK();
  }
  void leave() { --depth_; }

  Status unexpected(const std::string& expected = "") const {
    const Token& t = tok();
    if (!expected.empty()) return syntax_error(t.column, "expected " + expected + ", found " + t.describe());
    return syntax_error(t.column, "unexpected " + t.describe());
  }
  Status expect(std::string_view op, const std::string& expected) {
    if (!tok().is_op(op)) return unexpected(expected);
    advance();
    return Status::OK();
  }

  uint32_t add(Kind kind, const std::vector<uint32_t>& kids = {}, const std::vector<uint8_t>& ops = {},
               Value value = Value(), uint8_t fn = 0) {
    AstNode n;
    n.kind = kind;
    n.fn = fn;
    n.first = static_cast<uint32_t>(p_->children.size());
    n.count = static_cast<uint32_t>(kids.size());
    n.op_first = static_cast<uint32_t>(p_->ops.size());
    n.value = std::move(value);
    p_->children.insert(p_->children.end(), kids.begin(), kids.end());
    p_->ops.insert(p_->ops.end(), ops.begin(), ops.end());
    p_->nodes.push_back(std::move(n));
    return static_cast<uint32_t>(p_->nodes.size() - 1);
  }

  Status expression(uint32_t* out) { return or_test(out); }

  Status logical(Kind kind, std::string_view keyword, uint32_t* out) {
    std::vector<uint32_t> operands(1);
    RM_RETURN_IF_ERROR(kind == Kind::kOr ? and_test(&operands[0]) : not_test(&operands[0]));
    while (tok().is_name(keyword)) {
      advance();
      operands.emplace_back();
      RM_RETURN_IF_ERROR(kind == Kind::kOr ? and_test(&operands.back()) : not_test(&operands.back()));
    }
    *out = operands.size() == 1 ? operands[0] : add(kind, operands);
    return Status::OK();
  }
  Status or_test(uint32_t* out) { return logical(Kind::kOr, "or", out); }
  Status and_test(uint32_t* out) { return logical(Kind::kAnd, "and", out); }

  Status not_test(uint32_t* out) {
    if (tok().is_name("not")) {
      RM_RETURN_IF_ERROR(enter(advance().column));
      uint32_t operand;
      RM_RETURN_IF_ERROR(not_test(&operand));
      leave();
      *out = add(Kind::kNot, {operand});
      return Status::OK();
    }
    return comparison(out);
  }

  Status comparison(uint32_t* out) {
    std::vector<uint32_t> operands(1);
    std::vector<uint8_t> ops;
    RM_RETURN_IF_ERROR(arith(&operands[0]));
    while (true) {
      const Token& t = tok();
      Cmp op;
      if (t.is_op("==")) op = Cmp::kEq;
      else if (t.is_op("!=")) op = Cmp::kNe;
      else if (t.is_op("<")) op = Cmp::kLt;
      else if (t.is_op("<=")) op = Cmp::kLe;
      else if (t.is_op(">")) op = Cmp::kGt;
      else if (t.is_op(">=")) op = Cmp::kGe;
      else if (t.is_name("in")) op = Cmp::kIn;
      else if (t.is_name("not")) {
        advance();
        if (!tok().is_name("in")) return unexpected("'in' after 'not'");
        op = Cmp::kNotIn;
      } else {
        break;
      }
      advance();
      ops.push_back(static_cast<uint8_t>(op));
      operands.emplace_back();
      RM_RETURN_IF_ERROR(arith(&operands.back()));
    }
    *out = ops.empty() ? operands[0] : add(Kind::kCompare, operands, ops);
    return Status::OK();
  }

  Status binary_level(bool sum, uint32_t* out) {
    std::vector<uint32_t> operands(1);
    std::vector<uint8_t> ops;
    RM_RETURN_IF_ERROR(sum ? term(&operands[0]) : factor(&operands[0]));
    while (tok().kind == TokKind::kOp) {
      const std::string& s = tok().text;
      arith::Op op;
      if (sum && s == "+") op = arith::Op::kAdd;
      else if (sum && s == "-") op = arith::Op::kSubtract;
      else if (!sum && s == "*") op = arith::Op::kMultiply;
      else if (!sum && s == "/") op = arith::Op::kDivide;
      else if (!sum && s == "//") op = arith::Op::kFloorDivide;
      else if (!sum && s == "%") op = arith::Op::kModulo;
      else break;
      advance();
      ops.push_back(static_cast<uint8_t>(op));
      operands.emplace_back();
      RM_RETURN_IF_ERROR(sum ? term(&operands.back()) : factor(&operands.back()));
    }
    *out = ops.empty() ? operands[0] : add(Kind::kBinary, operands, ops);
    return Status::OK();
  }
  Status arith(uint32_t* out) { return binary_level(true, out); }
  Status term(uint32_t* out) { return binary_level(false, out); }

  Status factor(uint32_t* out) {
    const Token& t = tok();
    if (t.is_op("-") || t.is_op("+")) {
      const bool minus = t.text == "-";
      advance();
      RM_RETURN_IF_ERROR(enter(t.column));
      uint32_t operand;
      RM_RETURN_IF_ERROR(factor(&operand));
      leave();
      *out = add(minus ? Kind::kNeg : Kind::kPos, {operand});
      return Status::OK();
    }
    return power(out);
  }

  Status power(uint32_t* out) {
    uint32_t base;
    RM_RETURN_IF_ERROR(postfix(&base));
    if (tok().is_op("**")) {
      RM_RETURN_IF_ERROR(enter(advance().column));
      uint32_t exponent;
      RM_RETURN_IF_ERROR(factor(&exponent));
      leave();
      *out = add(Kind::kPow, {base, exponent});
      return Status::OK();
    }
    *out = base;
    return Status::OK();
  }

  Status postfix(uint32_t* out) {
    std::vector<uint32_t> parts(1);
    std::vector<uint8_t> trailers;
    RM_RETURN_IF_ERROR(atom(&parts[0]));
    while (true) {
      const Token& t = tok();
      if (t.is_op(".")) {
        advance();
        if (tok().kind != TokKind::kName) return unexpected("a field name after '.'");
        parts.push_back(add(Kind::kConst, {}, {}, Value::string(advance().text)));
        trailers.push_back(kField);
      } else if (t.is_op("[")) {
        advance();
        RM_RETURN_IF_ERROR(enter(t.column));
        uint32_t index;
        RM_RETURN_IF_ERROR(expression(&index));
        RM_RETURN_IF_ERROR(expect("]", "']'"));
        leave();
        parts.push_back(index);
        trailers.push_back(kIndex);
      } else {
        break;
      }
    }
    *out = trailers.empty() ? parts[0] : add(Kind::kPostfix, parts, trailers);
    return Status::OK();
  }

  Status atom(uint32_t* out) {
    const Token& t = tok();
    if (t.kind == TokKind::kNumber || t.kind == TokKind::kString) {
      advance();
      *out = add(Kind::kConst, {}, {}, t.value);
      return Status::OK();
    }
    if (t.kind == TokKind::kName) {
      const std::string& name = t.text;
      if (name == "item") {
        advance();
        *out = add(Kind::kItem);
        return Status::OK();
      }
      if (name == "True" || name == "true" || name == "False" || name == "false") {
        advance();
        *out = add(Kind::kConst, {}, {}, Value::boolean(name == "True" || name == "true"));
        return Status::OK();
      }
      if (name == "None" || name == "null") {
        advance();
        *out = add(Kind::kConst);
        return Status::OK();
      }
      if (const FunctionInfo* f = find_function(name)) return call(*f, out);
      if (name == "and" || name == "or" || name == "not" || name == "in") return unexpected();
      return syntax_error(t.column, "unknown name '" + name + "'");
    }
    if (t.is_op("(")) {
      advance();
      RM_RETURN_IF_ERROR(enter(t.column));
      RM_RETURN_IF_ERROR(expression(out));
      RM_RETURN_IF_ERROR(expect(")", "')'"));
      leave();
      return Status::OK();
    }
    if (t.is_op("[")) {
      advance();
      RM_RETURN_IF_ERROR(enter(t.column));
      std::vector<uint32_t> elements;
      RM_RETURN_IF_ERROR(sequence("]", &elements));
      leave();
      *out = add(Kind::kList, elements);
      return Status::OK();
    }
    return unexpected();
  }

  Status sequence(std::string_view close, std::vector<uint32_t>* elements) {
    if (tok().is_op(close)) {
      advance();
      return Status::OK();
    }
    elements->emplace_back();
    RM_RETURN_IF_ERROR(expression(&elements->back()));
    while (tok().is_op(",")) {
      advance();
      elements->emplace_back();
      RM_RETURN_IF_ERROR(expression(&elements->back()));
    }
    return expect(close, "',' or '" + std::string(close) + "'");
  }

  Status call(const FunctionInfo& f, uint32_t* out) {
    const Token& name = advance();
    if (!tok().is_op("(")) {
      return syntax_error(name.column, "function '" + name.text + "' must be called: " + name.text + "(...)");
    }
    RM_RETURN_IF_ERROR(enter(advance().column));
    std::vector<uint32_t> args;
    RM_RETURN_IF_ERROR(sequence(")", &args));
    leave();
    const int n = static_cast<int>(args.size());
    if (n < f.fewest || (f.most >= 0 && n > f.most)) {
      std::string wanted;
      if (f.most < 0) wanted = "at least " + std::to_string(f.fewest) + " argument";
      else if (f.fewest == f.most) wanted = std::to_string(f.fewest) + " argument";
      else wanted = std::to_string(f.fewest) + " or " + std::to_string(f.most) + " arguments";
      return syntax_error(name.column, name.text + "() takes " + wanted + " (" + std::to_string(n) + " given)");
    }
    *out = add(Kind::kCall, args, {}, Value(), static_cast<uint8_t>(f.fn));
    return Status::OK();
  }

  std::vector<Token> tokens_;
  size_t pos_ = 0;
  int depth_ = 0;
  Program* p_;
};

// ----------------------------------------------------------------------------------- value model
//
// As in the Python module: a numpy scalar or a 0-d array stands for the number it holds everywhere
// but in arithmetic; an array with dimensions is no number, and has no truth value; an int beyond
// int64 (an opaque big integer) is a number whose value cannot be used (kOverflow).

bool is_big_int(const Value& v) { return v.is_object() && v.as_object().is_big_integer(); }
bool is_shaped_array(const Value& v) { return v.is_array() && v.as_array().ndim() > 0; }
bool is_numeric_0d(const Value& v) { return v.is_array() && v.as_array().ndim() == 0; }
bool is_py_number(const Value& v) { return v.is_bool() || v.is_int() || v.is_float(); }
bool is_number(const Value& v) { return is_py_number(v) || is_numeric_0d(v) || is_big_int(v); }

struct Num {
  enum Kind : uint8_t { kBool, kInt, kFloat } kind;
  int64_t i;
  double f;
  bool is_float() const { return kind == kFloat; }
};

Status big_int_overflow() { return arith::big_int_overflow(); }

double half_to_double(uint16_t h) {
  const int sign = h >> 15, exponent = (h >> 10) & 0x1F, mantissa = h & 0x3FF;
  double v;
  if (exponent == 0) v = std::ldexp(mantissa, -24);
  else if (exponent == 31) v = mantissa ? std::numeric_limits<double>::quiet_NaN() : std::numeric_limits<double>::infinity();
  else v = std::ldexp(mantissa + 1024, exponent - 25);
  return sign ? -v : v;
}

// The element of a 0-d (or any) array at flat index k, as a Python number.
Status array_element_number(const NDArray& a, int64_t k, Num* out) {
  const void* d = a.data();
  auto as_int = [&](int64_t v) { *out = Num{Num::kInt, v, 0.0}; };
  auto as_float = [&](double v) { *out = Num{Num::kFloat, 0, v}; };
  switch (a.dtype()) {
    case DType::kBool: *out = Num{Num::kBool, static_cast<const uint8_t*>(d)[k] != 0, 0.0}; break;
    case DType::kInt8: as_int(static_cast<const int8_t*>(d)[k]); break;
    case DType::kInt16: as_int(static_cast<const int16_t*>(d)[k]); break;
    case DType::kInt32: as_int(static_cast<const int32_t*>(d)[k]); break;
    case DType::kInt64: as_int(static_cast<const int64_t*>(d)[k]); break;
    case DType::kUInt8: as_int(static_cast<const uint8_t*>(d)[k]); break;
    case DType::kUInt16: as_int(static_cast<const uint16_t*>(d)[k]); break;
    case DType::kUInt32: as_int(static_cast<const uint32_t*>(d)[k]); break;
    case DType::kUInt64: {
      const uint64_t v = static_cast<const uint64_t*>(d)[k];
      if (v > static_cast<uint64_t>(kInt64Max)) return big_int_overflow();
      as_int(static_cast<int64_t>(v));
      break;
    }
    case DType::kFloat16: as_float(half_to_double(static_cast<const uint16_t*>(d)[k])); break;
    case DType::kFloat32: as_float(static_cast<const float*>(d)[k]); break;
    case DType::kFloat64: as_float(static_cast<const double*>(d)[k]); break;
  }
  return Status::OK();
}

// The number `v` stands for; *is_num false when it is no number.
Status number_of(const Value& v, Num* out, bool* is_num) {
  *is_num = true;
  switch (v.kind()) {
    case ValueKind::kBool: *out = Num{Num::kBool, v.as_int(), 0.0}; return Status::OK();
    case ValueKind::kInt: *out = Num{Num::kInt, v.as_int(), 0.0}; return Status::OK();
    case ValueKind::kFloat: *out = Num{Num::kFloat, 0, v.as_float()}; return Status::OK();
    case ValueKind::kArray:
      if (v.as_array().ndim() == 0) return array_element_number(v.as_array(), 0, out);
      break;
    case ValueKind::kObject:
      if (v.as_object().is_big_integer()) return big_int_overflow();
      break;
    default: break;
  }
  *is_num = false;
  return Status::OK();
}

std::string type_name(const Value& v) { return v.type_name(); }

// The type name with its article, for messages ("an int", "a str"); the Python executor's _a.
std::string a_type(const std::string& name) {
  const bool vowel = !name.empty() && std::string_view("aeiou").find(name[0]) != std::string_view::npos;
  return (vowel ? "an " : "a ") + name;
}

Status array_error(const char* what) {
  return TypeError(std::string(what) + " of an array is ambiguous (use a numpy scalar or an element)");
}

// Exact comparison of an int with a double, as Python does: -1, 0, 1, or 2 when unordered (NaN).
int compare_int_double(int64_t i, double f) {
  if (std::isnan(f)) return 2;
  if (f >= 9223372036854775808.0) return -1;
  if (f < -9223372036854775808.0) return 1;
  const double t = std::trunc(f);
  const int64_t ti = static_cast<int64_t>(t);
  if (i != ti) return i < ti ? -1 : 1;
  return f > t ? -1 : f < t ? 1 : 0;
}

int compare_num(const Num& a, const Num& b) {
  if (!a.is_float() && !b.is_float()) return a.i < b.i ? -1 : a.i > b.i ? 1 : 0;
  if (a.is_float() && b.is_float()) {
    if (std::isnan(a.f) || std::isnan(b.f)) return 2;
    return a.f < b.f ? -1 : a.f > b.f ? 1 : 0;
  }
  if (a.is_float()) {
    const int c = compare_int_double(b.i, a.f);
    return c == 2 ? 2 : -c;
  }
  return compare_int_double(a.i, b.f);
}

bool comparison_holds(Cmp op, int c) {
  if (c == 2) return op == Cmp::kNe;
  switch (op) {
    case Cmp::kEq: return c == 0;
    case Cmp::kNe: return c != 0;
    case Cmp::kLt: return c < 0;
    case Cmp::kLe: return c <= 0;
    case Cmp::kGt: return c > 0;
    case Cmp::kGe: return c >= 0;
    default: return false;
  }
}

const char* cmp_symbol(Cmp op) {
  switch (op) {
    case Cmp::kEq: return "==";
    case Cmp::kNe: return "!=";
    case Cmp::kLt: return "<";
    case Cmp::kLe: return "<=";
    case Cmp::kGt: return ">";
    case Cmp::kGe: return ">=";
    case Cmp::kIn: return "in";
    case Cmp::kNotIn: return "not in";
  }
  return "?";
}

Status truth(const Value& v, bool* out) {
  switch (v.kind()) {
    case ValueKind::kNull: *out = false; return Status::OK();
    case ValueKind::kBool:
    case ValueKind::kInt: *out = v.as_int() != 0; return Status::OK();
    case ValueKind::kFloat: *out = v.as_float() != 0.0; return Status::OK();
    case ValueKind::kString:
    case ValueKind::kBytes: *out = !v.as_string().empty(); return Status::OK();
    case ValueKind::kList: *out = !v.as_list().empty(); return Status::OK();
    case ValueKind::kMap: *out = !v.as_map().empty(); return Status::OK();
    case ValueKind::kArray: {
      if (v.as_array().ndim() > 0) return array_error("the truth value");
      Num n;
      RM_RETURN_IF_ERROR(array_element_number(v.as_array(), 0, &n));
      *out = n.is_float() ? n.f != 0.0 : n.i != 0;
      return Status::OK();
    }
    case ValueKind::kObject:
      if (v.as_object().is_big_integer()) {
        *out = true;
        return Status::OK();
      }
      break;
    default: break;
  }
  return TypeError("the truth value of " + type_name(v) + " is not defined");
}

Status equal(const Value& a, const Value& b, bool* out) {
  if (is_shaped_array(a) || is_shaped_array(b)) return array_error("comparison");
  const bool a_num = is_number(a), b_num = is_number(b);
  if (a_num || b_num) {
    if (!(a_num && b_num)) {
      *out = false;
      return Status::OK();
    }
    Num x, y;
    bool ok;
    RM_RETURN_IF_ERROR(number_of(a, &x, &ok));
    RM_RETURN_IF_ERROR(number_of(b, &y, &ok));
    *out = compare_num(x, y) == 0;
    return Status::OK();
  }
  if (a.kind() != b.kind()) {
    *out = false;
    return Status::OK();
  }
  switch (a.kind()) {
    case ValueKind::kNull: *out = true; return Status::OK();
    case ValueKind::kString:
    case ValueKind::kBytes: *out = a.as_string() == b.as_string(); return Status::OK();
    case ValueKind::kList: {
      const List& x = a.as_list();
      const List& y = b.as_list();
      *out = false;
      if (x.size() != y.size()) return Status::OK();
      for (size_t i = 0; i < x.size(); ++i) {
        bool e;
        RM_RETURN_IF_ERROR(equal(x[i], y[i], &e));
        if (!e) return Status::OK();
      }
      *out = true;
      return Status::OK();
    }
    case ValueKind::kMap: {
      const Map& x = a.as_map();
      *out = false;
      if (x.size() != b.as_map().size()) return Status::OK();
      for (const auto& [key, value] : x) {
        const Value* other = b.find(key);
        if (!other) return Status::OK();
        bool e;
        RM_RETURN_IF_ERROR(equal(value, *other, &e));
        if (!e) return Status::OK();
      }
      *out = true;
      return Status::OK();
    }
    default: *out = a == b; return Status::OK();  // opaque objects: identity
  }
}

Status order(Cmp op, const Value& a, const Value& b, bool* out) {
  if (is_shaped_array(a) || is_shaped_array(b)) return array_error("comparison");
  if (is_number(a) && is_number(b)) {
    Num x, y;
    bool ok;
    RM_RETURN_IF_ERROR(number_of(a, &x, &ok));
    RM_RETURN_IF_ERROR(number_of(b, &y, &ok));
    *out = comparison_holds(op, compare_num(x, y));
    return Status::OK();
  }
  if (a.is_string() && b.is_string()) {  // UTF-8 byte order is code point order
    const int c = a.as_string().compare(b.as_string());
    *out = comparison_holds(op, c < 0 ? -1 : c > 0 ? 1 : 0);
    return Status::OK();
  }
  if (a.is_list() && b.is_list()) {
    const List& x = a.as_list();
    const List& y = b.as_list();
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
      bool e;
      RM_RETURN_IF_ERROR(equal(x[i], y[i], &e));
      if (!e) return order(op, x[i], y[i], out);
    }
    *out = comparison_holds(op, x.size() < y.size() ? -1 : x.size() > y.size() ? 1 : 0);
    return Status::OK();
  }
  return TypeError(std::string("'") + cmp_symbol(op) + "' is not supported between " + type_name(a) +
                   " and " + type_name(b));
}

Status contains(const Value& container, const Value& x, bool* out) {
  switch (container.kind()) {
    case ValueKind::kString:
      if (!x.is_string()) return TypeError("'in <str>' needs a str on the left, not " + type_name(x));
      *out = container.as_string().find(x.as_string()) != std::string::npos;
      return Status::OK();
    case ValueKind::kList:
      for (const Value& e : container.as_list()) {
        RM_RETURN_IF_ERROR(equal(e, x, out));
        if (*out) return Status::OK();
      }
      *out = false;
      return Status::OK();
    case ValueKind::kMap:
      if (x.is_string()) {
        *out = container.find(x.as_string()) != nullptr;
        return Status::OK();
      }
      if (x.is_list() || x.is_map() || (x.is_array() && !x.as_array().numpy_scalar())) {
        return TypeError(a_type(type_name(x)) + " cannot be a key of a map");
      }
      *out = false;
      return Status::OK();
    default:
      return TypeError("'in' needs a str, list or map on the right, not " + type_name(container));
  }
}

Status compare(Cmp op, const Value& a, const Value& b, bool* out) {
  switch (op) {
    case Cmp::kEq: return equal(a, b, out);
    case Cmp::kNe:
      RM_RETURN_IF_ERROR(equal(a, b, out));
      *out = !*out;
      return Status::OK();
    case Cmp::kIn: return contains(b, a, out);
    case Cmp::kNotIn:
      RM_RETURN_IF_ERROR(contains(b, a, out));
      *out = !*out;
      return Status::OK();
    default: return order(op, a, b, out);
  }
}

// ----------------------------------------------------------------------------------- arithmetic

arith::Scalar scalar_of(const Value& v) {
  return v.is_float() ? arith::Scalar::of_float(v.as_float()) : arith::Scalar::of_int(v.as_int());
}

Status binary(arith::Op op, const Value& a, const Value& b, Value* out) {
  const bool a_py = is_py_number(a), b_py = is_py_number(b);
  if (a_py && b_py) return arith::python_binary(op, scalar_of(a), scalar_of(b), out);
  const bool a_np = a.is_array(), b_np = b.is_array();
  if ((is_big_int(a) && (b_py || b_np || is_big_int(b))) || (is_big_int(b) && (a_py || a_np))) {
    return big_int_overflow();
  }
  if (op == arith::Op::kAdd && a.kind() == b.kind()) {
    if (a.is_string()) {
      *out = Value::string(a.as_string() + b.as_string());
      return Status::OK();
    }
    if (a.is_list()) {
      List joined = a.as_list();
      joined.insert(joined.end(), b.as_list().begin(), b.as_list().end());
      *out = Value::list(std::move(joined));
      return Status::OK();
    }
  }
  if (a_np && b_py) {
    Ref<NDArray> r;
    int64_t failed = 0;
    RM_RETURN_IF_ERROR(arith::numpy_binary(op, a.as_array(), scalar_of(b), &r, &failed));
    *out = Value::array(std::move(r));
    return Status::OK();
  }
  if (b_np && (a_np || a_py)) {
    Ref<NDArray> r;
    RM_RETURN_IF_ERROR(arith::numpy_general(op, a_np ? &a.as_array() : nullptr,
                                            a_np ? arith::Scalar::of_int(0) : scalar_of(a),
                                            b.as_array(), &r));
    *out = Value::array(std::move(r));
    return Status::OK();
  }
  return TypeError(std::string("unsupported operand types for ") + arith::op_symbol(op) + ": " +
                   type_name(a) + " and " + type_name(b));
}

// Unary minus is `x * -1`, unary plus `x * 1`, on Python numbers and numpy values only.
Status negate(const Value& v, bool minus, Value* out) {
  if (!is_py_number(v) && !v.is_array() && !is_big_int(v)) {
    return TypeError(std::string("bad operand type for unary ") + (minus ? "-" : "+") + ": " + type_name(v));
  }
  return binary(arith::Op::kMultiply, v, Value::integer(minus ? -1 : 1), out);
}

// ------------------------------------------------------------------------------------ functions

Status numeric_arg(const char* fn, const Value& v, Num* out) {
  bool ok;
  RM_RETURN_IF_ERROR(number_of(v, out, &ok));
  if (!ok) return TypeError(std::string(fn) + "() needs a number, not " + type_name(v));
  return Status::OK();
}

// Python's round(x) of a float: half to even, as an int.
Status round_to_int(double x, int64_t* out) {
  if (std::isnan(x)) return ValueError("cannot round a NaN to an int");
  if (std::isinf(x)) return OverflowError("cannot round an infinity to an int");
  double r = std::round(x);
  if (std::fabs(x - r) == 0.5) r = 2.0 * std::round(x / 2.0);
  if (!(r >= -9223372036854775808.0 && r < 9223372036854775808.0)) {
    return OverflowError("round(" + arith::float_repr(x) + ") does not fit in int64");
  }
  *out = static_cast<int64_t>(r);
  return Status::OK();
}

// CPython's round(x, ndigits) of a float: correctly rounded (half to even on the exact decimal
// value of x), through the exact decimal expansion glibc's printf gives.
Status round_float(double x, int64_t ndigits, double* out) {
  constexpr int64_t kNdigitsMax = 323, kNdigitsMin = -308;  // CPython's NDIGITS_MAX / MIN
  if (!std::isfinite(x) || ndigits > kNdigitsMax) {
    *out = x;
    return Status::OK();
  }
  if (ndigits < kNdigitsMin) {
    *out = 0.0 * x;
    return Status::OK();
  }
  constexpr int kDigits = 800;  // more than the 767 significant digits a double can have
  char buf[kDigits + 32];
  std::snprintf(buf, sizeof(buf), "%.*e", kDigits - 1, std::fabs(x));
  std::string digits;
  digits.reserve(kDigits);
  const char* p = buf;
  for (; *p && *p != 'e'; ++p) {
    if (*p != '.') digits.push_back(*p);
  }
  const int64_t exponent = std::strtol(p + 1, nullptr, 10);  // of digits[0]
  // Keep the digits whose weight is at least 10^-ndigits.
  const int64_t keep = exponent + ndigits + 1;
  std::string kept;
  int64_t kept_exponent = exponent;  // of kept[0]
  if (keep >= static_cast<int64_t>(digits.size())) {
    *out = x;
    return Status::OK();
  }
  bool round_up;
  if (keep < 0) {
    round_up = false;
  } else {
    const char next = digits[static_cast<size_t>(keep)];
    const bool rest_zero =
        digits.find_first_not_of('0', static_cast<size_t>(keep) + 1) == std::string::npos;
    const bool last_odd = keep > 0 && ((digits[static_cast<size_t>(keep) - 1] - '0') & 1);
    round_up = next > '5' || (next == '5' && (!rest_zero || last_odd));
    kept = digits.substr(0, static_cast<size_t>(keep));
  }
  if (round_up) {
    int64_t i = static_cast<int64_t>(kept.size()) - 1;
    while (i >= 0 && kept[static_cast<size_t>(i)] == '9') kept[static_cast<size_t>(i--)] = '0';
    if (i >= 0) {
      ++kept[static_cast<size_t>(i)];
    } else {
      kept.insert(kept.begin(), '1');
      ++kept_exponent;
    }
  }
  double r = 0.0;
  if (!kept.empty()) {
    const std::string text = kept.substr(0, 1) + "." + kept.substr(1) + "e" + std::to_string(kept_exponent);
    const auto res = std::from_chars(text.data(), text.data() + text.size(), r);
    if (res.ec == std::errc::result_out_of_range || std::isinf(r)) {
      return OverflowError("rounded value too large for a float");
    }
  }
  *out = std::signbit(x) ? -r : r;
  return Status::OK();
}

// Python's round(x, ndigits) of an int: x itself for ndigits >= 0, else half to even to a
// multiple of 10^-ndigits.
Status round_int(int64_t x, int64_t ndigits, int64_t* out) {
  if (ndigits >= 0) {
    *out = x;
    return Status::OK();
  }
  if (ndigits < -19) {  // 10^20 > 2 * |x|: everything rounds to 0
    *out = 0;
    return Status::OK();
  }
  __int128 p = 1;
  for (int64_t k = 0; k < -ndigits; ++k) p *= 10;
  __int128 q = x / p, r = x % p;
  if (r < 0) {
    r += p;
    --q;
  }
  if (2 * r > p || (2 * r == p && (q & 1))) ++q;
  const __int128 result = q * p;
  if (result < kInt64Min || result > kInt64Max) {
    return OverflowError("round(" + std::to_string(x) + ", " + std::to_string(ndigits) + ") does not fit in int64");
  }
  *out = static_cast<int64_t>(result);
  return Status::OK();
}

Status fn_round(const Value& x, const Value* ndigits, Value* out) {
  Num n;
  RM_RETURN_IF_ERROR(numeric_arg("round", x, &n));
  if (!ndigits) {
    if (!n.is_float()) {
      *out = Value::integer(n.i);
      return Status::OK();
    }
    int64_t r = 0;
    RM_RETURN_IF_ERROR(round_to_int(n.f, &r));
    *out = Value::integer(r);
    return Status::OK();
  }
  Num d;
  bool ok;
  RM_RETURN_IF_ERROR(number_of(*ndigits, &d, &ok));
  if (!ok || d.is_float()) return TypeError("round()'s digits must be an int, not " + type_name(*ndigits));
  if (n.is_float()) {
    double r = 0.0;
    RM_RETURN_IF_ERROR(round_float(n.f, d.i, &r));
    *out = Value::real(r);
    return Status::OK();
  }
  int64_t r = 0;
  RM_RETURN_IF_ERROR(round_int(n.i, d.i, &r));
  *out = Value::integer(r);
  return Status::OK();
}

Status fn_abs(const Value& x, Value* out) {
  Num n;
  RM_RETURN_IF_ERROR(numeric_arg("abs", x, &n));
  if (n.is_float()) {
    *out = Value::real(std::fabs(n.f));
  } else {
    if (n.i == kInt64Min) return OverflowError("abs(" + std::to_string(n.i) + ") does not fit in int64");
    *out = Value::integer(n.i < 0 ? -n.i : n.i);
  }
  return Status::OK();
}

// int(x) of a float: toward zero.
Status trunc_to_int(double f, int64_t* out) {
  if (std::isnan(f)) return ValueError("cannot convert a NaN to an int");
  if (std::isinf(f)) return OverflowError("cannot convert an infinity to an int");
  const double t = std::trunc(f);
  if (!(t >= -9223372036854775808.0 && t < 9223372036854775808.0)) {
    return OverflowError("int(" + arith::float_repr(f) + ") does not fit in int64");
  }
  *out = static_cast<int64_t>(t);
  return Status::OK();
}

Status fn_int(const Value& x, Value* out) {
  Num n;
  RM_RETURN_IF_ERROR(numeric_arg("int", x, &n));
  int64_t r = n.i;
  if (n.is_float()) RM_RETURN_IF_ERROR(trunc_to_int(n.f, &r));
  *out = Value::integer(r);
  return Status::OK();
}

Status fn_float(const Value& x, Value* out) {
  Num n;
  RM_RETURN_IF_ERROR(numeric_arg("float", x, &n));
  *out = Value::real(n.is_float() ? n.f : static_cast<double>(n.i));
  return Status::OK();
}

Status fn_len(const Value& x, Value* out) {
  size_t n;
  switch (x.kind()) {
    case ValueKind::kString: n = count_code_points(x.as_string()); break;
    case ValueKind::kBytes: n = x.as_string().size(); break;
    case ValueKind::kList: n = x.as_list().size(); break;
    case ValueKind::kMap: n = x.as_map().size(); break;
    case ValueKind::kArray:
      if (x.as_array().ndim() > 0) {
        n = static_cast<size_t>(x.as_array().shape()[0]);
        break;
      }
      [[fallthrough]];
    default: return TypeError(type_name(x) + " has no len()");
  }
  *out = Value::integer(static_cast<int64_t>(n));
  return Status::OK();
}

Status fn_min_max(bool is_min, const Value* args, size_t n, Value* out) {
  const char* name = is_min ? "min" : "max";
  if (n == 1) {
    if (!args[0].is_list()) {
      return TypeError(std::string(name) + "() of one argument needs a list, not " + type_name(args[0]));
    }
    const List& list = args[0].as_list();
    if (list.empty()) return ValueError(std::string(name) + "() of an empty list");
    if (list.size() == 1) {
      *out = list[0];
      return Status::OK();
    }
    return fn_min_max(is_min, list.data(), list.size(), out);
  }
  size_t best = 0;
  for (size_t i = 1; i < n; ++i) {
    bool better;
    RM_RETURN_IF_ERROR(order(is_min ? Cmp::kLt : Cmp::kGt, args[i], args[best], &better));
    if (better) best = i;
  }
  *out = args[best];
  return Status::OK();
}

// numpy scalar kinds for the type tests: 'b', 'i' (signed or unsigned) or 'f'; 0 otherwise.
char numpy_kind(const Value& v) {
  if (!is_numeric_0d(v)) return 0;
  switch (v.as_array().dtype()) {
    case DType::kBool: return 'b';
    case DType::kFloat16:
    case DType::kFloat32:
    case DType::kFloat64: return 'f';
    default: return 'i';
  }
}

bool type_test(Fn fn, const Value& v) {
  switch (fn) {
    case Fn::kIsInt: return v.is_int() || is_big_int(v) || numpy_kind(v) == 'i';
    case Fn::kIsFloat: return v.is_float() || numpy_kind(v) == 'f';
    case Fn::kIsNumber: return type_test(Fn::kIsInt, v) || type_test(Fn::kIsFloat, v);
    case Fn::kIsBool: return v.is_bool() || numpy_kind(v) == 'b';
    case Fn::kIsStr: return v.is_string();
    case Fn::kIsList: return v.is_list();
    case Fn::kIsMap: return v.is_map();
    case Fn::kIsNull: return v.is_null();
    default: return false;
  }
}

// ------------------------------------------------------------------------------- . and [] access

Status field(const Value& v, const std::string& name, Value* out) {
  if (!v.is_map()) return TypeError(a_type(type_name(v)) + " has no fields (looking up '" + name + "')");
  const Value* f = v.find(name);
  if (!f) return ValueError("no field '" + name + "'");
  *out = *f;
  return Status::OK();
}

// The position an int index designates in a sequence of `length`, negative from the end.
Status sequence_index(int64_t length, const Value& i, const char* what, int64_t* out) {
  const char k = numpy_kind(i);
  if (!(i.is_int() || i.is_bool() || is_big_int(i) || k == 'i' || k == 'b')) {
    return TypeError(a_type(what) + " index must be an int, not " + type_name(i));
  }
  Num n;
  bool ok;
  RM_RETURN_IF_ERROR(number_of(i, &n, &ok));
  const int64_t pos = n.i < 0 ? n.i + length : n.i;
  if (pos < 0 || pos >= length) {
    return ValueError("index " + std::to_string(n.i) + " out of range for " + a_type(what) + " of length " +
                      std::to_string(length));
  }
  *out = pos;
  return Status::OK();
}

Status index(const Value& v, const Value& i, Value* out) {
  int64_t pos;
  switch (v.kind()) {
    case ValueKind::kList:
      RM_RETURN_IF_ERROR(sequence_index(static_cast<int64_t>(v.as_list().size()), i, "list", &pos));
      *out = v.as_list()[static_cast<size_t>(pos)];
      return Status::OK();
    case ValueKind::kString: {
      const std::string& s = v.as_string();
      RM_RETURN_IF_ERROR(sequence_index(static_cast<int64_t>(count_code_points(s)), i, "str", &pos));
      *out = Value::string(std::string(code_point_at(s, static_cast<size_t>(pos))));
      return Status::OK();
    }
    case ValueKind::kMap:
      if (!i.is_string()) return TypeError("a map index must be a str, not " + type_name(i));
      return field(v, i.as_string(), out);
    case ValueKind::kArray: {
      const NDArray& a = v.as_array();
      if (a.ndim() == 0) break;
      RM_RETURN_IF_ERROR(sequence_index(a.shape()[0], i, "array", &pos));
      *out = Value::array(a.ndim() == 1 ? a.element(pos) : a.row(pos));
      return Status::OK();
    }
    default: break;
  }
  return TypeError(a_type(type_name(v)) + " cannot be indexed");
}

}  // namespace

// ------------------------------------------------------------------------------------ evaluator

Status Program::eval(uint32_t id, const Value& item, Value* out) const {
  const AstNode& n = nodes[id];
  switch (n.kind) {
    case Kind::kItem: *out = item; return Status::OK();
    case Kind::kConst: *out = n.value; return Status::OK();
    case Kind::kList: {
      List elements(n.count);
      for (uint32_t k = 0; k < n.count; ++k) RM_RETURN_IF_ERROR(eval(child(n, k), item, &elements[k]));
      *out = Value::list(std::move(elements));
      return Status::OK();
    }
    case Kind::kPostfix: return eval_postfix(n, item, out);
    case Kind::kNeg:
    case Kind::kPos: {
      Value v;
      RM_RETURN_IF_ERROR(eval(child(n, 0), item, &v));
      return negate(v, n.kind == Kind::kNeg, out);
    }
    case Kind::kNot: {
      Value v;
      RM_RETURN_IF_ERROR(eval(child(n, 0), item, &v));
      bool t;
      RM_RETURN_IF_ERROR(truth(v, &t));
      *out = Value::boolean(!t);
      return Status::OK();
    }
    case Kind::kPow: {
      Value a, b;
      RM_RETURN_IF_ERROR(eval(child(n, 0), item, &a));
      RM_RETURN_IF_ERROR(eval(child(n, 1), item, &b));
      return binary(arith::Op::kPower, a, b, out);
    }
    case Kind::kOr:
    case Kind::kAnd: {
      const bool is_or = n.kind == Kind::kOr;
      for (uint32_t k = 0; k + 1 < n.count; ++k) {
        RM_RETURN_IF_ERROR(eval(child(n, k), item, out));
        bool t;
        RM_RETURN_IF_ERROR(truth(*out, &t));
        if (t == is_or) return Status::OK();
      }
      return eval(child(n, n.count - 1), item, out);
    }
    case Kind::kCompare: {
      Value a, b;
      RM_RETURN_IF_ERROR(eval(child(n, 0), item, &a));
      for (uint32_t k = 1; k < n.count; ++k) {
        RM_RETURN_IF_ERROR(eval(child(n, k), item, &b));
        bool holds;
        RM_RETURN_IF_ERROR(compare(static_cast<Cmp>(ops[n.op_first + k - 1]), a, b, &holds));
        if (!holds) {
          *out = Value::boolean(false);
          return Status::OK();
        }
        a = std::move(b);
      }
      *out = Value::boolean(true);
      return Status::OK();
    }
    case Kind::kBinary: {
      Value acc, b;
      RM_RETURN_IF_ERROR(eval(child(n, 0), item, &acc));
      for (uint32_t k = 1; k < n.count; ++k) {
        RM_RETURN_IF_ERROR(eval(child(n, k), item, &b));
        Value r;
        RM_RETURN_IF_ERROR(binary(static_cast<arith::Op>(ops[n.op_first + k - 1]), acc, b, &r));
        acc = std::move(r);
      }
      *out = std::move(acc);
      return Status::OK();
    }
    case Kind::kCall: return eval_call(n, item, out);
  }
  return InternalError("unknown expression node");
}

Status Program::eval_postfix(const AstNode& n, const Value& item, Value* out) const {
  Value v;
  RM_RETURN_IF_ERROR(eval(child(n, 0), item, &v));
  for (uint32_t k = 1; k < n.count; ++k) {
    Value next;
    if (ops[n.op_first + k - 1] == kField) {
      RM_RETURN_IF_ERROR(field(v, nodes[child(n, k)].value.as_string(), &next));
    } else {
      Value i;
      RM_RETURN_IF_ERROR(eval(child(n, k), item, &i));
      RM_RETURN_IF_ERROR(index(v, i, &next));
    }
    v = std::move(next);
  }
  *out = std::move(v);
  return Status::OK();
}

Status Program::eval_call(const AstNode& n, const Value& item, Value* out) const {
  Value one[2];
  std::vector<Value> many;
  Value* args = one;
  if (n.count > 2) {
    many.resize(n.count);
    args = many.data();
  }
  for (uint32_t k = 0; k < n.count; ++k) RM_RETURN_IF_ERROR(eval(child(n, k), item, &args[k]));
  const Fn fn = static_cast<Fn>(n.fn);
  switch (fn) {
    case Fn::kAbs: return fn_abs(args[0], out);
    case Fn::kLen: return fn_len(args[0], out);
    case Fn::kMin:
    case Fn::kMax: return fn_min_max(fn == Fn::kMin, args, n.count, out);
    case Fn::kRound: return fn_round(args[0], n.count == 2 ? &args[1] : nullptr, out);
    case Fn::kInt: return fn_int(args[0], out);
    case Fn::kFloat: return fn_float(args[0], out);
    default: *out = Value::boolean(type_test(fn, args[0])); return Status::OK();
  }
}

// ------------------------------------------------------------------------------ typed programs
//
// For a batch whose items are all of one numeric type, the tree compiles to straight-line code over
// registers of kChunk lanes (one per item), each of one type. Every operation computes exactly what
// the evaluator above computes, or marks the lane "bad" (overflow, a zero divisor, a NaN to round,
// a float power outside the easy cases...); a bad lane is evaluated again by the evaluator, which
// gives the reference result or error. Short-circuit operators evaluate both sides here, so a lane
// is also bad when a side Python would skip fails: the evaluator then skips it.

// Register types: Python bool / int / float, and numpy int64 / float64 scalars (the elements of a
// column), whose arithmetic gives numpy scalars.
enum class TType : uint8_t { kInt, kFloat, kBool, kNpInt, kNpFloat };
constexpr int kTypeCount = 5;
constexpr int kChunk = 256;

bool is_intlike(TType t) { return t == TType::kInt || t == TType::kBool || t == TType::kNpInt; }
bool is_numpy_type(TType t) { return t == TType::kNpInt || t == TType::kNpFloat; }

enum class TOp : uint8_t {
  kAddI, kSubI, kMulI, kFloorDivI, kModI, kPowI, kDivII, kDivNII,
  kFloorDivIConst, kModIConst,
  kAddF, kSubF, kMulF, kDivF, kFloorDivF, kModF, kPowF, kPowNF,
  kItoF, kNegI,
  kCmpI, kCmpF, kCmpIF, kCmpFI,
  kNotI, kNotF, kTruthI, kTruthF,
  kSelAndI, kSelAndF, kSelOrI, kSelOrF,
  kAbsI, kAbsF, kRoundF, kTruncF,
  kMinI, kMaxI, kMinF, kMaxF,
};

// Unsigned division by a constant as a multiply (libdivide's u64 algorithm): q = n / d for d > 1.
struct UDivMagic {
  uint64_t magic = 0;
  uint8_t shift = 0;
  bool add = false;
  bool power_of_two = false;

  static UDivMagic make(uint64_t d) {
    UDivMagic m;
    const int log2d = 63 - __builtin_clzll(d);
    m.shift = static_cast<uint8_t>(log2d);
    if ((d & (d - 1)) == 0) {
      m.power_of_two = true;
      return m;
    }
    const unsigned __int128 numerator = static_cast<unsigned __int128>(1) << (64 + log2d);
    uint64_t proposed = static_cast<uint64_t>(numerator / d);
    const uint64_t rem = static_cast<uint64_t>(numerator % d);
    const uint64_t e = d - rem;
    if (e < (uint64_t{1} << log2d)) {
      m.add = false;
    } else {
      proposed += proposed;
      const uint64_t twice_rem = rem + rem;
      if (twice_rem >= d || twice_rem < rem) proposed += 1;
      m.add = true;
    }
    m.magic = 1 + proposed;
    return m;
  }
  uint64_t divide(uint64_t n) const {
    if (power_of_two) return n >> shift;
    const uint64_t q = static_cast<uint64_t>((static_cast<unsigned __int128>(magic) * n) >> 64);
    if (!add) return q >> shift;
    return (((n - q) >> 1) + q) >> shift;
  }
};

struct TInstr {
  TOp op;
  Cmp cmp = Cmp::kEq;
  uint16_t dst = 0, a = 0, b = 0;
  int64_t divisor = 0;  // kFloorDivIConst / kModIConst (> 1)
  UDivMagic magic;
};

struct TypedProgram {
  TType result_type;
  uint16_t registers = 1;  // register 0 is the item
  uint16_t result = 0;
  uint16_t truth = 0;  // a kBool-like register: the truth of the result
  std::vector<std::pair<uint16_t, int64_t>> constants;  // register, bits (filled once per call)
  std::vector<TInstr> code;        // computes `result`
  std::vector<TInstr> truth_code;  // `code`, then the truth of the result when it is no bool
};

Program::~Program() = default;

namespace {

struct TVal {
  uint16_t reg;
  TType type;
};

class TypedCompiler {
 public:
  TypedCompiler(const Program& p, TypedProgram* tp, TType item_type) : p_(p), tp_(tp), item_(item_type) {}

  bool compile(uint32_t id, TVal* out) {
    const AstNode& n = p_.node(id);
    switch (n.kind) {
      case Kind::kItem: *out = {0, item_}; return true;
      case Kind::kConst: return constant(n.value, out);
      case Kind::kNeg:
      case Kind::kPos: {
        TVal v;
        if (!compile(p_.child(n, 0), &v)) return false;
        if (n.kind == Kind::kPos) {
          *out = {v.reg, v.type == TType::kBool ? TType::kInt : v.type};
        } else if (const int64_t* c = is_intlike(v.type) ? constant_of(v.reg) : nullptr;
                   c && *c != std::numeric_limits<int64_t>::min()) {
          constant(Value::integer(-*c), out);  // -1 is a constant (so `x ** -1` has one type)
        } else if (is_intlike(v.type)) {
          *out = emit(TOp::kNegI, v.type == TType::kNpInt ? TType::kNpInt : TType::kInt, v.reg);
        } else {
          // x * -1.0 as a multiplication (the evaluator's): a NaN keeps its sign, as in Python and
          // numpy, where a compiler would turn a constant -1.0 factor into a sign flip.
          TVal minus_one;
          constant(Value::real(-1.0), &minus_one);
          *out = emit(TOp::kMulF, v.type, v.reg, minus_one.reg);
        }
        return true;
      }
      case Kind::kNot: {
        TVal v;
        if (!compile(p_.child(n, 0), &v)) return false;
        *out = emit(is_intlike(v.type) ? TOp::kNotI : TOp::kNotF, TType::kBool, v.reg);
        return true;
      }
      case Kind::kPow: {
        TVal a, b;
        if (!compile(p_.child(n, 0), &a) || !compile(p_.child(n, 1), &b)) return false;
        return arithmetic(arith::Op::kPower, a, b, out);
      }
      case Kind::kBinary: {
        TVal acc;
        if (!compile(p_.child(n, 0), &acc)) return false;
        for (uint32_t k = 1; k < n.count; ++k) {
          TVal b;
          if (!compile(p_.child(n, k), &b)) return false;
          const uint32_t operand = p_.child(n, k);
          if (!arithmetic(static_cast<arith::Op>(p_.ops[n.op_first + k - 1]), acc, b, &acc, &p_.node(operand))) {
            return false;
          }
        }
        *out = acc;
        return true;
      }
      case Kind::kCompare: {
        TVal a, acc{0, TType::kBool};
        if (!compile(p_.child(n, 0), &a)) return false;
        for (uint32_t k = 1; k < n.count; ++k) {
          const Cmp op = static_cast<Cmp>(p_.ops[n.op_first + k - 1]);
          if (op == Cmp::kIn || op == Cmp::kNotIn) return false;
          TVal b;
          if (!compile(p_.child(n, k), &b)) return false;
          TVal c = comparison(op, a, b);
          acc = k == 1 ? c : emit(TOp::kSelAndI, TType::kBool, acc.reg, c.reg);
          a = b;
        }
        *out = acc;
        return true;
      }
      case Kind::kOr:
      case Kind::kAnd: {
        TVal acc;
        if (!compile(p_.child(n, 0), &acc)) return false;
        for (uint32_t k = 1; k < n.count; ++k) {
          TVal b;
          if (!compile(p_.child(n, k), &b) || b.type != acc.type) return false;
          const bool f = !is_intlike(acc.type);
          const TOp op = n.kind == Kind::kAnd ? (f ? TOp::kSelAndF : TOp::kSelAndI)
                                              : (f ? TOp::kSelOrF : TOp::kSelOrI);
          acc = emit(op, acc.type, acc.reg, b.reg);
        }
        *out = acc;
        return true;
      }
      case Kind::kCall: return call(n, out);
      case Kind::kList:
      case Kind::kPostfix: return false;
    }
    return false;
  }

 private:
  TVal emit(TOp op, TType type, uint16_t a, uint16_t b = 0, Cmp cmp = Cmp::kEq) {
    TInstr in;
    in.op = op;
    in.cmp = cmp;
    in.dst = tp_->registers++;
    in.a = a;
    in.b = b;
    tp_->code.push_back(in);
    return {in.dst, type};
  }

  bool constant(const Value& v, TVal* out) {
    int64_t bits;
    TType type;
    if (v.is_int() || v.is_bool()) {
      bits = v.as_int();
      type = v.is_int() ? TType::kInt : TType::kBool;
    } else if (v.is_float()) {
      const double d = v.as_float();
      std::memcpy(&bits, &d, sizeof bits);
      type = TType::kFloat;
    } else {
      return false;
    }
    const uint16_t reg = tp_->registers++;
    tp_->constants.emplace_back(reg, bits);
    *out = {reg, type};
    return true;
  }

  // An int-like register as a float one; a constant converts now (an exact int64 -> double
  // conversion is what kItoF does at run time).
  TVal to_float(TVal v) {
    if (!is_intlike(v.type)) return v;
    if (const int64_t* c = constant_of(v.reg)) {
      TVal f;
      constant(Value::real(static_cast<double>(*c)), &f);
      return f;
    }
    return emit(TOp::kItoF, TType::kFloat, v.reg);
  }

  const int64_t* constant_of(uint16_t reg) const {
    for (const auto& [r, bits] : tp_->constants) {
      if (r == reg) return &bits;
    }
    return nullptr;
  }

  // An int constant within +-2^53 is exactly a double, so comparing a float with it is comparing
  // two doubles (the exact int/float comparison needs no care).
  bool exact_double_constant(TVal v) const {
    const int64_t* c = is_intlike(v.type) ? constant_of(v.reg) : nullptr;
    return c && *c >= -(int64_t{1} << 53) && *c <= (int64_t{1} << 53);
  }

  // a op b, as arith::python_binary / numpy_binary / numpy_general would compute it.
  bool arithmetic(arith::Op op, TVal a, TVal b, TVal* out, const AstNode* b_node = nullptr) {
    const bool numpy = is_numpy_type(a.type) || is_numpy_type(b.type);
    // Python's int ** int is an int for an exponent >= 0 and a float below: one register type
    // only when the exponent is a constant (numpy refuses negative ones: a bad lane either way).
    const int64_t* int_exponent = op == arith::Op::kPower && !numpy && is_intlike(b.type) ? constant_of(b.reg) : nullptr;
    if (op == arith::Op::kPower && !numpy && is_intlike(a.type) && is_intlike(b.type) && !int_exponent) return false;
    if (is_intlike(a.type) && is_intlike(b.type) && !(int_exponent && *int_exponent < 0)) {
      const TType it = numpy ? TType::kNpInt : TType::kInt;
      const TType ft = numpy ? TType::kNpFloat : TType::kFloat;
      // A constant divisor > 1: division by a multiplication.
      if ((op == arith::Op::kModulo || op == arith::Op::kFloorDivide) && b_node &&
          b_node->kind == Kind::kConst && b_node->value.is_int() && b_node->value.as_int() > 1) {
        *out = emit(op == arith::Op::kModulo ? TOp::kModIConst : TOp::kFloorDivIConst, it, a.reg);
        TInstr& in = tp_->code.back();
        in.divisor = b_node->value.as_int();
        in.magic = UDivMagic::make(static_cast<uint64_t>(in.divisor));
        return true;
      }
      switch (op) {
        case arith::Op::kAdd: *out = emit(TOp::kAddI, it, a.reg, b.reg); return true;
        case arith::Op::kSubtract: *out = emit(TOp::kSubI, it, a.reg, b.reg); return true;
        case arith::Op::kMultiply: *out = emit(TOp::kMulI, it, a.reg, b.reg); return true;
        case arith::Op::kFloorDivide: *out = emit(TOp::kFloorDivI, it, a.reg, b.reg); return true;
        case arith::Op::kModulo: *out = emit(TOp::kModI, it, a.reg, b.reg); return true;
        case arith::Op::kPower: *out = emit(TOp::kPowI, it, a.reg, b.reg); return true;
        case arith::Op::kDivide:
          *out = emit(numpy ? TOp::kDivNII : TOp::kDivII, ft, a.reg, b.reg);
          return true;
      }
      return false;
    }
    const TType ft = numpy ? TType::kNpFloat : TType::kFloat;
    const TVal x = to_float(a), y = to_float(b);
    switch (op) {
      case arith::Op::kAdd: *out = emit(TOp::kAddF, ft, x.reg, y.reg); return true;
      case arith::Op::kSubtract: *out = emit(TOp::kSubF, ft, x.reg, y.reg); return true;
      case arith::Op::kMultiply: *out = emit(TOp::kMulF, ft, x.reg, y.reg); return true;
      case arith::Op::kDivide: *out = emit(TOp::kDivF, ft, x.reg, y.reg); return true;
      case arith::Op::kFloorDivide: *out = emit(TOp::kFloorDivF, ft, x.reg, y.reg); return true;
      case arith::Op::kModulo: *out = emit(TOp::kModF, ft, x.reg, y.reg); return true;
      case arith::Op::kPower: *out = emit(numpy ? TOp::kPowNF : TOp::kPowF, ft, x.reg, y.reg); return true;
    }
    return false;
  }

  TVal comparison(Cmp op, TVal a, TVal b) {
    if (!is_intlike(a.type) && exact_double_constant(b)) b = to_float(b);
    if (!is_intlike(b.type) && exact_double_constant(a)) a = to_float(a);
    const bool ai = is_intlike(a.type), bi = is_intlike(b.type);
    const TOp t = ai && bi ? TOp::kCmpI : !ai && !bi ? TOp::kCmpF : ai ? TOp::kCmpIF : TOp::kCmpFI;
    return emit(t, TType::kBool, a.reg, b.reg, op);
  }

  bool call(const AstNode& n, TVal* out) {
    const Fn fn = static_cast<Fn>(n.fn);
    std::vector<TVal> args(n.count);
    for (uint32_t k = 0; k < n.count; ++k) {
      if (!compile(p_.child(n, k), &args[k])) return false;
    }
    const TVal x = args[0];
    const bool xi = is_intlike(x.type);
    switch (fn) {
      case Fn::kAbs: *out = xi ? emit(TOp::kAbsI, TType::kInt, x.reg) : emit(TOp::kAbsF, TType::kFloat, x.reg); return true;
      case Fn::kRound:
        if (n.count != 1) return false;
        *out = xi ? TVal{x.reg, TType::kInt} : emit(TOp::kRoundF, TType::kInt, x.reg);
        return true;
      case Fn::kInt: *out = xi ? TVal{x.reg, TType::kInt} : emit(TOp::kTruncF, TType::kInt, x.reg); return true;
      case Fn::kFloat: *out = xi ? emit(TOp::kItoF, TType::kFloat, x.reg) : TVal{x.reg, TType::kFloat}; return true;
      case Fn::kMin:
      case Fn::kMax: {
        if (n.count < 2) return false;
        TVal acc = x;
        for (uint32_t k = 1; k < n.count; ++k) {
          if (args[k].type != acc.type) return false;
          const TOp op = fn == Fn::kMin ? (xi ? TOp::kMinI : TOp::kMinF) : (xi ? TOp::kMaxI : TOp::kMaxF);
          acc = emit(op, acc.type, acc.reg, args[k].reg);
        }
        *out = acc;
        return true;
      }
      case Fn::kLen: return false;
      default: {
        bool r = false;
        switch (fn) {
          case Fn::kIsInt: r = x.type == TType::kInt || x.type == TType::kNpInt; break;
          case Fn::kIsFloat: r = !xi; break;
          case Fn::kIsNumber: r = x.type != TType::kBool; break;
          case Fn::kIsBool: r = x.type == TType::kBool; break;
          default: r = false; break;
        }
        return constant(Value::boolean(r), out);
      }
    }
  }

  const Program& p_;
  TypedProgram* tp_;
  TType item_;
};

}  // namespace

void compile_typed(Program* p) {
  for (int t = 0; t < kTypeCount; ++t) {
    auto tp = std::make_unique<TypedProgram>();
    TVal result;
    if (!TypedCompiler(*p, tp.get(), static_cast<TType>(t)).compile(p->root, &result)) continue;
    // Each instruction and constant takes one register; more than 16-bit indices reach (not
    // possible within Expression::kTokenLimit) would have wrapped: evaluate item by item instead.
    if (tp->code.size() + tp->constants.size() + 2 > std::numeric_limits<uint16_t>::max()) continue;
    tp->result = result.reg;
    tp->result_type = result.type;
    tp->truth_code = tp->code;
    if (result.type == TType::kBool) {
      tp->truth = result.reg;
    } else {
      TInstr in;
      in.op = is_intlike(result.type) ? TOp::kTruthI : TOp::kTruthF;
      in.dst = tp->registers++;
      in.a = result.reg;
      tp->truth_code.push_back(in);
      tp->truth = in.dst;
    }
    p->typed[t] = std::move(tp);
  }
}

namespace {

// Scratch registers for one batch call: kChunk lanes of 8 bytes each, and the bad-lane flags.
class Registers {
 public:
  explicit Registers(const TypedProgram& tp)
      : memory_(new int64_t[static_cast<size_t>(tp.registers + 1) * kChunk]), count_(tp.registers) {
    for (const auto& [reg, bits] : tp.constants) std::fill_n(i(reg), kChunk, bits);
  }
  int64_t* i(uint16_t reg) { return memory_.get() + static_cast<size_t>(reg) * kChunk; }
  double* f(uint16_t reg) { return reinterpret_cast<double*>(i(reg)); }
  int64_t* bad() { return i(count_); }

 private:
  std::unique_ptr<int64_t[]> memory_;
  uint16_t count_;
};

// Python's int ** int for exponent >= 0; false when it leaves int64.
inline bool ipow(int64_t base, int64_t exp, int64_t* out) {
  int64_t result = 1;
  while (exp) {
    if ((exp & 1) && __builtin_mul_overflow(result, base, &result)) return false;
    exp >>= 1;
    if (exp && __builtin_mul_overflow(base, base, &base)) return false;
  }
  *out = result;
  return true;
}

template <typename F>
inline void cmp_loop(Cmp op, int n, int64_t* __restrict d, F&& f) {
  switch (op) {
    case Cmp::kEq: for (int k = 0; k < n; ++k) d[k] = f(k) == 0; break;
    case Cmp::kNe: for (int k = 0; k < n; ++k) d[k] = f(k) != 0; break;
    case Cmp::kLt: for (int k = 0; k < n; ++k) d[k] = f(k) == -1; break;
    case Cmp::kLe: for (int k = 0; k < n; ++k) { const int c = f(k); d[k] = c == -1 || c == 0; } break;
    case Cmp::kGt: for (int k = 0; k < n; ++k) d[k] = f(k) == 1; break;
    case Cmp::kGe: for (int k = 0; k < n; ++k) d[k] = f(k) >= 0 && f(k) != 2; break;
    default: break;
  }
}

template <typename T>
inline void compare_loop(Cmp op, int n, int64_t* __restrict d, const T* __restrict a, const T* __restrict b) {
  switch (op) {
    case Cmp::kEq: for (int k = 0; k < n; ++k) d[k] = a[k] == b[k]; break;
    case Cmp::kNe: for (int k = 0; k < n; ++k) d[k] = a[k] != b[k]; break;
    case Cmp::kLt: for (int k = 0; k < n; ++k) d[k] = a[k] < b[k]; break;
    case Cmp::kLe: for (int k = 0; k < n; ++k) d[k] = a[k] <= b[k]; break;
    case Cmp::kGt: for (int k = 0; k < n; ++k) d[k] = a[k] > b[k]; break;
    case Cmp::kGe: for (int k = 0; k < n; ++k) d[k] = a[k] >= b[k]; break;
    default: break;
  }
}

// The kernels below select between values computed either way rather than branch, and GCC
// vectorises those selections only when floating-point operations may be speculated: no trapping
// math. Nothing here reads the floating-point exception flags, so no value changes.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("no-trapping-math")
#endif

// fmod(x, y), exactly, without fmod's loop, where |x / y| < 2^52 and 2^-500 < |y| < 2^500; *ok is
// false elsewhere (and for a NaN or an infinity). q = trunc(fl(|x| / |y|)) is the true quotient or
// one more (never less: rounding is monotonic and integers below 2^52 are doubles). q * |y| = p + e
// exactly (Dekker's product, Veltkamp's split: no overflow or underflow within these bounds);
// |x| - p is exact (Sterbenz: p is within a factor of 2 of |x| when q >= 1, and 0 when q = 0); the
// remainder, or the remainder minus |y| when q was one too many, is a double, so the one rounding
// of (|x| - p) - e and of the correction are exact.
inline double fast_fmod(double x, double y, bool* ok) {
  const double ax = std::fabs(x), ay = std::fabs(y);
  const double q = std::trunc(ax / ay);
  *ok = (ay > 0x1p-500) & (ay < 0x1p500) & (q < 0x1p52);
  constexpr double kSplit = 134217729.0;  // 2^27 + 1
  const double cq = kSplit * q, qh = cq - (cq - q), ql = q - qh;
  const double cy = kSplit * ay, yh = cy - (cy - ay), yl = ay - yh;
  const double p = q * ay;
  const double e = ((qh * yh - p) + qh * yl + ql * yh) + ql * yl;
  const double r = (ax - p) - e;
  const double corrected = r + ay;  // computed either way: selections, not branches, vectorise
  return std::copysign(r < 0.0 ? corrected : r, x);
}

// Python's float % and // from fmod's value (CPython's _float_div_mod). y != 0.
inline double py_mod_from_fmod(double y, double mod) {
  const double shifted = mod + y;
  const double r = (y < 0.0) != (mod < 0.0) ? shifted : mod;
  return mod != 0.0 ? r : std::copysign(0.0, y);
}
inline double py_floordiv_from_fmod(double x, double y, double mod) {
  double div = (x - mod) / y;
  if (mod != 0.0 && ((y < 0.0) != (mod < 0.0))) div -= 1.0;
  if (div == 0.0) return std::copysign(0.0, x / y);
  double floordiv = std::floor(div);
  if (div - floordiv > 0.5) floordiv += 1.0;
  return floordiv;
}

constexpr double kTwo63 = 9223372036854775808.0;
constexpr int64_t kTwo53 = int64_t{1} << 53;

void run_code(const std::vector<TInstr>& code, Registers& r, int n) {
  int64_t* __restrict bad = r.bad();
  for (const TInstr& in : code) {
    int64_t* __restrict di = r.i(in.dst);
    double* __restrict df = r.f(in.dst);
    const int64_t* __restrict ai = r.i(in.a);
    const int64_t* __restrict bi = r.i(in.b);
    const double* __restrict af = r.f(in.a);
    const double* __restrict bf = r.f(in.b);
    switch (in.op) {
      case TOp::kAddI:
        for (int k = 0; k < n; ++k) {
          const int64_t x = ai[k], y = bi[k];
          const int64_t s = static_cast<int64_t>(static_cast<uint64_t>(x) + static_cast<uint64_t>(y));
          di[k] = s;
          bad[k] |= ((x ^ s) & (y ^ s)) >> 63;
        }
        break;
      case TOp::kSubI:
        for (int k = 0; k < n; ++k) {
          const int64_t x = ai[k], y = bi[k];
          const int64_t s = static_cast<int64_t>(static_cast<uint64_t>(x) - static_cast<uint64_t>(y));
          di[k] = s;
          bad[k] |= ((x ^ y) & (x ^ s)) >> 63;
        }
        break;
      case TOp::kMulI:
        for (int k = 0; k < n; ++k) {
          int64_t s;
          bad[k] |= __builtin_mul_overflow(ai[k], bi[k], &s);
          di[k] = s;
        }
        break;
      case TOp::kFloorDivI:
      case TOp::kModI:
        for (int k = 0; k < n; ++k) {
          const int64_t x = ai[k], y = bi[k];
          const bool fail = y == 0 || (y == -1 && x == kInt64Min);
          bad[k] |= fail;
          const int64_t yy = fail ? 1 : y;
          int64_t q = x / yy, m = x % yy;
          if (m != 0 && ((m < 0) != (yy < 0))) {
            --q;
            m += yy;
          }
          di[k] = in.op == TOp::kFloorDivI ? q : m;
        }
        break;
      case TOp::kFloorDivIConst:
      case TOp::kModIConst: {
        // floor(x / d) for d > 1: with s = x >> 63 (0 or -1), x ^ s is x or -x - 1 (both >= 0),
        // and floor(x / d) = (x ^ s) / d ^ s.
        const UDivMagic m = in.magic;
        const int64_t d = in.divisor;
        const bool want_mod = in.op == TOp::kModIConst;
        for (int k = 0; k < n; ++k) {
          const int64_t x = ai[k];
          const int64_t s = x >> 63;
          const int64_t q = static_cast<int64_t>(m.divide(static_cast<uint64_t>(x ^ s))) ^ s;
          di[k] = want_mod ? static_cast<int64_t>(static_cast<uint64_t>(x) - static_cast<uint64_t>(q) * static_cast<uint64_t>(d)) : q;
        }
        break;
      }
      case TOp::kPowI:
        for (int k = 0; k < n; ++k) {
          int64_t s = 0;
          bad[k] |= bi[k] < 0 || !ipow(ai[k], bi[k], &s);
          di[k] = s;
        }
        break;
      case TOp::kDivII:
        for (int k = 0; k < n; ++k) {
          const int64_t x = ai[k], y = bi[k];
          bad[k] |= y == 0 || x < -kTwo53 || x > kTwo53 || y < -kTwo53 || y > kTwo53;
          df[k] = static_cast<double>(x) / static_cast<double>(y);
        }
        break;
      case TOp::kDivNII:
        for (int k = 0; k < n; ++k) {
          bad[k] |= bi[k] == 0;
          df[k] = static_cast<double>(ai[k]) / static_cast<double>(bi[k]);
        }
        break;
      case TOp::kAddF: for (int k = 0; k < n; ++k) df[k] = af[k] + bf[k]; break;
      case TOp::kSubF: for (int k = 0; k < n; ++k) df[k] = af[k] - bf[k]; break;
      case TOp::kMulF: for (int k = 0; k < n; ++k) df[k] = af[k] * bf[k]; break;
      case TOp::kDivF:
        for (int k = 0; k < n; ++k) {
          bad[k] |= bf[k] == 0.0;
          df[k] = af[k] / bf[k];
        }
        break;
      case TOp::kFloorDivF:
      case TOp::kModF: {
        // fmod first (fast where it can be, the C library's where not), then Python's rules.
        int64_t slow = 0;
        for (int k = 0; k < n; ++k) {
          bool ok;
          df[k] = fast_fmod(af[k], bf[k], &ok);
          bad[k] |= bf[k] == 0.0;
          slow |= !ok;
        }
        if (slow) {
          for (int k = 0; k < n; ++k) {
            bool ok;
            fast_fmod(af[k], bf[k], &ok);
            if (!ok && bf[k] != 0.0) df[k] = std::fmod(af[k], bf[k]);
          }
        }
        if (in.op == TOp::kModF) {
          for (int k = 0; k < n; ++k) df[k] = py_mod_from_fmod(bf[k], df[k]);  // y = 0: bad anyway
        } else {
          for (int k = 0; k < n; ++k) df[k] = bf[k] == 0.0 ? 0.0 : py_floordiv_from_fmod(af[k], bf[k], df[k]);
        }
        break;
      }
      case TOp::kPowF:
        // CPython's float_pow where it is plain pow: a finite base and exponent, and a negative
        // base only to an integral exponent; anything else (and overflow) to the evaluator.
        for (int k = 0; k < n; ++k) {
          const double x = af[k], y = bf[k];
          if (!(std::isfinite(x) && std::isfinite(y) && x != 0.0 && (x > 0.0 || y == std::floor(y)))) {
            bad[k] = 1;
            continue;
          }
          const bool negate = x < 0.0 && std::fmod(std::fabs(y), 2.0) == 1.0;
          const double p = std::pow(std::fabs(x), y);
          bad[k] |= std::isinf(p);
          df[k] = negate ? -p : p;
        }
        break;
      case TOp::kPowNF: for (int k = 0; k < n; ++k) df[k] = std::pow(af[k], bf[k]); break;
      case TOp::kItoF: for (int k = 0; k < n; ++k) df[k] = static_cast<double>(ai[k]); break;
      case TOp::kNegI:
        for (int k = 0; k < n; ++k) {
          bad[k] |= ai[k] == kInt64Min;
          di[k] = static_cast<int64_t>(0 - static_cast<uint64_t>(ai[k]));
        }
        break;
      case TOp::kCmpI: compare_loop(in.cmp, n, di, ai, bi); break;
      case TOp::kCmpF: compare_loop(in.cmp, n, di, af, bf); break;
      case TOp::kCmpIF: cmp_loop(in.cmp, n, di, [&](int k) { return compare_int_double(ai[k], bf[k]); }); break;
      case TOp::kCmpFI:
        cmp_loop(in.cmp, n, di, [&](int k) {
          const int c = compare_int_double(bi[k], af[k]);
          return c == 2 ? 2 : -c;
        });
        break;
      case TOp::kNotI: for (int k = 0; k < n; ++k) di[k] = ai[k] == 0; break;
      case TOp::kNotF: for (int k = 0; k < n; ++k) di[k] = af[k] == 0.0; break;
      case TOp::kTruthI: for (int k = 0; k < n; ++k) di[k] = ai[k] != 0; break;
      case TOp::kTruthF: for (int k = 0; k < n; ++k) di[k] = af[k] != 0.0; break;
      // Selections with masks, so that both sides are read and the loops vectorise.
      case TOp::kSelAndI:
        for (int k = 0; k < n; ++k) {
          const int64_t m = -static_cast<int64_t>(ai[k] != 0);
          di[k] = (bi[k] & m) | (ai[k] & ~m);
        }
        break;
      case TOp::kSelAndF:
        for (int k = 0; k < n; ++k) {
          const int64_t m = -static_cast<int64_t>(af[k] != 0.0);
          di[k] = (bi[k] & m) | (ai[k] & ~m);
        }
        break;
      case TOp::kSelOrI:
        for (int k = 0; k < n; ++k) {
          const int64_t m = -static_cast<int64_t>(ai[k] != 0);
          di[k] = (ai[k] & m) | (bi[k] & ~m);
        }
        break;
      case TOp::kSelOrF:
        for (int k = 0; k < n; ++k) {
          const int64_t m = -static_cast<int64_t>(af[k] != 0.0);
          di[k] = (ai[k] & m) | (bi[k] & ~m);
        }
        break;
      case TOp::kAbsI:
        for (int k = 0; k < n; ++k) {
          bad[k] |= ai[k] == kInt64Min;
          di[k] = ai[k] < 0 ? static_cast<int64_t>(0 - static_cast<uint64_t>(ai[k])) : ai[k];
        }
        break;
      case TOp::kAbsF: for (int k = 0; k < n; ++k) df[k] = std::fabs(af[k]); break;
      case TOp::kRoundF:
      case TOp::kTruncF:
        for (int k = 0; k < n; ++k) {
          const double x = af[k];
          double t;
          if (in.op == TOp::kTruncF) {
            t = std::trunc(x);
          } else {
            t = std::round(x);
            if (std::fabs(x - t) == 0.5) t = 2.0 * std::round(x / 2.0);
          }
          const bool fits = t >= -kTwo63 && t < kTwo63;  // false for NaN
          bad[k] |= !fits;
          di[k] = fits ? static_cast<int64_t>(t) : 0;
        }
        break;
      case TOp::kMinI:
        for (int k = 0; k < n; ++k) {
          const int64_t m = -static_cast<int64_t>(bi[k] < ai[k]);
          di[k] = (bi[k] & m) | (ai[k] & ~m);
        }
        break;
      case TOp::kMaxI:
        for (int k = 0; k < n; ++k) {
          const int64_t m = -static_cast<int64_t>(bi[k] > ai[k]);
          di[k] = (bi[k] & m) | (ai[k] & ~m);
        }
        break;
      case TOp::kMinF: for (int k = 0; k < n; ++k) df[k] = bf[k] < af[k] ? bf[k] : af[k]; break;
      case TOp::kMaxF: for (int k = 0; k < n; ++k) df[k] = bf[k] > af[k] ? bf[k] : af[k]; break;
    }
  }
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif

// The typed type of an item, or -1 when batches of it take the evaluator.
int item_ttype(const Value& v) {
  switch (v.kind()) {
    case ValueKind::kInt: return static_cast<int>(TType::kInt);
    case ValueKind::kFloat: return static_cast<int>(TType::kFloat);
    case ValueKind::kBool: return static_cast<int>(TType::kBool);
    case ValueKind::kArray: {
      const NDArray& a = v.as_array();
      if (a.ndim() != 0 || !a.numpy_scalar()) return -1;
      if (a.dtype() == DType::kInt64) return static_cast<int>(TType::kNpInt);
      if (a.dtype() == DType::kFloat64) return static_cast<int>(TType::kNpFloat);
      return -1;
    }
    default: return -1;
  }
}

int column_ttype(const NDArray& column) {
  if (column.ndim() != 1) return -1;
  if (column.dtype() == DType::kInt64) return static_cast<int>(TType::kNpInt);
  if (column.dtype() == DType::kFloat64) return static_cast<int>(TType::kNpFloat);
  return -1;
}

Value typed_value(TType type, int64_t bits) {
  switch (type) {
    case TType::kInt: return Value::integer(bits);
    case TType::kBool: return Value::boolean(bits != 0);
    case TType::kFloat: {
      double d;
      std::memcpy(&d, &bits, sizeof d);
      return Value::real(d);
    }
    case TType::kNpInt:
    case TType::kNpFloat: {
      Ref<NDArray> a = NDArray::allocate(type == TType::kNpInt ? DType::kInt64 : DType::kFloat64, {}, true);
      std::memcpy(a->mutable_data(), &bits, sizeof bits);
      return Value::array(std::move(a));
    }
  }
  return Value();
}

// Runs a batch of Values: `typed(index, bits, program)` for each item the typed program computed
// (bits of the result, or of its truth when `truth` is set), `generic(index)` for the others; both
// in index order. Stops at the first error `generic` returns.
template <typename Typed, typename Generic>
Status drive_values(const Program& p, const std::vector<Value>& items, bool truth, Typed&& typed,
                    Generic&& generic, size_t* failed_at) {
  return drive_values(
      p, items, truth, typed,
      [&](size_t first, int n, const int64_t* result, const TypedProgram& tp) {
        for (int k = 0; k < n; ++k) typed(first + k, result[k], tp);
      },
      generic, failed_at);
}

// As above; `typed_run(first, n, results, program)` takes a run of items none of which is bad.
template <typename Typed, typename TypedRun, typename Generic>
Status drive_values(const Program& p, const std::vector<Value>& items, bool truth, Typed&& typed,
                    TypedRun&& typed_run, Generic&& generic, size_t* failed_at) {
  std::unique_ptr<Registers> regs[kTypeCount];
  const size_t count = items.size();
  const Value* v = items.data();
  size_t i = 0;
  while (i < count) {
    const int t = item_ttype(v[i]);
    const TypedProgram* tp = t >= 0 ? p.typed[t].get() : nullptr;
    const size_t limit = std::min(count, i + kChunk);
    if (!tp) {
      size_t end = i + 1;
      while (end < limit && item_ttype(v[end]) == t) ++end;
      for (; i < end; ++i) {
        Status s = generic(i);
        if (!s.ok()) {
          *failed_at = i;
          return s;
        }
      }
      continue;
    }
    if (!regs[t]) regs[t] = std::make_unique<Registers>(*tp);
    Registers& r = *regs[t];
    // The run of items of this type (at most a chunk), loaded as it is found.
    int64_t* item = r.i(0);
    size_t end = i;
    const TType type = static_cast<TType>(t);
    if (type == TType::kNpInt || type == TType::kNpFloat) {
      for (; end < limit && item_ttype(v[end]) == t; ++end) std::memcpy(&item[end - i], v[end].as_array().data(), 8);
    } else if (type == TType::kFloat) {
      double* f = r.f(0);
      for (; end < limit && v[end].kind() == ValueKind::kFloat; ++end) f[end - i] = v[end].as_float();
    } else {
      const ValueKind kind = v[i].kind();
      for (; end < limit && v[end].kind() == kind; ++end) item[end - i] = v[end].as_int();
    }
    const int n = static_cast<int>(end - i);
    int64_t* bad = r.bad();
    std::fill_n(bad, n, 0);
    run_code(truth ? tp->truth_code : tp->code, r, n);
    const int64_t* result = r.i(truth ? tp->truth : tp->result);
    int64_t any_bad = 0;
    for (int k = 0; k < n; ++k) any_bad |= bad[k];
    if (!any_bad) {
      typed_run(i, n, result, *tp);
    } else {
      for (int k = 0; k < n; ++k) {
        if (!bad[k]) {
          typed(i + k, result[k], *tp);
          continue;
        }
        Status s = generic(i + k);
        if (!s.ok()) {
          *failed_at = i + k;
          return s;
        }
      }
    }
    i = end;
  }
  return Status::OK();
}

// Runs a column through the typed program (the caller checked there is one), as drive_values.
template <typename Typed, typename Generic>
Status drive_column(const TypedProgram& tp, const NDArray& column, bool truth, Typed&& typed,
                    Generic&& generic, size_t* failed_at) {
  Registers r(tp);
  const int64_t count = column.size();
  const int64_t* data = static_cast<const int64_t*>(column.data());  // int64 or float64 bits
  for (int64_t i = 0; i < count; i += kChunk) {
    const int n = static_cast<int>(std::min<int64_t>(kChunk, count - i));
    std::memcpy(r.i(0), data + i, static_cast<size_t>(n) * 8);
    int64_t* bad = r.bad();
    std::fill_n(bad, n, 0);
    run_code(truth ? tp.truth_code : tp.code, r, n);
    const int64_t* result = r.i(truth ? tp.truth : tp.result);
    for (int k = 0; k < n; ++k) {
      if (!bad[k]) {
        typed(i + k, result[k]);
        continue;
      }
      Status s = generic(i + k);
      if (!s.ok()) {
        *failed_at = static_cast<size_t>(i + k);
        return s;
      }
    }
  }
  return Status::OK();
}

}  // namespace

}  // namespace expression_internal

// ----------------------------------------------------------------------------------- Expression

using expression_internal::Program;

Result<Expression> Expression::parse(std::string_view text) {
  auto program = std::make_shared<Program>();
  program->text = std::string(text);
  std::vector<expression_internal::Token> tokens;
  RM_RETURN_IF_ERROR(expression_internal::Lexer(text).tokenize(&tokens));
  expression_internal::Parser parser(std::move(tokens), program.get());
  RM_RETURN_IF_ERROR(parser.parse(&program->root));
  expression_internal::compile_typed(program.get());
  return Expression(std::move(program));
}

const std::string& Expression::text() const {
  static const std::string kEmpty;
  return program_ ? program_->text : kEmpty;
}

Status Expression::evaluate(const Value& item, Value* out) const {
  if (!program_) return InternalError("empty expression");
  return program_->eval(program_->root, item, out);
}

Status Expression::evaluate_truth(const Value& item, bool* out) const {
  if (!program_) return InternalError("empty expression");
  Value v;
  RM_RETURN_IF_ERROR(program_->eval(program_->root, item, &v));
  return expression_internal::truth(v, out);
}

// ---------------------------------------------------------------------------------------- batches

namespace {

using expression_internal::kTypeCount;
using expression_internal::TType;
using expression_internal::TypedProgram;

const TypedProgram* column_program(const Program* p, const NDArray& column) {
  const int t = expression_internal::column_ttype(column);
  return p && t >= 0 ? p->typed[t].get() : nullptr;
}

}  // namespace

Status Expression::evaluate_batch(std::vector<Value>& items, size_t* failed_at) const {
  if (!program_) return InternalError("empty expression");
  const Program& p = *program_;
  Status s = expression_internal::drive_values(
      p, items, /*truth=*/false,
      [&](size_t i, int64_t bits, const TypedProgram& tp) {
        items[i] = expression_internal::typed_value(tp.result_type, bits);
      },
      [&](size_t first, int n, const int64_t* bits, const TypedProgram& tp) {
        Value* out = items.data() + first;
        switch (tp.result_type) {
          case TType::kInt: for (int k = 0; k < n; ++k) out[k] = Value::integer(bits[k]); break;
          case TType::kBool: for (int k = 0; k < n; ++k) out[k] = Value::boolean(bits[k] != 0); break;
          case TType::kFloat:
            for (int k = 0; k < n; ++k) out[k] = Value::real(std::bit_cast<double>(bits[k]));
            break;
          default:
            for (int k = 0; k < n; ++k) out[k] = expression_internal::typed_value(tp.result_type, bits[k]);
            break;
        }
      },
      [&](size_t i) {
        Value v;
        RM_RETURN_IF_ERROR(p.eval(p.root, items[i], &v));
        items[i] = std::move(v);
        return Status::OK();
      },
      failed_at);
  if (!s.ok()) items.resize(*failed_at);
  return s;
}

Status Expression::filter_batch(std::vector<Value>& items, size_t* failed_at) const {
  if (!program_) return InternalError("empty expression");
  const Program& p = *program_;
  size_t kept = 0;
  Status s = expression_internal::drive_values(
      p, items, /*truth=*/true,
      // Swaps, not moves: no reference counts, no destructor, no branch. Dropped items travel
      // to the back, where resize destroys them.
      [&](size_t i, int64_t truth, const TypedProgram&) {
        items[kept].swap(items[i]);
        kept += static_cast<size_t>(truth);
      },
      [&](size_t i) {
        bool t;
        RM_RETURN_IF_ERROR(evaluate_truth(items[i], &t));
        if (t && !items[i].is_null()) items[kept++].swap(items[i]);  // None is never kept
        return Status::OK();
      },
      failed_at);
  items.resize(kept);
  return s;
}

Status Expression::truth_batch(const std::vector<Value>& items, std::vector<uint8_t>* truth,
                               size_t* failed_at) const {
  if (!program_) return InternalError("empty expression");
  truth->resize(items.size());
  uint8_t* out = truth->data();
  Status s = expression_internal::drive_values(
      *program_, items, /*truth=*/true,
      [&](size_t i, int64_t t, const TypedProgram&) { out[i] = static_cast<uint8_t>(t); },
      [&](size_t i) {
        bool t;
        RM_RETURN_IF_ERROR(evaluate_truth(items[i], &t));
        out[i] = t;
        return Status::OK();
      },
      failed_at);
  if (!s.ok()) truth->resize(*failed_at);
  return s;
}

Status Expression::evaluate_column(const NDArray& column, Ref<NDArray>* out, size_t* failed_at) const {
  const TypedProgram* tp = column_program(program_.get(), column);
  if (!tp || (tp->result_type != TType::kNpInt && tp->result_type != TType::kNpFloat)) {
    return Status(StatusCode::kNotImplemented, "");
  }
  const DType dtype = tp->result_type == TType::kNpInt ? DType::kInt64 : DType::kFloat64;
  Ref<NDArray> result = NDArray::allocate(dtype, {column.size()});
  int64_t* o = result->mutable_data_as<int64_t>();
  Status s = expression_internal::drive_column(
      *tp, column, /*truth=*/false, [&](int64_t i, int64_t bits) { o[i] = bits; },
      [&](int64_t i) {
        Value v;
        RM_RETURN_IF_ERROR(evaluate(Value::array(column.element(i)), &v));
        if (!v.is_array() || v.as_array().ndim() != 0 || v.as_array().dtype() != dtype) {
          return InternalError("typed and item-at-a-time evaluation disagree on a result's type");
        }
        std::memcpy(&o[i], v.as_array().data(), 8);
        return Status::OK();
      },
      failed_at);
  if (!s.ok()) {
    *out = NDArray::wrap(dtype, {static_cast<int64_t>(*failed_at)}, result->data(), result, false);
    return s;
  }
  *out = std::move(result);
  return Status::OK();
}

Status Expression::filter_column(const NDArray& column, Ref<NDArray>* out, size_t* failed_at) const {
  const TypedProgram* tp = column_program(program_.get(), column);
  if (!tp) return Status(StatusCode::kNotImplemented, "");
  Ref<NDArray> result = NDArray::allocate(column.dtype(), {column.size()});
  int64_t* o = result->mutable_data_as<int64_t>();
  const int64_t* in = static_cast<const int64_t*>(column.data());
  int64_t kept = 0;
  Status s = expression_internal::drive_column(
      *tp, column, /*truth=*/true,
      [&](int64_t i, int64_t truth) {
        o[kept] = in[i];
        kept += truth;
      },
      [&](int64_t i) {
        bool t;
        RM_RETURN_IF_ERROR(evaluate_truth(Value::array(column.element(i)), &t));
        if (t) o[kept++] = in[i];
        return Status::OK();
      },
      failed_at);
  *out = kept == column.size() ? result
                               : NDArray::wrap(column.dtype(), {kept}, result->data(), result, false);
  return s;
}

Status Expression::truth_column(const NDArray& column, std::vector<uint8_t>* truth,
                                size_t* failed_at) const {
  const TypedProgram* tp = column_program(program_.get(), column);
  if (!tp) return Status(StatusCode::kNotImplemented, "");
  truth->resize(static_cast<size_t>(column.size()));
  uint8_t* out = truth->data();
  Status s = expression_internal::drive_column(
      *tp, column, /*truth=*/true, [&](int64_t i, int64_t t) { out[i] = static_cast<uint8_t>(t); },
      [&](int64_t i) {
        bool t;
        RM_RETURN_IF_ERROR(evaluate_truth(Value::array(column.element(i)), &t));
        out[i] = t;
        return Status::OK();
      },
      failed_at);
  if (!s.ok()) truth->resize(*failed_at);
  return s;
}

bool Expression::has_typed_program(ValueKind kind) const {
  if (!program_) return false;
  switch (kind) {
    case ValueKind::kInt: return program_->typed[static_cast<int>(TType::kInt)] != nullptr;
    case ValueKind::kFloat: return program_->typed[static_cast<int>(TType::kFloat)] != nullptr;
    case ValueKind::kBool: return program_->typed[static_cast<int>(TType::kBool)] != nullptr;
    default: return false;
  }
}

bool Expression::has_typed_column_program(DType dtype) const {
  if (!program_) return false;
  if (dtype == DType::kInt64) return program_->typed[static_cast<int>(TType::kNpInt)] != nullptr;
  if (dtype == DType::kFloat64) return program_->typed[static_cast<int>(TType::kNpFloat)] != nullptr;
  return false;
}

}  // namespace remotemedia

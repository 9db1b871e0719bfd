// JSON text <-> Value (include/remotemedia/json.h) and the text rules 1-3 of docs/MANIFEST.md,
// worded by find_json_fault (include/remotemedia/json_fault.h).
#include "remotemedia/json.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "remotemedia/json_fault.h"

namespace remotemedia {
namespace {

std::vector<std::string> keys_of(const Value& map) {
  std::vector<std::string> keys;
  for (const auto& [k, unused] : map.as_map()) keys.push_back(k);
  return keys;
}

void expect_manifest_error(std::string_view text, const char* mention = nullptr) {
  Result<Value> r = parse_json(text);
  ASSERT_FALSE(r.ok()) << "accepted: " << text.substr(0, 80);
  EXPECT_EQ(r.status().code(), StatusCode::kManifestError);
  EXPECT_EQ(r.status().path(), "$");
  if (mention) {
    EXPECT_NE(r.status().message().find(mention), std::string::npos) << r.status().message();
  }
}

std::string nested_arrays(int depth) { return std::string(depth, '[') + std::string(depth, ']'); }

TEST(ParseJson, ObjectsKeepDocumentKeyOrder) {
  Result<Value> r = parse_json(R"({"zeta": 1, "alpha": 2, "mid": {"y": 1, "b": 2, "x": 3}})");
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(keys_of(*r), (std::vector<std::string>{"zeta", "alpha", "mid"}));
  EXPECT_EQ(keys_of(*r->find("mid")), (std::vector<std::string>{"y", "b", "x"}));
  EXPECT_EQ(*r->find("alpha"), Value::integer(2));
}

TEST(ParseJson, ScalarKinds) {
  Result<Value> r = parse_json(R"([5, 5.0, 1e3, -0, -0.0, true, null, "s", 1e-400])");
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  const List& v = r->as_list();
  EXPECT_TRUE(v[0].is_int());
  EXPECT_TRUE(v[1].is_float());  // a fraction makes a float, even when integral
  EXPECT_EQ(v[1].as_float(), 5.0);
  EXPECT_TRUE(v[2].is_float());  // so does an exponent
  EXPECT_EQ(v[2].as_float(), 1000.0);
  EXPECT_EQ(v[3], Value::integer(0));  // -0 is the integer 0
  EXPECT_TRUE(v[4].is_float());
  EXPECT_TRUE(std::signbit(v[4].as_float()));
  EXPECT_EQ(v[5], Value::boolean(true));
  EXPECT_TRUE(v[6].is_null());
  EXPECT_EQ(v[7].as_string(), "s");
  EXPECT_EQ(v[8], Value::real(0.0));  // underflow is not overflow
}

TEST(ParseJson, IntegersOutsideInt64BecomeBigIntegers) {
  Result<Value> r = parse_json(
      "[9223372036854775807, -9223372036854775808, 9223372036854775808, -9223372036854775809, "
      "18446744073709551616, 123456789012345678901234567890]");
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  const List& v = r->as_list();
  EXPECT_EQ(v[0], Value::integer(std::numeric_limits<int64_t>::max()));
  EXPECT_EQ(v[1], Value::integer(std::numeric_limits<int64_t>::min()));
  const char* digits[] = {"9223372036854775808", "-9223372036854775809", "18446744073709551616",
                          "123456789012345678901234567890"};
  for (size_t i = 2; i < v.size(); ++i) {
    ASSERT_TRUE(v[i].is_object()) << i << ": " << v[i].type_name();
    EXPECT_TRUE(v[i].as_object().is_big_integer());
    EXPECT_EQ(v[i].as_object().big_integer_digits(), digits[i - 2]);
    EXPECT_EQ(v[i].type_name(), "int");  // never silently a float
  }
}

TEST(ParseJson, NumberOverflowingADoubleIsRejected) {
  expect_manifest_error(R"({"operand": 1e400})");
  expect_manifest_error("[-1e400]");
}

TEST(ParseJson, DepthLimitCountsOpenArraysAndObjects) {
  EXPECT_TRUE(parse_json(nested_arrays(kMaxJsonDepth)).ok());
  expect_manifest_error(nested_arrays(kMaxJsonDepth + 1), "64");
  // The top-level object is level 1: {"metadata": {"x": [62 arrays]}} is 64 levels.
  auto wrapped = [](int arrays) {
    return R"({"metadata": {"x": )" + nested_arrays(arrays) + "}}";
  };
  EXPECT_TRUE(parse_json(wrapped(62)).ok());
  expect_manifest_error(wrapped(63), "64");
  // Too deep and invalid at once: reported as too deep.
  expect_manifest_error(std::string(65, '['), "64");
  expect_manifest_error(std::string(64, '{'), "line");  // not too deep, so a syntax error
}

TEST(ParseJson, DepthScanIgnoresBracketsInsideStrings) {
  const std::string brackets(200, '[');
  EXPECT_TRUE(parse_json(R"({"a": ")" + brackets + R"("})").ok());
  // An escaped quote does not end the string.
  EXPECT_TRUE(parse_json(R"({"a": "\")" + brackets + R"("})").ok());
  // An escaped backslash before the quote does: the brackets after it count.
  expect_manifest_error(R"(["\\", )" + nested_arrays(kMaxJsonDepth) + "]", "64");
  // An unterminated string runs to the end: its brackets do not count, so this is a syntax error.
  expect_manifest_error(R"(["unterminated )" + brackets, "line");
}

TEST(ParseJson, SizeLimitIsSixteenMebibytes) {
  std::string text = R"({"a": 1})";
  text.resize(kMaxJsonBytes, ' ');  // trailing whitespace is valid JSON
  ASSERT_EQ(text.size(), 16u * 1024 * 1024);
  Result<Value> ok = parse_json(text);
  ASSERT_TRUE(ok.ok()) << ok.status().to_string();
  EXPECT_EQ(*ok->find("a"), Value::integer(1));
  text.push_back(' ');
  expect_manifest_error(text);
}

TEST(ParseJson, SyntaxErrorsNameLineAndColumn) {
  Result<Value> r = parse_json("{\n  \"a\": 1,\n}");  // trailing comma, on line 3
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kManifestError);
  EXPECT_EQ(r.status().path(), "$");
  EXPECT_NE(r.status().message().find("line 3"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("column"), std::string::npos) << r.status().message();

  for (const char* bad : {"", "   \n ", "[1, 2,]", "{'a': 1}", "{\"a\": NaN}", "[Infinity]",
                          "[-Infinity]", "{a: 1}", "[1] [2]", "[01]", "// c\n{}", "[\"\t\"]",
                          "[True]", "[\"abc", "{\"a\" 1}"}) {
    SCOPED_TRACE(bad);
    expect_manifest_error(bad, "line");
  }
}

TEST(ParseJson, InvalidUnicodeIsRejected) {
  expect_manifest_error("[\"\xff\"]");                  // invalid UTF-8
  expect_manifest_error(R"(["\ud800"])");              // lone high surrogate
  expect_manifest_error(R"(["\udc00"])");              // lone low surrogate
  Result<Value> pair = parse_json(R"(["\ud83d\ude00", "é"])");
  ASSERT_TRUE(pair.ok());
  EXPECT_EQ(pair->as_list()[0].as_string(), "\xF0\x9F\x98\x80");
}

TEST(ParseJson, DuplicateKeyIsRejectedWhereItStands) {
  Result<Value> r = parse_json("{\n  \"id\": \"a\",\n  \"x\": {\"k\": 1},\n    \"id\": \"b\"\n}");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kManifestError);
  EXPECT_EQ(r.status().path(), "$");
  EXPECT_NE(r.status().message().find("line 4 column 5"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("id"), std::string::npos);
  expect_manifest_error(R"({"x": {"k": 1, "k": 1}})", "line 1 column 16");
  // A key that looks like the duplicate inside a value string does not shift the position.
  expect_manifest_error(R"({"s": "\"k\": ", "k": 1, "k": 2})", "column 26");
  // The same key in different objects, or at different levels, is fine.
  Result<Value> ok = parse_json(R"({"a": {"k": 1}, "b": {"k": 2}, "k": {"k": 3}})");
  ASSERT_TRUE(ok.ok()) << ok.status().to_string();
  EXPECT_EQ(*ok->find("k")->find("k"), Value::integer(3));
}

TEST(ParseJson, ByteOrderMarkIsRejected) {
  expect_manifest_error("\xEF\xBB\xBF{}", "line 1");
  EXPECT_TRUE(parse_json("{\"a\": \"\xEF\xBB\xBF\"}").ok());  // U+FEFF inside a string is just a character
}

TEST(ParseJson, SizeAndDepthAreWordedAsThePythonParserWordsThem) {
  std::string text = "[]";
  text.resize(kMaxJsonBytes + 1, ' ');
  Result<Value> r = parse_json(text);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "manifest text is more than the 16 MiB limit (16777216 bytes)");
  r = parse_json(nested_arrays(kMaxJsonDepth + 1));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "arrays and objects nested deeper than 64 levels");
}

// The message of parse_json's refusal, which must be find_json_fault's.
std::string refusal(std::string_view text) {
  Result<Value> r = parse_json(text);
  if (r.ok()) return "accepted";
  EXPECT_EQ(r.status().code(), StatusCode::kManifestError);
  EXPECT_EQ(r.status().path(), "$");
  return r.status().message();
}

struct WordingCase {
  const char* text;
  const char* where;  // "line L column C: reason"
};

TEST(JsonFault, EveryReasonHasItsWordsAndPlace) {
  const WordingCase cases[] = {
      // end of input: at the end, one column past the last character
      {"", "line 1 column 1: unexpected end of input"},
      {"  \n\t \r\n", "line 3 column 1: unexpected end of input"},
      {"{\"a\": [1, 2", "line 1 column 12: unexpected end of input"},
      {"{\"a\"", "line 1 column 5: unexpected end of input"},
      // unexpected characters, ASCII quoted and others as code points
      {"[1, 2,]", "line 1 column 7: unexpected character ']'"},
      {"{\"a\": 1,}", "line 1 column 9: unexpected character '}'"},
      {"{'a': 1}", "line 1 column 2: unexpected character '''"},
      {"{a: 1}", "line 1 column 2: unexpected character 'a'"},
      {"[True]", "line 1 column 2: unexpected character 'T'"},
      {"{\"a\" 1}", "line 1 column 6: unexpected character '1'"},
      {"[01]", "line 1 column 3: unexpected character '1'"},
      {"// c\n{}", "line 1 column 1: unexpected character '/'"},
      {"[1 \xE2\x82\xAC]", "line 1 column 4: unexpected character U+20AC"},
      {"\xEF\xBB\xBF{}", "line 1 column 1: unexpected character U+FEFF"},
      {"[1,\n\x01]", "line 2 column 1: unexpected character U+0001"},
      // after the value
      {"[1] [2]", "line 1 column 5: extra data after the value"},
      {"{}\n\n  x", "line 3 column 3: extra data after the value"},
      // numbers and literals
      {"[1.]", "line 1 column 2: invalid number"},
      {"[-]", "line 1 column 2: invalid number"},
      {"[1e]", "line 1 column 2: invalid number"},
      {"[tru]", "line 1 column 2: invalid literal"},
      {"[nul, 1]", "line 1 column 2: invalid literal"},
      {"{\"a\": NaN}", "line 1 column 7: NaN is not a JSON value"},
      {"[Infinity]", "line 1 column 2: Infinity is not a JSON value"},
      {"[1,\n -Infinity]", "line 2 column 2: -Infinity is not a JSON value"},
      {"{\"operand\": 1e400}", "line 1 column 13: number out of the range of a double"},
      {"[-1.5e309]", "line 1 column 2: number out of the range of a double"},
      // strings: unterminated at the opening quote, escapes at the backslash
      {"[\"abc", "line 1 column 2: unterminated string"},
      {"{\"a\": \"b}\n", "line 1 column 10: control character U+000A in a string"},
      {"[\"a\\\"", "line 1 column 2: unterminated string"},
      {"[\"\\x\"]", "line 1 column 3: invalid escape"},
      {"[\"\\u12G4\"]", "line 1 column 3: invalid escape"},
      {"[\"\\ud800\"]", "line 1 column 3: lone surrogate escape"},
      {"[\"\xC3\xA9\\udc00\"]", "line 1 column 4: lone surrogate escape"},
      {"[\"\\ud83d\\u0041\"]", "line 1 column 3: lone surrogate escape"},
      {"[\"a\tb\"]", "line 1 column 4: control character U+0009 in a string"},
      {"[\"\xff\"]", "line 1 column 3: invalid UTF-8 byte 0xff"},
      {"[\"\xC3\xA9\xC3\"]", "line 1 column 4: invalid UTF-8 byte 0xc3"},
      {"[\"\xED\xA0\x80\"]", "line 1 column 3: invalid UTF-8 byte 0xed"},  // a surrogate's bytes
      {"[\"\xC0\xAF\"]", "line 1 column 3: invalid UTF-8 byte 0xc0"},      // overlong
      {"[1, \xff]", "line 1 column 5: invalid UTF-8 byte 0xff"},
      // duplicate keys: at the second, as written, equal after decoding escapes
      {"{\"k\": 1, \"k\": 2}", "line 1 column 10: duplicate key \"k\""},
      {"{\"k\": 1,\n  \"\\u006b\": 2}", "line 2 column 3: duplicate key \"\\u006b\""},
      {"{\"\xC3\xA9\": {}, \"x\": {\"\xC3\xA9\": 1}, \"\xC3\xA9\": 2}",
       "line 1 column 26: duplicate key \"\xC3\xA9\""},
  };
  for (const WordingCase& c : cases) {
    SCOPED_TRACE(c.text);
    std::optional<JsonFault> fault = find_json_fault(c.text);
    ASSERT_TRUE(fault.has_value());
    EXPECT_EQ(fault->where(), std::string("at ") + c.where);
    EXPECT_EQ(refusal(c.text), std::string("not valid JSON at ") + c.where);
  }
}

TEST(JsonFault, ValidTextsHaveNone) {
  for (const char* ok : {"{}", "[]", " [1, -0, 0.5e-3, 1E+2, true, false, null] ", "\"\\ud83d\\ude00\"",
                         "{\"a\": {\"k\": 1}, \"b\": {\"k\": 2}, \"k\": [{\"k\": 0}]}",
                         "[\"\xF0\x9F\x98\x80 \xC3\xA9\"]", "[1e-400, 1.7976931348623157e308]"}) {
    SCOPED_TRACE(ok);
    EXPECT_FALSE(find_json_fault(ok).has_value());
    EXPECT_TRUE(parse_json(ok).ok());
  }
  // Any depth is scanned, without recursion.
  EXPECT_FALSE(find_json_fault(nested_arrays(100000)).has_value());
  std::optional<JsonFault> deep = find_json_fault(std::string(100000, '[') + "x");
  ASSERT_TRUE(deep.has_value());
  EXPECT_EQ(deep->where(), "at line 1 column 100001: unexpected character 'x'");
}

TEST(JsonFault, ColumnsCountCharactersNotBytes) {
  // Before the fault: [, ", two 2-byte, one 3-byte and one 4-byte character, ", comma and space.
  std::optional<JsonFault> fault = find_json_fault("[\"\xC3\xA9\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\", x]");
  ASSERT_TRUE(fault.has_value());
  EXPECT_EQ(fault->line, 1u);
  EXPECT_EQ(fault->column, 10u);
  EXPECT_EQ(fault->reason, "unexpected character 'x'");
}

TEST(KeyPath, IdentifiersUseDotsOthersAreQuoted) {
  EXPECT_EQ(key_path("$", "nodes"), "$.nodes");
  EXPECT_EQ(key_path("$.nodes[0]", "_a1"), "$.nodes[0]._a1");
  EXPECT_EQ(key_path("$", "bad key"), R"($["bad key"])");
  EXPECT_EQ(key_path("$", ""), R"($[""])");
  EXPECT_EQ(key_path("$", "1a"), R"($["1a"])");
  EXPECT_EQ(key_path("$", "op-code"), R"($["op-code"])");
  EXPECT_EQ(key_path("$", "a\"b\\c"), R"($["a\"b\\c"])");
  EXPECT_EQ(key_path("$", "t\tn\n\x01"), R"($["t\tn\n\u0001"])");
  EXPECT_EQ(key_path("$", "caf\xC3\xA9"), "$[\"caf\xC3\xA9\"]");  // non-ASCII kept, and not an identifier
}

TEST(ToJson, RoundTrips) {
  const std::string text =
      R"({"b": [1, -2.5, true, null, "q\"\\\n\u0001é"], "a": {"n": 9223372036854775807, "f": 5.0}, "z": []})";
  Result<Value> v = parse_json(text);
  ASSERT_TRUE(v.ok()) << v.status().to_string();
  Result<std::string> out = to_json(*v);
  ASSERT_TRUE(out.ok());
  Result<Value> back = parse_json(*out);
  ASSERT_TRUE(back.ok()) << *out;
  EXPECT_EQ(*back, *v);
  EXPECT_EQ(keys_of(*back), (std::vector<std::string>{"b", "a", "z"}));
  EXPECT_TRUE(back->find("a")->find("f")->is_float());  // 5.0 is written so it reads back as a float
  // Floats survive exactly.
  for (double d : {0.1, 1.0 / 3, 1e300, -2.2250738585072014e-308, 5e-324, 123456789.125}) {
    Result<std::string> t = to_json(Value::real(d));
    ASSERT_TRUE(t.ok());
    Result<Value> x = parse_json(*t);
    ASSERT_TRUE(x.ok()) << *t;
    EXPECT_EQ(*x, Value::real(d)) << *t;
  }
}

TEST(ToJson, LayoutMatchesPythonJsonDumps) {
  Value v = Value::map({{"a", Value::integer(1)},
                        {"b", Value::list({Value::integer(1), Value::real(2.5)})},
                        {"c", Value::map({})},
                        {"d", Value::list({})}});
  // json.dumps(v) and json.dumps(v, indent=2)
  EXPECT_EQ(to_json(v).value(), R"({"a": 1, "b": [1, 2.5], "c": {}, "d": []})");
  EXPECT_EQ(to_json(v, 2).value(),
            "{\n  \"a\": 1,\n  \"b\": [\n    1,\n    2.5\n  ],\n  \"c\": {},\n  \"d\": []\n}");
}

TEST(ToJson, BigIntegersKeepTheirDigits) {
  Result<Value> v = parse_json("[-123456789012345678901234567890]");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(to_json(*v).value(), "[-123456789012345678901234567890]");
}

TEST(ToJson, ArraysBecomeNestedLists) {
  auto a = NDArray::allocate(DType::kInt32, {2, 2});
  int32_t* d = a->mutable_data_as<int32_t>();
  d[0] = 1, d[1] = -2, d[2] = 3, d[3] = 4;
  EXPECT_EQ(to_json(Value::array(a)).value(), "[[1, -2], [3, 4]]");
  auto s = NDArray::allocate(DType::kFloat64, {}, /*numpy_scalar=*/true);
  s->mutable_data_as<double>()[0] = 0.5;
  EXPECT_EQ(to_json(Value::array(s)).value(), "0.5");
}

TEST(ToJson, RefusesWhatJsonCannotSay) {
  const double inf = std::numeric_limits<double>::infinity();
  for (const Value& v : {Value::real(std::nan("")), Value::real(inf), Value::real(-inf),
                         Value::bytes("abc"), Value::list({Value::integer(1), Value::real(inf)}),
                         Value::map({{"k", Value::bytes("")}})}) {
    Result<std::string> r = to_json(v);
    EXPECT_FALSE(r.ok()) << *r;
    EXPECT_EQ(r.status().code(), StatusCode::kTypeError);
  }
}

}  // namespace
}  // namespace remotemedia

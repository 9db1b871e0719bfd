// Registry: names and aliases, duplicate registration, and check_params (rule 20 of
// docs/MANIFEST.md: unknown names in the order given, then declared parameters in declaration order).
#include "remotemedia/registry.h"

#include <gtest/gtest.h>

#include <cmath>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "remotemedia/json.h"

namespace remotemedia {
namespace {

class NullNode final : public Node {
 public:
  Status process(Value, Emitter&) override { return Status::OK(); }
};

NodeTypeInfo info(std::string name, std::vector<std::string> aliases = {}, std::vector<ParamSpec> params = {}) {
  return NodeTypeInfo{std::move(name), std::move(aliases), "test node", std::move(params),
                      [](const Value&) -> Result<std::unique_ptr<Node>> {
                        return std::unique_ptr<Node>(std::make_unique<NullNode>());
                      }};
}

const NodeTypeInfo& calculator() {
  const NodeTypeInfo* c = Registry::global().find("CalculatorNode");
  EXPECT_NE(c, nullptr);
  return *c;
}

// Parameters from JSON text, so big integers and key order come out as a manifest gives them.
Value params(const char* json) {
  Result<Value> v = parse_json(json);
  EXPECT_TRUE(v.ok()) << v.status().to_string();
  return v.ok() ? *v : Value::map({});
}

const std::string kPath = "$.nodes[0].params";

Status check(const NodeTypeInfo& type, const char* json) {
  Result<Value> r = Registry::check_params(type, params(json), kPath);
  return r.ok() ? Status::OK() : r.status();
}

::testing::AssertionResult invalid_at(const NodeTypeInfo& type, const char* json, const std::string& path,
                                      const std::string& mention = "") {
  Status s = check(type, json);
  if (s.ok()) return ::testing::AssertionFailure() << "accepted " << json;
  if (s.code() != StatusCode::kInvalidParameter) {
    return ::testing::AssertionFailure() << "code " << status_code_name(s.code()) << " for " << json;
  }
  if (s.path() != path) {
    return ::testing::AssertionFailure() << "path " << s.path() << ", expected " << path << " for " << json
                                         << " (" << s.message() << ")";
  }
  if (!mention.empty() && s.message().find(mention) == std::string::npos) {
    return ::testing::AssertionFailure() << "message '" << s.message() << "' lacks '" << mention << "'";
  }
  return ::testing::AssertionSuccess();
}

TEST(Registry, AliasesResolveToTheSameType) {
  const Registry& r = Registry::global();
  ASSERT_NE(r.find("CalculatorNode"), nullptr);
  EXPECT_EQ(r.find("Calculator"), r.find("CalculatorNode"));
  EXPECT_EQ(r.find("Calculator")->name, "CalculatorNode");
  ASSERT_NE(r.find("PassThroughNode"), nullptr);
  EXPECT_EQ(r.find("PassThrough"), r.find("PassThroughNode"));
  EXPECT_NE(r.find("PassThrough"), r.find("Calculator"));
  // exact names only
  EXPECT_EQ(r.find("passthroughnode"), nullptr);
  EXPECT_EQ(r.find("PassThroughNode "), nullptr);
  EXPECT_EQ(r.find(""), nullptr);
}

TEST(Registry, BuiltinTypesPublishTheirSchemas) {
  const NodeTypeInfo& c = calculator();
  ASSERT_EQ(c.params.size(), 2u);
  EXPECT_EQ(c.params[0].name, "operation");
  EXPECT_EQ(c.params[0].type, ParamType::kString);
  EXPECT_TRUE(c.params[0].required);
  EXPECT_EQ(c.params[0].choices,
            (std::vector<std::string>{"add", "subtract", "multiply", "divide", "power", "modulo"}));
  EXPECT_EQ(c.param("operand")->type, ParamType::kNumber);
  EXPECT_EQ(c.param("missing"), nullptr);
  EXPECT_TRUE(Registry::global().find("PassThroughNode")->params.empty());
  std::vector<std::string> names;
  for (const NodeTypeInfo* t : Registry::global().types()) names.push_back(t->name);
  EXPECT_NE(std::find(names.begin(), names.end(), "CalculatorNode"), names.end());
  EXPECT_EQ(std::find(names.begin(), names.end(), "Calculator"), names.end());  // aliases are not types
}

TEST(Registry, DuplicateNamesAndAliasesAreRejected) {
  Registry r;
  ASSERT_TRUE(r.add(info("Alpha", {"A"})).ok());
  const NodeTypeInfo* alpha = r.find("Alpha");
  EXPECT_FALSE(r.add(info("Alpha")).ok());              // same name
  EXPECT_FALSE(r.add(info("A")).ok());                  // a name that is an existing alias
  EXPECT_FALSE(r.add(info("Beta", {"Alpha"})).ok());    // an alias that is an existing name
  EXPECT_FALSE(r.add(info("Gamma", {"G", "A"})).ok());  // one alias of several taken
  // A rejected registration leaves nothing behind, and the original stays.
  EXPECT_EQ(r.find("Beta"), nullptr);
  EXPECT_EQ(r.find("Gamma"), nullptr);
  EXPECT_EQ(r.find("G"), nullptr);
  EXPECT_EQ(r.find("A"), alpha);
  EXPECT_EQ(r.find("Alpha"), alpha);
  EXPECT_EQ(r.types().size(), 1u);
  ASSERT_TRUE(r.add(info("Beta", {"B"})).ok());
  EXPECT_EQ(r.find("Alpha"), alpha);  // addresses stay valid as the registry grows
  ASSERT_EQ(r.types().size(), 2u);
  EXPECT_EQ(r.types()[0]->name, "Alpha");
  EXPECT_EQ(r.types()[1]->name, "Beta");
  // A fresh registry knows nothing until the built-ins are registered.
  Registry fresh;
  EXPECT_EQ(fresh.find("CalculatorNode"), nullptr);
  register_builtin_nodes(fresh);
  EXPECT_NE(fresh.find("Calculator"), nullptr);
}

TEST(CheckParams, UnknownParameterNamesComeFirstInTheOrderGiven) {
  const NodeTypeInfo& c = calculator();
  EXPECT_TRUE(invalid_at(c, R"({"operation": "add", "operand": 1, "x": 1})", kPath + ".x", "x"));
  EXPECT_TRUE(invalid_at(c, R"({"x": 1})", kPath + ".x"));  // unknown beats missing
  EXPECT_TRUE(invalid_at(c, R"({"zeta": 1, "alpha": 2})", kPath + ".zeta"));
  EXPECT_TRUE(invalid_at(c, R"({"op-code": 1})", kPath + R"(["op-code"])"));
  EXPECT_TRUE(invalid_at(*Registry::global().find("PassThrough"), R"({"operation": "add"})",
                         kPath + ".operation"));
}

TEST(CheckParams, MissingRequiredNamesTheParamsObject) {
  const NodeTypeInfo& c = calculator();
  EXPECT_TRUE(invalid_at(c, "{}", kPath, "operation"));
  EXPECT_TRUE(invalid_at(c, R"({"operand": 1})", kPath, "operation"));
  EXPECT_TRUE(invalid_at(c, R"({"operation": "add"})", kPath, "operand"));
  // A missing earlier-declared parameter beats a bad later one.
  EXPECT_TRUE(invalid_at(c, R"({"operand": "bad"})", kPath, "operation"));
}

TEST(CheckParams, DeclarationOrderNotDocumentOrder) {
  EXPECT_TRUE(invalid_at(calculator(), R"({"operand": "x", "operation": "pow"})", kPath + ".operation"));
}

TEST(CheckParams, NumberOperand) {
  const NodeTypeInfo& c = calculator();
  EXPECT_TRUE(invalid_at(c, R"({"operation": "add", "operand": "5"})", kPath + ".operand", "operand"));
  EXPECT_TRUE(invalid_at(c, R"({"operation": "add", "operand": true})", kPath + ".operand"));  // bool is not a number
  EXPECT_TRUE(invalid_at(c, R"({"operation": "add", "operand": null})", kPath + ".operand"));
  EXPECT_TRUE(invalid_at(c, R"({"operation": "add", "operand": [1]})", kPath + ".operand"));
  EXPECT_TRUE(invalid_at(c, R"({"operation": "add", "operand": {"v": 1}})", kPath + ".operand"));
  EXPECT_TRUE(invalid_at(c, R"({"operation": "add", "operand": 9223372036854775808})", kPath + ".operand",
                         "must fit in int64"));
  EXPECT_TRUE(invalid_at(c, R"({"operation": "add", "operand": -9223372036854775809})", kPath + ".operand",
                         "must fit in int64"));
  EXPECT_TRUE(invalid_at(c, R"({"operation": "add", "operand": 1000000000000000000000000})", kPath + ".operand",
                         "must fit in int64"));
  // JSON has no NaN, but a node made in C++ (a fuzzer, a plugin) can be given one: every bound
  // compares false with it, so it must be refused as a number (EnergyVAD cast it to int64).
  for (double bad : {std::nan(""), HUGE_VAL, -HUGE_VAL}) {
    const Value params = Value::map({{"operation", Value::string("add")}, {"operand", Value::real(bad)}});
    Result<Value> r = Registry::check_params(c, params, kPath);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().message(), "parameter 'operand' must be finite (JSON has no inf or nan)");
  }
  for (const char* ok : {R"({"operation": "add", "operand": 9223372036854775807})",
                         R"({"operation": "add", "operand": -9223372036854775808})",
                         R"({"operation": "add", "operand": 2.5})", R"({"operation": "add", "operand": 1e300})"}) {
    EXPECT_TRUE(check(c, ok).ok()) << ok;
  }
}

TEST(CheckParams, StringChoicesCompareExactly) {
  const NodeTypeInfo& c = calculator();
  for (const char* op : {"add", "subtract", "multiply", "divide", "power", "modulo"}) {
    std::string json = std::string(R"({"operation": ")") + op + R"(", "operand": 1})";
    EXPECT_TRUE(check(c, json.c_str()).ok()) << op;
  }
  EXPECT_TRUE(invalid_at(c, R"({"operation": "Add", "operand": 1})", kPath + ".operation", "Add"));
  EXPECT_TRUE(invalid_at(c, R"({"operation": "+", "operand": 1})", kPath + ".operation"));
  EXPECT_TRUE(invalid_at(c, R"({"operation": 1, "operand": 1})", kPath + ".operation"));
}

TEST(CheckParams, EachParamType) {
  const NodeTypeInfo t = info("Typed", {},
                              {ParamSpec{"i", ParamType::kInt, false, Value::integer(0), {}, ""},
                               ParamSpec{"b", ParamType::kBool, false, Value::boolean(false), {}, ""},
                               ParamSpec{"l", ParamType::kList, false, Value::list({}), {}, ""},
                               ParamSpec{"m", ParamType::kMap, false, Value::map({}), {}, ""},
                               ParamSpec{"s", ParamType::kString, false, Value::string(""), {}, ""},
                               ParamSpec{"a", ParamType::kAny, false, Value(), {}, ""}});
  EXPECT_TRUE(invalid_at(t, R"({"i": 1.0})", kPath + ".i"));
  EXPECT_TRUE(invalid_at(t, R"({"i": true})", kPath + ".i"));
  EXPECT_TRUE(invalid_at(t, R"({"i": 18446744073709551616})", kPath + ".i", "must fit in int64"));
  EXPECT_TRUE(invalid_at(t, R"({"b": 1})", kPath + ".b"));
  EXPECT_TRUE(invalid_at(t, R"({"l": {}})", kPath + ".l"));
  EXPECT_TRUE(invalid_at(t, R"({"m": []})", kPath + ".m"));
  EXPECT_TRUE(invalid_at(t, R"({"s": 1})", kPath + ".s"));
  EXPECT_TRUE(check(t, R"({"i": -3, "b": true, "l": [1], "m": {"k": 1}, "s": "any", "a": null})").ok());
  EXPECT_TRUE(check(t, R"({"a": [1, {"x": 2}]})").ok());
}

TEST(CheckParams, DefaultsAreFilledInDeclarationOrder) {
  const NodeTypeInfo t = info("Defaults", {},
                              {ParamSpec{"first", ParamType::kInt, false, Value::integer(7), {}, ""},
                               ParamSpec{"second", ParamType::kString, true, Value(), {}, ""},
                               ParamSpec{"third", ParamType::kNumber, false, Value::real(0.5), {}, ""}});
  Result<Value> r = Registry::check_params(t, params(R"({"third": 2, "second": "s"})"), kPath);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(*r, Value::map({{"first", Value::integer(7)}, {"second", Value::string("s")}, {"third", Value::integer(2)}}));
  // The calculator's params come back unchanged (nothing optional to fill).
  Result<Value> c = Registry::check_params(calculator(), params(R"({"operand": 2.5, "operation": "divide"})"), kPath);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(*c->find("operand"), Value::real(2.5));
  EXPECT_EQ(*c->find("operation"), Value::string("divide"));
}

// validate_params: the first problem in declaration order, whether the schema or the type's own
// check finds it; the own check is asked with later parameters at their defaults where they fail.
TEST(ValidateParams, AnOwnCheckFaultOfAnEarlierParameterComesBeforeASchemaFaultOfALaterOne) {
  NodeTypeInfo t = info("Ordered", {},
                        {ParamSpec{"first", ParamType::kNumber, false, Value::real(1), {}, ""},
                         ParamSpec{"second", ParamType::kNumber, false, Value::real(1), {}, "", 0.0}});
  int calls = 0;
  t.check = [&calls](const Value& p, const std::string& path) -> Status {
    ++calls;
    auto number = [](const Value& v) { return v.is_int() ? static_cast<double>(v.as_int()) : v.as_float(); };
    const Value& second = *p.find("second");
    EXPECT_TRUE((second.is_int() || second.is_float()) && number(second) >= 0);  // never the bad value
    if (number(*p.find("first")) <= 0) {
      return std::move(Status(StatusCode::kInvalidParameter, "first must be positive").with_path(path + ".first"));
    }
    return Status::OK();
  };
  auto validate = [&](const char* json) {
    Result<Value> r = Registry::validate_params(t, params(json), kPath);
    return r.ok() ? std::string("ok") : r.status().to_string();
  };
  EXPECT_EQ(validate(R"({"first": -1, "second": -1})"), kPath + ".first: first must be positive");
  EXPECT_EQ(validate(R"({"first": 2, "second": -1})"), kPath + ".second: parameter 'second' must be at least 0");
  EXPECT_EQ(validate(R"({"first": -1, "second": "x"})"), kPath + ".first: first must be positive");
  EXPECT_EQ(validate(R"({"first": "x", "second": -1})"),
            kPath + ".first: parameter 'first' must be a number, got string");
  EXPECT_EQ(validate(R"({"first": 3})"), "ok");
  EXPECT_EQ(validate(R"({"bogus": 1, "first": -1})"), kPath + ".bogus: unknown parameter 'bogus' for Ordered");
  EXPECT_GT(calls, 0);
  // check_params stays the schema alone.
  EXPECT_TRUE(Registry::check_params(t, params(R"({"first": -1})"), kPath).ok());
}

}  // namespace
}  // namespace remotemedia

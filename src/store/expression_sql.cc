#include "store/expression_sql.h"

#include <atomic>
#include <charconv>
#include <cmath>
#include <regex>
#include <string_view>

#include "fo/error.h"
#include "store/sample_store.h"

namespace fo::internal {

using nlohmann::json;

namespace {

// --- The JSON form ---------------------------------------------------------

enum class Arity { kOne, kTwo, kMany, kInList, kContains, kStringMatch, kFilter, kRegex, kExists, kElemAt };

const std::map<std::string, Arity>& Operators() {
  static const std::map<std::string, Arity> ops = {
      {"$eq", Arity::kTwo},        {"$ne", Arity::kTwo},         {"$gt", Arity::kTwo},
      {"$gte", Arity::kTwo},       {"$lt", Arity::kTwo},         {"$lte", Arity::kTwo},
      {"$add", Arity::kTwo},       {"$subtract", Arity::kTwo},   {"$multiply", Arity::kTwo},
      {"$divide", Arity::kTwo},    {"$mod", Arity::kTwo},        {"$and", Arity::kMany},
      {"$or", Arity::kMany},       {"$not", Arity::kMany},       {"$abs", Arity::kOne},
      {"$size", Arity::kOne},      {"$max", Arity::kOne},        {"$min", Arity::kOne},
      {"$sum", Arity::kOne},       {"$avg", Arity::kOne},        {"$exists", Arity::kExists},
      {"$in", Arity::kInList},     {"$contains", Arity::kContains}, {"$startsWith", Arity::kStringMatch},
      {"$endsWith", Arity::kStringMatch}, {"$filter", Arity::kFilter}, {"$regexMatch", Arity::kRegex},
      {"$arrayElemAt", Arity::kElemAt},
  };
  return ops;
}

[[noreturn]] void Malformed(const std::string& op, const std::string& want, const json& got) {
  throw InvalidArgument("view expression " + op + " takes " + want + ", got " + got.dump());
}

bool IsLiteralList(const json& j) {
  if (j.is_object() && j.size() == 1 && j.contains("$literal")) return j["$literal"].is_array();
  if (!j.is_array()) return false;
  for (const auto& e : j)
    if (e.is_object() || e.is_array() || (e.is_string() && !e.get_ref<const std::string&>().empty() &&
                                          e.get_ref<const std::string&>()[0] == '$'))
      return false;
  return true;
}

const json& LiteralList(const json& j) { return j.is_object() ? j["$literal"] : j; }

}  // namespace

void ValidateExpressionJson(const json& j) {
  if (j.is_array()) {
    for (const auto& e : j) ValidateExpressionJson(e);
    return;
  }
  if (!j.is_object()) return;  // a literal or a field reference
  if (j.size() != 1)
    throw InvalidArgument("a view expression object holds one operator, got " + j.dump() + " (use $and for several)");
  const auto& [op, args] = *j.items().begin();
  if (op == "$literal") return;
  auto it = Operators().find(op);
  if (it == Operators().end()) throw InvalidArgument("unknown view expression operator '" + op + "' in " + j.dump());
  switch (it->second) {
    case Arity::kOne:
      ValidateExpressionJson(args);
      return;
    case Arity::kTwo:
      if (!args.is_array() || args.size() != 2) Malformed(op, "a list of 2 expressions", args);
      break;
    case Arity::kMany:
      if (!args.is_array() || args.empty()) Malformed(op, "a non-empty list of expressions", args);
      if (op == "$not" && args.size() != 1) Malformed(op, "a list of 1 expression", args);
      break;
    case Arity::kExists:
      if (!args.is_array() || args.size() != 2 || !args[1].is_boolean()) Malformed(op, "[expression, bool]", args);
      ValidateExpressionJson(args[0]);
      return;
    case Arity::kInList:
      if (!args.is_array() || args.size() != 2 || !IsLiteralList(args[1])) Malformed(op, "[expression, [values]]", args);
      ValidateExpressionJson(args[0]);
      return;
    case Arity::kContains:
      if (!args.is_array() || args.size() != 3 || !IsLiteralList(args[1]) || !args[2].is_boolean())
        Malformed(op, "[list expression, [values], all]", args);
      ValidateExpressionJson(args[0]);
      return;
    case Arity::kStringMatch:
      if (!args.is_array() || args.size() != 3 || !IsLiteralList(args[1]) || !args[2].is_boolean())
        Malformed(op, "[expression, [strings], case_sensitive]", args);
      for (const auto& s : LiteralList(args[1]))
        if (!s.is_string()) Malformed(op, "[expression, [strings], case_sensitive]", args);
      ValidateExpressionJson(args[0]);
      return;
    case Arity::kFilter:
      if (!args.is_object() || !args.contains("input") || !args.contains("cond") || args.size() != 2)
        Malformed(op, "{\"input\": list expression, \"cond\": expression}", args);
      ValidateExpressionJson(args["input"]);
      ValidateExpressionJson(args["cond"]);
      return;
    case Arity::kRegex:
      if (!args.is_object() || !args.contains("input") || !args.contains("regex") || !args["regex"].is_string())
        Malformed(op, "{\"input\": expression, \"regex\": string, \"options\": \"\" or \"i\"}", args);
      ValidateExpressionJson(args["input"]);
      return;
    case Arity::kElemAt:
      if (!args.is_array() || args.size() != 2 || !args[1].is_number_integer()) Malformed(op, "[list expression, int]", args);
      ValidateExpressionJson(args[0]);
      return;
  }
  for (const auto& a : args) ValidateExpressionJson(a);
}

bool SampleShape::Keeps(const std::string& field) const {
  if (excluded.count(field)) return false;
  return !selected || selected->count(field);
}

ExprEnv LoadExprEnv(Sqlite& db, int64_t dataset_id, std::shared_ptr<const SampleShape> shape) {
  return {FieldTypes(db, dataset_id), std::move(shape)};
}

json PathJson(const std::string& path) { return "$" + path; }

namespace {

// --- SQL building blocks ------------------------------------------------------

std::string Alias(const char* prefix) {
  // Unique in the process, so fragments compiled separately can nest
  // without one alias hiding another.
  static std::atomic<uint64_t> next{0};
  return prefix + std::to_string(next++);
}

std::string Quote(const std::string& s) {
  if (s.find('\0') != std::string::npos) throw InvalidArgument("a string in a view expression holds a NUL character");
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

std::string JsonPathOf(const std::string& name) {
  if (name.find('"') != std::string::npos || name.find('\\') != std::string::npos)
    throw InvalidArgument("field name '" + name + "' holds a quote or backslash; it cannot be used in a view expression");
  return Quote("$.\"" + name + "\"");
}

std::string LiteralSql(const json& j) {
  if (j.is_null()) return "NULL";
  if (j.is_boolean()) return j.get<bool>() ? "1" : "0";
  if (j.is_number_integer()) return j.dump();
  if (j.is_number()) {
    double d = j.get<double>();
    if (!std::isfinite(d)) throw InvalidArgument("a number in a view expression must be finite, got " + j.dump());
    std::string s = j.dump();  // shortest round-trip form
    return s.find_first_of(".eE") == std::string::npos ? s + ".0" : s;
  }
  if (j.is_string()) return Quote(j.get<std::string>());
  throw InvalidArgument("a list literal cannot be used here: " + j.dump() + " (use is_in or contains)");
}

// "(a, b, c)" of a literal list, and whether it holds null.
std::string LiteralTuple(const json& list, bool* has_null) {
  std::string out;
  *has_null = false;
  for (const auto& e : list) {
    if (e.is_null()) {
      *has_null = true;
      continue;
    }
    out += (out.empty() ? "" : ", ") + LiteralSql(e);
  }
  return "(" + out + ")";
}

size_t Utf8Length(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// --- Compiled terms -----------------------------------------------------------

// A compiled expression: one value (or a condition), or a list whose
// elements are the rows of `from` satisfying `where`.
struct Term {
  enum Kind { kValue, kBool, kList } kind = kValue;
  std::string sql;  // kValue / kBool
  bool literal = false;
  bool null_literal = false;
  bool boolean = false;  // a value of a declared bool field (or attribute)
  // kList:
  std::string from, where, elem, order;
  std::string exists;       // whether the list itself is set
  std::string label_alias;  // set when the elements are label rows
  std::string label_field;
  std::string element_alias;  // the json_each alias, for an element scope

  static Term Value(std::string sql) { return Term{kValue, std::move(sql)}; }
  static Term Bool(std::string sql) { return Term{kBool, std::move(sql)}; }
};

struct Scope {
  enum Kind { kSample, kLabel, kValues } kind = kSample;
  std::string alias;  // label row (kLabel)
  std::string field;  // its label field
  std::string elem;   // the element (kValues)
};

class Compiler {
 public:
  explicit Compiler(const ExprEnv& env) : env_(env) {}

  Term Compile(const json& e, const Scope& scope) {
    if (e.is_string()) {
      const auto& s = e.get_ref<const std::string&>();
      if (!s.empty() && s[0] == '$') return Reference(s, scope);
    }
    if (!e.is_object()) return Literal(e);
    const auto& [op, args] = *e.items().begin();
    if (op == "$literal") return Literal(args);
    return Operator(op, args, scope);
  }

  std::string Truthy(const Term& t, const std::string& what = "a condition") {
    if (t.kind == Term::kBool) return t.sql;
    if (t.kind == Term::kList)
      throw InvalidArgument("a list cannot be used as " + what + "; test it with .length() > 0, .contains() or .exists()");
    return "(coalesce(" + t.sql + ", 0) IS NOT 0)";
  }

  std::string ValueSql(const Term& t, const std::string& op) {
    if (t.kind == Term::kList)
      throw InvalidArgument(op + " needs one value, not a list; reduce the list first (.length(), .max(), .contains(), .filter()...)");
    return t.sql;
  }

  Term ListOf(const Term& t, const std::string& op) {
    if (t.kind != Term::kList)
      throw InvalidArgument(op + " applies to a list (tags, a list field, a label list such as "
                            "\"ground_truth.detections\" or one of its attributes)");
    return t;
  }

  // The labels of `field` that the view shows, over the row `alias`.
  std::string VisibleLabels(const std::string& field, const std::string& alias) {
    std::string cond = alias + ".field = " + Quote(field);
    if (!env_.shape) return cond;
    auto it = env_.shape->label_steps.find(field);
    if (it == env_.shape->label_steps.end()) return cond;
    return cond + StepsCondition(it->second, it->second.size(), field, alias);
  }

 private:
  // " AND ..." for the first n steps over the label row `alias`. A limit
  // keeps a label when fewer than `limit` labels before it (by position)
  // passed the steps before the limit.
  std::string StepsCondition(const std::vector<LabelStep>& steps, size_t n, const std::string& field,
                             const std::string& alias) {
    std::string out;
    for (size_t i = 0; i < n; ++i) {
      const auto& step = steps[i];
      if (step.filter) {
        out += " AND " + Truthy(Compile(*step.filter, Scope{Scope::kLabel, alias, field, ""}));
        continue;
      }
      std::string b = Alias("lim");
      out += " AND (SELECT count(*) FROM labels AS " + b + " WHERE " + b + ".sample_seq = " + alias + ".sample_seq AND " + b +
             ".field = " + alias + ".field AND " + b + ".position < " + alias + ".position" +
             StepsCondition(steps, i, field, b) + ") < " + std::to_string(step.limit);
    }
    return out;
  }

  Term Literal(const json& j) {
    if (j.is_array() || j.is_object())
      throw InvalidArgument("a list literal cannot be used here: " + j.dump() + " (use is_in or contains)");
    Term t = Term::Value(LiteralSql(j));
    t.literal = true;
    t.null_literal = j.is_null();
    return t;
  }

  Term Reference(const std::string& ref, const Scope& scope) {
    if (ref == "$$this") {
      if (scope.kind == Scope::kValues) return Term::Value(scope.elem);
      throw InvalidArgument("F() (the element itself) is only meaningful in a filter over a list of values");
    }
    std::string path = ref.rfind("$$this.", 0) == 0 ? ref.substr(7) : ref.substr(1);
    switch (scope.kind) {
      case Scope::kSample:
        return SamplePath(path);
      case Scope::kLabel:
        return LabelAttribute(scope.alias, scope.field, path);
      case Scope::kValues:
        break;
    }
    throw InvalidArgument("F(\"" + path + "\") inside a filter over a list of values: use F() for the element");
  }

  Term JsonList(const std::string& source, const std::string& exists) {
    Term t;
    t.kind = Term::kList;
    t.element_alias = Alias("j");
    t.from = source + " AS " + t.element_alias;
    t.where = "1";
    t.elem = t.element_alias + ".value";
    t.order = t.element_alias + ".key";
    t.exists = exists;
    return t;
  }

  Term LabelList(const std::string& field, const std::string& attr) {
    Term t;
    t.kind = Term::kList;
    t.label_alias = Alias("l");
    t.label_field = field;
    const std::string& a = t.label_alias;
    t.from = "labels AS " + a;
    t.where = a + ".sample_seq = s.seq AND " + VisibleLabels(field, a);
    t.order = a + ".position";
    t.exists = "EXISTS (SELECT 1 FROM " + t.from + " WHERE " + t.where + ")";
    if (attr.empty()) return t;  // the label rows themselves
    Term value = LabelAttribute(a, field, attr);
    if (value.kind == Term::kList)
      throw InvalidArgument("\"" + field + ".detections." + attr + "\" is a list per detection; filter the detections instead");
    t.elem = value.sql;
    t.boolean = value.boolean;
    t.label_alias.clear();  // the elements are values now
    return t;
  }

  // Metadata attributes are columns of `samples`; more can be added here.
  static const std::map<std::string, std::string>& MetadataColumns() {
    static const std::map<std::string, std::string> columns = {{"width", "s.width"},
                                                               {"height", "s.height"},
                                                               {"size_bytes", "s.size_bytes"},
                                                               {"mime_type", "s.mime_type"},
                                                               {"num_channels", "s.num_channels"}};
    return columns;
  }

  static std::string MetadataNames() {
    std::string names;
    for (const auto& [attr, column] : MetadataColumns()) names += (names.empty() ? "metadata." : ", metadata.") + attr;
    return names;
  }

  std::string FieldNames() const {
    std::string names = "id, filepath, tags";
    for (const auto& [attr, column] : MetadataColumns()) names += ", metadata." + attr;
    for (const auto& [name, type] : env_.field_types)
      if (name.find('.') == std::string::npos) names += ", " + name;
    return names;
  }

  // The one place a sample path is resolved.
  Term SamplePath(const std::string& path) {
    if (path == "id" || path == "_id") return Term::Value("s.id");
    if (path == "filepath") return Term::Value("s.filepath");
    if (path == "tags") return JsonList("json_each(s.tags)", "1");
    if (path.rfind("metadata.", 0) == 0) {
      auto it = MetadataColumns().find(path.substr(9));
      if (it == MetadataColumns().end())
        throw InvalidArgument("unknown metadata attribute '" + path + "'; available: " + MetadataNames());
      return Term::Value(it->second);
    }
    const std::string head = path.substr(0, path.find('.'));
    auto type = env_.field_types.find(head);
    if (type == env_.field_types.end() || head == "metadata")
      throw InvalidArgument("the dataset has no field '" + head + "' (fields: " + FieldNames() + ")");
    if (env_.shape && !env_.shape->Keeps(head))
      throw InvalidArgument("field '" + head + "' is not in this view (select_fields / exclude_fields left it out)");
    if (type->second == "detections") {
      if (path == head || path == head + ".detections") return LabelList(head, "");
      const std::string prefix = head + ".detections.";
      if (path.rfind(prefix, 0) == 0 && path.size() > prefix.size()) return LabelList(head, path.substr(prefix.size()));
      throw InvalidArgument("'" + path + "' is not a path of label field '" + head + "'; use \"" + prefix + "<attribute>\"");
    }
    if (path != head) throw InvalidArgument("field '" + head + "' holds " + type->second + " values; it has no '" + path + "'");
    if (type->second == "vector") throw InvalidArgument("vector field '" + head + "' cannot be used in a view expression");
    if (type->second == "list")
      return JsonList("json_each(s.fields, " + JsonPathOf(head) + ")", "(json_type(s.fields, " + JsonPathOf(head) + ") IS NOT NULL)");
    Term t = Term::Value("fo_field(s.fields, " + Quote(head) + ")");
    t.boolean = type->second == "bool";
    return t;
  }

  Term LabelAttribute(const std::string& alias, const std::string& field, const std::string& attr) {
    if (attr == "id" || attr == "_id") return Term::Value(alias + ".id");
    if (attr == "label") return Term::Value(alias + ".label");
    if (attr == "confidence") return Term::Value(alias + ".confidence");
    if (attr == "bounding_box")
      return JsonList("json_each(json_array(" + alias + ".x, " + alias + ".y, " + alias + ".w, " + alias + ".h))", "1");
    if (attr.find('.') != std::string::npos) throw InvalidArgument("detection attribute '" + attr + "' has no nested fields");
    auto type = env_.field_types.find(field + ".detections." + attr);
    if (type != env_.field_types.end() && type->second == "vector")
      throw InvalidArgument("vector attribute '" + attr + "' cannot be used in a view expression");
    if (type != env_.field_types.end() && type->second == "list")
      return JsonList("json_each(" + alias + ".attributes, " + JsonPathOf(attr) + ")",
                      "(json_type(" + alias + ".attributes, " + JsonPathOf(attr) + ") IS NOT NULL)");
    Term t = Term::Value("fo_field(" + alias + ".attributes, " + Quote(attr) + ")");
    t.boolean = type != env_.field_types.end() && type->second == "bool";
    return t;
  }

  Term Operator(const std::string& op, const json& args, const Scope& scope) {
    if (op == "$eq" || op == "$ne") {
      std::string a = ValueSql(Compile(args[0], scope), op), b = ValueSql(Compile(args[1], scope), op);
      return Term::Bool("(" + a + (op == "$eq" ? " IS " : " IS NOT ") + b + ")");
    }
    if (op == "$gt" || op == "$gte" || op == "$lt" || op == "$lte") return Comparison(op, args, scope);
    if (op == "$and" || op == "$or") {
      std::string out;
      for (const auto& a : args) out += (out.empty() ? "" : op == "$and" ? " AND " : " OR ") + Truthy(Compile(a, scope));
      return Term::Bool("(" + out + ")");
    }
    if (op == "$not") return Term::Bool("(NOT " + Truthy(Compile(args[0], scope)) + ")");
    if (op == "$add" || op == "$subtract" || op == "$multiply" || op == "$divide" || op == "$mod") return Arithmetic(op, args, scope);
    if (op == "$abs") return Term::Value("abs(" + ValueSql(Compile(args, scope), op) + ")");
    if (op == "$exists") {
      Term t = Compile(args[0], scope);
      std::string set = t.kind == Term::kList ? t.exists : "(" + t.sql + " IS NOT NULL)";
      return Term::Bool(args[1].get<bool>() ? set : "(NOT " + set + ")");
    }
    if (op == "$in") {
      std::string a = ValueSql(Compile(args[0], scope), "is_in");
      bool has_null;
      std::string tuple = LiteralTuple(LiteralList(args[1]), &has_null);
      std::string in = tuple == "()" ? "0" : "coalesce(" + a + " IN " + tuple + ", 0)";
      return Term::Bool(has_null ? "(" + a + " IS NULL OR " + in + ")" : "(" + in + ")");
    }
    if (op == "$contains") return Contains(ListOf(Compile(args[0], scope), "contains"), LiteralList(args[1]), args[2].get<bool>());
    if (op == "$size") {
      Term l = ListOf(Compile(args, scope), "length");
      return Term::Value("(SELECT count(*) FROM " + l.from + " WHERE " + l.where + ")");
    }
    if (op == "$max" || op == "$min" || op == "$sum" || op == "$avg") {
      Term l = ListOf(Compile(args, scope), op.substr(1));
      if (!l.label_alias.empty()) throw InvalidArgument(op.substr(1) + " needs a list of values, e.g. \"<field>.detections.confidence\"");
      std::string fn = op == "$avg" ? "avg" : op.substr(1);
      std::string agg = "(SELECT " + fn + "(" + l.elem + ") FROM " + l.from + " WHERE " + l.where + ")";
      return Term::Value(op == "$sum" ? "coalesce(" + agg + ", 0)" : agg);
    }
    if (op == "$filter") return Filter(ListOf(Compile(args["input"], scope), "filter"), args["cond"]);
    if (op == "$arrayElemAt") return ElementAt(ListOf(Compile(args[0], scope), "[]"), args[1].get<int64_t>());
    if (op == "$startsWith" || op == "$endsWith") return StringEnds(op == "$startsWith", args, scope);
    if (op == "$regexMatch") {
      std::string input = ValueSql(Compile(args["input"], scope), "re_match");
      bool ci = args.contains("options") && args["options"].is_string() && args["options"].get<std::string>().find('i') != std::string::npos;
      try {  // a bad pattern fails here, with one line, rather than in SQLite
        std::regex(args["regex"].get<std::string>(), ci ? std::regex::ECMAScript | std::regex::icase : std::regex::ECMAScript);
      } catch (const std::regex_error& e) {
        throw InvalidArgument("re_match: invalid regular expression '" + args["regex"].get<std::string>() + "': " + e.what());
      }
      return Term::Bool("coalesce(fo_regexp(" + Quote(args["regex"].get<std::string>()) + ", " + input + ", " + (ci ? "1" : "0") + "), 0)");
    }
    throw InvalidArgument("unknown view expression operator '" + op + "'");
  }

  // MongoDB's order: null (missing) before every value.
  Term Comparison(const std::string& op, const json& args, const Scope& scope) {
    Term ta = Compile(args[0], scope), tb = Compile(args[1], scope);
    std::string a = ValueSql(ta, op), b = ValueSql(tb, op);
    const char* sym = op == "$gt" ? " > " : op == "$gte" ? " >= " : op == "$lt" ? " < " : " <= ";
    const bool less = op == "$lt" || op == "$lte";
    if (tb.literal && !tb.null_literal)  // the common case: one evaluation of a
      return Term::Bool("coalesce(" + a + sym + b + ", " + (less ? "1" : "0") + ")");
    if (op == "$lt") return Term::Bool("(CASE WHEN " + b + " IS NULL THEN 0 WHEN " + a + " IS NULL THEN 1 ELSE " + a + " < " + b + " END)");
    if (op == "$lte") return Term::Bool("(CASE WHEN " + a + " IS NULL THEN 1 WHEN " + b + " IS NULL THEN 0 ELSE " + a + " <= " + b + " END)");
    if (op == "$gt") return Term::Bool("(CASE WHEN " + a + " IS NULL THEN 0 WHEN " + b + " IS NULL THEN 1 ELSE " + a + " > " + b + " END)");
    return Term::Bool("(CASE WHEN " + b + " IS NULL THEN 1 WHEN " + a + " IS NULL THEN 0 ELSE " + a + " >= " + b + " END)");
  }

  Term Arithmetic(const std::string& op, const json& args, const Scope& scope) {
    std::string a = ValueSql(Compile(args[0], scope), op), b = ValueSql(Compile(args[1], scope), op);
    if (op == "$divide") return Term::Value("(" + a + " * 1.0 / " + b + ")");
    const char* sym = op == "$add" ? " + " : op == "$subtract" ? " - " : op == "$multiply" ? " * " : " % ";
    return Term::Value("(" + a + sym + b + ")");
  }

  Term Contains(const Term& l, const json& values, bool all) {
    if (!l.label_alias.empty())
      throw InvalidArgument("contains needs a list of values, e.g. \"<field>.detections.label\", not the detections");
    bool has_null;
    std::string tuple = LiteralTuple(values, &has_null);
    if (tuple == "()") return Term::Bool(all ? "1" : "0");
    std::string matching = "FROM " + l.from + " WHERE " + l.where + " AND " + l.elem + " IN " + tuple;
    if (!all) return Term::Bool("EXISTS (SELECT 1 " + matching + ")");
    std::set<std::string> distinct;
    for (const auto& v : values)
      if (!v.is_null()) distinct.insert(LiteralSql(v));
    return Term::Bool("((SELECT count(DISTINCT " + l.elem + ") " + matching + ") = " + std::to_string(distinct.size()) + ")");
  }

  Term Filter(Term l, const json& cond) {
    Scope inner = l.label_alias.empty() ? Scope{Scope::kValues, "", "", l.elem}
                                        : Scope{Scope::kLabel, l.label_alias, l.label_field, ""};
    l.where += " AND " + Truthy(Compile(cond, inner), "a filter");
    return l;
  }

  Term ElementAt(const Term& l, int64_t i) {
    if (!l.label_alias.empty()) throw InvalidArgument("[] needs a list of values, e.g. \"<field>.detections.confidence\"");
    std::string order = i < 0 ? l.order + " DESC" : l.order;
    int64_t offset = i < 0 ? -i - 1 : i;
    return Term::Value("(SELECT " + l.elem + " FROM " + l.from + " WHERE " + l.where + " ORDER BY " + order +
                       " LIMIT 1 OFFSET " + std::to_string(offset) + ")");
  }

  Term StringEnds(bool starts, const json& args, const Scope& scope) {
    std::string a = ValueSql(Compile(args[0], scope), starts ? "starts_with" : "ends_with");
    const bool case_sensitive = args[2].get<bool>();
    std::string any;
    for (const auto& s : LiteralList(args[1])) {
      std::string text = s.get<std::string>();
      std::string n = std::to_string(Utf8Length(text));
      std::string part = starts ? "substr(" + a + ", 1, " + n + ")" : "substr(" + a + ", -" + n + ")";
      std::string lit = Quote(text);
      if (!case_sensitive) {
        part = "lower(" + part + ")";
        lit = "lower(" + lit + ")";
      }
      std::string test = text.empty() ? "(" + a + " IS NOT NULL)" : "(length(" + a + ") >= " + n + " AND " + part + " = " + lit + ")";
      any += (any.empty() ? "" : " OR ") + test;
    }
    return Term::Bool(any.empty() ? "0" : "coalesce(" + any + ", 0)");
  }

  const ExprEnv& env_;
};

// fo_regexp(pattern, text, case_insensitive): std::regex_search, the
// compiled pattern cached by SQLite for the statement (auxdata).
void RegexpFunction(sqlite3_context* ctx, int, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[1]) != SQLITE_TEXT) {
    sqlite3_result_null(ctx);
    return;
  }
  auto* re = static_cast<std::regex*>(sqlite3_get_auxdata(ctx, 0));
  if (!re) {
    const char* pattern = reinterpret_cast<const char*>(sqlite3_value_text(argv[0]));
    auto flags = std::regex::ECMAScript;
    if (sqlite3_value_int(argv[2])) flags |= std::regex::icase;
    try {
      re = new std::regex(pattern ? pattern : "", flags);
    } catch (const std::regex_error& e) {
      std::string msg = std::string("invalid regular expression '") + (pattern ? pattern : "") + "': " + e.what();
      sqlite3_result_error(ctx, msg.c_str(), -1);
      return;
    }
    sqlite3_set_auxdata(ctx, 0, re, [](void* p) { delete static_cast<std::regex*>(p); });
    re = static_cast<std::regex*>(sqlite3_get_auxdata(ctx, 0));
    if (!re) {
      sqlite3_result_error_nomem(ctx);
      return;
    }
  }
  const char* text = reinterpret_cast<const char*>(sqlite3_value_text(argv[1]));
  sqlite3_result_int(ctx, std::regex_search(text, *re) ? 1 : 0);
}

// --- fo_field(json_object_text, key) ---------------------------------------
// json_extract(text, '$."key"') for the flat objects the store writes
// (samples.fields, labels.attributes), without building SQLite's parse tree
// of the whole object: a scan over the top-level keys. A match on a user
// field of 1M samples is mostly this call (json_extract: about 2.5 times
// slower). Arrays and objects come back as their JSON text, as json_extract.

struct JsonScanner {
  const char* p;
  const char* end;

  void SkipSpace() {
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')) ++p;
  }
  bool SkipString() {  // at the opening quote
    for (++p; p < end; ++p) {
      if (*p == '\\') {
        ++p;
      } else if (*p == '"') {
        ++p;
        return true;
      }
    }
    return false;
  }
  bool SkipValue() {
    SkipSpace();
    if (p >= end) return false;
    if (*p == '"') return SkipString();
    if (*p == '{' || *p == '[') {
      int depth = 0;
      while (p < end) {
        if (*p == '"') {
          if (!SkipString()) return false;
          continue;
        }
        if (*p == '{' || *p == '[') ++depth;
        if ((*p == '}' || *p == ']') && --depth == 0) {
          ++p;
          return true;
        }
        ++p;
      }
      return false;
    }
    while (p < end && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\n') ++p;
    return true;
  }
};

// A JSON string token (quotes included) as text.
std::string JsonStringText(std::string_view token) {
  if (token.find('\\') == std::string_view::npos) return std::string(token.substr(1, token.size() - 2));
  return json::parse(token).get<std::string>();
}

// JSON text without the spaces outside strings.
std::string Minified(std::string_view token) {
  std::string out;
  out.reserve(token.size());
  bool in_string = false;
  for (size_t i = 0; i < token.size(); ++i) {
    char c = token[i];
    if (in_string) {
      out += c;
      if (c == '\\' && i + 1 < token.size()) out += token[++i];
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
      out += c;
    } else if (c != ' ' && c != '\n' && c != '\t' && c != '\r') {
      out += c;
    }
  }
  return out;
}

void ResultOfToken(sqlite3_context* ctx, std::string_view token) {
  switch (token.front()) {
    case '"': {
      std::string text = JsonStringText(token);
      sqlite3_result_text(ctx, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
      return;
    }
    case 't': sqlite3_result_int(ctx, 1); return;
    case 'f': sqlite3_result_int(ctx, 0); return;
    case 'n': sqlite3_result_null(ctx); return;
    case '{':
    case '[': {
      std::string text = Minified(token);  // as json_extract gives it
      sqlite3_result_text(ctx, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
      return;
    }
    default: break;
  }
  const char* first = token.data();
  const char* last = first + token.size();
  if (token.find_first_of(".eE") == std::string_view::npos) {
    int64_t i;
    auto r = std::from_chars(first, last, i);
    if (r.ec == std::errc() && r.ptr == last) {
      sqlite3_result_int64(ctx, i);
      return;
    }
  }
  double d;  // from_chars: no locale, unlike strtod
  auto r = std::from_chars(first, last, d);
  if (r.ec != std::errc() || r.ptr != last) {
    sqlite3_result_error(ctx, "fo_field: malformed JSON number", -1);
    return;
  }
  sqlite3_result_double(ctx, d);
}

void FieldFunction(sqlite3_context* ctx, int, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) != SQLITE_TEXT) {
    sqlite3_result_null(ctx);
    return;
  }
  const char* text = reinterpret_cast<const char*>(sqlite3_value_text(argv[0]));
  const std::string_view key(reinterpret_cast<const char*>(sqlite3_value_text(argv[1])), sqlite3_value_bytes(argv[1]));
  JsonScanner s{text, text + sqlite3_value_bytes(argv[0])};
  s.SkipSpace();
  if (s.p >= s.end || *s.p != '{') {
    sqlite3_result_error(ctx, "fo_field: not a JSON object", -1);
    return;
  }
  ++s.p;
  try {
    for (;;) {
      s.SkipSpace();
      if (s.p >= s.end || *s.p == '}') break;
      const char* key_start = s.p;
      if (*s.p != '"' || !s.SkipString()) break;
      std::string_view token(key_start, static_cast<size_t>(s.p - key_start));
      const bool match = token.size() == key.size() + 2 && token.substr(1, key.size()) == key
                             ? true
                             : token.find('\\') != std::string_view::npos && JsonStringText(token) == key;
      s.SkipSpace();
      if (s.p >= s.end || *s.p != ':') break;
      ++s.p;
      s.SkipSpace();
      const char* value_start = s.p;
      if (!s.SkipValue()) break;
      if (match) {
        ResultOfToken(ctx, std::string_view(value_start, static_cast<size_t>(s.p - value_start)));
        return;
      }
      s.SkipSpace();
      if (s.p < s.end && *s.p == ',') ++s.p;
    }
  } catch (const json::exception&) {
    sqlite3_result_error(ctx, "fo_field: malformed JSON string", -1);
    return;
  }
  sqlite3_result_null(ctx);
}

}  // namespace

std::string SampleConditionSql(const ExprEnv& env, const json& e) {
  Compiler c(env);
  return c.Truthy(c.Compile(e, Scope{}), "a match condition");
}

std::string LabelConditionSql(const ExprEnv& env, const json& e, const std::string& alias, const std::string& field) {
  Compiler c(env);
  return c.Truthy(c.Compile(e, Scope{Scope::kLabel, alias, field, ""}), "a label filter");
}

std::string VisibleLabelsSql(const ExprEnv& env, const std::string& field, const std::string& alias) {
  return Compiler(env).VisibleLabels(field, alias);
}

ValuesSql ExpressionValuesSql(const ExprEnv& env, const json& e) {
  Compiler c(env);
  Term t = c.Compile(e, Scope{});
  ValuesSql out;
  out.boolean = t.kind == Term::kBool || t.boolean;
  if (t.kind != Term::kList) {
    out.value = t.sql;
    return out;
  }
  out.is_list = true;
  out.labels = !t.label_alias.empty();
  out.value = out.labels ? t.label_alias + ".id" : t.elem;
  out.join = "JOIN " + t.from + " ON " + t.where;
  out.order = t.order;
  out.exists = t.exists;
  return out;
}

void RegisterExpressionFunctions(Sqlite& db) {
  // Redefining a function fails while a statement is running: define once
  // per connection.
  auto have = db.Prepare("SELECT 1 FROM pragma_function_list WHERE name = 'fo_field'");
  if (have.Step()) return;
  const int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
  int rc = sqlite3_create_function_v2(db.raw(), "fo_regexp", 3, flags, nullptr, &RegexpFunction, nullptr, nullptr, nullptr);
  if (rc == SQLITE_OK)
    rc = sqlite3_create_function_v2(db.raw(), "fo_field", 2, flags, nullptr, &FieldFunction, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) ThrowSqlite(db.raw(), rc, "registering the view expression functions");
}

}  // namespace fo::internal

#include "filters.h"

#include "api_error.h"
#include "json_io.h"

namespace qdrant_test_server {
namespace {

using nlohmann::json;

Condition ParseCondition(const json& value);

Condition Make(Condition::Kind kind, std::string key = "") {
  Condition c;
  c.kind = kind;
  c.key = std::move(key);
  return c;
}

Condition Nest(std::shared_ptr<const Filter> filter) {
  Condition c;
  c.kind = Condition::Kind::kFilter;
  c.filter = std::move(filter);
  return c;
}

std::vector<Condition> ParseConditions(const json& value) {
  std::vector<Condition> conditions;
  if (value.is_array()) {
    for (const json& c : value) conditions.push_back(ParseCondition(c));
  } else {
    conditions.push_back(ParseCondition(value));  // a single condition without a list
  }
  return conditions;
}

// A match.value: a string, an integer or a boolean (ValueVariants).
json ReadMatchValue(const json& value) {
  if (value.is_string() || value.is_number_integer() || value.is_boolean()) return value;
  throw FormatError("data did not match any variant of untagged enum ValueVariants");
}

// match.any / match.except: all strings or all integers (AnyVariants).
std::vector<json> ReadAnyVariants(const json& value) {
  if (!value.is_array()) {
    throw FormatError("data did not match any variant of untagged enum AnyVariants");
  }
  bool all_strings = true, all_integers = true;
  for (const json& x : value) {
    all_strings = all_strings && x.is_string();
    all_integers = all_integers && x.is_number_integer();
  }
  if (!all_strings && !all_integers) {
    throw FormatError("data did not match any variant of untagged enum AnyVariants");
  }
  return std::vector<json>(value.begin(), value.end());
}

Bounds ReadBounds(const json& value) {
  ExpectObject(value, "struct Range");
  for (const auto& [key, bound] : value.items()) {
    if (bound.is_string()) throw Unsupported("A datetime range");
  }
  Bounds bounds;
  bounds.lt = ReadNumber(value, "lt");
  bounds.gt = ReadNumber(value, "gt");
  bounds.gte = ReadNumber(value, "gte");
  bounds.lte = ReadNumber(value, "lte");
  return bounds;
}

Condition ParseMatch(const std::string& key, const json& match) {
  ExpectObject(match, "enum Match");
  Condition c;
  c.key = key;
  if (const json* v = Field(match, "value")) {
    c.kind = Condition::Kind::kMatchValue;
    c.values.push_back(ReadMatchValue(*v));
  } else if (const json* v = Field(match, "any")) {
    c.kind = Condition::Kind::kMatchAny;
    c.values = ReadAnyVariants(*v);
  } else if (const json* v = Field(match, "except")) {
    c.kind = Condition::Kind::kMatchExcept;
    c.values = ReadAnyVariants(*v);
  } else if (const json* v = Field(match, "text")) {
    if (!v->is_string()) throw FormatError("invalid type: " + DescribeUnexpected(*v) + ", expected a string");
    c.kind = Condition::Kind::kMatchText;
    c.values.push_back(*v);
  } else if (match.contains("text_any") || match.contains("phrase") || match.contains("prefix")) {
    throw Unsupported("Full-text match other than `text`");
  } else {
    throw FormatError("data did not match any variant of untagged enum Match");
  }
  return c;
}

// A FieldCondition; when it sets several checks, all of them must hold, so it
// becomes a nested filter with a must list.
Condition ParseFieldCondition(const json& value) {
  auto key = ReadString(value, "key");
  if (!key) throw FormatError("missing field `key`");
  for (const char* geo : {"geo_bounding_box", "geo_radius", "geo_polygon"}) {
    if (Field(value, geo)) throw Unsupported("A geo condition");
  }
  std::vector<Condition> checks;
  if (const json* match = Field(value, "match")) checks.push_back(ParseMatch(*key, *match));
  if (const json* range = Field(value, "range")) {
    Condition c = Make(Condition::Kind::kRange, *key);
    c.bounds = ReadBounds(*range);
    checks.push_back(std::move(c));
  }
  if (const json* count = Field(value, "values_count")) {
    Condition c = Make(Condition::Kind::kValuesCount, *key);
    c.bounds = ReadBounds(*count);
    checks.push_back(std::move(c));
  }
  if (auto is_empty = ReadBool(value, "is_empty")) {
    Condition c = Make(Condition::Kind::kIsEmpty, *key);
    if (*is_empty) {
      checks.push_back(std::move(c));
    } else {
      auto negated = std::make_shared<Filter>();
      negated->must_not.push_back(std::move(c));
      checks.push_back(Nest(negated));
    }
  }
  if (auto is_null = ReadBool(value, "is_null")) {
    Condition c = Make(Condition::Kind::kIsNull, *key);
    if (*is_null) {
      checks.push_back(std::move(c));
    } else {
      auto negated = std::make_shared<Filter>();
      negated->must_not.push_back(std::move(c));
      checks.push_back(Nest(negated));
    }
  }
  if (checks.empty()) {
    Validation validation;
    validation.Fail("filter", "At least one field condition must be specified");
    validation.ThrowIfFailed("JSON body");
  }
  if (checks.size() == 1) return std::move(checks.front());
  auto all = std::make_shared<Filter>();
  all->must = std::move(checks);
  return Nest(all);
}

std::string ReadPayloadFieldKey(const json& value) {
  ExpectObject(value, "struct PayloadField");
  auto key = ReadString(value, "key");
  if (!key) throw FormatError("missing field `key`");
  return *key;
}

Condition ParseCondition(const json& value) {
  if (!value.is_object()) {
    throw FormatError("data did not match any variant of untagged enum Condition");
  }
  if (value.contains("key")) return ParseFieldCondition(value);
  if (const json* ids = Field(value, "has_id")) {
    if (!ids->is_array()) {
      throw FormatError("invalid type: " + DescribeUnexpected(*ids) + ", expected a sequence");
    }
    Condition c = Make(Condition::Kind::kHasId);
    for (const json& id : *ids) c.ids.insert(ReadPointId(id));
    return c;
  }
  if (const json* field = Field(value, "is_empty")) {
    return Make(Condition::Kind::kIsEmpty, ReadPayloadFieldKey(*field));
  }
  if (const json* field = Field(value, "is_null")) {
    return Make(Condition::Kind::kIsNull, ReadPayloadFieldKey(*field));
  }
  if (const json* name = Field(value, "has_vector")) {
    if (!name->is_string())
      throw FormatError("invalid type: " + DescribeUnexpected(*name) + ", expected a string");
    return Make(Condition::Kind::kHasVector, name->get<std::string>());
  }
  if (value.contains("nested")) throw Unsupported("A nested (array of objects) condition");
  if (value.contains("must") || value.contains("should") || value.contains("must_not") ||
      value.contains("min_should") || value.empty()) {
    return Nest(std::make_shared<Filter>(ParseFilter(value)));
  }
  throw FormatError("data did not match any variant of untagged enum Condition");
}

// The values at a payload path such as "a.b" or "a[].b"; arrays met on the
// way and at the end are flattened, so a condition on an array field holds
// when any element satisfies it.
void CollectValues(const json& node, const std::vector<std::string>& parts, size_t i,
                   std::vector<const json*>& out) {
  if (node.is_array()) {
    for (const json& element : node) CollectValues(element, parts, i, out);
    return;
  }
  if (i == parts.size()) {
    out.push_back(&node);
    return;
  }
  if (!node.is_object()) return;
  auto it = node.find(parts[i]);
  if (it != node.end()) CollectValues(*it, parts, i + 1, out);
}

std::vector<const json*> ValuesAt(const json& payload, const std::string& key) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t dot = key.find('.', start);
    std::string part = key.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (part.size() >= 2 && part.compare(part.size() - 2, 2, "[]") == 0) part.resize(part.size() - 2);
    parts.push_back(part);
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  std::vector<const json*> values;
  CollectValues(payload, parts, 0, values);
  return values;
}

// Equality as Qdrant's match: the same JSON type (an integer never equals a
// float payload) and the same value.
bool SameValue(const json& payload_value, const json& wanted) {
  if (wanted.is_number_integer()) {
    return payload_value.is_number_integer() && payload_value == wanted;
  }
  return payload_value.type() == wanted.type() && payload_value == wanted;
}

bool InList(const json& value, const std::vector<json>& list) {
  for (const json& wanted : list) {
    if (SameValue(value, wanted)) return true;
  }
  return false;
}

bool Check(const Condition& c, const PointId& id, const json& payload) {
  using Kind = Condition::Kind;
  switch (c.kind) {
    case Kind::kHasId:
      return c.ids.count(id) > 0;
    case Kind::kFilter:
      return Matches(*c.filter, id, payload);
    case Kind::kHasVector:
      return c.key.empty();  // every point has the one unnamed vector
    default:
      break;
  }
  std::vector<const json*> values = ValuesAt(payload, c.key);
  auto any = [&](auto predicate) {
    for (const json* v : values) {
      if (predicate(*v)) return true;
    }
    return false;
  };
  switch (c.kind) {
    case Kind::kMatchValue:
      return any([&](const json& v) { return SameValue(v, c.values[0]); });
    case Kind::kMatchAny:
      return any([&](const json& v) { return InList(v, c.values); });
    case Kind::kMatchExcept:
      // A missing field holds none of the excluded values.
      return values.empty() || any([&](const json& v) { return !InList(v, c.values); });
    case Kind::kMatchText:
      return any([&](const json& v) {
        return v.is_string() &&
               v.get_ref<const std::string&>().find(c.values[0].get<std::string>()) != std::string::npos;
      });
    case Kind::kRange:
      return any([&](const json& v) { return v.is_number() && c.bounds.Contains(v.get<double>()); });
    case Kind::kValuesCount: {
      size_t count = 0;
      for (const json* v : values) count += v->is_null() ? 0 : 1;
      return c.bounds.Contains(static_cast<double>(count));
    }
    case Kind::kIsEmpty:
      return !any([](const json& v) { return !v.is_null(); });
    case Kind::kIsNull:
      return any([](const json& v) { return v.is_null(); });
    default:
      return false;
  }
}

}  // namespace

bool Bounds::Contains(double x) const {
  return (!lt || x < *lt) && (!gt || x > *gt) && (!gte || x >= *gte) && (!lte || x <= *lte);
}

Filter ParseFilter(const json& value) {
  ExpectObject(value, "struct Filter");
  Filter filter;
  for (const auto& [key, clause] : value.items()) {
    if (key != "must" && key != "should" && key != "must_not" && key != "min_should") {
      // Qdrant's Filter is deny_unknown_fields.
      throw FormatError("unknown field `" + key +
                        "`, expected one of `should`, `min_should`, `must`, `must_not`");
    }
    if (clause.is_null()) continue;
    if (key == "must") filter.must = ParseConditions(clause);
    if (key == "should") filter.should = ParseConditions(clause);
    if (key == "must_not") filter.must_not = ParseConditions(clause);
    if (key == "min_should") {
      ExpectObject(clause, "struct MinShould");
      const json* conditions = Field(clause, "conditions");
      auto count = ReadUint(clause, "min_count", "usize");
      if (conditions == nullptr) throw FormatError("missing field `conditions`");
      if (!count) throw FormatError("missing field `min_count`");
      filter.min_should = ParseConditions(*conditions);
      filter.min_should_count = *count;
      Validation validation;
      validation.Min("filter.min_should.min_count", static_cast<double>(*count), 1);
      validation.ThrowIfFailed("JSON body");
    }
  }
  // An explicit should: [] must match nothing, which an empty vector cannot
  // tell apart from an absent clause; a should holding one never-true
  // condition says the same.
  if (const json* should = Field(value, "should"); should && should->is_array() && should->empty()) {
    filter.should.push_back(Make(Condition::Kind::kHasId));
  }
  return filter;
}

bool Matches(const Filter& filter, const PointId& id, const json& payload) {
  for (const Condition& c : filter.must) {
    if (!Check(c, id, payload)) return false;
  }
  for (const Condition& c : filter.must_not) {
    if (Check(c, id, payload)) return false;
  }
  if (!filter.should.empty()) {
    bool any = false;
    for (const Condition& c : filter.should) {
      if (Check(c, id, payload)) {
        any = true;
        break;
      }
    }
    if (!any) return false;
  }
  if (filter.min_should_count > 0) {
    size_t count = 0;
    for (const Condition& c : filter.min_should) count += Check(c, id, payload) ? 1 : 0;
    if (count < filter.min_should_count) return false;
  }
  return true;
}

}  // namespace qdrant_test_server

// A view as JSON: the list of its stages in FiftyOne's serialised form
// (view._serialize()), so that the CLI, the App and Python can hand the same
// subset to each other.
#include <functional>
#include <map>
#include <nlohmann/json.hpp>

#include "fo/error.h"
#include "fo/view.h"
#include "store/stages.h"

namespace fo {

using nlohmann::json;

namespace {

// The kwargs of one serialised stage, by name.
class Kwargs {
 public:
  Kwargs(std::string stage, const json& kwargs) : stage_(std::move(stage)) {
    if (kwargs.is_object()) {
      for (const auto& [k, v] : kwargs.items()) args_[k] = v;
    } else if (kwargs.is_array()) {
      for (const auto& pair : kwargs) {
        if (!pair.is_array() || pair.size() != 2 || !pair[0].is_string())
          throw InvalidArgument("stage " + stage_ + ": kwargs must be [name, value] pairs, got " + pair.dump());
        args_[pair[0].get<std::string>()] = pair[1];
      }
    } else if (!kwargs.is_null()) {
      throw InvalidArgument("stage " + stage_ + ": kwargs must be a list of [name, value] pairs");
    }
  }

  template <typename T>
  T Get(const std::string& name) const {
    auto it = args_.find(name);
    if (it == args_.end() || it->second.is_null()) throw InvalidArgument("stage " + stage_ + " needs the argument '" + name + "'");
    try {
      return it->second.get<T>();
    } catch (const json::exception&) {
      throw InvalidArgument("stage " + stage_ + ": argument '" + name + "' has the wrong type: " + it->second.dump());
    }
  }
  template <typename T>
  T Get(const std::string& name, T fallback) const {
    auto it = args_.find(name);
    return it == args_.end() || it->second.is_null() ? fallback : Get<T>(name);
  }
  bool Has(const std::string& name) const {
    auto it = args_.find(name);
    return it != args_.end() && !it->second.is_null();
  }
  const json& Raw(const std::string& name) const { return args_.at(name); }

 private:
  std::string stage_;
  std::map<std::string, json> args_;
};

using StageLoader = std::function<View(const View&, const Kwargs&)>;

// sort_by's field_or_expr: a field name, or an expression.
View LoadSortBy(const View& v, const Kwargs& a) {
  const json& what = a.Raw("field_or_expr");
  bool reverse = a.Get<bool>("reverse", false);
  if (what.is_string()) {
    std::string field = what.get<std::string>();
    return v.SortBy(field.rfind('$', 0) == 0 ? field.substr(1) : field, reverse);
  }
  return v.SortBy(Expr::FromJson(what), reverse);
}

const std::map<std::string, StageLoader>& Loaders() {
  static const std::map<std::string, StageLoader> loaders = {
      {"Match", [](const View& v, const Kwargs& a) { return v.Match(Expr::FromJson(a.Raw("filter"))); }},
      {"Exists", [](const View& v, const Kwargs& a) { return v.Exists(a.Get<std::string>("field"), a.Get<bool>("bool", true)); }},
      {"SortBy", LoadSortBy},
      {"SelectFields", [](const View& v, const Kwargs& a) { return v.SelectFields(a.Get<std::vector<std::string>>("field_names", {})); }},
      {"ExcludeFields", [](const View& v, const Kwargs& a) { return v.ExcludeFields(a.Get<std::vector<std::string>>("field_names")); }},
      {"Shuffle", [](const View& v, const Kwargs& a) { return v.Shuffle(a.Get<uint64_t>("seed")); }},
      {"FilterLabels",
       [](const View& v, const Kwargs& a) {
         return v.FilterLabels(a.Get<std::string>("field"), Expr::FromJson(a.Raw("filter")), a.Get<bool>("only_matches", true));
       }},
      {"MatchLabels",
       [](const View& v, const Kwargs& a) {
         std::optional<Expr> filter;
         if (a.Has("filter")) filter = Expr::FromJson(a.Raw("filter"));
         return v.MatchLabels(filter, a.Get<std::vector<std::string>>("ids", {}), a.Get<std::vector<std::string>>("fields", {}),
                              a.Get<bool>("bool", true));
       }},
      {"LimitLabels", [](const View& v, const Kwargs& a) { return v.LimitLabels(a.Get<std::string>("field"), a.Get<size_t>("limit")); }},
      {"Take", [](const View& v, const Kwargs& a) { return v.Take(a.Get<size_t>("size"), a.Get<uint64_t>("seed", 51)); }},
      {"Limit", [](const View& v, const Kwargs& a) { return v.Limit(a.Get<size_t>("limit")); }},
      {"Skip", [](const View& v, const Kwargs& a) { return v.Skip(a.Get<size_t>("skip")); }},
      {"Select", [](const View& v, const Kwargs& a) { return v.Select(a.Get<std::vector<std::string>>("sample_ids")); }},
      {"Exclude", [](const View& v, const Kwargs& a) { return v.Exclude(a.Get<std::vector<std::string>>("sample_ids")); }},
      {"MatchTags",
       [](const View& v, const Kwargs& a) {
         if (!a.Get<bool>("bool", true)) throw Unimplemented("match_tags with bool=false is not supported");
         return v.MatchTags(a.Get<std::vector<std::string>>("tags"), a.Get<bool>("all", false));
       }},
  };
  return loaders;
}

}  // namespace

json View::ToJson() const {
  json out = json::array();
  for (const auto& stage : stages_) out.push_back(stage->ToJson());
  return out;
}

View View::FromJson(const View& dataset_view, const json& stages) {
  if (!stages.is_array()) throw InvalidArgument("a serialised view is a JSON list of stages, got " + stages.dump().substr(0, 80));
  View view = dataset_view;
  for (const auto& stage : stages) {
    if (!stage.is_object() || !stage.contains("_cls") || !stage["_cls"].is_string())
      throw InvalidArgument("a serialised stage is {\"_cls\": ..., \"kwargs\": [...]}, got " + stage.dump().substr(0, 120));
    std::string cls = stage["_cls"].get<std::string>();
    std::string name = cls.substr(cls.rfind('.') + 1);
    auto it = Loaders().find(name);
    if (it == Loaders().end()) {
      std::string known;
      for (const auto& [k, _] : Loaders()) known += (known.empty() ? "" : ", ") + k;
      throw InvalidArgument("unknown view stage '" + cls + "' (known: " + known + ")");
    }
    view = it->second(view, Kwargs(name, stage.contains("kwargs") ? stage["kwargs"] : json()));
  }
  return view;
}

}  // namespace fo

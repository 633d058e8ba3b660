// Python's reprlib, as FiftyOne configures it for stages (stage_repr.h).
#include "store/stage_repr.h"

#include <charconv>
#include <cstdio>

namespace fo::internal {

namespace {

constexpr int kMaxLevel = 2;
constexpr size_t kMaxList = 3;
constexpr size_t kMaxDict = 3;
constexpr size_t kMaxString = 30;
constexpr size_t kMaxOther = 30;

// Python's repr() of a str: single quotes unless the text holds a single
// quote and no double one; backslash escapes for the quote, backslash and
// control characters (non-ASCII text is printable and kept).
std::string PyStr(const std::string& s) {
  bool has_single = s.find('\'') != std::string::npos;
  bool has_double = s.find('"') != std::string::npos;
  char quote = has_single && !has_double ? '"' : '\'';
  std::string out(1, quote);
  for (unsigned char c : s) {
    if (c == quote || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + quote;
}

// Python's repr() of a float: the shortest round-trip digits, positional for
// exponents in [-4, 16), else d.ddde+XX; integral values keep ".0".
std::string PyFloat(double v) {
  if (v != v) return "nan";
  if (v == 1.0 / 0.0) return "inf";
  if (v == -1.0 / 0.0) return "-inf";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  size_t e = sci.find('e');
  std::string mantissa = sci.substr(0, e);
  int exponent = std::stoi(sci.substr(e + 1));
  bool negative = mantissa[0] == '-';
  if (negative) mantissa.erase(0, 1);
  std::string digits;
  for (char c : mantissa)
    if (c != '.') digits += c;
  std::string out;
  if (exponent >= -4 && exponent < 16) {
    if (exponent < 0) {
      out = "0." + std::string(static_cast<size_t>(-exponent - 1), '0') + digits;
    } else if (static_cast<size_t>(exponent) + 1 >= digits.size()) {
      out = digits + std::string(static_cast<size_t>(exponent) + 1 - digits.size(), '0') + ".0";
    } else {
      out = digits.substr(0, static_cast<size_t>(exponent) + 1) + "." + digits.substr(static_cast<size_t>(exponent) + 1);
    }
  } else {
    out = digits.substr(0, 1);
    if (digits.size() > 1) out.append(".").append(digits, 1, std::string::npos);
    char exp[16];
    std::snprintf(exp, sizeof exp, "e%c%02d", exponent < 0 ? '-' : '+', exponent < 0 ? -exponent : exponent);
    out += exp;
  }
  return negative ? "-" + out : out;
}

// reprlib's cut of a too-long repr: its head and tail around "...".
std::string Shorten(const std::string& s, size_t max) {
  if (s.size() <= max) return s;
  size_t i = (max - 3) / 2;
  size_t j = max - 3 - i;
  return s.substr(0, i) + "..." + s.substr(s.size() - j);
}

std::string Repr(const nlohmann::json& v, int level) {
  switch (v.type()) {
    case nlohmann::json::value_t::null:
      return "None";
    case nlohmann::json::value_t::boolean:
      return v.get<bool>() ? "True" : "False";
    case nlohmann::json::value_t::number_integer:
      return std::to_string(v.get<int64_t>());
    case nlohmann::json::value_t::number_unsigned:
      return std::to_string(v.get<uint64_t>());
    case nlohmann::json::value_t::number_float:
      return Shorten(PyFloat(v.get<double>()), kMaxOther);
    case nlohmann::json::value_t::string: {
      // reprlib: the repr of the first maxstring characters, then cut
      const std::string& s = v.get_ref<const std::string&>();
      std::string r = PyStr(s.substr(0, kMaxString));
      if (r.size() <= kMaxString) return r;
      size_t i = (kMaxString - 3) / 2;
      size_t j = kMaxString - 3 - i;
      r = PyStr(s.substr(0, i) + s.substr(s.size() - j));
      return r.substr(0, i) + "..." + r.substr(r.size() - j);
    }
    case nlohmann::json::value_t::array: {
      if (v.empty()) return "[]";
      if (level <= 0) return "[...]";
      std::string out = "[";
      size_t n = 0;
      for (const auto& item : v) {
        if (n == kMaxList) {
          out += ", ...";
          break;
        }
        out += (n++ ? ", " : "") + Repr(item, level - 1);
      }
      return out + "]";
    }
    case nlohmann::json::value_t::object: {
      if (v.empty()) return "{}";
      if (level <= 0) return "{...}";
      std::string out = "{";
      size_t n = 0;
      for (const auto& [key, item] : v.items()) {  // sorted keys, as reprlib sorts them
        if (n == kMaxDict) {
          out += ", ...";
          break;
        }
        out += (n++ ? ", " : "") + Repr(key, level - 1) + ": " + Repr(item, level - 1);
      }
      return out + "}";
    }
    default:
      return Shorten(v.dump(), kMaxOther);
  }
}

}  // namespace

std::string StageValueRepr(const nlohmann::json& value) { return Repr(value, kMaxLevel); }

std::string StageRepr(const std::string& class_name,
                      const std::vector<std::pair<std::string, nlohmann::json>>& kwargs) {
  std::string out = class_name + "(";
  for (size_t i = 0; i < kwargs.size(); ++i) out += (i ? ", " : "") + kwargs[i].first + "=" + StageValueRepr(kwargs[i].second);
  return out + ")";
}

}  // namespace fo::internal

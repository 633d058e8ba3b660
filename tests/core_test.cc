// Tests for the core value types: errors, ObjectIds, Values, Matrix.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "fo/error.h"
#include "fo/matrix.h"
#include "fo/object_id.h"
#include "fo/value.h"

namespace fo {
namespace {

using nlohmann::json;

uint32_t ParseHex(const std::string& s) { return static_cast<uint32_t>(std::stoul(s, nullptr, 16)); }

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

TEST(ErrorTest, CodeNamesAreDistinct) {
  EXPECT_STREQ(ErrorCodeName(ErrorCode::kInvalidArgument), "InvalidArgument");
  EXPECT_STREQ(ErrorCodeName(ErrorCode::kCorruption), "Corruption");
  std::set<std::string> names;
  for (int c = 0; c <= static_cast<int>(ErrorCode::kInternal); ++c) {
    names.insert(ErrorCodeName(static_cast<ErrorCode>(c)));
  }
  EXPECT_EQ(names.size(), static_cast<size_t>(ErrorCode::kInternal) + 1);
  EXPECT_EQ(names.count("Unknown"), 0u);
}

TEST(ObjectIdTest, IsTwentyFourLowercaseHex) {
  std::string id = NewObjectId();
  ASSERT_EQ(id.size(), 24u);
  for (char c : id) EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << id;
  EXPECT_TRUE(IsObjectId(id));
}

TEST(ObjectIdTest, StartsWithTheCurrentTimeInSeconds) {
  int64_t before = NowSeconds();
  std::string id = NewObjectId();
  int64_t after = NowSeconds();
  int64_t stamp = ParseHex(id.substr(0, 8));
  EXPECT_GE(stamp, before);
  EXPECT_LE(stamp, after);
}

TEST(ObjectIdTest, SharesProcessBytesAndCountsUp) {
  std::string a = NewObjectId(), b = NewObjectId();
  EXPECT_EQ(a.substr(8, 10), b.substr(8, 10));
  EXPECT_EQ((ParseHex(a.substr(18)) + 1) & 0xFFFFFF, ParseHex(b.substr(18)));
}

TEST(ObjectIdTest, UniqueAcrossThreads) {
  constexpr int kThreads = 8, kPerThread = 20000;
  std::vector<std::vector<std::string>> ids(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&ids, t] {
      for (int i = 0; i < kPerThread; ++i) ids[t].push_back(NewObjectId());
    });
  }
  for (auto& th : threads) th.join();
  std::set<std::string> all;
  for (const auto& v : ids) all.insert(v.begin(), v.end());
  EXPECT_EQ(all.size(), size_t{kThreads} * kPerThread);
}

TEST(ObjectIdTest, IsObjectIdAcceptsOnlyTwentyFourHexDigits) {
  EXPECT_TRUE(IsObjectId("0123456789abcdef01234567"));
  EXPECT_TRUE(IsObjectId("0123456789ABCDEF01234567"));
  EXPECT_FALSE(IsObjectId(""));
  EXPECT_FALSE(IsObjectId("0123456789abcdef0123456"));    // 23
  EXPECT_FALSE(IsObjectId("0123456789abcdef012345678"));  // 25
  EXPECT_FALSE(IsObjectId("0123456789abcdef0123456g"));
  EXPECT_FALSE(IsObjectId("0123456789abcdef0123456 "));
  EXPECT_FALSE(IsObjectId("a photo of a dog on a bed"));
}

TEST(ValueTest, JsonRoundTrips) {
  const std::vector<Value> values = {
      Value(),
      Value(true),
      Value(false),
      Value(int64_t{-7}),
      Value(std::numeric_limits<int64_t>::max()),
      Value(2.5),
      Value("cat"),
      Value(ValueList{Value(1), Value("a"), Value(ValueList{Value(), Value(0.25)})}),
      Value(ValueList{}),
  };
  for (const Value& v : values) {
    json j = v.ToJson();
    EXPECT_EQ(Value::FromJson(j), v) << j.dump();
    EXPECT_EQ(Value::FromJson(json::parse(j.dump())), v) << j.dump();
  }
}

TEST(ValueTest, FromJsonKeepsIntegersAndFloatsApart) {
  EXPECT_TRUE(Value::FromJson(json::parse("3")).is<int64_t>());
  EXPECT_TRUE(Value::FromJson(json::parse("-3")).is<int64_t>());
  EXPECT_TRUE(Value::FromJson(json::parse("3.0")).is<double>());
  EXPECT_TRUE(Value::FromJson(json::parse("[1, 2]")).is<ValueList>());
  EXPECT_TRUE(Value::FromJson(json::parse("18446744073709551615")).is<double>());
}

TEST(ValueTest, FromJsonRejectsObjects) {
  try {
    Value::FromJson(json::parse(R"({"a": 1})"));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  }
}

TEST(ValueTest, VectorToJsonPrintsTheStoredFloats) {
  json j = Value(FloatVector{0.1f, -2.0f, 3.5f}).ToJson();
  EXPECT_EQ(j.dump(), "[0.1,-2.0,3.5]");
}

TEST(ValueTest, AsWrongTypeNamesTheActualType) {
  Value v("text");
  EXPECT_EQ(v.as<std::string>(), "text");
  try {
    v.as<int64_t>();
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(std::string(e.what()).find("string"), std::string::npos) << e.what();
  }
}

TEST(ValueTest, TypeNames) {
  EXPECT_STREQ(ValueTypeName(Value()), "null");
  EXPECT_STREQ(ValueTypeName(Value(true)), "bool");
  EXPECT_STREQ(ValueTypeName(Value(1)), "int");
  EXPECT_STREQ(ValueTypeName(Value(1.0)), "float");
  EXPECT_STREQ(ValueTypeName(Value("s")), "string");
  EXPECT_STREQ(ValueTypeName(Value(ValueList{})), "list");
  EXPECT_STREQ(ValueTypeName(Value(FloatVector{})), "vector");
}

std::string CheckFiniteMessage(const Matrix& m) {
  try {
    m.CheckFinite("embeddings");
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    return e.what();
  }
  return "";
}

TEST(MatrixTest, CheckFiniteReportsRowAndColumn) {
  Matrix m(3, 4);
  EXPECT_EQ(CheckFiniteMessage(m), "");
  m.row(1)[2] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(CheckFiniteMessage(m), "embeddings contains NaN or Inf at row 1, column 2");
  m.row(1)[2] = 0;
  m.row(2)[3] = -std::numeric_limits<float>::infinity();
  EXPECT_EQ(CheckFiniteMessage(m), "embeddings contains NaN or Inf at row 2, column 3");
  m.row(0)[0] = std::numeric_limits<float>::infinity();
  EXPECT_EQ(CheckFiniteMessage(m), "embeddings contains NaN or Inf at row 0, column 0");
}

TEST(MatrixTest, ConstructorChecksTheBufferSize) {
  EXPECT_NO_THROW(Matrix(2, 3, std::vector<float>(6)));
  EXPECT_THROW(Matrix(2, 3, std::vector<float>(5)), Error);
}

TEST(MatrixTest, AppendRowTakesItsWidthFromTheFirstRow) {
  Matrix m;
  const std::vector<float> a = {1, 2, 3}, b = {4, 5, 6}, c = {7, 8};
  m.AppendRow(a);
  m.AppendRow(b);
  EXPECT_EQ(m.rows(), 2u);
  EXPECT_EQ(m.cols(), 3u);
  EXPECT_EQ(m.row(1)[0], 4.0f);
  EXPECT_EQ(m.values(), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  EXPECT_THROW(m.AppendRow(c), Error);
  EXPECT_EQ(m.rows(), 2u);
}

}  // namespace
}  // namespace fo

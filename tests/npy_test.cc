// Tests for ReadNpy / WriteNpy. Fixtures are built byte by byte here, so the
// tests need neither numpy nor files from elsewhere.
#include "fo/npy.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "fo/error.h"
#include "test_support.h"

namespace fo {
namespace {

using fo::testing::TempDir;
using fo::testing::WriteFile;

constexpr char kExpected[] = "; expected a 2-D little-endian float32 or float64 array in C order";

// A .npy file: magic, version, header length (2 bytes in v1, 4 in v2/v3),
// the header padded to 64 bytes like numpy does, then `data`.
std::string Npy(const std::string& dict, const std::string& data, int major = 1) {
  const size_t len_bytes = major == 1 ? 2 : 4;
  std::string header = dict;
  while ((6 + 2 + len_bytes + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string out = "\x93NUMPY";
  out += static_cast<char>(major);
  out += '\0';
  for (size_t i = 0; i < len_bytes; ++i) out += static_cast<char>((header.size() >> (8 * i)) & 0xFF);
  return out + header + data;
}

template <typename T>
std::string Bytes(const std::vector<T>& values) {
  std::string s(values.size() * sizeof(T), '\0');
  std::memcpy(s.data(), values.data(), s.size());
  return s;
}

std::string Dict(const std::string& descr, const std::string& shape, const std::string& fortran = "False") {
  return "{'descr': '" + descr + "', 'fortran_order': " + fortran + ", 'shape': " + shape + ", }";
}

class NpyTest : public ::testing::Test {
 protected:
  Matrix Read(const std::string& bytes) {
    WriteFile(path_, bytes);
    return ReadNpy(path_);
  }

  TempDir dir_;
  std::string path_ = dir_.File("x.npy");
};

TEST_F(NpyTest, ReadsFloat32) {
  Matrix m = Read(Npy(Dict("<f4", "(2, 3)"), Bytes<float>({1, 2, 3, 4, 5, 6.5f})));
  ASSERT_EQ(m.rows(), 2u);
  ASSERT_EQ(m.cols(), 3u);
  EXPECT_EQ(m.values(), (std::vector<float>{1, 2, 3, 4, 5, 6.5f}));
}

TEST_F(NpyTest, ReadsFloat64AsFloat32) {
  Matrix m = Read(Npy(Dict("<f8", "(3, 2)"), Bytes<double>({0.1, -2, 3, 4, 5, 1e30})));
  ASSERT_EQ(m.rows(), 3u);
  ASSERT_EQ(m.cols(), 2u);
  EXPECT_EQ(m.values(), (std::vector<float>{0.1f, -2, 3, 4, 5, 1e30f}));
}

TEST_F(NpyTest, ReadsFloat64LargerThanOneChunk) {
  std::vector<double> values(200003);
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<double>(i) * 0.5;
  Matrix m = Read(Npy(Dict("<f8", "(200003,)"), Bytes(values)));
  ASSERT_EQ(m.cols(), values.size());
  EXPECT_EQ(m.row(0)[0], 0.0f);
  EXPECT_EQ(m.row(0)[100000], 50000.0f);
  EXPECT_EQ(m.row(0)[200002], 100001.0f);
}

TEST_F(NpyTest, ReadsVersion2And3Headers) {
  for (int major : {2, 3}) {
    Matrix m = Read(Npy(Dict("<f4", "(1, 2)"), Bytes<float>({7, 8}), major));
    EXPECT_EQ(m.rows(), 1u) << major;
    EXPECT_EQ(m.values(), (std::vector<float>{7, 8})) << major;
  }
}

TEST_F(NpyTest, ReadsOneDimensionalAsOneRow) {
  Matrix m = Read(Npy(Dict("<f4", "(3,)"), Bytes<float>({1, 2, 3})));
  EXPECT_EQ(m.rows(), 1u);
  EXPECT_EQ(m.cols(), 3u);
}

TEST_F(NpyTest, ToleratesOtherWritersHeaders) {
  // Python 2 numpy wrote long ints; other writers use double quotes, reorder
  // keys and omit the trailing comma.
  Matrix m = Read(Npy(R"({"shape": (2L, 1L), "fortran_order": False, "descr": "<f4"})", Bytes<float>({1, 2})));
  EXPECT_EQ(m.rows(), 2u);
  EXPECT_EQ(m.cols(), 1u);
}

TEST_F(NpyTest, IgnoresBytesAfterTheData) {
  Matrix m = Read(Npy(Dict("<f4", "(1, 1)"), Bytes<float>({3, 9})));
  EXPECT_EQ(m.values(), (std::vector<float>{3}));
}

struct BadCase {
  const char* name;
  std::string bytes;
  const char* problem;
};

TEST_F(NpyTest, RejectsMalformedFilesNamingTheFile) {
  const std::string f4x2 = Bytes<float>({1, 2});
  std::string bad_version = Npy(Dict("<f4", "(2,)"), f4x2);
  bad_version[6] = 4;
  const std::vector<BadCase> cases = {
      {"bad magic", "\x93NUMPZ" + Npy(Dict("<f4", "(2,)"), f4x2).substr(6), "bad magic"},
      {"not npy at all", "hello", "bad magic"},
      {"empty file", "", "bad magic"},
      {"version 4.0", bad_version, "version 4.0"},
      {"big-endian", Npy(Dict(">f4", "(2,)"), f4x2), "big-endian dtype '>f4'"},
      {"int32", Npy(Dict("<i4", "(2,)"), f4x2), "unsupported dtype '<i4'"},
      {"float16", Npy(Dict("<f2", "(2,)"), f4x2), "unsupported dtype '<f2'"},
      {"structured", Npy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,)}", f4x2),
       "structured dtype"},
      {"fortran order", Npy(Dict("<f4", "(1, 2)", "True"), f4x2), "Fortran-ordered"},
      {"0-d", Npy(Dict("<f4", "()"), f4x2), "0-D array"},
      {"3-d", Npy(Dict("<f4", "(1, 1, 2)"), f4x2), "3-D array"},
      {"truncated data", Npy(Dict("<f4", "(2, 2)"), f4x2), "truncated data"},
      {"truncated f8 data", Npy(Dict("<f8", "(2,)"), f4x2), "truncated data"},
      {"truncated header", Npy(Dict("<f4", "(2,)"), "").substr(0, 40), "truncated header"},
      {"header length only", std::string("\x93NUMPY\x01\x00", 8), "truncated header"},
      {"unterminated dict", Npy("{'descr': '<f4', 'shape': (2,)", f4x2), "malformed header"},
      {"missing shape", Npy("{'descr': '<f4', 'fortran_order': False}", f4x2), "no 'shape'"},
      {"negative shape", Npy(Dict("<f4", "(-1, 2)"), f4x2), "'shape'"},
      {"overflowing shape", Npy(Dict("<f4", "(4611686018427387904, 8)"), f4x2), "shape too large"},
  };
  for (const BadCase& c : cases) {
    SCOPED_TRACE(c.name);
    try {
      Read(c.bytes);
      ADD_FAILURE() << "expected an error";
    } catch (const Error& e) {
      const std::string what = e.what();
      EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument) << what;
      EXPECT_EQ(what.rfind(path_ + ": ", 0), 0u) << what;
      EXPECT_NE(what.find(c.problem), std::string::npos) << what;
      EXPECT_NE(what.find(kExpected), std::string::npos) << what;
    }
  }
}

TEST_F(NpyTest, MissingFileIsAnIOError) {
  try {
    ReadNpy(dir_.File("absent.npy"));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kIOError);
    EXPECT_NE(std::string(e.what()).find("absent.npy"), std::string::npos) << e.what();
  }
}

TEST_F(NpyTest, WriteThenReadRoundTrips) {
  Matrix m(3, 5);
  for (size_t i = 0; i < m.rows(); ++i) {
    for (size_t j = 0; j < m.cols(); ++j) m.row(i)[j] = static_cast<float>(i) * 10 - static_cast<float>(j) / 3;
  }
  WriteNpy(m, path_);
  Matrix back = ReadNpy(path_);
  EXPECT_EQ(back.rows(), 3u);
  EXPECT_EQ(back.cols(), 5u);
  EXPECT_EQ(back.values(), m.values());
}

TEST_F(NpyTest, WritesANumpyV1HeaderAlignedTo64Bytes) {
  WriteNpy(Matrix(2, 3), path_);
  const std::string bytes = fo::testing::ReadFile(path_);
  ASSERT_GE(bytes.size(), 10u);
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  const size_t header_size = static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
  EXPECT_EQ((10 + header_size) % 64, 0u);
  EXPECT_EQ(bytes.size(), 10 + header_size + 2 * 3 * 4);
  const std::string header = bytes.substr(10, header_size);
  EXPECT_NE(header.find("'descr': '<f4'"), std::string::npos) << header;
  EXPECT_NE(header.find("'shape': (2, 3)"), std::string::npos) << header;
  EXPECT_EQ(header.back(), '\n');
}

TEST_F(NpyTest, RoundTripsAnEmptyMatrix) {
  WriteNpy(Matrix(0, 4), path_);
  Matrix back = ReadNpy(path_);
  EXPECT_EQ(back.rows(), 0u);
  EXPECT_EQ(back.cols(), 4u);
}

TEST_F(NpyTest, WriteToAMissingDirectoryIsAnIOError) {
  try {
    WriteNpy(Matrix(1, 1), dir_.File("no/such/dir.npy"));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kIOError);
  }
}

// /dev/full fails every write with ENOSPC, as a full disk does.
TEST_F(NpyTest, WriteToAFullDiskIsTheDiskFullLine) {
  Error e = fo::testing::CaughtError([] { WriteNpy(Matrix(1000, 64), "/dev/full"); });
  EXPECT_EQ(e.code(), ErrorCode::kIOError);
  EXPECT_EQ(std::string(e.what()), "the disk holding /dev/full is full: free some space and try again");
}

}  // namespace
}  // namespace fo

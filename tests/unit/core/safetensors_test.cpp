#include "common/safetensors.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "../scratch_dir.h"
#include "common/error.h"

namespace distill::safetensors {
namespace {

using distill::testing::ScratchDir;

std::vector<uint8_t> readAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void writeAll(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                              std::streamsize(bytes.size()));
}

// A file built by hand: 8-byte length, header text as given, then the buffer.
std::vector<uint8_t> rawFile(const std::string& header, size_t buffer_bytes, uint64_t length = ~0ull) {
  if (length == ~0ull) length = header.size();
  std::vector<uint8_t> out(8);
  for (int i = 0; i < 8; ++i) out[i] = uint8_t(length >> (8 * i));
  out.insert(out.end(), header.begin(), header.end());
  out.resize(out.size() + buffer_bytes, 0);
  return out;
}

// Expects File::open(path) to throw with every one of `parts` in the message.
void expectOpenError(const std::string& path, std::vector<std::string> parts) {
  try {
    File::open(path);
    FAIL() << "expected an error opening " << path;
  } catch (const Error& e) {
    parts.push_back(path);
    for (const auto& p : parts)
      EXPECT_NE(std::string(e.what()).find(p), std::string::npos)
          << "message '" << e.what() << "' lacks '" << p << "'";
  }
}

TEST(SafetensorsDType, NamesSizesAndParsing) {
  const std::vector<std::pair<DType, size_t>> all = {
      {DType::F64, 8}, {DType::F32, 4}, {DType::F16, 2}, {DType::BF16, 2}, {DType::I64, 8},
      {DType::I32, 4}, {DType::I16, 2}, {DType::I8, 1},  {DType::U8, 1},   {DType::BOOL, 1}};
  for (auto [dtype, size] : all) {
    EXPECT_EQ(dtypeSize(dtype), size);
    EXPECT_EQ(parseDType(dtypeName(dtype)), dtype);
  }
  EXPECT_EQ(dtypeName(DType::BF16), "BF16");
  EXPECT_THROW(parseDType("F8_E4M3"), Error);
  EXPECT_EQ(numElements({}), 1);
  EXPECT_EQ(numElements({2, 0, 3}), 0);
  EXPECT_EQ(numElements({2, 3, 4}), 24);
}

TEST(Safetensors, RoundTripsEveryDType) {
  ScratchDir dir;
  const std::vector<DType> all = {DType::F64, DType::F32, DType::F16, DType::BF16, DType::I64,
                                  DType::I32, DType::I16, DType::I8,  DType::U8,   DType::BOOL};
  Writer w;
  std::map<std::string, std::vector<uint8_t>> expected;
  for (size_t k = 0; k < all.size(); ++k) {
    std::vector<int64_t> shape = {2, int64_t(k % 3 + 1)};
    std::vector<uint8_t> bytes(size_t(numElements(shape)) * dtypeSize(all[k]));
    for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = uint8_t(31 * k + 7 * i + 1);
    if (all[k] == DType::BOOL)
      for (auto& b : bytes) b &= 1;
    std::string name = "t_" + dtypeName(all[k]);
    w.add(name, all[k], shape, bytes.data(), bytes.size());
    expected[name] = bytes;
  }
  w.add("empty", DType::F32, {0, 4}, nullptr, 0);
  w.add("scalar", DType::I64, {}, "\x05\0\0\0\0\0\0\0", 8);
  w.setMetadata("step", "42");
  w.setMetadata("note", "héllo");
  w.write(dir.path("a.safetensors"));
  EXPECT_FALSE(std::filesystem::exists(dir.path("a.safetensors.tmp")));

  File f = File::open(dir.path("a.safetensors"));
  EXPECT_EQ(f.names().size(), all.size() + 2);
  for (size_t k = 0; k < all.size(); ++k) {
    std::string name = "t_" + dtypeName(all[k]);
    ASSERT_TRUE(f.has(name));
    TensorView v = f.get(name);
    EXPECT_EQ(v.dtype, all[k]);
    EXPECT_EQ(v.shape, (std::vector<int64_t>{2, int64_t(k % 3 + 1)}));
    ASSERT_EQ(v.nbytes, expected[name].size());
    EXPECT_EQ(0, std::memcmp(v.data, expected[name].data(), v.nbytes)) << name;
    // Writer places wider dtypes first so every tensor is aligned in place.
    EXPECT_EQ(reinterpret_cast<uintptr_t>(v.data) % dtypeSize(all[k]), 0u) << name;
    EXPECT_EQ(f.copy(name).bytes, expected[name]);
  }
  EXPECT_EQ(f.get("empty").nbytes, 0u);
  EXPECT_EQ(f.get("scalar").shape.size(), 0u);
  EXPECT_EQ(f.get("scalar").data[0], 5);
  EXPECT_EQ(f.metadata().at("step"), "42");
  EXPECT_EQ(f.metadata().at("note"), "héllo");
  EXPECT_FALSE(f.has("missing"));
}

TEST(Safetensors, HeaderIsPaddedToEightBytes) {
  ScratchDir dir;
  Writer w;
  uint8_t one = 1;
  w.add("x", DType::U8, {1}, &one, 1);
  std::vector<uint8_t> bytes = w.serialize();
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= uint64_t(bytes[i]) << (8 * i);
  EXPECT_EQ(n % 8, 0u);
  EXPECT_EQ(bytes.size(), 8 + n + 1);
  EXPECT_EQ(bytes[8], '{');
  EXPECT_EQ(bytes[8 + n - 1] == ' ' || bytes[8 + n - 1] == '}', true);
}

TEST(Safetensors, WriterRejectsWrongSizeAndDuplicates) {
  Writer w;
  float v[3] = {1, 2, 3};
  EXPECT_THROW(w.add("a", DType::F32, {2, 2}, v, sizeof(v)), Error);
  w.add("a", DType::F32, {3}, v, sizeof(v));
  EXPECT_THROW(w.add("a", DType::F32, {3}, v, sizeof(v)), Error);
  EXPECT_THROW(w.add("__metadata__", DType::F32, {3}, v, sizeof(v)), Error);
}

TEST(Safetensors, MissingTensorNamesFileAndTensor) {
  ScratchDir dir;
  Writer w;
  w.write(dir.path("empty.safetensors"));
  File f = File::open(dir.path("empty.safetensors"));
  EXPECT_TRUE(f.names().empty());
  try {
    f.get("labels");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("empty.safetensors"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("labels"), std::string::npos);
  }
}

class SafetensorsCorrupt : public ::testing::Test {
 protected:
  std::string good() {
    Writer w;
    std::vector<int32_t> ids(12, 7);
    std::vector<uint8_t> mask(12, 1);
    w.add("input_ids", DType::I32, {3, 4}, ids.data(), ids.size() * 4);
    w.add("attention_mask", DType::U8, {3, 4}, mask.data(), mask.size());
    std::string path = dir_.path("good.safetensors");
    w.write(path);
    return path;
  }
  std::string put(const std::string& name, const std::vector<uint8_t>& bytes) {
    writeAll(dir_.path(name), bytes);
    return dir_.path(name);
  }
  ScratchDir dir_;
};

TEST_F(SafetensorsCorrupt, TruncatedFile) {
  auto bytes = readAll(good());
  bytes.resize(bytes.size() - 5);
  expectOpenError(put("cut.safetensors", bytes), {"attention_mask", "truncated"});
  expectOpenError(put("tiny.safetensors", {1, 2, 3}), {"shorter than"});
}

TEST_F(SafetensorsCorrupt, BadHeaderLength) {
  auto bytes = readAll(good());
  bytes[5] = 0x7f;  // a huge length
  expectOpenError(put("len.safetensors", bytes), {"header length"});
  std::string header = R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}})";
  expectOpenError(put("short.safetensors", rawFile(header, 2, header.size() - 3)), {"JSON"});
}

TEST_F(SafetensorsCorrupt, BadOffsets) {
  // Offsets beyond the buffer.
  std::string h1 = R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}})";
  expectOpenError(put("out.safetensors", rawFile(h1, 2)), {"'a'", "outside the data buffer"});
  // Span disagrees with shape * dtype size.
  std::string h2 = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})";
  expectOpenError(put("span.safetensors", rawFile(h2, 4)), {"'a'", "needs 8 bytes"});
  // Overlapping tensors.
  std::string h3 = R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},)"
                   R"("b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}})";
  expectOpenError(put("overlap.safetensors", rawFile(h3, 6)), {"'b'", "overlaps"});
  // A gap between tensors.
  std::string h4 = R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},)"
                   R"("b":{"dtype":"U8","shape":[2],"data_offsets":[3,5]}})";
  expectOpenError(put("gap.safetensors", rawFile(h4, 5)), {"'b'", "gap of 1 bytes"});
  // Bytes after the last tensor.
  std::string h5 = R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}})";
  expectOpenError(put("tail.safetensors", rawFile(h5, 3)), {"cover 2"});
  // Negative offset.
  std::string h6 = R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[-1,1]}})";
  expectOpenError(put("neg.safetensors", rawFile(h6, 2)), {"'a'", "data_offsets"});
}

TEST_F(SafetensorsCorrupt, BadDTypeShapeAndJson) {
  std::string h1 = R"({"a":{"dtype":"Q4","shape":[2],"data_offsets":[0,2]}})";
  expectOpenError(put("dtype.safetensors", rawFile(h1, 2)), {"'a'", "Q4"});
  std::string h2 = R"({"a":{"dtype":"U8","shape":[-2],"data_offsets":[0,2]}})";
  expectOpenError(put("shape.safetensors", rawFile(h2, 2)), {"'a'", "shape"});
  std::string h3 = R"({"a":{"dtype":"U8"}})";
  expectOpenError(put("fields.safetensors", rawFile(h3, 0)), {"'a'", "data_offsets"});
  std::string h4 = R"({"__metadata__":{"k":3}})";
  expectOpenError(put("meta.safetensors", rawFile(h4, 0)), {"__metadata__", "'k'"});
  expectOpenError(put("notjson.safetensors", rawFile("[1, 2]  ", 0)), {"not a JSON object"});
  // Whitespace padding after the JSON is allowed by the format.
  std::string h5 = R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}})";
  h5.append(6, ' ');
  EXPECT_EQ(File::open(put("padded.safetensors", rawFile(h5, 2))).get("a").nbytes, 2u);
}

// The JSON library keeps the last of two equal keys: a header that names a
// tensor twice (or a field of one) says two things at once and is refused.
TEST_F(SafetensorsCorrupt, KeysGivenTwice) {
  std::string h1 = R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},)"
                   R"("a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}})";
  expectOpenError(put("twice.safetensors", rawFile(h1, 2)), {"twice.safetensors", "key \"a\" is given twice"});
  std::string h2 = R"({"a":{"dtype":"U8","shape":[2],"dtype":"I8","data_offsets":[0,2]}})";
  expectOpenError(put("field.safetensors", rawFile(h2, 2)), {"key \"dtype\" is given twice"});
  // The same key in two different objects is fine.
  std::string h3 = R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},)"
                   R"("b":{"dtype":"U8","shape":[2],"data_offsets":[2,4]}})";
  EXPECT_EQ(File::open(put("two.safetensors", rawFile(h3, 4))).names().size(), 2u);
}

// Opened without waiting for a writer, and refused by what it is.
TEST_F(SafetensorsCorrupt, DirectoriesAndFifosAreNotFiles) {
  expectOpenError(dir_.str(), {"is a directory, not a safetensors file"});
  const std::string fifo = dir_.path("pipe.safetensors");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  expectOpenError(fifo, {"pipe.safetensors", "is a FIFO, not a safetensors file"});
}

}  // namespace
}  // namespace distill::safetensors

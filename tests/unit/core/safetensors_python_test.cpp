// Interoperability with Python: files we write are read by a reader that
// follows the published format (tests/unit/read_safetensors.py, standard
// library + numpy), and files that script writes are read by our reader.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "../scratch_dir.h"
#include "common/safetensors.h"

namespace distill::safetensors {
namespace {

using distill::testing::ScratchDir;

const char* kPython = "/usr/bin/python3";
const std::string kScript = std::string(DISTILL_SOURCE_DIR) + "/tests/unit/read_safetensors.py";

// Runs the script; returns its exit status and fills `output` with stdout+stderr.
int runScript(const std::string& mode, const std::string& file, const ScratchDir& dir,
              std::string* output) {
  std::string out_path = dir.path("python-output.txt");
  std::string cmd = std::string(kPython) + " " + kScript + " " + mode + " '" + file + "' > '" +
                    out_path + "' 2>&1";
  int status = std::system(cmd.c_str());
  std::ifstream in(out_path);
  std::stringstream text;
  text << in.rdbuf();
  *output = text.str();
  return status;
}

bool havePythonWithNumpy() {
  return std::system((std::string(kPython) + " -c 'import numpy' 2>/dev/null").c_str()) == 0;
}

template <typename T>
void addValues(Writer& w, const std::string& name, DType dtype, std::vector<int64_t> shape,
               const std::vector<T>& values) {
  w.add(name, dtype, std::move(shape), values.data(), values.size() * sizeof(T));
}

TEST(SafetensorsPython, PythonReadsWhatWeWrite) {
  ASSERT_TRUE(havePythonWithNumpy()) << kPython << " with numpy is not available: run launch/setup.sh (Debian package python3-numpy)";
  ScratchDir dir;
  Writer w;
  addValues<double>(w, "a_f64", DType::F64, {2}, {1.5, -2.25});
  addValues<float>(w, "b_f32", DType::F32, {2, 2}, {1.0f, 2.0f, 3.0f, 4.5f});
  addValues<uint16_t>(w, "c_f16", DType::F16, {3}, {0x3C00, 0xC100, 0x3800});   // 1, -2.5, 0.5
  addValues<uint16_t>(w, "d_bf16", DType::BF16, {3}, {0x3F80, 0xC020, 0x4040});  // 1, -2.5, 3
  addValues<int64_t>(w, "e_i64", DType::I64, {2}, {-(int64_t(1) << 40), 7});
  addValues<int32_t>(w, "f_i32", DType::I32, {2}, {-5, 100000});
  addValues<int16_t>(w, "g_i16", DType::I16, {2}, {-300, 300});
  addValues<int8_t>(w, "h_i8", DType::I8, {2}, {-128, 127});
  addValues<uint8_t>(w, "i_u8", DType::U8, {2}, {0, 255});
  addValues<uint8_t>(w, "j_bool", DType::BOOL, {3}, {1, 0, 1});
  w.add("k_empty", DType::F32, {0, 3}, nullptr, 0);
  w.setMetadata("step", "42");
  w.setMetadata("task", "classification");
  w.write(dir.path("ours.safetensors"));

  std::string output;
  ASSERT_EQ(runScript("read", dir.path("ours.safetensors"), dir, &output), 0) << output;
  EXPECT_EQ(output,
            "meta step=42\n"
            "meta task=classification\n"
            "tensor a_f64 F64 [2] 1.5 -2.25\n"
            "tensor b_f32 F32 [2, 2] 1.0 2.0 3.0 4.5\n"
            "tensor c_f16 F16 [3] 1.0 -2.5 0.5\n"
            "tensor d_bf16 BF16 [3] 1.0 -2.5 3.0\n"
            "tensor e_i64 I64 [2] -1099511627776 7\n"
            "tensor f_i32 I32 [2] -5 100000\n"
            "tensor g_i16 I16 [2] -300 300\n"
            "tensor h_i8 I8 [2] -128 127\n"
            "tensor i_u8 U8 [2] 0 255\n"
            "tensor j_bool BOOL [3] 1 0 1\n"
            "tensor k_empty F32 [0, 3]\n");
}

template <typename T>
std::vector<T> values(const TensorView& v) {
  std::vector<T> out(v.nbytes / sizeof(T));
  if (v.nbytes) std::memcpy(out.data(), v.data, v.nbytes);
  return out;
}

TEST(SafetensorsPython, WeReadWhatPythonWrites) {
  ASSERT_TRUE(havePythonWithNumpy()) << kPython << " with numpy is not available: run launch/setup.sh (Debian package python3-numpy)";
  ScratchDir dir;
  std::string output;
  ASSERT_EQ(runScript("write", dir.path("theirs.safetensors"), dir, &output), 0) << output;

  File f = File::open(dir.path("theirs.safetensors"));
  EXPECT_EQ(f.names(), (std::vector<std::string>{"weights", "ids", "scale", "half", "flags", "mask"}));
  EXPECT_EQ(f.metadata().at("origin"), "python");
  EXPECT_EQ(f.metadata().at("format"), "pt");

  TensorView weights = f.get("weights");
  EXPECT_EQ(weights.dtype, DType::F32);
  EXPECT_EQ(weights.shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(values<float>(weights), (std::vector<float>{0.5f, -1.0f, 2.0f, 3.25f}));
  EXPECT_EQ(values<int64_t>(f.get("ids")), (std::vector<int64_t>{-3, 0, int64_t(1) << 40}));
  EXPECT_EQ(f.get("scale").dtype, DType::BF16);
  EXPECT_EQ(values<uint16_t>(f.get("scale")), (std::vector<uint16_t>{0x3F80, 0xC020}));
  EXPECT_EQ(values<uint16_t>(f.get("half")), (std::vector<uint16_t>{0x3800, 0xC000}));
  EXPECT_EQ(f.get("flags").dtype, DType::BOOL);
  EXPECT_EQ(values<uint8_t>(f.get("flags")), (std::vector<uint8_t>{1, 0, 0, 1}));
  EXPECT_EQ(f.get("mask").shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(values<uint8_t>(f.get("mask")), (std::vector<uint8_t>{0, 1, 2, 253, 254, 255}));
}

}  // namespace
}  // namespace distill::safetensors

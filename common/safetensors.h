// Reader and writer of the safetensors format (huggingface/safetensors),
// without LibTorch, so the coordinator and tools can read shards too.
//
// Layout of a file, as published:
//   8 bytes        N, the header length, unsigned little-endian
//   N bytes        UTF-8 JSON: {"name": {"dtype": "F32", "shape": [2, 3],
//                  "data_offsets": [begin, end]}, ..., "__metadata__": {"k": "v"}}
//                  padded with spaces to a multiple of 8
//   rest           the byte buffer; offsets are relative to its start, tensors
//                  are row-major, little-endian, contiguous, no gaps or overlaps
//
//   safetensors::Writer w;
//   w.add("weight", DType::F32, {2, 3}, values.data(), values.size() * sizeof(float));
//   w.setMetadata("step", "100");
//   w.write("out.safetensors");              // via out.safetensors.tmp + rename
//
//   auto f = safetensors::File::open("out.safetensors");   // mmap, validated
//   safetensors::TensorView v = f.get("weight");           // points into the map
//
// TensorView::data points into the mapping and may not be aligned for its
// dtype when a file from elsewhere mixes dtypes: copy with memcpy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace distill::safetensors {

enum class DType { F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL };

// Bytes per element.
size_t dtypeSize(DType dtype);
// The format's name of a dtype, e.g. "BF16".
std::string dtypeName(DType dtype);
// Parses a format dtype name; throws distill::Error for names we do not support.
DType parseDType(const std::string& name);

// Number of elements of a shape (1 for a scalar, shape {}).
int64_t numElements(const std::vector<int64_t>& shape);

// A tensor inside an open File; valid while any copy of that File lives.
struct TensorView {
  DType dtype;
  std::vector<int64_t> shape;
  const uint8_t* data;
  size_t nbytes;
};

// A tensor that owns its bytes.
struct TensorData {
  DType dtype;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;
};

// Collects tensors in memory and writes them as one file.
class Writer {
 public:
  // Copies nbytes from data. nbytes must equal numElements(shape) * dtypeSize(dtype);
  // names must be unique and not "__metadata__". Throws distill::Error otherwise.
  void add(const std::string& name, DType dtype, std::vector<int64_t> shape,
           const void* data, size_t nbytes);
  void add(const std::string& name, const TensorData& tensor);
  // Sets a "__metadata__" entry (string to string, as the format requires).
  void setMetadata(const std::string& key, const std::string& value);
  // Writes path + ".tmp", fsyncs it, renames it to path and fsyncs the
  // directory, so a crash never leaves a half-written file under path.
  void write(const std::string& path) const;
  // The complete file content (header and buffer), as write() stores it.
  std::vector<uint8_t> serialize() const;

 private:
  struct Entry {
    std::string name;
    TensorData tensor;
  };
  std::vector<Entry> entries_;
  std::map<std::string, std::string> metadata_;
};

// A read-only memory-mapped safetensors file. Cheap to copy (copies share the map).
class File {
 public:
  // Maps and validates the file: header length against the file size, the
  // JSON, every dtype, shape * dtype size == offset span, offsets inside the
  // buffer, contiguous and non-overlapping. Throws distill::Error naming the
  // file (and the tensor) on any problem.
  static File open(const std::string& path);

  bool has(const std::string& name) const;
  // Throws distill::Error naming the file and the tensor if it is absent.
  TensorView get(const std::string& name) const;
  // Copies a tensor out of the map.
  TensorData copy(const std::string& name) const;
  // Tensor names in file (offset) order.
  std::vector<std::string> names() const;
  // Where a tensor's bytes start in the file (header included), for readers
  // that read the file rather than the map.
  size_t fileOffset(const std::string& name) const;
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const std::string& path() const { return path_; }

 private:
  struct Mapping;
  struct Entry {
    DType dtype;
    std::vector<int64_t> shape;
    size_t begin, end;
  };
  std::string path_;
  std::shared_ptr<Mapping> mapping_;
  const uint8_t* buffer_ = nullptr;  // start of the byte buffer inside the map
  std::map<std::string, Entry> entries_;
  std::vector<std::string> order_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace distill::safetensors

#include "common/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <tuple>
#include <nlohmann/json.hpp>

#include "common/atomic_write.h"
#include "common/error.h"
#include "common/files.h"
#include "common/json_strict.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors data is little-endian; this reader copies bytes as they are"
#endif

namespace distill::safetensors {
namespace {

// The upstream reader refuses larger headers too; a bigger length is a corrupt file.
constexpr uint64_t kMaxHeaderBytes = 100ull << 20;
constexpr const char* kMetadataKey = "__metadata__";

struct DTypeName {
  DType dtype;
  const char* name;
  size_t size;
};
constexpr DTypeName kDTypes[] = {
    {DType::F64, "F64", 8}, {DType::F32, "F32", 4}, {DType::F16, "F16", 2},
    {DType::BF16, "BF16", 2}, {DType::I64, "I64", 8}, {DType::I32, "I32", 4},
    {DType::I16, "I16", 2}, {DType::I8, "I8", 1}, {DType::U8, "U8", 1},
    {DType::BOOL, "BOOL", 1}};

const DTypeName& lookup(DType dtype) {
  for (const auto& d : kDTypes)
    if (d.dtype == dtype) return d;
  throw std::logic_error("safetensors: unknown DType enum value " + std::to_string(int(dtype)));
}

// numel * element size, or false on a negative dimension or an overflow.
bool byteSize(const std::vector<int64_t>& shape, size_t element_size, size_t* out) {
  size_t n = element_size;
  for (int64_t d : shape) {
    if (d < 0 || __builtin_mul_overflow(n, size_t(d), &n)) return false;
  }
  *out = n;
  return true;
}

std::string shapeString(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

}  // namespace

size_t dtypeSize(DType dtype) { return lookup(dtype).size; }
std::string dtypeName(DType dtype) { return lookup(dtype).name; }

DType parseDType(const std::string& name) {
  for (const auto& d : kDTypes)
    if (name == d.name) return d.dtype;
  DISTILL_FAIL("unsupported safetensors dtype '", name,
               "' (supported: F64 F32 F16 BF16 I64 I32 I16 I8 U8 BOOL)");
}

int64_t numElements(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

// ---- Writer --------------------------------------------------------------------

void Writer::add(const std::string& name, DType dtype, std::vector<int64_t> shape,
                 const void* data, size_t nbytes) {
  DISTILL_CHECK(!name.empty() && name != kMetadataKey, "safetensors: invalid tensor name '",
                name, "'");
  for (const auto& e : entries_)
    DISTILL_CHECK(e.name != name, "safetensors: tensor '", name, "' added twice");
  size_t expected = 0;
  DISTILL_CHECK(byteSize(shape, dtypeSize(dtype), &expected), "safetensors: tensor '", name,
                "' has an invalid shape ", shapeString(shape));
  DISTILL_CHECK(expected == nbytes, "safetensors: tensor '", name, "' of shape ",
                shapeString(shape), " and dtype ", dtypeName(dtype), " needs ", expected,
                " bytes, got ", nbytes);
  const auto* bytes = static_cast<const uint8_t*>(data);
  entries_.push_back({name, {dtype, std::move(shape), std::vector<uint8_t>(bytes, bytes + nbytes)}});
}

void Writer::add(const std::string& name, const TensorData& tensor) {
  add(name, tensor.dtype, tensor.shape, tensor.bytes.data(), tensor.bytes.size());
}

void Writer::setMetadata(const std::string& key, const std::string& value) {
  metadata_[key] = value;
}

std::vector<uint8_t> Writer::serialize() const {
  // Wider dtypes first: the buffer starts 8-aligned, so every tensor then
  // starts at a multiple of its element size and can be read in place.
  std::vector<const Entry*> order;
  for (const auto& e : entries_) order.push_back(&e);
  std::stable_sort(order.begin(), order.end(), [](const Entry* a, const Entry* b) {
    return dtypeSize(a->tensor.dtype) > dtypeSize(b->tensor.dtype);
  });

  // ordered_json keeps the header in buffer order, which readers find natural.
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata_.empty()) header[kMetadataKey] = metadata_;
  size_t offset = 0;
  for (const Entry* e : order) {
    size_t end = offset + e->tensor.bytes.size();
    header[e->name] = {{"dtype", dtypeName(e->tensor.dtype)},
                       {"shape", e->tensor.shape},
                       {"data_offsets", {offset, end}}};
    offset = end;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');

  std::vector<uint8_t> out(8 + text.size() + offset);
  uint64_t n = text.size();
  for (int i = 0; i < 8; ++i) out[i] = uint8_t(n >> (8 * i));
  std::memcpy(out.data() + 8, text.data(), text.size());
  uint8_t* buffer = out.data() + 8 + text.size();
  for (const Entry* e : order) {
    if (!e->tensor.bytes.empty())
      std::memcpy(buffer, e->tensor.bytes.data(), e->tensor.bytes.size());
    buffer += e->tensor.bytes.size();
  }
  return out;
}

void Writer::write(const std::string& path) const {
  std::vector<uint8_t> bytes = serialize();
  writeFileAtomically(path, bytes.data(), bytes.size());
}

// ---- File ------------------------------------------------------------------------

struct File::Mapping {
  void* addr = nullptr;
  size_t size = 0;
  ~Mapping() {
    if (addr != nullptr) ::munmap(addr, size);
  }
};

File File::open(const std::string& path) {
  File f;
  f.path_ = path;
  // O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused below).
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  DISTILL_CHECK(fd >= 0, path, ": cannot open: ", std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    DISTILL_FAIL(path, ": cannot stat: ", std::strerror(err));
  }
  if (const std::string kind = files::notRegularFile(st.st_mode); !kind.empty()) {
    ::close(fd);
    DISTILL_FAIL(path, ": is ", kind, ", not a safetensors file");
  }
  size_t file_size = size_t(st.st_size);
  if (file_size < 8) {
    ::close(fd);
    DISTILL_FAIL(path, ": not a safetensors file: ", file_size,
                 " bytes, shorter than the 8-byte header length");
  }
  f.mapping_ = std::make_shared<Mapping>();
  void* addr = ::mmap(nullptr, file_size, PROT_READ, MAP_PRIVATE, fd, 0);
  int map_err = errno;
  ::close(fd);  // the mapping stays valid after close
  DISTILL_CHECK(addr != MAP_FAILED, path, ": mmap failed: ", std::strerror(map_err));
  f.mapping_->addr = addr;
  f.mapping_->size = file_size;
  const auto* bytes = static_cast<const uint8_t*>(addr);

  uint64_t header_len = 0;
  for (int i = 0; i < 8; ++i) header_len |= uint64_t(bytes[i]) << (8 * i);
  DISTILL_CHECK(header_len <= kMaxHeaderBytes && header_len <= file_size - 8, path,
                ": corrupt safetensors file: header length ", header_len,
                " does not fit in a file of ", file_size, " bytes");
  const char* text = reinterpret_cast<const char*>(bytes + 8);
  const nlohmann::json header = parseJsonStrict(text, text + header_len, path + ": corrupt safetensors file: the header");
  DISTILL_CHECK(header.is_object(), path, ": corrupt safetensors file: the header is not a JSON object");

  f.buffer_ = bytes + 8 + header_len;
  const size_t buffer_size = file_size - 8 - header_len;
  for (const auto& [name, info] : header.items()) {
    if (name == kMetadataKey) {
      DISTILL_CHECK(info.is_object(), path, ": ", kMetadataKey, " must be a JSON object");
      for (const auto& [k, v] : info.items()) {
        DISTILL_CHECK(v.is_string(), path, ": ", kMetadataKey, " entry '", k,
                      "' must be a string");
        f.metadata_[k] = v.get<std::string>();
      }
      continue;
    }
    const std::string where = path + ": tensor '" + name + "'";
    DISTILL_CHECK(info.is_object() && info.contains("dtype") && info["dtype"].is_string() &&
                      info.contains("shape") && info["shape"].is_array() &&
                      info.contains("data_offsets") && info["data_offsets"].is_array(),
                  where, ": needs \"dtype\" (string), \"shape\" and \"data_offsets\" (arrays)");
    Entry entry;
    try {
      entry.dtype = parseDType(info["dtype"].get<std::string>());
    } catch (const Error& e) {
      DISTILL_FAIL(where, ": ", e.what());
    }
    for (const auto& d : info["shape"]) {
      DISTILL_CHECK(d.is_number_unsigned(), where, ": shape entries must be non-negative integers");
      entry.shape.push_back(d.get<int64_t>());
    }
    const auto& offsets = info["data_offsets"];
    DISTILL_CHECK(offsets.size() == 2 && offsets[0].is_number_unsigned() &&
                      offsets[1].is_number_unsigned(),
                  where, ": data_offsets must be two non-negative integers [begin, end]");
    entry.begin = offsets[0].get<size_t>();
    entry.end = offsets[1].get<size_t>();
    DISTILL_CHECK(entry.begin <= entry.end && entry.end <= buffer_size, where, ": data_offsets [",
                  entry.begin, ", ", entry.end, "] lie outside the data buffer of ",
                  buffer_size, " bytes (truncated or corrupt file)");
    size_t expected = 0;
    DISTILL_CHECK(byteSize(entry.shape, dtypeSize(entry.dtype), &expected) &&
                      expected == entry.end - entry.begin,
                  where, ": shape ", shapeString(entry.shape), " of ", dtypeName(entry.dtype),
                  " needs ", expected, " bytes but data_offsets span ", entry.end - entry.begin);
    f.entries_.emplace(name, std::move(entry));
  }

  // Tensors must tile the buffer exactly: no gaps, no overlaps, nothing after.
  for (const auto& [name, entry] : f.entries_) f.order_.push_back(name);
  std::sort(f.order_.begin(), f.order_.end(), [&](const std::string& a, const std::string& b) {
    const Entry& ea = f.entries_.at(a);
    const Entry& eb = f.entries_.at(b);
    return std::tie(ea.begin, ea.end) < std::tie(eb.begin, eb.end);
  });
  size_t expected_begin = 0;
  std::string previous = "(start of buffer)";
  for (const auto& name : f.order_) {
    const Entry& e = f.entries_.at(name);
    DISTILL_CHECK(e.begin >= expected_begin, path, ": corrupt offsets: tensor '", name,
                  "' at bytes [", e.begin, ", ", e.end, ") overlaps '", previous,
                  "', which ends at ", expected_begin);
    DISTILL_CHECK(e.begin == expected_begin, path, ": corrupt offsets: a gap of ",
                  e.begin - expected_begin, " bytes between '", previous, "' (ends at ",
                  expected_begin, ") and tensor '", name, "' (starts at ", e.begin, ")");
    expected_begin = e.end;
    previous = name;
  }
  DISTILL_CHECK(expected_begin == buffer_size, path, ": the data buffer holds ", buffer_size,
                " bytes but the tensors cover ", expected_begin,
                " (truncated, padded or corrupt file)");
  return f;
}

bool File::has(const std::string& name) const { return entries_.count(name) > 0; }

size_t File::fileOffset(const std::string& name) const {
  const TensorView v = get(name);
  return static_cast<size_t>(v.data - static_cast<const uint8_t*>(mapping_->addr));
}

TensorView File::get(const std::string& name) const {
  auto it = entries_.find(name);
  DISTILL_CHECK(it != entries_.end(), path_, ": no tensor named '", name, "'");
  const Entry& e = it->second;
  return {e.dtype, e.shape, buffer_ + e.begin, e.end - e.begin};
}

TensorData File::copy(const std::string& name) const {
  TensorView v = get(name);
  return {v.dtype, v.shape, std::vector<uint8_t>(v.data, v.data + v.nbytes)};
}

std::vector<std::string> File::names() const { return order_; }

}  // namespace distill::safetensors

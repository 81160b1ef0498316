// GGUF v3 writer: serialises metadata and tensor infos, then streams (possibly lazily produced,
// concurrently produced) tensor data with alignment padding.
#include "gguf/gguf_writer.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>

#include "core/check.h"
#include "gguf/gguf_file.h"
#include "gguf/keys.h"
#include "gguf/tensor_pipeline.h"

namespace rf::gguf {
namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" as a little-endian u32
constexpr uint32_t kVersion = 3;
constexpr size_t kMaxTensorNameBytes = 63;

uint64_t align_up(uint64_t x, uint64_t a) {
    return (x + a - 1) / a * a;
}

template <typename T>
void put(std::vector<uint8_t>& out, T v) {
    const size_t at = out.size();
    out.resize(at + sizeof v);
    std::memcpy(out.data() + at, &v, sizeof v);
}

void put_string(std::vector<uint8_t>& out, std::string_view s) {
    put<uint64_t>(out, s.size());
    out.insert(out.end(), s.begin(), s.end());
}

// Writes the payload of `v` (without its type id); arrays recurse.
void put_value(std::vector<uint8_t>& out, const Value& v) {
    switch (v.type) {
        case ValueType::kUint8:
            put(out, static_cast<uint8_t>(v.as_u64()));
            break;
        case ValueType::kInt8:
            put(out, static_cast<int8_t>(v.as_i64()));
            break;
        case ValueType::kUint16:
            put(out, static_cast<uint16_t>(v.as_u64()));
            break;
        case ValueType::kInt16:
            put(out, static_cast<int16_t>(v.as_i64()));
            break;
        case ValueType::kUint32:
            put(out, static_cast<uint32_t>(v.as_u64()));
            break;
        case ValueType::kInt32:
            put(out, static_cast<int32_t>(v.as_i64()));
            break;
        case ValueType::kUint64:
            put(out, v.as_u64());
            break;
        case ValueType::kInt64:
            put(out, v.as_i64());
            break;
        case ValueType::kFloat32:
            put(out, static_cast<float>(v.as_f64()));
            break;
        case ValueType::kFloat64:
            put(out, v.as_f64());
            break;
        case ValueType::kBool:
            put<uint8_t>(out, v.as_bool() ? 1 : 0);
            break;
        case ValueType::kString:
            put_string(out, v.as_string());
            break;
        case ValueType::kArray: {
            const Array& a = v.as_array();
            put(out, static_cast<uint32_t>(a.element_type));
            put<uint64_t>(out, a.items.size());
            for (const Value& item : a.items) {
                RF_CHECK_MSG(item.type == a.element_type,
                             "array item type differs from element_type");
                put_value(out, item);
            }
            break;
        }
    }
}

}  // namespace

GgufWriter::GgufWriter(uint32_t alignment) : alignment_(alignment) {
    RF_CHECK_MSG(alignment != 0 && (alignment & (alignment - 1)) == 0,
                 "GGUF alignment must be a non-zero power of two");
}

void GgufWriter::set(std::string key, Value value) {
    for (auto& [k, v] : metadata_) {
        if (k == key) {
            v = std::move(value);
            return;
        }
    }
    metadata_.emplace_back(std::move(key), std::move(value));
}

void GgufWriter::remove(std::string_view key) {
    std::erase_if(metadata_, [&](const auto& kv) { return kv.first == key; });
}

const Value* GgufWriter::find(std::string_view key) const {
    for (const auto& [k, v] : metadata_) {
        if (k == key) return &v;
    }
    return nullptr;
}

Status GgufWriter::check_tensor(const std::string& name, quant::GgmlType type,
                                const std::vector<uint64_t>& ne, uint64_t& n_bytes) const {
    if (name.empty() || name.size() > kMaxTensorNameBytes) {
        return error("tensor name '{}' must be 1..{} bytes", name, kMaxTensorNameBytes);
    }
    for (const PendingTensor& t : tensors_) {
        if (t.name == name) return error("duplicate tensor name '{}'", name);
    }
    if (ne.empty() || ne.size() > kMaxDims) {
        return error("tensor '{}': {} dimensions (1..{} allowed)", name, ne.size(), kMaxDims);
    }
    const quant::TypeTraits& traits = quant::traits(type);
    uint64_t n_elements = 1;
    for (uint64_t d : ne) {
        if (d == 0 || d > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) / n_elements) {
            return error("tensor '{}': dimension {} is zero or overflows", name, d);
        }
        n_elements *= d;
    }
    if (ne[0] % traits.block_size != 0) {
        return error("tensor '{}': ne[0] = {} is not a multiple of the {} block size {}", name,
                     ne[0], traits.name, traits.block_size);
    }
    n_bytes = n_elements / traits.block_size * traits.type_size;
    return Status::ok();
}

Status GgufWriter::add_tensor(std::string name, quant::GgmlType type, std::vector<uint64_t> ne,
                              std::vector<uint8_t> bytes) {
    uint64_t n_bytes = 0;
    RF_RETURN_IF_ERROR(check_tensor(name, type, ne, n_bytes));
    if (bytes.size() != n_bytes) {
        return error("tensor '{}': {} bytes given, its shape and type need {}", name, bytes.size(),
                     n_bytes);
    }
    tensors_.push_back({std::move(name), type, std::move(ne), n_bytes, std::move(bytes), nullptr});
    return Status::ok();
}

Status GgufWriter::add_tensor_lazy(std::string name, quant::GgmlType type, std::vector<uint64_t> ne,
                                   Producer produce) {
    uint64_t n_bytes = 0;
    RF_RETURN_IF_ERROR(check_tensor(name, type, ne, n_bytes));
    RF_CHECK_MSG(produce != nullptr, "add_tensor_lazy needs a producer");
    tensors_.push_back({std::move(name), type, std::move(ne), n_bytes, {}, std::move(produce)});
    return Status::ok();
}

uint64_t GgufWriter::tensor_data_bytes() const {
    uint64_t total = 0;
    for (const PendingTensor& t : tensors_) total += t.n_bytes;
    return total;
}

uint32_t GgufWriter::effective_alignment() const {
    const Value* v = find(keys::kGeneralAlignment);
    if (v == nullptr) return alignment_;
    RF_CHECK_MSG(v->type == ValueType::kUint32, "general.alignment must be a u32");
    const uint64_t a = v->as_u64();
    RF_CHECK_MSG(a != 0 && (a & (a - 1)) == 0, "general.alignment must be a power of two");
    return static_cast<uint32_t>(a);
}

std::vector<uint8_t> GgufWriter::header_bytes() const {
    const uint32_t align = effective_alignment();
    const bool add_alignment_key =
        find(keys::kGeneralAlignment) == nullptr && alignment_ != kDefaultAlignment;
    std::vector<uint8_t> out;
    put(out, kMagic);
    put(out, kVersion);
    put<uint64_t>(out, tensors_.size());
    put<uint64_t>(out, metadata_.size() + (add_alignment_key ? 1 : 0));
    for (const auto& [key, value] : metadata_) {
        put_string(out, key);
        put(out, static_cast<uint32_t>(value.type));
        put_value(out, value);
    }
    if (add_alignment_key) {
        put_string(out, keys::kGeneralAlignment);
        put(out, static_cast<uint32_t>(ValueType::kUint32));
        put(out, alignment_);
    }
    uint64_t offset = 0;
    for (const PendingTensor& t : tensors_) {
        put_string(out, t.name);
        put(out, static_cast<uint32_t>(t.ne.size()));
        for (uint64_t d : t.ne) put(out, d);
        put(out, static_cast<uint32_t>(t.type));
        put(out, offset);
        offset = align_up(offset + t.n_bytes, align);
    }
    out.resize(align_up(out.size(), align), 0);
    return out;
}

std::vector<uint8_t> GgufWriter::write_to_memory() const {
    const uint64_t align = effective_alignment();
    std::vector<uint8_t> out = header_bytes();
    for (const PendingTensor& t : tensors_) {
        const size_t at = out.size();
        out.resize(at + t.n_bytes);
        if (t.produce) {
            t.produce(std::span<uint8_t>(out.data() + at, t.n_bytes));
        } else {
            std::memcpy(out.data() + at, t.bytes.data(), t.n_bytes);
        }
        out.resize(align_up(out.size(), align), 0);
    }
    return out;
}

namespace {

// A FILE* that remembers the first write error.
class OutFile {
  public:
    explicit OutFile(const std::string& path) : path_(path), f_(std::fopen(path.c_str(), "wb")) {
        if (f_ == nullptr) status_ = error("cannot create '{}': {}", path, std::strerror(errno));
    }
    ~OutFile() {
        if (f_ != nullptr) std::fclose(f_);
    }
    OutFile(const OutFile&) = delete;
    OutFile& operator=(const OutFile&) = delete;

    void write(const void* data, size_t n) {
        if (!status_.is_ok() || n == 0) return;
        if (std::fwrite(data, 1, n, f_) != n) {
            status_ = error("cannot write '{}': {}", path_, std::strerror(errno));
        }
    }
    void pad_to(uint64_t written, uint64_t align) {
        static constexpr uint8_t kZeros[256] = {};
        uint64_t pad = align_up(written, align) - written;
        while (pad > 0) {
            const size_t n = static_cast<size_t>(std::min<uint64_t>(pad, sizeof kZeros));
            write(kZeros, n);
            pad -= n;
        }
    }
    Status close() {
        if (f_ != nullptr && std::fclose(f_) != 0 && status_.is_ok()) {
            status_ = error("cannot write '{}': {}", path_, std::strerror(errno));
        }
        f_ = nullptr;
        return status_;
    }
    const Status& status() const { return status_; }

  private:
    std::string path_;
    std::FILE* f_;
    Status status_;
};

}  // namespace

Status GgufWriter::write_file(const std::string& path, int n_threads) const {
    const uint64_t align = effective_alignment();
    const std::string tmp_path = path + ".partial";
    {
        OutFile out(tmp_path);
        RF_RETURN_IF_ERROR(out.status());
        const std::vector<uint8_t> header = header_bytes();
        out.write(header.data(), header.size());
        TensorPipeline pipeline(tensors_, n_threads);
        for (size_t i = 0; i < tensors_.size() && out.status().is_ok(); ++i) {
            const std::span<const uint8_t> bytes = pipeline.acquire(i);
            out.write(bytes.data(), bytes.size());
            out.pad_to(bytes.size(), align);
            pipeline.release(i);
        }
        pipeline.stop();
        const Status closed = out.close();
        if (!closed.is_ok()) {
            std::remove(tmp_path.c_str());
            return closed;
        }
    }
    if (std::rename(tmp_path.c_str(), path.c_str()) != 0) {
        const int err = errno;
        std::remove(tmp_path.c_str());
        return error("cannot rename '{}' to '{}': {}", tmp_path, path, std::strerror(err));
    }
    return Status::ok();
}

}  // namespace rf::gguf

// Strict GGUF v2/v3 parser: every count and length is bounded by the bytes that remain before
// anything is allocated, and each defect yields one message naming the field and byte offset.
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <numeric>

#include "gguf/gguf_file.h"
#include "gguf/keys.h"

namespace rf::gguf {
namespace {

constexpr uint32_t kMagic = 0x46554747;         // "GGUF" read as a little-endian u32
constexpr uint32_t kMagicSwapped = 0x47475546;  // "FUGG"
constexpr int kMaxArrayDepth = 8;               // arrays of arrays nest at most this deep
// Bounds the memory a crafted file can make us allocate (each Value is ~48 bytes): real files
// hold ~1M array elements (vocab tokens + scores + types + merges).
constexpr uint64_t kMaxArrayElements = uint64_t{1} << 23;
constexpr size_t kMaxTensorNameBytes = 63;  // ggml stores names in char[64]
// Smallest possible encodings, used to bound counts before allocating.
// Counts far beyond any real model (which has < 100 keys and < 100k tensors), so that a large
// file of tiny entries cannot make the header structures grow without bound.
constexpr uint64_t kMaxKv = uint64_t{1} << 20;
constexpr uint64_t kMaxTensors = uint64_t{1} << 20;
constexpr uint64_t kMinKvBytes = 8 + 1 + 4 + 1;              // key len + 1 char + type + u8
constexpr uint64_t kMinTensorInfoBytes = 8 + 1 + 4 + 4 + 8;  // name + n_dims + type + offset

// The bytes one element of `type` needs at least (strings: their length, arrays: type + count).
uint64_t min_value_bytes(ValueType type) {
    switch (type) {
        case ValueType::kUint8:
        case ValueType::kInt8:
        case ValueType::kBool:
            return 1;
        case ValueType::kUint16:
        case ValueType::kInt16:
            return 2;
        case ValueType::kUint32:
        case ValueType::kInt32:
        case ValueType::kFloat32:
            return 4;
        case ValueType::kUint64:
        case ValueType::kInt64:
        case ValueType::kFloat64:
        case ValueType::kString:
            return 8;
        case ValueType::kArray:
            return 12;
    }
    return 1;
}

bool is_known_value_type(uint32_t id) {
    return id <= static_cast<uint32_t>(ValueType::kFloat64);
}

// A field's name, built only when an error is reported ("kv[3] 'x'.value[17]").
struct FieldPath {
    const FieldPath* parent = nullptr;
    std::string name;    // appended as ".name" (or as is at the root)
    int64_t index = -1;  // appended as "[index]" when >= 0

    std::string render() const {
        std::string out = parent ? parent->render() : std::string();
        if (index >= 0) return out + fmt::format("[{}]", index);
        if (!out.empty()) out += '.';
        return out.append(name);
    }
};

}  // namespace

// Fills a GgufFile from an untrusted byte image. Friend of GgufFile.
class GgufParser {
  public:
    GgufParser(std::span<const uint8_t> bytes, GgufFile& out) : bytes_(bytes), file_(out) {}

    Status run() {
        uint64_t n_tensors = 0;
        uint64_t n_kv = 0;
        RF_RETURN_IF_ERROR(read_header(n_tensors, n_kv));
        file_.metadata_.reserve(std::min<uint64_t>(n_kv, 4096));
        for (uint64_t i = 0; i < n_kv; ++i) RF_RETURN_IF_ERROR(read_kv(i));
        RF_RETURN_IF_ERROR(check_alignment());
        file_.tensors_.reserve(std::min<uint64_t>(n_tensors, 4096));
        info_offsets_.reserve(std::min<uint64_t>(n_tensors, 4096));
        for (uint64_t i = 0; i < n_tensors; ++i) RF_RETURN_IF_ERROR(read_tensor_info(i));
        const uint64_t align = file_.alignment_;
        file_.data_offset_ = (pos_ + align - 1) / align * align;
        return bind_tensor_data();
    }

  private:
    template <typename... Args>
    Status fail(const FieldPath& field, uint64_t offset, fmt::format_string<Args...> what,
                Args&&... args) const {
        return Status::error(fmt::format("{} at byte offset {}: {}", field.render(), offset,
                                         fmt::format(what, std::forward<Args>(args)...)));
    }

    uint64_t remaining() const { return bytes_.size() - pos_; }

    Status need(uint64_t n, const FieldPath& field) const {
        if (remaining() >= n) return Status::ok();
        return fail(field, pos_, "truncated file: needs {} bytes, {} remain", n, remaining());
    }

    // Unchecked little-endian load; callers bounded the read with need().
    template <typename T>
    T load() {
        T v;
        std::memcpy(&v, bytes_.data() + pos_, sizeof v);
        pos_ += sizeof v;
        return v;
    }

    template <typename T>
    Status read(T& out, const FieldPath& field) {
        RF_RETURN_IF_ERROR(need(sizeof(T), field));
        out = load<T>();
        return Status::ok();
    }

    Status read_string(std::string& out, const FieldPath& field) {
        uint64_t length = 0;
        RF_RETURN_IF_ERROR(read(length, field));
        if (length > remaining()) {
            return fail(field, pos_ - 8,
                        "string length {} runs past the end of the file ({} bytes remain)", length,
                        remaining());
        }
        out.assign(reinterpret_cast<const char*>(bytes_.data() + pos_), length);
        pos_ += length;
        return Status::ok();
    }

    Status read_header(uint64_t& n_tensors, uint64_t& n_kv);
    Status read_kv(uint64_t index);
    Status read_value(ValueType type, int depth, const FieldPath& field, Value& out);
    Status read_array(int depth, const FieldPath& field, Value& out);
    Status read_scalar_array(ValueType type, uint64_t count, Array& out);
    Status read_string_array(uint64_t count, const FieldPath& field, Array& out);
    Status check_alignment();
    Status read_tensor_info(uint64_t index);
    Status read_tensor_shape(const FieldPath& field, TensorInfo& t);
    Status bind_tensor_data();

    std::span<const uint8_t> bytes_;
    GgufFile& file_;
    uint64_t pos_ = 0;
    uint64_t array_elements_ = 0;          // running total, bounded by kMaxArrayElements
    uint64_t alignment_value_offset_ = 0;  // where general.alignment's value sits, for messages
    std::vector<uint64_t> info_offsets_;   // file offset of each tensor's `offset` field
};

Status GgufParser::read_header(uint64_t& n_tensors, uint64_t& n_kv) {
    const FieldPath magic_field{nullptr, "header.magic"};
    RF_RETURN_IF_ERROR(need(4, magic_field));
    const uint32_t magic = load<uint32_t>();
    if (magic == kMagicSwapped) {
        return fail(magic_field, 0,
                    "magic is byte-swapped (\"FUGG\"): big-endian GGUF files are "
                    "not supported");
    }
    if (magic != kMagic) {
        const uint8_t* m = bytes_.data();
        return fail(magic_field, 0,
                    "not a GGUF file: expected \"GGUF\", found bytes {:02x} {:02x} {:02x} {:02x}",
                    m[0], m[1], m[2], m[3]);
    }
    const FieldPath version_field{nullptr, "header.version"};
    RF_RETURN_IF_ERROR(read(file_.version_, version_field));
    const uint32_t v = file_.version_;
    if (v != 0 && (v & 0xffffu) == 0) {
        return fail(version_field, 4,
                    "version 0x{:08x} is byte-swapped: big-endian GGUF files are "
                    "not supported (convert to little-endian)",
                    v);
    }
    if (v == 1) {
        return fail(version_field, 4,
                    "GGUF version 1 is not supported (only versions 2 and 3); "
                    "re-convert the model with a current converter");
    }
    if (v != 2 && v != 3) {
        return fail(version_field, 4, "unsupported GGUF version {} (supported: 2, 3)", v);
    }
    const FieldPath tensors_field{nullptr, "header.n_tensors"};
    const FieldPath kv_field{nullptr, "header.n_kv"};
    RF_RETURN_IF_ERROR(read(n_tensors, tensors_field));
    RF_RETURN_IF_ERROR(read(n_kv, kv_field));
    if (n_tensors > remaining() / kMinTensorInfoBytes) {
        return fail(tensors_field, 8, "tensor count {} cannot fit in the {} bytes that remain",
                    n_tensors, remaining());
    }
    if (n_kv > remaining() / kMinKvBytes ||
        n_tensors * kMinTensorInfoBytes + n_kv * kMinKvBytes > remaining()) {
        return fail(kv_field, 16, "key-value count {} cannot fit in the {} bytes that remain", n_kv,
                    remaining());
    }
    if (n_tensors > kMaxTensors) {
        return fail(tensors_field, 8, "tensor count {} exceeds the limit of {}", n_tensors,
                    kMaxTensors);
    }
    if (n_kv > kMaxKv) {
        return fail(kv_field, 16, "key-value count {} exceeds the limit of {}", n_kv, kMaxKv);
    }
    return Status::ok();
}

Status GgufParser::read_kv(uint64_t index) {
    const std::string base = fmt::format("kv[{}]", index);
    const FieldPath key_field{nullptr, base + ".key"};
    const uint64_t key_offset = pos_;
    std::string key;
    RF_RETURN_IF_ERROR(read_string(key, key_field));
    if (key.empty()) return fail(key_field, key_offset, "empty key");
    if (file_.metadata_index_.count(key) != 0) {
        return fail(key_field, key_offset, "duplicate key '{}'", key);
    }
    const std::string named = fmt::format("{} '{}'", base, key);
    const FieldPath type_field{nullptr, named + ".type"};
    uint32_t type_id = 0;
    RF_RETURN_IF_ERROR(read(type_id, type_field));
    if (!is_known_value_type(type_id)) {
        return fail(type_field, pos_ - 4, "unknown value type id {}", type_id);
    }
    if (key == keys::kGeneralAlignment) alignment_value_offset_ = pos_;
    const FieldPath value_field{nullptr, named};
    Value value;
    RF_RETURN_IF_ERROR(read_value(static_cast<ValueType>(type_id), 0, value_field, value));
    file_.metadata_index_.emplace(key, file_.metadata_.size());
    file_.metadata_.emplace_back(std::move(key), std::move(value));
    return Status::ok();
}

Status GgufParser::read_value(ValueType type, int depth, const FieldPath& field, Value& out) {
    out.type = type;
    switch (type) {
        case ValueType::kUint8: {
            uint8_t v = 0;
            RF_RETURN_IF_ERROR(read(v, field));
            out.data = uint64_t{v};
            return Status::ok();
        }
        case ValueType::kInt8: {
            int8_t v = 0;
            RF_RETURN_IF_ERROR(read(v, field));
            out.data = int64_t{v};
            return Status::ok();
        }
        case ValueType::kBool: {
            uint8_t v = 0;
            RF_RETURN_IF_ERROR(read(v, field));
            if (v > 1) return fail(field, pos_ - 1, "bool value {} is neither 0 nor 1", v);
            out.data = v == 1;
            return Status::ok();
        }
        case ValueType::kString: {
            std::string s;
            RF_RETURN_IF_ERROR(read_string(s, field));
            out.data = std::move(s);
            return Status::ok();
        }
        case ValueType::kArray:
            return read_array(depth + 1, field, out);
        default: {
            // Fixed-width numbers share the bulk decoder of scalar arrays.
            Array one;
            RF_RETURN_IF_ERROR(need(min_value_bytes(type), field));
            RF_RETURN_IF_ERROR(read_scalar_array(type, 1, one));
            out = std::move(one.items[0]);
            return Status::ok();
        }
    }
}

Status GgufParser::read_array(int depth, const FieldPath& field, Value& out) {
    if (depth > kMaxArrayDepth) {
        return fail(field, pos_, "arrays nest deeper than {} levels", kMaxArrayDepth);
    }
    uint32_t element_id = 0;
    RF_RETURN_IF_ERROR(read(element_id, field));
    if (!is_known_value_type(element_id)) {
        return fail(field, pos_ - 4, "unknown array element type id {}", element_id);
    }
    const auto element_type = static_cast<ValueType>(element_id);
    uint64_t count = 0;
    RF_RETURN_IF_ERROR(read(count, field));
    const uint64_t min_bytes = min_value_bytes(element_type);
    if (count > remaining() / min_bytes) {
        return fail(field, pos_ - 8,
                    "array of {} {} elements cannot fit in the {} bytes that remain", count,
                    value_type_name(element_type), remaining());
    }
    if (count > kMaxArrayElements - array_elements_) {
        return fail(field, pos_ - 8, "metadata arrays hold more than {} elements in total",
                    kMaxArrayElements);
    }
    array_elements_ += count;
    Array array;
    array.element_type = element_type;
    if (element_type == ValueType::kString) {
        RF_RETURN_IF_ERROR(read_string_array(count, field, array));
    } else if (element_type != ValueType::kArray && element_type != ValueType::kBool) {
        RF_RETURN_IF_ERROR(read_scalar_array(element_type, count, array));
    } else {
        array.items.resize(count);
        for (uint64_t i = 0; i < count; ++i) {
            const FieldPath item{&field, std::string(), static_cast<int64_t>(i)};
            RF_RETURN_IF_ERROR(read_value(element_type, depth, item, array.items[i]));
        }
    }
    out.type = ValueType::kArray;
    out.data = std::move(array);
    return Status::ok();
}

// The hot loop of vocabularies (100k+ tokens and merges): no per-element dispatch.
Status GgufParser::read_string_array(uint64_t count, const FieldPath& field, Array& out) {
    out.items.resize(count);
    for (uint64_t i = 0; i < count; ++i) {
        if (remaining() < sizeof(uint64_t)) {
            return need(sizeof(uint64_t),
                        FieldPath{&field, std::string(), static_cast<int64_t>(i)});
        }
        const uint64_t length = load<uint64_t>();
        if (length > remaining()) {
            return fail(FieldPath{&field, std::string(), static_cast<int64_t>(i)}, pos_ - 8,
                        "string length {} runs past the end of the file ({} bytes remain)", length,
                        remaining());
        }
        Value& v = out.items[i];
        v.type = ValueType::kString;
        v.data.emplace<std::string>(reinterpret_cast<const char*>(bytes_.data() + pos_), length);
        pos_ += length;
    }
    return Status::ok();
}

// Decodes `count` fixed-width numbers; the caller checked that count * width bytes remain.
Status GgufParser::read_scalar_array(ValueType type, uint64_t count, Array& out) {
    out.items.resize(count);
    auto fill = [&](auto tag, auto widen) {
        using T = decltype(tag);
        for (uint64_t i = 0; i < count; ++i) {
            out.items[i].type = type;
            out.items[i].data = widen(load<T>());
        }
    };
    const auto as_u = [](auto v) { return static_cast<uint64_t>(v); };
    const auto as_i = [](auto v) { return static_cast<int64_t>(v); };
    const auto as_d = [](auto v) { return static_cast<double>(v); };
    switch (type) {
        case ValueType::kUint8:
            fill(uint8_t{}, as_u);
            break;
        case ValueType::kInt8:
            fill(int8_t{}, as_i);
            break;
        case ValueType::kUint16:
            fill(uint16_t{}, as_u);
            break;
        case ValueType::kInt16:
            fill(int16_t{}, as_i);
            break;
        case ValueType::kUint32:
            fill(uint32_t{}, as_u);
            break;
        case ValueType::kInt32:
            fill(int32_t{}, as_i);
            break;
        case ValueType::kUint64:
            fill(uint64_t{}, as_u);
            break;
        case ValueType::kInt64:
            fill(int64_t{}, as_i);
            break;
        case ValueType::kFloat32:
            fill(float{}, as_d);
            break;
        case ValueType::kFloat64:
            fill(double{}, as_d);
            break;
        default:
            return Status::error("internal: read_scalar_array on a non-scalar type");
    }
    return Status::ok();
}

Status GgufParser::check_alignment() {
    const auto it = file_.metadata_index_.find(std::string(keys::kGeneralAlignment));
    if (it == file_.metadata_index_.end()) return Status::ok();
    const Value& v = file_.metadata_[it->second].second;
    const FieldPath field{nullptr, fmt::format("kv[{}] '{}'", it->second, keys::kGeneralAlignment)};
    if (v.type != ValueType::kUint32) {
        return fail(field, alignment_value_offset_, "must be of type u32, found {}",
                    value_type_name(v.type));
    }
    const uint64_t a = v.as_u64();
    if (a == 0 || (a & (a - 1)) != 0) {
        return fail(field, alignment_value_offset_, "alignment {} is not a non-zero power of two",
                    a);
    }
    file_.alignment_ = static_cast<uint32_t>(a);
    return Status::ok();
}

Status GgufParser::read_tensor_info(uint64_t index) {
    const std::string base = fmt::format("tensor[{}]", index);
    const FieldPath name_field{nullptr, base + ".name"};
    const uint64_t name_offset = pos_;
    TensorInfo t;
    RF_RETURN_IF_ERROR(read_string(t.name, name_field));
    if (t.name.empty()) return fail(name_field, name_offset, "empty tensor name");
    if (t.name.size() > kMaxTensorNameBytes) {
        return fail(name_field, name_offset, "tensor name is {} bytes long (at most {})",
                    t.name.size(), kMaxTensorNameBytes);
    }
    if (file_.tensor_index_.count(t.name) != 0) {
        return fail(name_field, name_offset, "duplicate tensor name '{}'", t.name);
    }
    const std::string named = fmt::format("{} '{}'", base, t.name);
    RF_RETURN_IF_ERROR(read_tensor_shape(FieldPath{nullptr, named}, t));
    const FieldPath offset_field{nullptr, named + ".offset"};
    info_offsets_.push_back(pos_);
    RF_RETURN_IF_ERROR(read(t.offset, offset_field));
    if (t.offset % file_.alignment_ != 0) {
        return fail(offset_field, pos_ - 8, "data offset {} is not a multiple of the alignment {}",
                    t.offset, file_.alignment_);
    }
    file_.tensor_index_.emplace(t.name, file_.tensors_.size());
    file_.tensors_.push_back(std::move(t));
    return Status::ok();
}

// Reads n_dims, ne[] and the type; checks dims, element-count overflow and block divisibility.
Status GgufParser::read_tensor_shape(const FieldPath& field, TensorInfo& t) {
    const FieldPath dims_field{&field, "n_dims"};
    RF_RETURN_IF_ERROR(read(t.n_dims, dims_field));
    if (t.n_dims > kMaxDims) {
        return fail(dims_field, pos_ - 4, "{} dimensions (at most {})", t.n_dims, kMaxDims);
    }
    // n_dims == 0 is a scalar of one element, as ggml reads it.
    uint64_t n_elements = 1;
    constexpr uint64_t kMaxElements = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
    for (uint32_t j = 0; j < t.n_dims; ++j) {
        const FieldPath ne_field{&field, fmt::format("ne[{}]", j)};
        RF_RETURN_IF_ERROR(read(t.ne[j], ne_field));
        if (t.ne[j] == 0) return fail(ne_field, pos_ - 8, "dimension is 0");
        if (t.ne[j] > kMaxElements / n_elements) {
            return fail(ne_field, pos_ - 8, "dimension {} makes the element count overflow",
                        t.ne[j]);
        }
        n_elements *= t.ne[j];
    }
    const FieldPath type_field{&field, "type"};
    uint32_t type_id = 0;
    RF_RETURN_IF_ERROR(read(type_id, type_field));
    const quant::TypeTraits* traits = quant::type_traits(type_id);
    if (traits == nullptr) return fail(type_field, pos_ - 4, "unknown tensor type id {}", type_id);
    t.type = traits->type;
    if (t.ne[0] % traits->block_size != 0) {
        return fail(type_field, pos_ - 4, "ne[0] = {} is not a multiple of the {} block size {}",
                    t.ne[0], traits->name, traits->block_size);
    }
    const uint64_t n_blocks = n_elements / traits->block_size;
    if (n_blocks > std::numeric_limits<uint64_t>::max() / traits->type_size) {
        return fail(type_field, pos_ - 4, "tensor size in bytes overflows");
    }
    t.n_bytes = n_blocks * traits->type_size;
    return Status::ok();
}

// Bounds every tensor's bytes by the file, rejects overlaps, and sets the zero-copy views.
Status GgufParser::bind_tensor_data() {
    std::vector<TensorInfo>& tensors = file_.tensors_;
    const uint64_t size = bytes_.size();
    for (size_t i = 0; i < tensors.size(); ++i) {
        TensorInfo& t = tensors[i];
        const FieldPath field{nullptr, fmt::format("tensor[{}] '{}'.offset", i, t.name)};
        const uint64_t data_size = size >= file_.data_offset_ ? size - file_.data_offset_ : 0;
        if (t.offset > data_size || t.n_bytes > data_size - t.offset) {
            return fail(field, info_offsets_[i],
                        "tensor data [{}, +{}) runs past the end of the file (data section holds "
                        "{} bytes)",
                        t.offset, t.n_bytes, data_size);
        }
        t.data = bytes_.subspan(file_.data_offset_ + t.offset, t.n_bytes);
    }
    std::vector<size_t> order(tensors.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::sort(order.begin(), order.end(),
              [&](size_t a, size_t b) { return tensors[a].offset < tensors[b].offset; });
    for (size_t k = 1; k < order.size(); ++k) {
        const TensorInfo& prev = tensors[order[k - 1]];
        const TensorInfo& cur = tensors[order[k]];
        if (prev.offset + prev.n_bytes > cur.offset) {
            const FieldPath field{nullptr,
                                  fmt::format("tensor[{}] '{}'.offset", order[k], cur.name)};
            return fail(field, info_offsets_[order[k]],
                        "tensor data at {} overlaps tensor '{}' at [{}, +{})", cur.offset,
                        prev.name, prev.offset, prev.n_bytes);
        }
    }
    return Status::ok();
}

Result<GgufFile> GgufFile::parse(std::span<const uint8_t> bytes) {
    GgufFile file;
    file.bytes_ = bytes;
    RF_RETURN_IF_ERROR(GgufParser(bytes, file).run());
    return file;
}

}  // namespace rf::gguf

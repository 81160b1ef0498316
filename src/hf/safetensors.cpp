// Safetensors parsing and validation, and the folder-level view over sharded checkpoints.
#include "hf/safetensors.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <limits>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/half.h"

namespace rf::hf {
namespace {

using json = nlohmann::json;

constexpr uint64_t kMaxHeaderBytes = 100ull << 20;  // the reference implementation's own limit
constexpr size_t kMaxDims = 8;

struct DtypeInfo {
    StDtype dtype;
    std::string_view name;
    size_t size;
};

constexpr DtypeInfo kDtypes[] = {
    {StDtype::kBool, "BOOL", 1}, {StDtype::kU8, "U8", 1},       {StDtype::kI8, "I8", 1},
    {StDtype::kI16, "I16", 2},   {StDtype::kU16, "U16", 2},     {StDtype::kI32, "I32", 4},
    {StDtype::kU32, "U32", 4},   {StDtype::kI64, "I64", 8},     {StDtype::kU64, "U64", 8},
    {StDtype::kF16, "F16", 2},   {StDtype::kBF16, "BF16", 2},   {StDtype::kF32, "F32", 4},
    {StDtype::kF64, "F64", 8},   {StDtype::kF8E4M3, "F8_E4M3", 1}, {StDtype::kF8E5M2, "F8_E5M2", 1},
};

const DtypeInfo* find_dtype(std::string_view name) {
    for (const DtypeInfo& info : kDtypes) {
        if (info.name == name) return &info;
    }
    return nullptr;
}

const DtypeInfo& info_of(StDtype dtype) {
    for (const DtypeInfo& info : kDtypes) {
        if (info.dtype == dtype) return info;
    }
    return kDtypes[0];
}

// a * b, or nullopt on 64-bit overflow.
bool checked_mul(uint64_t a, uint64_t b, uint64_t& out) {
    if (a != 0 && b > std::numeric_limits<uint64_t>::max() / a) return false;
    out = a * b;
    return true;
}

Result<StTensor> parse_entry(const std::string& name, const json& entry,
                             std::span<const uint8_t> data, const std::string& label) {
    const uint64_t data_size = data.size();
    if (!entry.is_object()) return error("{}: tensor '{}': header entry is not an object", label, name);
    const auto dtype_it = entry.find("dtype");
    if (dtype_it == entry.end() || !dtype_it->is_string()) {
        return error("{}: tensor '{}': missing string 'dtype'", label, name);
    }
    const DtypeInfo* dtype = find_dtype(dtype_it->get<std::string>());
    if (dtype == nullptr) {
        return error("{}: tensor '{}': unknown dtype '{}'", label, name, dtype_it->get<std::string>());
    }
    const auto shape_it = entry.find("shape");
    if (shape_it == entry.end() || !shape_it->is_array() || shape_it->size() > kMaxDims) {
        return error("{}: tensor '{}': 'shape' must be an array of at most {} sizes", label, name, kMaxDims);
    }
    StTensor t;
    t.name = name;
    t.dtype = dtype->dtype;
    uint64_t n_elements = 1;
    for (const json& dim : *shape_it) {
        if (!dim.is_number_unsigned()) return error("{}: tensor '{}': shape holds a non-size value", label, name);
        const uint64_t d = dim.get<uint64_t>();
        if (!checked_mul(n_elements, d, n_elements)) return error("{}: tensor '{}': shape overflows", label, name);
        t.shape.push_back(d);
    }
    const auto offsets_it = entry.find("data_offsets");
    if (offsets_it == entry.end() || !offsets_it->is_array() || offsets_it->size() != 2 ||
        !(*offsets_it)[0].is_number_unsigned() || !(*offsets_it)[1].is_number_unsigned()) {
        return error("{}: tensor '{}': 'data_offsets' must be two unsigned integers", label, name);
    }
    const uint64_t begin = (*offsets_it)[0].get<uint64_t>();
    const uint64_t end = (*offsets_it)[1].get<uint64_t>();
    uint64_t n_bytes = 0;
    if (!checked_mul(n_elements, dtype->size, n_bytes)) return error("{}: tensor '{}': size overflows", label, name);
    if (begin > end || end > data_size) {
        return error("{}: tensor '{}': data_offsets [{}, {}] outside the {}-byte data section", label,
                     name, begin, end, data_size);
    }
    if (end - begin != n_bytes) {
        return error("{}: tensor '{}': data_offsets span {} bytes but {} {} of {} need {}", label, name,
                     end - begin, t.shape_string(), dtype->name, n_elements, n_bytes);
    }
    t.data = data.subspan(static_cast<size_t>(begin), static_cast<size_t>(n_bytes));
    return t;
}

}  // namespace

size_t dtype_size(StDtype dtype) { return info_of(dtype).size; }
std::string_view dtype_name(StDtype dtype) { return info_of(dtype).name; }

bool is_float_dtype(StDtype dtype) {
    return dtype == StDtype::kF16 || dtype == StDtype::kBF16 || dtype == StDtype::kF32 ||
           dtype == StDtype::kF64;
}

uint64_t StTensor::n_elements() const {
    uint64_t n = 1;
    for (uint64_t d : shape) n *= d;
    return n;
}

std::string StTensor::shape_string() const { return fmt::format("[{}]", fmt::join(shape, ", ")); }

void read_floats(const StTensor& tensor, uint64_t first, uint64_t count, float* out) {
    if (count == 0) return;  // empty tensors: `out` and the data may both be null
    const uint8_t* base = tensor.data.data();
    switch (tensor.dtype) {
        case StDtype::kF32:
            std::memcpy(out, base + first * 4, count * 4);
            return;
        case StDtype::kF16:
        case StDtype::kBF16:
            for (uint64_t i = 0; i < count; ++i) {
                uint16_t h;
                std::memcpy(&h, base + (first + i) * 2, 2);
                out[i] = tensor.dtype == StDtype::kF16 ? fp16_to_float(h) : bf16_to_float(h);
            }
            return;
        case StDtype::kF64:
            for (uint64_t i = 0; i < count; ++i) {
                double d;
                std::memcpy(&d, base + (first + i) * 8, 8);
                out[i] = static_cast<float>(d);
            }
            return;
        default:
            std::fill(out, out + count, 0.0f);  // unreachable: planning rejects non-float dtypes
    }
}

Result<SafetensorsFile> SafetensorsFile::open(const std::string& path) {
    RF_ASSIGN_OR_RETURN(std::shared_ptr<MappedFile> file, MappedFile::open(path));
    RF_ASSIGN_OR_RETURN(SafetensorsFile parsed, parse(file->bytes(), path));
    parsed.file_ = std::move(file);
    return parsed;
}

Result<SafetensorsFile> SafetensorsFile::parse(std::span<const uint8_t> bytes, std::string label) {
    if (bytes.size() < 8) return error("{}: {} bytes is too short for a safetensors header", label, bytes.size());
    uint64_t header_len = 0;
    for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | bytes[static_cast<size_t>(i)];
    if (header_len > kMaxHeaderBytes || header_len > bytes.size() - 8) {
        return error("{}: header length {} exceeds the file ({} bytes) or the {} MiB limit", label,
                     header_len, bytes.size(), kMaxHeaderBytes >> 20);
    }
    const auto* text = reinterpret_cast<const char*>(bytes.data() + 8);
    const json header = json::parse(text, text + header_len, nullptr, false);
    if (header.is_discarded() || !header.is_object()) {
        return error("{}: header is not a JSON object", label);
    }
    const uint64_t data_offset = 8 + header_len;
    const std::span<const uint8_t> data = bytes.subspan(data_offset);

    SafetensorsFile file;
    file.label_ = std::move(label);
    for (const auto& [key, value] : header.items()) {
        if (key == "__metadata__") {
            if (!value.is_object()) return error("{}: '__metadata__' is not an object", file.label_);
            for (const auto& [mk, mv] : value.items()) {
                if (!mv.is_string()) return error("{}: '__metadata__.{}' is not a string", file.label_, mk);
                file.metadata_[mk] = mv.get<std::string>();
            }
            continue;
        }
        if (key.empty()) return error("{}: a tensor has an empty name", file.label_);
        RF_ASSIGN_OR_RETURN(StTensor t, parse_entry(key, value, data, file.label_));
        file.tensors_.push_back(std::move(t));
    }
    // No two tensors may share bytes (empty tensors occupy none).
    std::vector<const StTensor*> by_offset;
    for (const StTensor& t : file.tensors_) {
        if (!t.data.empty()) by_offset.push_back(&t);
    }
    std::sort(by_offset.begin(), by_offset.end(),
              [](const StTensor* a, const StTensor* b) { return a->data.data() < b->data.data(); });
    for (size_t i = 1; i < by_offset.size(); ++i) {
        const StTensor& prev = *by_offset[i - 1];
        if (by_offset[i]->data.data() < prev.data.data() + prev.data.size()) {
            return error("{}: tensors '{}' and '{}' overlap", file.label_, prev.name, by_offset[i]->name);
        }
    }
    return file;
}

namespace {

namespace fs = std::filesystem;

// The shard names of model.safetensors.index.json, checked to be plain file names in `dir`.
Result<std::map<std::string, std::vector<std::string>>> read_index(const fs::path& path) {
    RF_ASSIGN_OR_RETURN(std::string text, read_text_file(path.string()));
    const json index = json::parse(text, nullptr, false);
    if (index.is_discarded() || !index.is_object()) return error("{}: not a JSON object", path.string());
    const auto map_it = index.find("weight_map");
    if (map_it == index.end() || !map_it->is_object()) {
        return error("{}: missing object 'weight_map'", path.string());
    }
    std::map<std::string, std::vector<std::string>> names_by_file;
    for (const auto& [name, file] : map_it->items()) {
        if (!file.is_string()) return error("{}: weight_map['{}'] is not a string", path.string(), name);
        const std::string shard = file.get<std::string>();
        if (shard.empty() || shard.find('/') != std::string::npos || shard.find('\\') != std::string::npos ||
            shard == "." || shard == "..") {
            return error("{}: weight_map['{}'] = '{}' is not a file name in the folder", path.string(), name, shard);
        }
        names_by_file[shard].push_back(name);
    }
    return names_by_file;
}

}  // namespace

Result<SafetensorsModel> SafetensorsModel::open_dir(const std::string& dir) {
    const fs::path root(dir);
    std::error_code ec;
    if (!fs::is_directory(root, ec)) return error("'{}' is not a folder", dir);
    std::vector<SafetensorsFile> files;
    const fs::path index_path = root / "model.safetensors.index.json";
    if (fs::exists(index_path, ec)) {
        RF_ASSIGN_OR_RETURN(auto names_by_file, read_index(index_path));
        for (const auto& [shard, names] : names_by_file) {
            RF_ASSIGN_OR_RETURN(SafetensorsFile f, SafetensorsFile::open((root / shard).string()));
            std::set<std::string> present;
            for (const StTensor& t : f.tensors()) present.insert(t.name);
            for (const std::string& name : names) {
                if (!present.count(name)) {
                    return error("{}: lists tensor '{}' in '{}', which does not hold it",
                                 index_path.string(), name, shard);
                }
            }
            if (present.size() != names.size()) {
                return error("{}: '{}' holds {} tensors but the index lists {}", index_path.string(),
                             shard, present.size(), names.size());
            }
            files.push_back(std::move(f));
        }
    } else if (fs::exists(root / "model.safetensors", ec)) {
        RF_ASSIGN_OR_RETURN(SafetensorsFile f, SafetensorsFile::open((root / "model.safetensors").string()));
        files.push_back(std::move(f));
    } else {
        std::vector<std::string> shards;
        for (const auto& entry : fs::directory_iterator(root, ec)) {
            const std::string name = entry.path().filename().string();
            if (name.rfind("model-", 0) == 0 && name.size() > 12 &&
                name.compare(name.size() - 12, 12, ".safetensors") == 0) {
                shards.push_back(entry.path().string());
            }
        }
        std::sort(shards.begin(), shards.end());
        for (const std::string& shard : shards) {
            RF_ASSIGN_OR_RETURN(SafetensorsFile f, SafetensorsFile::open(shard));
            files.push_back(std::move(f));
        }
    }
    if (files.empty()) return error("'{}' holds no model.safetensors, index or model-*.safetensors shards", dir);
    return from_files(std::move(files));
}

Result<SafetensorsModel> SafetensorsModel::from_files(std::vector<SafetensorsFile> files) {
    SafetensorsModel model;
    for (SafetensorsFile& f : files) model.files_.push_back(std::make_unique<SafetensorsFile>(std::move(f)));
    RF_RETURN_IF_ERROR(model.build_index());
    return model;
}

Status SafetensorsModel::build_index() {
    index_.clear();
    for (const auto& file : files_) {
        for (const StTensor& t : file->tensors()) {
            if (!index_.emplace(t.name, &t).second) {
                return error("tensor '{}' appears in more than one file ({})", t.name, file->label());
            }
        }
    }
    return Status::ok();
}

const StTensor* SafetensorsModel::find(std::string_view name) const {
    const auto it = index_.find(std::string(name));
    return it == index_.end() ? nullptr : it->second;
}

std::vector<const StTensor*> SafetensorsModel::all() const {
    std::vector<const StTensor*> out;
    for (const auto& [name, t] : index_) out.push_back(t);
    std::sort(out.begin(), out.end(), [](const StTensor* a, const StTensor* b) { return a->name < b->name; });
    return out;
}

}  // namespace rf::hf

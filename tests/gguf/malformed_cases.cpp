// The malformed GGUF corpus: one small byte image per defect, with the message fragment the
// reader must give. The committed files under tests/fixtures/gguf/malformed/ are these images.
#include "malformed_cases.h"

#include "raw_gguf.h"

namespace rf::gguf::testing {
namespace {

constexpr uint32_t kF32 = 0;
constexpr uint32_t kQ4_0 = 2;
constexpr uint32_t kTypeArray = 9;

// Valid header + one f32 tensor "w" of 8 elements at offset 0, then its 32 data bytes.
RawGguf one_tensor(const std::vector<uint64_t>& ne, uint32_t type, uint64_t offset,
                   size_t data_bytes = 32) {
    RawGguf g;
    g.header(3, 1, 0).tensor("w", ne, type, offset).pad_to(32).zeros(data_bytes);
    return g;
}

void add(std::vector<MalformedCase>& out, std::string name, const RawGguf& g,
         std::string fragment) {
    out.push_back({std::move(name), g.bytes(), std::move(fragment)});
}

void header_cases(std::vector<MalformedCase>& out) {
    add(out, "bad_magic", RawGguf().raw("GGML").u32(3).u64(0).u64(0),
        "header.magic at byte offset 0: not a GGUF file");
    add(out, "byte_swapped_magic", RawGguf().raw("FUGG").u32(3).u64(0).u64(0),
        "big-endian GGUF files are not supported");
    add(out, "big_endian_version", RawGguf().raw("GGUF").u32(0x03000000u).u64(0).u64(0),
        "header.version at byte offset 4: version 0x03000000 is byte-swapped");
    add(out, "version_1", RawGguf().raw("GGUF").u32(1).u32(0).u32(0),
        "GGUF version 1 is not supported");
    add(out, "version_4", RawGguf().header(4, 0, 0), "unsupported GGUF version 4");
    add(out, "empty_file", RawGguf(), "header.magic at byte offset 0: truncated file");
    add(out, "truncated_header", RawGguf().raw("GGUF").u32(3).u32(0),
        "header.n_tensors at byte offset 8: truncated file");
    add(out, "absurd_tensor_count", RawGguf().header(3, uint64_t{1} << 60, 0),
        "header.n_tensors at byte offset 8: tensor count 1152921504606846976 cannot fit");
    add(out, "absurd_kv_count", RawGguf().header(3, 0, uint64_t{1} << 60),
        "header.n_kv at byte offset 16: key-value count 1152921504606846976 cannot fit");
}

void kv_cases(std::vector<MalformedCase>& out) {
    add(out, "key_past_eof", RawGguf().header(3, 0, 1).u64(1000).raw("general.name"),
        "kv[0].key at byte offset 24: string length 1000 runs past the end of the file");
    add(out, "empty_key", RawGguf().header(3, 0, 1).str("").u32(4).u32(1),
        "kv[0].key at byte offset 24: empty key");
    add(out, "duplicate_key", RawGguf().header(3, 0, 2).kv_u32("a.b", 1).kv_u32("a.b", 2),
        "kv[1].key at byte offset 43: duplicate key 'a.b'");
    add(out, "unknown_value_type", RawGguf().header(3, 0, 1).str("a.b").u32(13).u32(0),
        "kv[0] 'a.b'.type at byte offset 35: unknown value type id 13");
    add(out, "value_truncated", RawGguf().header(3, 0, 1).str("a.b").u32(4).raw("xy"),
        "kv[0] 'a.b' at byte offset 39: truncated file: needs 4 bytes, 2 remain");
    add(out, "string_value_past_eof",
        RawGguf().header(3, 0, 1).str("a.b").u32(8).u64(uint64_t{1} << 62),
        "kv[0] 'a.b' at byte offset 39: string length 4611686018427387904 runs past the end");
    add(out, "bad_bool", RawGguf().header(3, 0, 1).str("a.b").u32(7).u8(2),
        "kv[0] 'a.b' at byte offset 39: bool value 2 is neither 0 nor 1");
    add(out, "unknown_array_type",
        RawGguf().header(3, 0, 1).str("a.b").u32(kTypeArray).u32(42).u64(0),
        "kv[0] 'a.b' at byte offset 39: unknown array element type id 42");
    add(out, "array_count_past_eof",
        RawGguf().header(3, 0, 1).str("a.b").u32(kTypeArray).u32(4).u64(uint64_t{1} << 40),
        "kv[0] 'a.b' at byte offset 43: array of 1099511627776 u32 elements cannot fit");
    add(out, "array_string_past_eof",
        RawGguf().header(3, 0, 1).str("t").u32(kTypeArray).u32(8).u64(2).str("ok").u64(99),
        "kv[0] 't'[1] at byte offset 59: string length 99 runs past the end");
    RawGguf deep;
    deep.header(3, 0, 1).str("deep").u32(kTypeArray);
    for (int i = 0; i < 9; ++i) deep.u32(kTypeArray).u64(1);
    deep.u32(4).u64(0);
    add(out, "array_nesting_too_deep", deep, "arrays nest deeper than 8 levels");
    add(out, "alignment_not_power_of_two",
        RawGguf().header(3, 0, 1).kv_u32("general.alignment", 48),
        "kv[0] 'general.alignment' at byte offset 53: alignment 48 is not a non-zero power of two");
    add(out, "alignment_zero", RawGguf().header(3, 0, 1).kv_u32("general.alignment", 0),
        "alignment 0 is not a non-zero power of two");
    add(out, "alignment_wrong_type",
        RawGguf().header(3, 0, 1).str("general.alignment").u32(10).u64(32),
        "kv[0] 'general.alignment' at byte offset 53: must be of type u32, found u64");
}

void tensor_cases(std::vector<MalformedCase>& out) {
    add(out, "too_many_dims", one_tensor({8, 1, 1, 1, 1}, kF32, 0),
        "tensor[0] 'w'.n_dims at byte offset 33: 5 dimensions (at most 4)");
    add(out, "zero_dim", one_tensor({8, 0}, kF32, 0),
        "tensor[0] 'w'.ne[1] at byte offset 45: dimension is 0");
    add(out, "dim_product_overflow", one_tensor({uint64_t{1} << 32, uint64_t{1} << 32}, kF32, 0),
        "tensor[0] 'w'.ne[1] at byte offset 45: dimension 4294967296 makes the element count "
        "overflow");
    add(out, "dim_negative", one_tensor({uint64_t{1} << 63}, kF32, 0),
        "tensor[0] 'w'.ne[0] at byte offset 37: dimension 9223372036854775808 makes the element");
    add(out, "unknown_tensor_type", one_tensor({8}, 4, 0),
        "tensor[0] 'w'.type at byte offset 45: unknown tensor type id 4");
    add(out, "not_block_multiple", one_tensor({48}, kQ4_0, 0),
        "tensor[0] 'w'.type at byte offset 45: ne[0] = 48 is not a multiple of the q4_0 block size "
        "32");
    add(out, "data_past_end", one_tensor({8}, kF32, 0, 16),
        "tensor[0] 'w'.offset at byte offset 49: tensor data [0, +32) runs past the end of the "
        "file");
    add(out, "offset_past_end", one_tensor({8}, kF32, uint64_t{1} << 62),
        "tensor[0] 'w'.offset at byte offset 49: tensor data [4611686018427387904, +32) runs past");
    add(out, "misaligned_offset", one_tensor({8}, kF32, 8, 64),
        "tensor[0] 'w'.offset at byte offset 49: data offset 8 is not a multiple of the alignment "
        "32");
    RawGguf overlap;
    overlap.header(3, 2, 0)
        .tensor("a", {16}, kF32, 0)
        .tensor("b", {8}, kF32, 32)
        .pad_to(32)
        .zeros(96);
    add(out, "overlapping_tensors", overlap,
        "tensor[1] 'b'.offset at byte offset 82: tensor data at 32 overlaps tensor 'a' at [0, "
        "+64)");
    RawGguf dup;
    dup.header(3, 2, 0).tensor("a", {8}, kF32, 0).tensor("a", {8}, kF32, 32).pad_to(32).zeros(64);
    add(out, "duplicate_tensor_name", dup,
        "tensor[1].name at byte offset 57: duplicate tensor name 'a'");
    add(out, "empty_tensor_name", RawGguf().header(3, 1, 0).tensor("", {8}, kF32, 0).zeros(32),
        "tensor[0].name at byte offset 24: empty tensor name");
    add(out, "tensor_name_too_long",
        RawGguf().header(3, 1, 0).tensor(std::string(64, 'n'), {8}, kF32, 0).zeros(32),
        "tensor[0].name at byte offset 24: tensor name is 64 bytes long (at most 63)");
    add(out, "truncated_tensor_info",
        RawGguf().header(3, 1, 0).str("w").u32(1).u64(8).u32(0).u32(0),
        "tensor[0] 'w'.offset at byte offset 49: truncated file: needs 8 bytes, 4 remain");
}

}  // namespace

std::vector<MalformedCase> malformed_cases() {
    std::vector<MalformedCase> out;
    header_cases(out);
    kv_cases(out);
    tensor_cases(out);
    return out;
}

}  // namespace rf::gguf::testing

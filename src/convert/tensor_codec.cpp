// Row-wise conversion: dequantize one row to float, quantize it to the target type.
#include "convert/tensor_codec.h"

#include <cstring>
#include <vector>

#include "core/check.h"
#include "quant/quantize_fast.h"
#include "quant/reference.h"

namespace rf::convert {

void encode_row(const float* src, quant::GgmlType dst_type, uint8_t* dst, int64_t n_cols,
                Encoding encoding) {
    if (encoding == Encoding::kFast) {
        quant::quantize_row_fast(dst_type, src, dst, n_cols);
    } else {
        quant::quantize_row(dst_type, src, dst, n_cols);
    }
}

void convert_rows(quant::GgmlType src_type, const uint8_t* src, quant::GgmlType dst_type,
                  uint8_t* dst, int64_t n_cols, int64_t n_rows, Encoding encoding) {
    const size_t src_row = quant::row_bytes(src_type, static_cast<size_t>(n_cols));
    const size_t dst_row = quant::row_bytes(dst_type, static_cast<size_t>(n_cols));
    if (src_type == dst_type) {
        std::memcpy(dst, src, src_row * static_cast<size_t>(n_rows));
        return;
    }
    RF_CHECK_MSG(quant::can_quantize(dst_type), "convert_rows: target type has no quantizer");
    std::vector<float> row(static_cast<size_t>(n_cols));
    for (int64_t r = 0; r < n_rows; ++r) {
        quant::dequantize_row(src_type, src + static_cast<size_t>(r) * src_row, row.data(), n_cols);
        encode_row(row.data(), dst_type, dst + static_cast<size_t>(r) * dst_row, n_cols,
                   encoding);
    }
}

}  // namespace rf::convert

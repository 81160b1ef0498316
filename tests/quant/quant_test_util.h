// Helpers shared by the quant tests: float distance in ulps, seeded Gaussian rows, error norms.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "quant/reference.h"
#include "quant/types.h"

namespace rf::quant::test {

// Distance in units in the last place; +0 and -0 are the same point. NaN is far from everything.
inline int64_t ulp_distance(float a, float b) {
    if (std::isnan(a) || std::isnan(b)) return INT64_MAX;
    auto ordered = [](float f) {
        int32_t i;
        std::memcpy(&i, &f, sizeof i);
        return i < 0 ? -static_cast<int64_t>(i & 0x7fffffff) : static_cast<int64_t>(i);
    };
    const int64_t d = ordered(a) - ordered(b);
    return d < 0 ? -d : d;
}

// N(0, sigma^2) values from a fixed seed (std::normal_distribution of libstdc++).
inline std::vector<float> gaussian_row(int64_t n, uint32_t seed, float sigma = 1.0f) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> dist(0.0f, sigma);
    std::vector<float> row(static_cast<size_t>(n));
    for (float& v : row) v = dist(rng);
    return row;
}

// Quantizes then dequantizes a row.
inline std::vector<float> round_trip(GgmlType type, const std::vector<float>& x,
                                     const float* importance = nullptr) {
    const int64_t n = static_cast<int64_t>(x.size());
    std::vector<uint8_t> bytes(row_bytes(type, x.size()));
    quantize_row(type, x.data(), bytes.data(), n, importance);
    std::vector<float> y(x.size());
    dequantize_row(type, bytes.data(), y.data(), n);
    return y;
}

// sqrt(sum (x - y)^2 / sum x^2): the RMSE normalised by the RMS of the input.
inline double normalised_rmse(const std::vector<float>& x, const std::vector<float>& y) {
    double err = 0, ref = 0;
    for (size_t i = 0; i < x.size(); ++i) {
        const double d = static_cast<double>(x[i]) - static_cast<double>(y[i]);
        err += d * d;
        ref += static_cast<double>(x[i]) * static_cast<double>(x[i]);
    }
    return ref > 0 ? std::sqrt(err / ref) : std::sqrt(err);
}

}  // namespace rf::quant::test

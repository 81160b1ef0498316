// Weighted least-squares scale searches used by the reference quantizers (see quant_search.h).
#include "quant/quant_search.h"

#include <cfloat>
#include <cmath>

#include "core/check.h"
#include "core/half.h"

namespace rf::quant::detail {
namespace {

constexpr int kMaxBlock = 256;

// Sums of the weighted fit x ~ scale * l (symmetric searches).
struct LinearSums {
    float lx = 0;  // sum w * x * l
    float l2 = 0;  // sum w * l * l
    // True when this fit has the smaller error: minimising sum w (x - s l)^2 over s leaves
    // sum w x^2 - lx^2 / l2, so the larger lx^2 / l2 wins.
    bool better_than(const LinearSums& o) const {
        return l2 > 0 && lx * lx * o.l2 > o.lx * o.lx * l2;
    }
};

template <class Int>
LinearSums linear_sums(int n, const float* x, const float* w, const Int* L) {
    LinearSums s;
    for (int i = 0; i < n; ++i) {
        const float l = static_cast<float>(L[i]);
        s.lx += w[i] * x[i] * l;
        s.l2 += w[i] * l * l;
    }
    return s;
}

// Coordinate descent on the integers: for each element try the level that is optimal for the
// scale fitted to all other elements; keep it when the total error drops. Stops after a pass
// without change. Works for symmetric (lo < 0) and non-negative (lo = 0) level ranges.
template <class Int>
LinearSums refine_levels(int n, int lo, int hi, const float* x, const float* w, Int* L) {
    LinearSums best = linear_sums(n, x, w, L);
    for (int pass = 0; pass < 6; ++pass) {
        int changed = 0;
        for (int i = 0; i < n; ++i) {
            if (w[i] <= 0) continue;
            const float li = static_cast<float>(L[i]);
            const float slx = best.lx - w[i] * x[i] * li;
            const float sl2 = best.l2 - w[i] * li * li;
            if (slx == 0 || sl2 <= 0) continue;
            const int new_l = clamp_int(nearest_int(x[i] * sl2 / slx), lo, hi);
            if (new_l == L[i]) continue;
            const float nl = static_cast<float>(new_l);
            const LinearSums trial{slx + w[i] * x[i] * nl, sl2 + w[i] * nl * nl};
            if (trial.better_than(best)) {
                L[i] = static_cast<Int>(new_l);
                best = trial;
                ++changed;
            }
        }
        if (changed == 0) break;
        best = linear_sums(n, x, w, L);  // drop accumulated rounding of the running sums
    }
    return best;
}

// Weighted moments of a block that do not depend on the levels (double: the error below is a
// difference of sums).
struct Moments {
    double sw = 0, sx = 0, sx2 = 0;  // sum w, sum w x, sum w x^2
};

Moments moments(int n, const float* x, const float* w) {
    Moments m;
    for (int i = 0; i < n; ++i) {
        const double wi = static_cast<double>(w[i]), xi = static_cast<double>(x[i]);
        m.sw += wi;
        m.sx += wi * xi;
        m.sx2 += wi * xi * xi;
    }
    return m;
}

// Weighted least squares for x ~ scale * l + offset with the levels fixed; also returns the
// weighted squared error sum w (scale l + offset - x)^2, expanded in the sums so no second pass
// over the block is needed. Returns false when the levels do not determine a positive scale.
bool fit_scale_offset(int n, const float* x, const float* w, const uint8_t* L, const Moments& m,
                      bool allow_positive_offset, float* scale, float* offset, double* error) {
    double sl = 0, sl2 = 0, sxl = 0;
    for (int i = 0; i < n; ++i) {
        const double wl = static_cast<double>(w[i]) * L[i];
        sl += wl;
        sl2 += wl * L[i];
        sxl += wl * static_cast<double>(x[i]);
    }
    const double det = m.sw * sl2 - sl * sl;
    if (!(det > 0)) return false;
    double s = (m.sw * sxl - m.sx * sl) / det;
    double o = (sl2 * m.sx - sl * sxl) / det;
    if (!allow_positive_offset && o > 0) {
        o = 0;
        s = sxl / sl2;
    }
    if (!(s > 0)) return false;
    *scale = static_cast<float>(s);
    *offset = static_cast<float>(o);
    *error = m.sx2 + s * s * sl2 + o * o * m.sw - 2 * s * sxl - 2 * o * m.sx + 2 * s * o * sl;
    return true;
}

void round_offset_levels(int n, int nmax, const float* x, float scale, float offset, uint8_t* L) {
    const float inv = 1.0f / scale;
    for (int i = 0; i < n; ++i) {
        L[i] = static_cast<uint8_t>(clamp_int(nearest_int(inv * (x[i] - offset)), 0, nmax));
    }
}

}  // namespace

int normalise_block(const float* src, int n, float* dst) {
    float amax = 0;
    for (int i = 0; i < n; ++i) {
        dst[i] = sanitise(src[i]);
        amax = std::fmax(amax, std::fabs(dst[i]));
    }
    if (amax == 0) return 0;
    int exponent = 0;
    std::frexp(amax, &exponent);
    for (int i = 0; i < n; ++i) dst[i] = std::ldexp(dst[i], -exponent);
    return exponent;
}

uint16_t encode_scale(float scale, int exponent) {
    double v = std::ldexp(static_cast<double>(scale), exponent);
    constexpr double kMaxHalf = 65504.0;
    if (v > kMaxHalf) v = kMaxHalf;
    if (v < -kMaxHalf) v = -kMaxHalf;
    return float_to_fp16(static_cast<float>(v));
}

float decode_scale(uint16_t half_bits, int exponent) {
    return static_cast<float>(std::ldexp(static_cast<double>(fp16_to_float(half_bits)), -exponent));
}

void make_weights(const float* x, int n, const float* importance, double sigma2,
                  DefaultWeight fallback, float* w, bool raw_importance) {
    RF_CHECK(n <= kMaxBlock);
    double wd[kMaxBlock];
    double qmax = 0;
    if (importance != nullptr) {
        for (int i = 0; i < n; ++i) {
            if (std::isfinite(importance[i]) && importance[i] > 0)
                qmax = std::fmax(qmax, static_cast<double>(importance[i]));
        }
    }
    for (int i = 0; i < n; ++i) {
        const double xi = static_cast<double>(x[i]);
        if (qmax > 0) {
            const bool valid = std::isfinite(importance[i]) && importance[i] > 0;
            const double q = valid ? static_cast<double>(importance[i]) / qmax : 0.0;
            wd[i] = raw_importance ? q : q * std::sqrt(sigma2 + xi * xi);
            continue;
        }
        switch (fallback) {
            case DefaultWeight::kRmsPlusAbs:
                wd[i] = std::sqrt(sigma2) + std::fabs(xi);
                break;
            case DefaultWeight::kSqrtSigmaPlus:
                wd[i] = std::sqrt(sigma2 + xi * xi);
                break;
            case DefaultWeight::kUniform:
                wd[i] = 1.0;
                break;
        }
    }
    double wmax = 0;
    for (int i = 0; i < n; ++i) wmax = std::fmax(wmax, wd[i]);
    const bool usable = wmax > 0 && std::isfinite(wmax);
    constexpr double kFloor = 1e-6;
    for (int i = 0; i < n; ++i)
        w[i] = usable ? static_cast<float>(std::fmax(wd[i] / wmax, kFloor)) : 1.0f;
}

float search_symmetric(int n, int nmax, const float* x, const float* w, int8_t* L) {
    RF_CHECK(n <= kMaxBlock);
    float amax = 0, max = 0;
    for (int i = 0; i < n; ++i) {
        if (std::fabs(x[i]) > amax) {
            amax = std::fabs(x[i]);
            max = x[i];
        }
    }
    for (int i = 0; i < n; ++i) L[i] = 0;
    if (amax < kGroupEps) return 0;

    LinearSums best;
    bool have = false;
    int8_t trial[kMaxBlock];
    auto try_iscale = [&](float iscale) {
        for (int i = 0; i < n; ++i) {
            trial[i] = static_cast<int8_t>(clamp_int(nearest_int(iscale * x[i]), -nmax, nmax - 1));
        }
        const LinearSums s = linear_sums(n, x, w, trial);
        if (s.l2 > 0 && (!have || s.better_than(best))) {
            best = s;
            have = true;
            for (int i = 0; i < n; ++i) L[i] = trial[i];
        }
    };
    // The largest magnitude goes to the extra level -nmax, or to +(nmax - 1); +-0.9 around each.
    for (int k = -9; k <= 9; ++k) {
        try_iscale(-(static_cast<float>(nmax) + 0.1f * static_cast<float>(k)) / max);
        try_iscale((static_cast<float>(nmax - 1) + 0.1f * static_cast<float>(k)) / max);
    }
    if (!have) return 0;
    best = refine_levels(n, -nmax, nmax - 1, x, w, L);
    return best.l2 > 0 ? best.lx / best.l2 : 0;
}

float weighted_error(int n, const float* x, const float* w, float scale, float offset,
                     const uint8_t* L) {
    float err = 0;
    for (int i = 0; i < n; ++i) {
        const float diff = scale * static_cast<float>(L[i]) + offset - x[i];
        err += w[i] * diff * diff;
    }
    return err;
}

float search_scale_offset(int n, int nmax, const float* x, const float* w, uint8_t* L,
                          float* offset, ScaleSearch search, bool allow_positive_offset) {
    RF_CHECK(n <= kMaxBlock);
    float min = x[0], max = x[0];
    for (int i = 1; i < n; ++i) {
        min = std::fmin(min, x[i]);
        max = std::fmax(max, x[i]);
    }
    if (!allow_positive_offset && min > 0) min = 0;
    for (int i = 0; i < n; ++i) L[i] = 0;
    const float range = max - min;
    if (!(range >= kGroupEps)) {  // constant (or all-zero) block: the offset alone is exact
        *offset = min;
        return 0;
    }
    const Moments m = moments(n, x, w);
    float best_scale = range / static_cast<float>(nmax);
    float best_offset = min;
    round_offset_levels(n, nmax, x, best_scale, best_offset, L);
    double best_err = static_cast<double>(weighted_error(n, x, w, best_scale, best_offset, L));

    uint8_t trial[kMaxBlock];
    // Fits scale and offset to the levels in `trial`; keeps them when the error drops.
    auto fit_and_keep = [&]() {
        float scale, off;
        double err;
        if (!fit_scale_offset(n, x, w, trial, m, allow_positive_offset, &scale, &off, &err))
            return false;
        if (!(err < best_err)) return false;
        best_err = err;
        best_scale = scale;
        best_offset = off;
        for (int i = 0; i < n; ++i) L[i] = trial[i];
        return true;
    };
    for (int step = 0; step <= search.nstep; ++step) {
        const float iscale =
            (static_cast<float>(nmax) + search.rmin + search.rdelta * static_cast<float>(step)) /
            range;
        for (int i = 0; i < n; ++i) {
            trial[i] = static_cast<uint8_t>(clamp_int(nearest_int(iscale * (x[i] - min)), 0, nmax));
        }
        fit_and_keep();
    }
    // Alternate: round against the best fit, re-fit to the new levels, while the error drops.
    for (int iter = 0; iter < 4; ++iter) {
        round_offset_levels(n, nmax, x, best_scale, best_offset, trial);
        if (!fit_and_keep()) break;
    }
    *offset = best_offset;
    return best_scale;
}

float search_positive_scale(int n, int nmax, const float* x, const float* w, uint8_t* L) {
    RF_CHECK(n <= kMaxBlock);
    float max = 0;
    for (int i = 0; i < n; ++i) max = std::fmax(max, x[i]);
    for (int i = 0; i < n; ++i) L[i] = 0;
    if (max < kGroupEps) return 0;

    auto rounded = [&](float iscale, int i) {
        return clamp_int(nearest_int(iscale * x[i]), 0, nmax);
    };
    auto error_at = [&](float iscale) {
        const float scale = 1.0f / iscale;
        float err = 0;
        for (int i = 0; i < n; ++i) {
            const float diff = x[i] - scale * static_cast<float>(rounded(iscale, i));
            err += w[i] * diff * diff;
        }
        return err;
    };
    float best_iscale = static_cast<float>(nmax) / max;
    float best_err = error_at(best_iscale);
    for (int k = -4; k <= 4; ++k) {
        if (k == 0) continue;
        const float iscale = (static_cast<float>(nmax) + 0.1f * static_cast<float>(k)) / max;
        const float err = error_at(iscale);
        if (err < best_err) {
            best_err = err;
            best_iscale = iscale;
        }
    }
    for (int i = 0; i < n; ++i) L[i] = static_cast<uint8_t>(rounded(best_iscale, i));
    const LinearSums s = refine_levels(n, 0, nmax, x, w, L);
    return s.l2 > 0 ? s.lx / s.l2 : 0;
}

}  // namespace rf::quant::detail

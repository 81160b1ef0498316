// Reference quantizers of the K-quants (Q2_K..Q6_K, Q8_K). Each 256-element super-block is
// searched in stages: (1) per sub-block, the scale (and min) with the smallest weighted error;
// (2) the super-block scale(s) that quantize those sub-block scales to 4/6/8-bit codes; (3) with
// the stored fp16 scales, each code is nudged to a neighbour where that lowers the real error,
// every element re-rounded against the scales the decoder will actually see; (4) Q2_K/Q4_K/Q5_K
// re-fit d and dmin to the chosen codes, Q3_K/Q6_K try the fp16 neighbours of d.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <initializer_list>

#include "core/check.h"
#include "quant/blocks.h"
#include "quant/k_scales.h"
#include "quant/quant_search.h"
#include "quant/reference_detail.h"

namespace rf::quant::detail {
namespace {

constexpr float kInf = INFINITY;

double mean_square(const float* x, int n) {
    double s = 0;
    for (int i = 0; i < n; ++i) s += static_cast<double>(x[i]) * static_cast<double>(x[i]);
    return s / n;
}

// ---- scale + min formats (Q2_K, Q4_K, Q5_K): x = d * ls * l - dmin * lm ----------------------

struct ScaleMinLayout {
    int n_sub;            // sub-blocks per super-block
    int sub_size;         // elements per sub-block
    int nmax;             // largest level l
    int code_max;         // largest scale / min code
    double sigma_factor;  // sigma2 = sigma_factor * mean(x^2) in the importance weights
    DefaultWeight fallback;
    ScaleSearch search;  // candidate ranges of the sub-block search
};

struct ScaleMinResult {
    uint16_t d = 0, dmin = 0;
    uint8_t ls[16] = {}, lm[16] = {};
    uint8_t L[kQK_K] = {};
};

// Rounds one sub-block against scale `sc` and min `m`; returns the weighted error.
float round_scale_min(int n, int nmax, const float* x, const float* w, float sc, float m,
                      uint8_t* L) {
    float err = 0;
    const float inv = sc > 0 ? 1.0f / sc : 0.0f;
    for (int i = 0; i < n; ++i) {
        L[i] = static_cast<uint8_t>(sc > 0 ? clamp_int(nearest_int((x[i] + m) * inv), 0, nmax) : 0);
        const float diff = sc * static_cast<float>(L[i]) - m - x[i];
        err += w[i] * diff * diff;
    }
    return err;
}

// Nudges each sub-block's (scale, min) codes by up to +-2 against the stored d and dmin,
// re-rounding the levels; returns the total weighted error and updates r's codes and levels.
float nudge_codes(const float* x, const float* w, const ScaleMinLayout& lay, float dd, float ddm,
                  ScaleMinResult* r) {
    uint8_t trial[32];
    float total = 0;
    for (int j = 0; j < lay.n_sub; ++j) {
        const int o = j * lay.sub_size;
        float best = kInf;
        const uint8_t ls0 = r->ls[j], lm0 = r->lm[j];
        for (int a : {0, -1, 1, -2, 2}) {
            for (int b : {0, -1, 1, -2, 2}) {
                const int ls = clamp_int(ls0 + a, 0, lay.code_max),
                          lm = clamp_int(lm0 + b, 0, lay.code_max);
                const float err = round_scale_min(lay.sub_size, lay.nmax, x + o, w + o,
                                                  dd * static_cast<float>(ls),
                                                  ddm * static_cast<float>(lm), trial);
                if (err < best) {
                    best = err;
                    r->ls[j] = static_cast<uint8_t>(ls);
                    r->lm[j] = static_cast<uint8_t>(lm);
                    std::memcpy(r->L + o, trial, static_cast<size_t>(lay.sub_size));
                }
            }
        }
        total += best;
    }
    return total;
}

// With codes and levels fixed, x ~ d * (ls * l) - dmin * lm is linear in (d, dmin): solves the
// 2x2 weighted least-squares system. Returns false when it is singular.
bool refit_d_dmin(const float* x, const float* w, const ScaleMinLayout& lay,
                  const ScaleMinResult& r, float* d, float* dmin) {
    double saa = 0, sbb = 0, sab = 0, sxa = 0, sxb = 0;
    for (int e = 0; e < lay.n_sub * lay.sub_size; ++e) {
        const int j = e / lay.sub_size;
        const double a = static_cast<double>(r.ls[j]) * r.L[e], b = r.lm[j];
        const double we = static_cast<double>(w[e]), xe = static_cast<double>(x[e]);
        saa += we * a * a;
        sbb += we * b * b;
        sab += we * a * b;
        sxa += we * xe * a;
        sxb += we * xe * b;
    }
    if (sbb == 0) {  // no mins in use: d alone
        if (!(saa > 0)) return false;
        *d = static_cast<float>(sxa / saa);
        *dmin = 0;
        return true;
    }
    const double det = sab * sab - saa * sbb;
    if (!(std::fabs(det) > 1e-12 * saa * sbb)) return false;
    *d = static_cast<float>((sab * sxb - sxa * sbb) / det);
    *dmin = static_cast<float>((saa * sxb - sab * sxa) / det);
    return *d > 0;
}

ScaleMinResult quantize_scale_min(const float* src, const float* importance,
                                  const ScaleMinLayout& lay) {
    ScaleMinResult r;
    float x[kQK_K], w[kQK_K], scales[16], mins[16], sw[16];
    const int exponent = normalise_block(src, kQK_K, x);
    make_weights(x, kQK_K, importance, lay.sigma_factor * mean_square(x, kQK_K), lay.fallback, w);
    for (int j = 0; j < lay.n_sub; ++j) {
        const int o = j * lay.sub_size;
        float offset = 0;
        scales[j] = search_scale_offset(lay.sub_size, lay.nmax, x + o, w + o, r.L + o, &offset,
                                        lay.search, false);
        mins[j] = -offset;
        sw[j] = 0;
        for (int i = 0; i < lay.sub_size; ++i) sw[j] += w[o + i];
    }
    const float d = search_positive_scale(lay.n_sub, lay.code_max, scales, sw, r.ls);
    const float dmin = search_positive_scale(lay.n_sub, lay.code_max, mins, sw, r.lm);
    r.d = encode_scale(d, exponent);
    r.dmin = encode_scale(dmin, exponent);
    float best =
        nudge_codes(x, w, lay, decode_scale(r.d, exponent), decode_scale(r.dmin, exponent), &r);

    // Re-fit d and dmin to the chosen codes and levels, then nudge again; keep while it helps.
    for (int iter = 0; iter < 2; ++iter) {
        float d2, dmin2;
        if (!refit_d_dmin(x, w, lay, r, &d2, &dmin2)) break;
        ScaleMinResult trial = r;
        trial.d = encode_scale(d2, exponent);
        trial.dmin = encode_scale(dmin2, exponent);
        const float err = nudge_codes(x, w, lay, decode_scale(trial.d, exponent),
                                      decode_scale(trial.dmin, exponent), &trial);
        if (!(err < best)) break;
        best = err;
        r = trial;
    }
    return r;
}

// ---- symmetric formats (Q3_K, Q6_K): x = d * code * l ------------------------------------------

struct SymmetricLayout {
    int nmax;             // levels l in [-nmax, nmax - 1]
    int code_nmax;        // codes in [-code_nmax, code_nmax - 1]
    double sigma_factor;  // as in ScaleMinLayout
    bool raw_importance;  // weight by the importance alone (Q6_K, as ggml does)
};

struct SymmetricResult {
    uint16_t d = 0;
    int8_t codes[16] = {};
    int8_t L[kQK_K] = {};  // signed levels
};

float round_symmetric(int n, int nmax, const float* x, const float* w, float sc, int8_t* L) {
    float err = 0;
    const float inv = sc != 0 ? 1.0f / sc : 0.0f;
    for (int i = 0; i < n; ++i) {
        L[i] =
            static_cast<int8_t>(sc != 0 ? clamp_int(nearest_int(x[i] * inv), -nmax, nmax - 1) : 0);
        const float diff = sc * static_cast<float>(L[i]) - x[i];
        err += w[i] * diff * diff;
    }
    return err;
}

// 16 sub-blocks of 16 elements.
// Codes for the 16 sub-block scales against the stored super-block scale `dd`: each code is the
// rounded ratio or one of its neighbours, whichever gives the smallest real error. Returns the
// total weighted error; writes the codes and the element levels.
float choose_codes(const float* x, const float* w, const float* scales, const SymmetricLayout& lay,
                   float dd, int8_t* codes, int8_t* L) {
    int8_t trial[16];
    float total = 0;
    for (int j = 0; j < 16; ++j) {
        float best = kInf;
        const int c0 = clamp_int(nearest_int(scales[j] / dd), -lay.code_nmax, lay.code_nmax - 1);
        for (int a : {0, -1, 1}) {
            const int c = clamp_int(c0 + a, -lay.code_nmax, lay.code_nmax - 1);
            const float err = round_symmetric(16, lay.nmax, x + 16 * j, w + 16 * j,
                                              dd * static_cast<float>(c), trial);
            if (err < best) {
                best = err;
                codes[j] = static_cast<int8_t>(c);
                std::memcpy(L + 16 * j, trial, sizeof trial);
            }
        }
        total += best;
    }
    return total;
}

// 16 sub-blocks of 16 elements. The super-block scale is also tried at its fp16 neighbours:
// for small tensors it is an fp16 subnormal (Q6_K: d ~ max|x| / 4096) with few significant bits.
SymmetricResult quantize_symmetric(const float* src, const float* importance,
                                   const SymmetricLayout& lay) {
    SymmetricResult r;
    float x[kQK_K], w[kQK_K], scales[16], sw[16];
    const int exponent = normalise_block(src, kQK_K, x);
    make_weights(x, kQK_K, importance, lay.sigma_factor * mean_square(x, kQK_K),
                 DefaultWeight::kRmsPlusAbs, w, lay.raw_importance);
    for (int j = 0; j < 16; ++j) {
        scales[j] = search_symmetric(16, lay.nmax, x + 16 * j, w + 16 * j, r.L + 16 * j);
        sw[j] = 0;
        for (int i = 0; i < 16; ++i) sw[j] += w[16 * j + i];
    }
    const uint16_t d0 =
        encode_scale(search_symmetric(16, lay.code_nmax, scales, sw, r.codes), exponent);
    float best = kInf;
    SymmetricResult trial;
    for (int k : {0, -1, 1, -2, 2, -3, 3}) {
        const uint16_t h = fp16_neighbour(d0, k);
        const float dd = decode_scale(h, exponent);
        if (dd == 0) continue;
        const float err = choose_codes(x, w, scales, lay, dd, trial.codes, trial.L);
        if (err < best) {
            best = err;
            trial.d = h;
            r = trial;
        }
    }
    if (best == kInf) r = SymmetricResult{};  // all-zero block
    return r;
}

// Q2_K / Q3_K low bits: within each half of 128, byte l holds elements l, l+32, l+64, l+96.
void pack_2bit(const uint8_t* levels, uint8_t* qs) {
    for (int half = 0; half < 2; ++half) {
        for (int l = 0; l < 32; ++l) {
            const uint8_t* v = levels + 128 * half + l;
            qs[32 * half + l] = static_cast<uint8_t>((v[0] & 3) | ((v[32] & 3) << 2) |
                                                     ((v[64] & 3) << 4) | ((v[96] & 3) << 6));
        }
    }
}

// Q4_K / Q5_K low nibbles: chunk c of 64 elements -> qs[32c..]: low nibble first 32, high next 32.
void pack_4bit_k(const uint8_t* levels, uint8_t* qs) {
    for (int c = 0; c < 4; ++c) {
        for (int l = 0; l < 32; ++l) {
            qs[32 * c + l] = static_cast<uint8_t>((levels[64 * c + l] & 0xF) |
                                                  ((levels[64 * c + 32 + l] & 0xF) << 4));
        }
    }
}

const float* sub_importance(const float* importance, int64_t block) {
    return importance != nullptr ? importance + block * kQK_K : nullptr;
}

}  // namespace

void quantize_q2_k(const float* x, uint8_t* dst, int64_t n, const float* importance) {
    const ScaleMinLayout lay{16, 16, 3, 15, 1.0, DefaultWeight::kSqrtSigmaPlus, {-0.9f, 0.05f, 36}};
    for (int64_t i = 0; i < n / kQK_K; ++i) {
        const ScaleMinResult r =
            quantize_scale_min(x + i * kQK_K, sub_importance(importance, i), lay);
        BlockQ2_K b{};
        for (int j = 0; j < 16; ++j) b.scales[j] = static_cast<uint8_t>(r.ls[j] | (r.lm[j] << 4));
        pack_2bit(r.L, b.qs);
        b.d = r.d;
        b.dmin = r.dmin;
        store_block(b, dst, i);
    }
}

void quantize_q4_k(const float* x, uint8_t* dst, int64_t n, const float* importance) {
    const ScaleMinLayout lay{8, 32, 15, 63, 2.0, DefaultWeight::kRmsPlusAbs, {-2.0f, 0.1f, 40}};
    for (int64_t i = 0; i < n / kQK_K; ++i) {
        const ScaleMinResult r =
            quantize_scale_min(x + i * kQK_K, sub_importance(importance, i), lay);
        BlockQ4_K b{};
        b.d = r.d;
        b.dmin = r.dmin;
        pack_scale_min_k4(r.ls, r.lm, b.scales);
        pack_4bit_k(r.L, b.qs);
        store_block(b, dst, i);
    }
}

void quantize_q5_k(const float* x, uint8_t* dst, int64_t n, const float* importance) {
    const ScaleMinLayout lay{8, 32, 31, 63, 2.0, DefaultWeight::kRmsPlusAbs, {-2.0f, 0.1f, 40}};
    for (int64_t i = 0; i < n / kQK_K; ++i) {
        const ScaleMinResult r =
            quantize_scale_min(x + i * kQK_K, sub_importance(importance, i), lay);
        BlockQ5_K b{};
        b.d = r.d;
        b.dmin = r.dmin;
        pack_scale_min_k4(r.ls, r.lm, b.scales);
        pack_4bit_k(r.L, b.qs);
        for (int e = 0; e < kQK_K; ++e) {  // bit 4 of element 32s + l -> bit s of qh[l]
            if (r.L[e] & 0x10) b.qh[e % 32] |= static_cast<uint8_t>(1u << (e / 32));
        }
        store_block(b, dst, i);
    }
}

void quantize_q3_k(const float* x, uint8_t* dst, int64_t n, const float* importance) {
    const SymmetricLayout lay{4, 32, 2.0, false};
    for (int64_t i = 0; i < n / kQK_K; ++i) {
        const SymmetricResult r =
            quantize_symmetric(x + i * kQK_K, sub_importance(importance, i), lay);
        BlockQ3_K b{};
        uint8_t biased[16], levels[kQK_K];
        for (int j = 0; j < 16; ++j) biased[j] = static_cast<uint8_t>(r.codes[j] + 32);
        pack_scales_q3_k(biased, b.scales);
        for (int e = 0; e < kQK_K; ++e) {
            const int q = r.L[e] + 4;  // 0..7; bit 2 goes to hmask (set = no -4 offset)
            levels[e] = static_cast<uint8_t>(q & 3);
            if (q & 4) b.hmask[e % 32] |= static_cast<uint8_t>(1u << (e / 32));
        }
        pack_2bit(levels, b.qs);
        b.d = r.d;
        store_block(b, dst, i);
    }
}

void quantize_q6_k(const float* x, uint8_t* dst, int64_t n, const float* importance) {
    const SymmetricLayout lay{32, 128, 2.0, true};
    for (int64_t i = 0; i < n / kQK_K; ++i) {
        const SymmetricResult r =
            quantize_symmetric(x + i * kQK_K, sub_importance(importance, i), lay);
        BlockQ6_K b{};
        for (int e = 0; e < kQK_K; ++e) {
            const int q = r.L[e] + 32;  // 0..63
            const int h = e / 128, quarter = (e % 128) / 32, l = e % 32;
            uint8_t& lo = b.ql[64 * h + 32 * (quarter % 2) + l];
            lo |= static_cast<uint8_t>(quarter < 2 ? (q & 0xF) : ((q & 0xF) << 4));
            b.qh[32 * h + l] |= static_cast<uint8_t>((q >> 4) << (2 * quarter));
        }
        for (int j = 0; j < 16; ++j) b.scales[j] = r.codes[j];
        b.d = r.d;
        store_block(b, dst, i);
    }
}

// Q8_K keeps a float scale, so no normalisation is needed; double keeps 127 / max finite even
// for subnormal inputs. The largest magnitude maps to -127 (as in ggml, whose kernels assume
// |q| <= 127); bsums cache the sums of 16 consecutive quants.
void quantize_q8_k(const float* x, uint8_t* dst, int64_t n) {
    for (int64_t i = 0; i < n / kQK_K; ++i) {
        double v[kQK_K];
        double amax = 0, max = 0;
        for (int e = 0; e < kQK_K; ++e) {
            v[e] = static_cast<double>(sanitise(x[i * kQK_K + e]));
            if (std::fabs(v[e]) > amax) {
                amax = std::fabs(v[e]);
                max = v[e];
            }
        }
        BlockQ8_K b{};
        if (amax > 0) {
            b.d = static_cast<float>(max / -127.0);
            // Near FLT_MAX, 127 * d may round past the largest float: step d towards zero.
            while (!std::isfinite(std::fabs(b.d) * 127.0f)) b.d = std::nextafter(b.d, 0.0f);
            const double iscale = 1.0 / static_cast<double>(b.d);
            for (int e = 0; e < kQK_K; ++e) {
                b.qs[e] = static_cast<int8_t>(
                    clamp_int(static_cast<int>(std::nearbyint(iscale * v[e])), -127, 127));
            }
        }
        for (int j = 0; j < 16; ++j) {
            int sum = 0;
            for (int l = 0; l < 16; ++l) sum += b.qs[16 * j + l];
            b.bsums[j] = static_cast<int16_t>(sum);
        }
        store_block(b, dst, i);
    }
}

}  // namespace rf::quant::detail

// Reference quantizers for the grid i-quants (quantize_iq.h): a weighted least-squares search
// over each codebook, one 256-element super-block at a time.
#include "quant/quantize_iq.h"

#include <algorithm>
#include <bit>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "core/check.h"
#include "core/half.h"
#include "quant/iq_grids.h"

namespace rf::quant {
namespace {

// Per super-block:
//   1. normalise by a power of two (max |x| in [0.5, 1)) and derive error weights;
//   2. split off the signs (flipping the cheapest one where the format implies even parity);
//   3. fit one float scale per scale group: assign codebook points at a trial scale (fast,
//      neighbour-indexed search), re-solve the scale by weighted least squares, repeat from
//      several starting scales, keep the best;
//   4. quantize the group scales against one fp16 super-block scale, then re-assign every
//      sub-vector against the scale that will actually be stored (exhaustive search).

constexpr int kMaxSub = kQK_K / 4;     // codebook points per block (4-wide codebooks)
constexpr int kMaxGroups = kQK_K / 16;  // scale groups per block (16-element groups)
constexpr int kScaleTrials = 12;        // starting scales tried per group
constexpr float kHalfMax = 65504.0f;    // largest finite fp16

// A codebook as floats: `count` points of `dim` coordinates, row-major (count, dim), plus a
// neighbour index for fast approximate search. Every coordinate takes one of a few values (the
// alphabet), so a target rounded coordinate-wise to the alphabet is one of |alphabet|^dim codes;
// for each code we keep the points within one level step (L1, in alphabet positions) of the
// closest ones.
struct Codebook {
    int dim = 0;
    int count = 0;
    float max_abs = 0.0f;
    std::vector<float> values;
    std::vector<float> alphabet;           // distinct coordinate values, ascending
    std::vector<uint32_t> candidate_start;  // (codes + 1) offsets into `candidates`
    std::vector<uint16_t> candidates;
    const float* point(int i) const { return values.data() + static_cast<size_t>(i) * dim; }
};

// Alphabet position of each coordinate of every point: (count, dim).
std::vector<uint8_t> point_digits(const Codebook& cb) {
    std::vector<uint8_t> digits(cb.values.size());
    for (size_t k = 0; k < cb.values.size(); ++k) {
        const auto it = std::lower_bound(cb.alphabet.begin(), cb.alphabet.end(), cb.values[k]);
        digits[k] = static_cast<uint8_t>(it - cb.alphabet.begin());
    }
    return digits;
}

void build_neighbours(Codebook* cb) {
    const std::vector<uint8_t> digits = point_digits(*cb);
    const int base = static_cast<int>(cb->alphabet.size());
    int n_codes = 1;
    for (int j = 0; j < cb->dim; ++j) n_codes *= base;
    std::vector<int> distance(static_cast<size_t>(cb->count));
    cb->candidate_start.assign(1, 0);
    for (int code = 0; code < n_codes; ++code) {
        int min_distance = 1 << 30;
        for (int i = 0; i < cb->count; ++i) {
            int d = 0;
            for (int j = 0, c = code; j < cb->dim; ++j, c /= base) {
                d += std::abs(c % base - digits[static_cast<size_t>(i * cb->dim + j)]);
            }
            distance[static_cast<size_t>(i)] = d;
            min_distance = std::min(min_distance, d);
        }
        for (int i = 0; i < cb->count; ++i) {
            if (distance[static_cast<size_t>(i)] <= min_distance + 1) {
                cb->candidates.push_back(static_cast<uint16_t>(i));
            }
        }
        cb->candidate_start.push_back(static_cast<uint32_t>(cb->candidates.size()));
    }
}

// Expands a packed grid; `is_signed` reads bytes as int8; `offset` is added to every value.
template <typename T, size_t N>
Codebook make_codebook(const T (&grid)[N], bool is_signed, float offset) {
    Codebook cb;
    cb.dim = static_cast<int>(sizeof(T));
    cb.count = static_cast<int>(N);
    cb.values.reserve(N * sizeof(T));
    for (T entry : grid) {
        for (int j = 0; j < cb.dim; ++j) {
            const uint8_t byte = static_cast<uint8_t>(entry >> (8 * j));
            const float v = (is_signed ? static_cast<float>(static_cast<int8_t>(byte))
                                       : static_cast<float>(byte)) + offset;
            cb.values.push_back(v);
            cb.max_abs = std::max(cb.max_abs, std::fabs(v));
        }
    }
    cb.alphabet = cb.values;
    std::sort(cb.alphabet.begin(), cb.alphabet.end());
    cb.alphabet.erase(std::unique(cb.alphabet.begin(), cb.alphabet.end()), cb.alphabet.end());
    build_neighbours(&cb);
    return cb;
}

enum class Book { kIq2xxs, kIq2xs, kIq2s, kIq3xxs, kIq3s, kIq1Plus, kIq1Minus };

Codebook build_codebook(Book book) {
    switch (book) {
        case Book::kIq2xxs: return make_codebook(kIq2xxsGrid, false, 0.0f);
        case Book::kIq2xs: return make_codebook(kIq2xsGrid, false, 0.0f);
        case Book::kIq2s: return make_codebook(kIq2sGrid, false, 0.0f);
        case Book::kIq3xxs: return make_codebook(kIq3xxsGrid, false, 0.0f);
        case Book::kIq3s: return make_codebook(kIq3sGrid, false, 0.0f);
        case Book::kIq1Plus: return make_codebook(kIq1sGrid, true, kIq1Delta);
        case Book::kIq1Minus: return make_codebook(kIq1sGrid, true, -kIq1Delta);
    }
    RF_CHECK_MSG(false, "unknown codebook");
    return {};
}

// Each codebook is built once, on first use (its neighbour index takes a moment).
template <Book kBook>
const Codebook& cached_codebook() {
    static const Codebook cb = build_codebook(kBook);
    return cb;
}

const Codebook& codebook(Book book) {
    switch (book) {
        case Book::kIq2xxs: return cached_codebook<Book::kIq2xxs>();
        case Book::kIq2xs: return cached_codebook<Book::kIq2xs>();
        case Book::kIq2s: return cached_codebook<Book::kIq2s>();
        case Book::kIq3xxs: return cached_codebook<Book::kIq3xxs>();
        case Book::kIq3s: return cached_codebook<Book::kIq3s>();
        case Book::kIq1Plus: return cached_codebook<Book::kIq1Plus>();
        case Book::kIq1Minus: break;
    }
    return cached_codebook<Book::kIq1Minus>();
}

// Weighted squared error of point i against targets t at `scale`.
float point_error(const Codebook& cb, int i, const float* t, const float* w, float scale) {
    const float* g = cb.point(i);
    float err = 0.0f;
    for (int j = 0; j < cb.dim; ++j) {
        const float diff = t[j] - scale * g[j];
        err += w[j] * diff * diff;
    }
    return err;
}

// Approximate nearest point: round each coordinate of t / scale to the alphabet, then search
// that code's candidates only. Used by the scale search; final choices use nearest_point.
int near_point(const Codebook& cb, const float* t, const float* w, float scale) {
    const int base = static_cast<int>(cb.alphabet.size());
    int code = 0;
    for (int j = cb.dim - 1; j >= 0; --j) {
        const float v = t[j] / scale;
        int digit = 0;
        while (digit + 1 < base && v > 0.5f * (cb.alphabet[digit] + cb.alphabet[digit + 1])) {
            ++digit;
        }
        code = code * base + digit;
    }
    float best = std::numeric_limits<float>::infinity();
    int best_index = 0;
    for (uint32_t k = cb.candidate_start[code]; k < cb.candidate_start[code + 1]; ++k) {
        const float err = point_error(cb, cb.candidates[k], t, w, scale);
        if (err < best) {
            best = err;
            best_index = cb.candidates[k];
        }
    }
    return best_index;
}

// Index of the point minimising sum_j w_j (t_j - scale * g_j)^2 (lowest index on ties).
int nearest_point(const Codebook& cb, const float* t, const float* w, float scale) {
    float best = std::numeric_limits<float>::infinity();
    int best_index = 0;
    for (int i = 0; i < cb.count; ++i) {
        const float err = point_error(cb, i, t, w, scale);
        if (err < best) {
            best = err;
            best_index = i;
        }
    }
    return best_index;
}

struct Fit {
    float scale = 0.0f;
    float error = 0.0f;
};

// The least-squares scale (>= 0) of a fixed assignment of n values, and its weighted error.
Fit refit(const Codebook& cb, const float* t, const float* w, int n, const int* index) {
    float tg = 0.0f;
    float gg = 0.0f;
    for (int k = 0; k < n; ++k) {
        const float g = cb.point(index[k / cb.dim])[k % cb.dim];
        tg += w[k] * t[k] * g;
        gg += w[k] * g * g;
    }
    Fit fit;
    fit.scale = (gg > 0.0f && tg > 0.0f) ? tg / gg : 0.0f;
    for (int k = 0; k < n; ++k) {
        const float diff = t[k] - fit.scale * cb.point(index[k / cb.dim])[k % cb.dim];
        fit.error += w[k] * diff * diff;
    }
    return fit;
}

// Best scale and points (index[n / dim]) for one scale group of n <= 32 values.
Fit fit_group(const Codebook& cb, const float* t, const float* w, int n, int* index) {
    const int n_points = n / cb.dim;
    std::fill(index, index + n_points, 0);
    float tmax = 0.0f;
    for (int k = 0; k < n; ++k) tmax = std::max(tmax, std::fabs(t[k]));
    if (tmax == 0.0f) return {};
    Fit best{0.0f, std::numeric_limits<float>::infinity()};
    int trial[32];
    // Starting scales: a sweep around "largest value on the largest level", then tmax / v for
    // each positive alphabet value v (catches groups best served by a uniform point, e.g.
    // constant data; non-positive v give no valid scale and are skipped).
    const int n_starts = kScaleTrials + static_cast<int>(cb.alphabet.size());
    for (int s = 0; s < n_starts; ++s) {
        float scale = s < kScaleTrials
                          ? tmax / cb.max_abs * (0.45f + 0.075f * static_cast<float>(s))
                          : tmax / cb.alphabet[static_cast<size_t>(s - kScaleTrials)];
        for (int pass = 0; pass < 2 && scale > 0.0f; ++pass) {
            for (int p = 0; p < n_points; ++p) {
                trial[p] = near_point(cb, t + p * cb.dim, w + p * cb.dim, scale);
            }
            const Fit fit = refit(cb, t, w, n, trial);
            if (fit.error < best.error) {
                best = fit;
                std::copy(trial, trial + n_points, index);
            }
            scale = fit.scale;
        }
    }
    return best;
}

// One super-block ready for fitting: x = src * 2^-exponent with max |x| in [0.5, 1).
struct BlockInput {
    float x[kQK_K];
    float w[kQK_K];  // error weights, max 1 (uniform when no usable importance is given)
    int exponent = 0;
    bool zero = true;
};

float finite_or(float v, float fallback) { return std::isfinite(v) ? v : fallback; }

void prepare_block(const float* src, const float* importance, BlockInput* in) {
    float amax = 0.0f;
    for (int i = 0; i < kQK_K; ++i) {
        const float v = std::isnan(src[i]) ? 0.0f : std::clamp(src[i], -FLT_MAX, FLT_MAX);
        in->x[i] = v;
        amax = std::max(amax, std::fabs(v));
    }
    in->zero = amax == 0.0f;
    if (!in->zero) {
        std::frexp(amax, &in->exponent);
        for (float& v : in->x) v = std::ldexp(v, -in->exponent);
    }
    float wmax = 0.0f;
    for (int i = 0; i < kQK_K; ++i) {
        in->w[i] = importance ? std::max(0.0f, finite_or(importance[i], 0.0f)) : 1.0f;
        wmax = std::max(wmax, in->w[i]);
    }
    for (float& w : in->w) w = wmax > 0.0f ? w / wmax : 1.0f;
}

// Group scale multiplier for scale code q: a + b * q (0 <= q <= q_max), as dequantized.
struct ScaleRule {
    float a;
    float b;
    int q_max;
};

// Stores the super-block scale (normalised domain) as fp16, saturating; returns what is stored,
// back in the normalised domain.
float store_block_scale(float scale, int exponent, uint16_t* bits) {
    const float v = std::min(std::ldexp(scale, exponent), kHalfMax);
    *bits = float_to_fp16(v);
    return std::ldexp(fp16_to_float(*bits), -exponent);
}

int scale_code(float scale, float d, const ScaleRule& rule) {
    if (!(d > 0.0f)) return 0;
    const float q_max = static_cast<float>(rule.q_max);
    const float q = std::clamp((scale / d - rule.a) / rule.b, 0.0f, q_max);
    return static_cast<int>(std::lround(q));
}

int64_t block_count(int64_t n) {
    RF_CHECK_MSG(n >= 0 && n % kQK_K == 0, "i-quant rows hold whole 256-element super-blocks");
    return n / kQK_K;
}

// ---- formats with a sign per element -------------------------------------------------------

struct SignedSpec {
    Book book;
    int group;    // values sharing one scale code (32 or 16)
    bool parity;  // signs stored as 7-bit codes with an implied even number of negatives
    ScaleRule rule;
};

struct SignedCodes {
    uint16_t d = 0;
    uint8_t q[kMaxGroups] = {};
    uint8_t signs[kQK_K / 8] = {};  // per 8 values, bit j set = value j negative
    uint16_t index[kMaxSub] = {};   // codebook point per `dim` values
};

// Magnitudes to fit plus sign bytes. With `parity`, a group of 8 with an odd count of negatives
// has its cheapest element's sign flipped: that target becomes -|x| (the codebook cannot follow
// it, but no other element has to pay).
void split_signs(const float* x, const float* w, bool parity, float* t, uint8_t* signs) {
    for (int c = 0; c < kQK_K / 8; ++c) {
        unsigned bits = 0;
        int cheapest = 0;
        for (int j = 0; j < 8; ++j) {
            const int i = 8 * c + j;
            t[i] = std::fabs(x[i]);
            if (x[i] < 0.0f) bits |= 1u << j;
            if (w[i] * t[i] < w[8 * c + cheapest] * t[8 * c + cheapest]) cheapest = j;
        }
        if (parity && (std::popcount(bits) & 1)) {
            bits ^= 1u << cheapest;
            t[8 * c + cheapest] = -t[8 * c + cheapest];
        }
        signs[c] = static_cast<uint8_t>(bits);
    }
}

void quantize_signed(const BlockInput& in, const SignedSpec& spec, SignedCodes* out) {
    *out = SignedCodes{};
    if (in.zero) return;
    const Codebook& cb = codebook(spec.book);
    float t[kQK_K];
    split_signs(in.x, in.w, spec.parity, t, out->signs);
    const int n_groups = kQK_K / spec.group;
    const int per_group = spec.group / cb.dim;
    float scales[kMaxGroups];
    int index[kMaxSub];
    float max_scale = 0.0f;
    for (int g = 0; g < n_groups; ++g) {
        const int o = g * spec.group;
        scales[g] = fit_group(cb, t + o, in.w + o, spec.group, index + g * per_group).scale;
        max_scale = std::max(max_scale, scales[g]);
    }
    const float top = spec.rule.a + spec.rule.b * static_cast<float>(spec.rule.q_max);
    const float d = store_block_scale(max_scale / top, in.exponent, &out->d);
    for (int g = 0; g < n_groups; ++g) {
        const int q = scale_code(scales[g], d, spec.rule);
        out->q[g] = static_cast<uint8_t>(q);
        const float s = d * (spec.rule.a + spec.rule.b * static_cast<float>(q));
        for (int p = g * per_group; p < (g + 1) * per_group; ++p) {
            const int o = p * cb.dim;
            out->index[p] = static_cast<uint16_t>(nearest_point(cb, t + o, in.w + o, s));
        }
    }
}

constexpr ScaleRule kIq2Rule{0.125f, 0.25f, 15};   // d * (0.5 + q) / 4
constexpr ScaleRule kIq3xxsRule{0.25f, 0.5f, 15};  // d * (0.5 + q) / 2
constexpr ScaleRule kOddRule{1.0f, 2.0f, 15};      // d * (1 + 2 q)
constexpr ScaleRule kIq1Rule{1.0f, 2.0f, 7};       // d * (1 + 2 q), 3-bit q

// Runs `quantize_block(input, block)` over every super-block of a row.
template <typename Block, typename Fn>
void for_each_block(const float* src, Block* dst, int64_t n, const float* importance, Fn fn) {
    const int64_t nb = block_count(n);
    BlockInput in;
    for (int64_t i = 0; i < nb; ++i) {
        prepare_block(src + i * kQK_K, importance ? importance + i * kQK_K : nullptr, &in);
        dst[i] = Block{};
        fn(in, &dst[i]);
    }
}

// Packs 4 sign codes (7 bits each) and a 4-bit scale code into one word, as IQ2_XXS/IQ3_XXS do.
uint32_t pack_codes_and_scale(const uint8_t* signs, uint8_t q) {
    uint32_t aux = static_cast<uint32_t>(q) << 28;
    for (int l = 0; l < 4; ++l) aux |= static_cast<uint32_t>(signs[l] & 0x7fu) << (7 * l);
    return aux;
}

// ---- IQ1_S: ternary points shifted by +-1/8, no signs -------------------------------------

struct Iq1Codes {
    uint16_t d = 0;
    uint8_t q[kQK_K / 32] = {};
    bool minus_delta[kQK_K / 32] = {};
    uint16_t index[kQK_K / 8] = {};
};

void quantize_iq1(const BlockInput& in, Iq1Codes* out) {
    *out = Iq1Codes{};
    if (in.zero) return;
    const Codebook& plus = codebook(Book::kIq1Plus);
    const Codebook& minus = codebook(Book::kIq1Minus);
    float scales[kQK_K / 32];
    int index[4];
    float max_scale = 0.0f;
    for (int g = 0; g < kQK_K / 32; ++g) {
        const Fit fp = fit_group(plus, in.x + 32 * g, in.w + 32 * g, 32, index);
        const Fit fm = fit_group(minus, in.x + 32 * g, in.w + 32 * g, 32, index);
        out->minus_delta[g] = fm.error < fp.error;
        scales[g] = out->minus_delta[g] ? fm.scale : fp.scale;
        max_scale = std::max(max_scale, scales[g]);
    }
    const float d = store_block_scale(max_scale / 15.0f, in.exponent, &out->d);
    for (int g = 0; g < kQK_K / 32; ++g) {
        const int q = scale_code(scales[g], d, kIq1Rule);
        out->q[g] = static_cast<uint8_t>(q);
        const float s = d * static_cast<float>(1 + 2 * q);
        const Codebook& cb = out->minus_delta[g] ? minus : plus;
        for (int p = 4 * g; p < 4 * g + 4; ++p) {
            const int point = nearest_point(cb, in.x + 8 * p, in.w + 8 * p, s);
            out->index[p] = static_cast<uint16_t>(point);
        }
    }
}

}  // namespace

void quantize_row_iq2_xxs(const float* src, BlockIQ2_XXS* dst, int64_t n, const float* importance) {
    for_each_block(src, dst, n, importance, [](const BlockInput& in, BlockIQ2_XXS* b) {
        SignedCodes c;
        quantize_signed(in, {Book::kIq2xxs, 32, true, kIq2Rule}, &c);
        b->d = c.d;
        for (int ib = 0; ib < kQK_K / 32; ++ib) {
            uint32_t indices = 0;
            for (int l = 0; l < 4; ++l) {
                indices |= static_cast<uint32_t>(c.index[4 * ib + l]) << (8 * l);
            }
            const uint32_t aux = pack_codes_and_scale(c.signs + 4 * ib, c.q[ib]);
            b->qs[4 * ib + 0] = static_cast<uint16_t>(indices);
            b->qs[4 * ib + 1] = static_cast<uint16_t>(indices >> 16);
            b->qs[4 * ib + 2] = static_cast<uint16_t>(aux);
            b->qs[4 * ib + 3] = static_cast<uint16_t>(aux >> 16);
        }
    });
}

void quantize_row_iq2_xs(const float* src, BlockIQ2_XS* dst, int64_t n, const float* importance) {
    for_each_block(src, dst, n, importance, [](const BlockInput& in, BlockIQ2_XS* b) {
        SignedCodes c;
        quantize_signed(in, {Book::kIq2xs, 16, true, kIq2Rule}, &c);
        b->d = c.d;
        for (int p = 0; p < kQK_K / 8; ++p) {
            b->qs[p] = static_cast<uint16_t>(c.index[p] | ((c.signs[p] & 0x7fu) << 9));
        }
        for (int ib = 0; ib < kQK_K / 32; ++ib) {
            b->scales[ib] = static_cast<uint8_t>(c.q[2 * ib] | (c.q[2 * ib + 1] << 4));
        }
    });
}

void quantize_row_iq2_s(const float* src, BlockIQ2_S* dst, int64_t n, const float* importance) {
    for_each_block(src, dst, n, importance, [](const BlockInput& in, BlockIQ2_S* b) {
        SignedCodes c;
        quantize_signed(in, {Book::kIq2s, 16, false, kIq2Rule}, &c);
        b->d = c.d;
        for (int p = 0; p < kQK_K / 8; ++p) {
            b->qs[p] = static_cast<uint8_t>(c.index[p]);
            b->qs[kQK_K / 8 + p] = c.signs[p];
            b->qh[p / 4] |= static_cast<uint8_t>((c.index[p] >> 8) << (2 * (p % 4)));
        }
        for (int ib = 0; ib < kQK_K / 32; ++ib) {
            b->scales[ib] = static_cast<uint8_t>(c.q[2 * ib] | (c.q[2 * ib + 1] << 4));
        }
    });
}

void quantize_row_iq3_xxs(const float* src, BlockIQ3_XXS* dst, int64_t n, const float* importance) {
    for_each_block(src, dst, n, importance, [](const BlockInput& in, BlockIQ3_XXS* b) {
        SignedCodes c;
        quantize_signed(in, {Book::kIq3xxs, 32, true, kIq3xxsRule}, &c);
        b->d = c.d;
        for (int p = 0; p < kQK_K / 4; ++p) b->qs[p] = static_cast<uint8_t>(c.index[p]);
        for (int ib = 0; ib < kQK_K / 32; ++ib) {
            const uint32_t aux = pack_codes_and_scale(c.signs + 4 * ib, c.q[ib]);
            std::memcpy(b->qs + kQK_K / 4 + 4 * ib, &aux, sizeof aux);
        }
    });
}

void quantize_row_iq3_s(const float* src, BlockIQ3_S* dst, int64_t n, const float* importance) {
    for_each_block(src, dst, n, importance, [](const BlockInput& in, BlockIQ3_S* b) {
        SignedCodes c;
        quantize_signed(in, {Book::kIq3s, 32, false, kOddRule}, &c);
        b->d = c.d;
        for (int p = 0; p < kQK_K / 4; ++p) {
            b->qs[p] = static_cast<uint8_t>(c.index[p]);
            b->qh[p / 8] |= static_cast<uint8_t>((c.index[p] >> 8) << (p % 8));
        }
        std::memcpy(b->signs, c.signs, sizeof b->signs);
        for (int ib = 0; ib < kQK_K / 32; ++ib) {
            b->scales[ib / 2] |= static_cast<uint8_t>(c.q[ib] << (4 * (ib % 2)));
        }
    });
}

void quantize_row_iq1_s(const float* src, BlockIQ1_S* dst, int64_t n, const float* importance) {
    for_each_block(src, dst, n, importance, [](const BlockInput& in, BlockIQ1_S* b) {
        Iq1Codes c;
        quantize_iq1(in, &c);
        b->d = c.d;
        for (int ib = 0; ib < kQK_K / 32; ++ib) {
            uint32_t qh = static_cast<uint32_t>(c.q[ib]) << 12;
            if (c.minus_delta[ib]) qh |= 0x8000u;
            for (int l = 0; l < 4; ++l) {
                const uint16_t index = c.index[4 * ib + l];
                b->qs[4 * ib + l] = static_cast<uint8_t>(index);
                qh |= static_cast<uint32_t>(index >> 8) << (3 * l);
            }
            b->qh[ib] = static_cast<uint16_t>(qh);
        }
    });
}

}  // namespace rf::quant

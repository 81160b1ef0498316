// x86 SIMD kernels, part 4: the kernel table of one x86 variant. Integer formats get the direct
// register tiles for decode and the repacked 8-row path for batches; float formats the FMA tiles.
#pragma once

#if !defined(RF_X86_NS)
#error "define RF_X86_NS before including vec_dot_x86_table.h"
#endif

#include "backend/cpu/vec_dot_x86_float.h"
#include "backend/cpu/vec_dot_x86_packed.h"

namespace rf::cpu::RF_X86_NS {

// Token tile heights: one token for mat-vec, more for prefill where each weight block is reused.
inline constexpr int kQ32Tokens = 4;
inline constexpr int kKTokens = 2;
#if defined(__AVX512VL__)
inline constexpr int kPackedTokens = 8;  // 32 vector registers
#else
inline constexpr int kPackedTokens = 4;
#endif
inline constexpr int kPackedKTokens = kPackedTokens / 2;

inline KernelTable make_table(Isa isa) {
    KernelTable t = generic_kernel_table();
    t.isa = isa;
    const auto set = [&t](quant::GgmlType type, GemmKernel k) {
        t.gemm[static_cast<int>(type)] = k;
    };
    using quant::GgmlType;
    // Repack specs: RepackQ32<format, max unsigned value>, RepackK<format, scale block, max>.
    set(GgmlType::kQ4_0, gemm_auto<RepackQ32<FmtQ4_0, 15>, Q32Kernel<FmtQ4_0>, kQ32Tokens>);
    set(GgmlType::kQ4_1, gemm_auto<RepackQ32<FmtQ4_1, 15>, Q32Kernel<FmtQ4_1>, kQ32Tokens>);
    set(GgmlType::kQ5_0, gemm_auto<RepackQ32<FmtQ5_0, 31>, Q32Kernel<FmtQ5_0>, kQ32Tokens>);
    set(GgmlType::kQ5_1, gemm_auto<RepackQ32<FmtQ5_1, 31>, Q32Kernel<FmtQ5_1>, kQ32Tokens>);
    set(GgmlType::kQ8_0, gemm_auto<RepackQ32<FmtQ8_0, 128>, Q32Kernel<FmtQ8_0>, kQ32Tokens>);
    set(GgmlType::kIQ4_NL, gemm_auto<RepackQ32<FmtIQ4_NL, 128>, Q32Kernel<FmtIQ4_NL>, kQ32Tokens>);
    set(GgmlType::kMXFP4, gemm_auto<RepackQ32<FmtMXFP4, 24>, Q32Kernel<FmtMXFP4>, kQ32Tokens>);
    set(GgmlType::kQ2_K, gemm_auto<RepackK<FmtQ2_K, 16, 3>, KKernel<FmtQ2_K>, kKTokens>);
    set(GgmlType::kQ3_K, gemm_auto<RepackK<FmtQ3_K, 16, 7>, KKernel<FmtQ3_K>, kKTokens>);
    set(GgmlType::kQ4_K, gemm_auto<RepackK<FmtQ4_K, 32, 15>, KKernel<FmtQ4_K>, kKTokens>);
    set(GgmlType::kQ5_K, gemm_auto<RepackK<FmtQ5_K, 32, 31>, KKernel<FmtQ5_K>, kKTokens>);
    set(GgmlType::kQ6_K, gemm_auto<RepackK<FmtQ6_K, 16, 63>, KKernel<FmtQ6_K>, kKTokens>);
    set(GgmlType::kIQ4_XS, gemm_auto<RepackK<FmtIQ4_XS, 32, 128>, KKernel<FmtIQ4_XS>, kKTokens>);
    set(GgmlType::kF32, float_gemm_auto<LoadF32>);
    set(GgmlType::kF16, float_gemm_auto<LoadF16>);
    set(GgmlType::kBF16, float_gemm_auto<LoadBF16>);
    t.gemm_packed[static_cast<int>(GgmlType::kQ4_0)] = packed_auto<PackedQ4_0, kPackedTokens>;
    t.gemm_packed[static_cast<int>(GgmlType::kQ8_0)] = packed_auto<PackedQ8_0, kPackedTokens>;
    t.gemm_packed[static_cast<int>(GgmlType::kQ4_K)] = packed_auto<PackedQ4_K, kPackedKTokens>;
    t.gemm_packed[static_cast<int>(GgmlType::kQ6_K)] = packed_auto<PackedQ6_K, kPackedKTokens>;
    t.quantize_q8_32 = quantize_act_q8_32;
    t.quantize_q8_k = quantize_act_q8_k;
    return t;
}

}  // namespace rf::cpu::RF_X86_NS

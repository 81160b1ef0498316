// GGUF metadata key names, spelled exactly as llama.cpp writes and reads them.
// Per-architecture keys are "<arch>.<suffix>": build them with arch_key(arch, kSuffix).
#pragma once

#include <string>
#include <string_view>

namespace rf::gguf::keys {

// ---- general.* ----------------------------------------------------------------------------
inline constexpr std::string_view kGeneralArchitecture = "general.architecture";
inline constexpr std::string_view kGeneralQuantizationVersion = "general.quantization_version";
inline constexpr std::string_view kGeneralAlignment = "general.alignment";
inline constexpr std::string_view kGeneralFileType = "general.file_type";
inline constexpr std::string_view kGeneralType = "general.type";
inline constexpr std::string_view kGeneralName = "general.name";
inline constexpr std::string_view kGeneralAuthor = "general.author";
inline constexpr std::string_view kGeneralVersion = "general.version";
inline constexpr std::string_view kGeneralOrganization = "general.organization";
inline constexpr std::string_view kGeneralBasename = "general.basename";
inline constexpr std::string_view kGeneralFinetune = "general.finetune";
inline constexpr std::string_view kGeneralDescription = "general.description";
inline constexpr std::string_view kGeneralQuantizedBy = "general.quantized_by";
inline constexpr std::string_view kGeneralSizeLabel = "general.size_label";
inline constexpr std::string_view kGeneralLicense = "general.license";
inline constexpr std::string_view kGeneralUrl = "general.url";
inline constexpr std::string_view kGeneralSourceUrl = "general.source.url";

// ---- <arch>.* suffixes ----------------------------------------------------------------------
inline constexpr std::string_view kVocabSize = "vocab_size";
inline constexpr std::string_view kContextLength = "context_length";
inline constexpr std::string_view kEmbeddingLength = "embedding_length";
inline constexpr std::string_view kBlockCount = "block_count";
inline constexpr std::string_view kLeadingDenseBlockCount = "leading_dense_block_count";
inline constexpr std::string_view kFeedForwardLength = "feed_forward_length";
inline constexpr std::string_view kExpertFeedForwardLength = "expert_feed_forward_length";
inline constexpr std::string_view kExpertSharedFeedForwardLength =
    "expert_shared_feed_forward_length";
inline constexpr std::string_view kUseParallelResidual = "use_parallel_residual";
inline constexpr std::string_view kTensorDataLayout = "tensor_data_layout";
inline constexpr std::string_view kExpertCount = "expert_count";
inline constexpr std::string_view kExpertUsedCount = "expert_used_count";
inline constexpr std::string_view kExpertSharedCount = "expert_shared_count";
inline constexpr std::string_view kLogitScale = "logit_scale";
inline constexpr std::string_view kAttnLogitSoftcapping = "attn_logit_softcapping";
inline constexpr std::string_view kFinalLogitSoftcapping = "final_logit_softcapping";

inline constexpr std::string_view kAttentionHeadCount = "attention.head_count";
inline constexpr std::string_view kAttentionHeadCountKv = "attention.head_count_kv";
inline constexpr std::string_view kAttentionMaxAlibiBias = "attention.max_alibi_bias";
inline constexpr std::string_view kAttentionClampKqv = "attention.clamp_kqv";
inline constexpr std::string_view kAttentionKeyLength = "attention.key_length";
inline constexpr std::string_view kAttentionValueLength = "attention.value_length";
inline constexpr std::string_view kAttentionLayerNormEpsilon = "attention.layer_norm_epsilon";
inline constexpr std::string_view kAttentionLayerNormRmsEpsilon =
    "attention.layer_norm_rms_epsilon";
inline constexpr std::string_view kAttentionCausal = "attention.causal";
inline constexpr std::string_view kAttentionSlidingWindow = "attention.sliding_window";

inline constexpr std::string_view kRopeDimensionCount = "rope.dimension_count";
inline constexpr std::string_view kRopeFreqBase = "rope.freq_base";
inline constexpr std::string_view kRopeScaleLinear = "rope.scale_linear";
inline constexpr std::string_view kRopeScalingType = "rope.scaling.type";
inline constexpr std::string_view kRopeScalingFactor = "rope.scaling.factor";
inline constexpr std::string_view kRopeScalingAttnFactor = "rope.scaling.attn_factor";
inline constexpr std::string_view kRopeScalingOrigCtxLen = "rope.scaling.original_context_length";
inline constexpr std::string_view kRopeScalingFinetuned = "rope.scaling.finetuned";

// "<arch>.<suffix>", e.g. arch_key("llama", kBlockCount) == "llama.block_count".
inline std::string arch_key(std::string_view arch, std::string_view suffix) {
    std::string key;
    key.reserve(arch.size() + 1 + suffix.size());
    key.append(arch).append(".").append(suffix);
    return key;
}

// ---- tokenizer.* ----------------------------------------------------------------------------
inline constexpr std::string_view kTokenizerModel = "tokenizer.ggml.model";
inline constexpr std::string_view kTokenizerPre = "tokenizer.ggml.pre";
inline constexpr std::string_view kTokenizerTokens = "tokenizer.ggml.tokens";
inline constexpr std::string_view kTokenizerTokenType = "tokenizer.ggml.token_type";
inline constexpr std::string_view kTokenizerTokenTypeCount = "tokenizer.ggml.token_type_count";
inline constexpr std::string_view kTokenizerScores = "tokenizer.ggml.scores";
inline constexpr std::string_view kTokenizerMerges = "tokenizer.ggml.merges";
inline constexpr std::string_view kTokenizerBosId = "tokenizer.ggml.bos_token_id";
inline constexpr std::string_view kTokenizerEosId = "tokenizer.ggml.eos_token_id";
inline constexpr std::string_view kTokenizerEotId = "tokenizer.ggml.eot_token_id";
inline constexpr std::string_view kTokenizerEomId = "tokenizer.ggml.eom_token_id";
inline constexpr std::string_view kTokenizerUnknownId = "tokenizer.ggml.unknown_token_id";
// llama.cpp spells this key "seperator"; files carry that spelling.
inline constexpr std::string_view kTokenizerSeparatorId = "tokenizer.ggml.seperator_token_id";
inline constexpr std::string_view kTokenizerPaddingId = "tokenizer.ggml.padding_token_id";
inline constexpr std::string_view kTokenizerClsId = "tokenizer.ggml.cls_token_id";
inline constexpr std::string_view kTokenizerMaskId = "tokenizer.ggml.mask_token_id";
inline constexpr std::string_view kTokenizerAddBos = "tokenizer.ggml.add_bos_token";
inline constexpr std::string_view kTokenizerAddEos = "tokenizer.ggml.add_eos_token";
inline constexpr std::string_view kTokenizerAddSpacePrefix = "tokenizer.ggml.add_space_prefix";
inline constexpr std::string_view kTokenizerRemoveExtraWhitespaces =
    "tokenizer.ggml.remove_extra_whitespaces";
inline constexpr std::string_view kTokenizerPrecompiledCharsmap =
    "tokenizer.ggml.precompiled_charsmap";
inline constexpr std::string_view kTokenizerFimPreId = "tokenizer.ggml.fim_pre_token_id";
inline constexpr std::string_view kTokenizerFimSufId = "tokenizer.ggml.fim_suf_token_id";
inline constexpr std::string_view kTokenizerFimMidId = "tokenizer.ggml.fim_mid_token_id";
inline constexpr std::string_view kTokenizerFimPadId = "tokenizer.ggml.fim_pad_token_id";
inline constexpr std::string_view kTokenizerFimRepId = "tokenizer.ggml.fim_rep_token_id";
inline constexpr std::string_view kTokenizerFimSepId = "tokenizer.ggml.fim_sep_token_id";
inline constexpr std::string_view kTokenizerHfJson = "tokenizer.huggingface.json";
inline constexpr std::string_view kTokenizerRwkvWorld = "tokenizer.rwkv.world";
inline constexpr std::string_view kTokenizerChatTemplate = "tokenizer.chat_template";
inline constexpr std::string_view kTokenizerPrefix = "tokenizer.";

}  // namespace rf::gguf::keys

// Writes the server tests' tiny model: LLaMA tensors with uniform random weights plus an SPM
// vocabulary and a ChatML chat template in the GGUF metadata.
#include "test_model.h"

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include <fmt/format.h>

#include "gguf/gguf_writer.h"

namespace rf::testing {
namespace {

using gguf::Value;

constexpr const char* kChatMl =
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + "
    "'<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}"
    "{% endif %}";

struct Vocab {
    std::vector<std::string> tokens;
    std::vector<float> scores;
    std::vector<int32_t> types;
    void add(std::string text, float score, int32_t type) {
        tokens.push_back(std::move(text));
        scores.push_back(score);
        types.push_back(type);
    }
};

Vocab make_vocab() {
    Vocab v;
    v.add("<unk>", 0.0f, 2);
    v.add("<s>", 0.0f, 3);
    v.add("</s>", 0.0f, 3);
    v.add("<|im_start|>", 0.0f, 3);
    v.add("<|im_end|>", 0.0f, 3);
    for (int b = 0; b < 256; ++b) v.add(fmt::format("<0x{:02X}>", b), 0.0f, 6);
    v.add("\xE2\x96\x81", -2.0f, 1);  // "▁"
    for (char c = 'a'; c <= 'z'; ++c) v.add(std::string(1, c), -3.0f, 1);
    const char* words[] = {"the", "and", "hello", "world", "you", "are", "system", "user",
                           "story", "river", "stone", "green"};
    float score = -1.0f;
    for (const char* w : words) {
        v.add("\xE2\x96\x81" + std::string(w), score, 1);
        score -= 0.01f;
    }
    return v;
}

class TensorWriter {
public:
    TensorWriter(gguf::GgufWriter& w, unsigned seed) : w_(w), rng_(seed) {}
    Status add(const std::string& name, std::vector<uint64_t> ne, float center, float spread) {
        size_t n = 1;
        for (uint64_t d : ne) n *= d;
        std::uniform_real_distribution<float> dist(center - spread, center + spread);
        std::vector<uint8_t> bytes(n * 4);
        for (size_t i = 0; i < n; ++i) {
            const float x = dist(rng_);
            std::memcpy(bytes.data() + 4 * i, &x, 4);
        }
        return w_.add_tensor(name, quant::GgmlType::kF32, std::move(ne), std::move(bytes));
    }
    Status matrix(const std::string& name, uint64_t n_in, uint64_t n_out) {
        return add(name, {n_in, n_out}, 0.0f, 1.7f / std::sqrt(static_cast<float>(n_in)));
    }

private:
    gguf::GgufWriter& w_;
    std::mt19937 rng_;
};

void write_metadata(gguf::GgufWriter& w, const ServerModelConfig& c, const Vocab& v) {
    w.set("general.architecture", Value::string("llama"));
    w.set("general.name", Value::string("server-test-tiny"));
    w.set("llama.context_length", Value::u32(static_cast<uint32_t>(c.n_ctx_train)));
    w.set("llama.embedding_length", Value::u32(static_cast<uint32_t>(c.n_embd)));
    w.set("llama.block_count", Value::u32(static_cast<uint32_t>(c.n_layer)));
    w.set("llama.feed_forward_length", Value::u32(static_cast<uint32_t>(c.n_embd * 3 / 2)));
    w.set("llama.attention.head_count", Value::u32(4));
    w.set("llama.attention.head_count_kv", Value::u32(2));
    w.set("llama.attention.layer_norm_rms_epsilon", Value::f32(1e-5f));
    w.set("llama.rope.freq_base", Value::f32(10000.0f));
    w.set("tokenizer.ggml.model", Value::string("llama"));
    w.set("tokenizer.ggml.tokens", Value::string_array(v.tokens));
    w.set("tokenizer.ggml.scores", Value::f32_array(v.scores));
    w.set("tokenizer.ggml.token_type", Value::i32_array(v.types));
    w.set("tokenizer.ggml.unknown_token_id", Value::u32(0));
    w.set("tokenizer.ggml.bos_token_id", Value::u32(1));
    w.set("tokenizer.ggml.eos_token_id", Value::u32(2));
    w.set("tokenizer.ggml.eot_token_id", Value::u32(4));
    w.set("tokenizer.ggml.add_bos_token", Value::boolean(true));
    w.set("tokenizer.ggml.add_eos_token", Value::boolean(false));
    if (c.chat_template) w.set("tokenizer.chat_template", Value::string(kChatMl));
}

}  // namespace

Status write_server_test_model(const std::string& path, const ServerModelConfig& c) {
    const Vocab vocab = make_vocab();
    gguf::GgufWriter w;
    write_metadata(w, c, vocab);
    TensorWriter t(w, c.seed);
    const uint64_t E = static_cast<uint64_t>(c.n_embd);
    const uint64_t head_dim = E / 4;
    const uint64_t kv = 2 * head_dim;
    const uint64_t F = E * 3 / 2;
    RF_RETURN_IF_ERROR(t.add("token_embd.weight", {E, vocab.tokens.size()}, 0.0f, 1.0f));
    RF_RETURN_IF_ERROR(t.add("output_norm.weight", {E}, 1.0f, 0.2f));
    RF_RETURN_IF_ERROR(t.matrix("output.weight", E, vocab.tokens.size()));
    for (int il = 0; il < c.n_layer; ++il) {
        const std::string b = "blk." + std::to_string(il) + ".";
        RF_RETURN_IF_ERROR(t.add(b + "attn_norm.weight", {E}, 1.0f, 0.2f));
        RF_RETURN_IF_ERROR(t.matrix(b + "attn_q.weight", E, E));
        RF_RETURN_IF_ERROR(t.matrix(b + "attn_k.weight", E, kv));
        RF_RETURN_IF_ERROR(t.matrix(b + "attn_v.weight", E, kv));
        RF_RETURN_IF_ERROR(t.matrix(b + "attn_output.weight", E, E));
        RF_RETURN_IF_ERROR(t.add(b + "ffn_norm.weight", {E}, 1.0f, 0.2f));
        RF_RETURN_IF_ERROR(t.matrix(b + "ffn_gate.weight", E, F));
        RF_RETURN_IF_ERROR(t.matrix(b + "ffn_up.weight", E, F));
        RF_RETURN_IF_ERROR(t.matrix(b + "ffn_down.weight", F, E));
    }
    return w.write_file(path);
}

}  // namespace rf::testing

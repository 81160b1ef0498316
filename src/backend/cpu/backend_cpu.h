// The CPU implementation of engine::Backend: weights stay in the mapped file (zero copy),
// activations and the paged KV cache in host memory, ops threaded over a ThreadPool.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "backend/cpu/ops_attention.h"
#include "backend/cpu/ops_moe.h"
#include "core/thread_pool.h"
#include "engine/backend.h"

namespace rf::cpu {

class CpuBackend final : public engine::Backend {
public:
    // n_threads <= 0: one per hardware thread.
    explicit CpuBackend(int n_threads = 0);
    ~CpuBackend() override;

    std::string name() const override { return "CPU"; }
    int n_threads() const { return pool_.size(); }
    ThreadPool& pool() { return pool_; }

    Result<engine::Tensor> upload_weight(const engine::WeightSource& src) override;
    engine::Tensor alloc_activation(int64_t ne0, int64_t ne1) override;
    Status alloc_kv(const engine::KvLayout& layout) override;
    void copy_kv_block(int32_t src, int32_t dst) override;

    void set_batch(const engine::BatchInfo& batch) override;
    void get_rows(const engine::Tensor& table, engine::Tensor& out) override;
    void rms_norm(const engine::Tensor& x, const engine::Tensor& w, float eps,
                  engine::Tensor& out) override;
    void matmul(const engine::Tensor& w, const engine::Tensor& x, engine::Tensor& y) override;
    void add_bias(engine::Tensor& x, const engine::Tensor& b) override;
    void add(const engine::Tensor& a, const engine::Tensor& b, engine::Tensor& out) override;
    void swiglu(const engine::Tensor& gate, const engine::Tensor& up, engine::Tensor& out) override;
    void rope(engine::Tensor& x, int32_t n_head, const engine::RopeParams& params) override;
    void store_kv(int32_t il, const engine::Tensor& k, const engine::Tensor& v) override;
    void attention(int32_t il, const engine::Tensor& q, engine::Tensor& out,
                   const engine::AttentionParams& p) override;
    void moe_ffn(const engine::Tensor& x, const engine::MoeWeights& w, const engine::MoeParams& p,
                 engine::Tensor& out) override;
    void gather_output_rows(const engine::Tensor& x, engine::Tensor& out) override;
    void read(const engine::Tensor& t, std::span<float> host) override;
    void write(engine::Tensor& t, std::span<const float> host) override;

private:
    struct FreeDeleter {
        void operator()(void* p) const;
    };
    using Buffer = std::unique_ptr<void, FreeDeleter>;

    PagedKv layer_kv(int32_t il) const;
    // Runs fn(row_begin, row_end) over n_rows rows, threaded when the work is large enough.
    template <typename Fn>
    void for_rows(int64_t n_rows, int64_t row_width, Fn&& fn);

    ThreadPool pool_;
    bool pack_weights_ = true;
    std::vector<Buffer> weights_;  // repacked copies of matmul weights
    std::vector<Buffer> activations_;
    engine::KvLayout kv_layout_;
    Buffer kv_memory_;
    size_t kv_block_bytes_k_ = 0;  // one block of one layer, all KV heads
    size_t kv_block_bytes_v_ = 0;
    engine::BatchInfo batch_;
    uint64_t batch_serial_ = 0;
    // RoPE angle table of the current batch, reused by Q and K of every layer.
    std::vector<float> rope_cos_, rope_sin_;
    uint64_t rope_serial_ = 0;
    engine::RopeParams rope_key_;
    AttentionScratch attention_scratch_;
    MoeScratch moe_scratch_;
};

}  // namespace rf::cpu

// peer_rtneural.cpp — RTNeural as a peer for bench_peers.c: its compile-time
// API (ModelT with LSTMLayerT/GRULayerT, sizes fixed when this file is
// built: the benchmark's six) and its run-time API (Model with LSTMLayer /
// GRULayer). The backend (Eigen, xsimd or STL) is whatever the build
// defines (RTNEURAL_USE_EIGEN / RTNEURAL_USE_XSIMD); run.sh builds one
// program per backend and flag set.
#include <RTNeural.h>

#include <algorithm>
#include <memory>
#include <type_traits>
#include <vector>

#include "peer.h"

#ifndef PEER_BUILD
#define PEER_BUILD "rtneural"
#endif

struct PeerModel {
    virtual ~PeerModel() = default;
    virtual void process(const float *in, float *out, size_t n) = 0;
    virtual void reset() = 0;
};

namespace {
using Mat = std::vector<std::vector<float>>;

// PyTorch's [rows][cols] row-major to RTNeural's [cols][rows]. RTNeural
// keeps Keras's GRU gate order (z, r, n), so for a GRU the first two
// blocks of H swap.
Mat transposed(const float *w, int rows, int cols, int swap_h)
{
    Mat m((size_t)cols, std::vector<float>((size_t)rows));
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++)
            m[(size_t)c][(size_t)r] = w[(size_t)r * (size_t)cols + (size_t)c];
    if (swap_h)
        for (auto &v : m)
            std::swap_ranges(v.begin(), v.begin() + swap_h, v.begin() + swap_h);
    return m;
}

template <bool GRU, class Layer, class Dense> void load(Layer &l, Dense &d, const PeerWeights *w)
{
    const int H = w->hidden, G = w->gru ? 3 : 4, swap = w->gru ? H : 0;
    l.setWVals(transposed(w->w_ih, G * H, 1, swap));
    l.setUVals(transposed(w->w_hh, G * H, H, swap));
    if constexpr (GRU) { // an input and a recurrent bias
        Mat b{std::vector<float>(w->b_ih, w->b_ih + G * H), std::vector<float>(w->b_hh, w->b_hh + G * H)};
        for (auto &v : b)
            std::swap_ranges(v.begin(), v.begin() + H, v.begin() + H);
        l.setBVals(b);
    } else { // one bias: the sum
        std::vector<float> b((size_t)(G * H));
        for (int i = 0; i < G * H; i++)
            b[(size_t)i] = w->b_ih[i] + w->b_hh[i];
        l.setBVals(b);
    }
    d.setWeights(Mat{std::vector<float>(w->dense_w, w->dense_w + H)});
    float db = w->dense_b;
    d.setBias(&db);
}

template <int H, bool GRU> struct CompileTime final : PeerModel {
    using Layer = std::conditional_t<GRU, RTNeural::GRULayerT<float, 1, H>, RTNeural::LSTMLayerT<float, 1, H>>;
    RTNeural::ModelT<float, 1, 1, Layer, RTNeural::DenseT<float, H, 1>> m;
    explicit CompileTime(const PeerWeights *w)
    {
        load<GRU>(m.template get<0>(), m.template get<1>(), w);
        m.reset();
    }
    void process(const float *in, float *out, size_t n) override
    {
        for (size_t i = 0; i < n; i++)
            out[i] = m.forward(in + i);
    }
    void reset() override { m.reset(); }
};

struct RunTime final : PeerModel {
    RTNeural::Model<float> m{1};
    explicit RunTime(const PeerWeights *w)
    {
        auto *d = new RTNeural::Dense<float>(w->hidden, 1);
        if (w->gru) {
            auto *l = new RTNeural::GRULayer<float>(1, w->hidden);
            load<true>(*l, *d, w);
            m.addLayer(l);
        } else {
            auto *l = new RTNeural::LSTMLayer<float>(1, w->hidden);
            load<false>(*l, *d, w);
            m.addLayer(l);
        }
        m.addLayer(d);
        m.reset();
    }
    void process(const float *in, float *out, size_t n) override
    {
        for (size_t i = 0; i < n; i++)
            out[i] = m.forward(in + i);
    }
    void reset() override { m.reset(); }
};

template <bool GRU> PeerModel *compile_time(const PeerWeights *w)
{
    switch (w->hidden) {
    case 8: return new CompileTime<8, GRU>(w);
    case 16: return new CompileTime<16, GRU>(w);
    case 32: return new CompileTime<32, GRU>(w);
    case 40: return new CompileTime<40, GRU>(w);
    case 64: return new CompileTime<64, GRU>(w);
    case 96: return new CompileTime<96, GRU>(w);
    default: return nullptr;
    }
}

PeerModel *create_ct(const PeerWeights *w) { return w->gru ? compile_time<true>(w) : compile_time<false>(w); }
PeerModel *create_rt(const PeerWeights *w) { return new RunTime(w); }
void process(PeerModel *m, const float *in, float *out, size_t n) { m->process(in, out, n); }
void reset(PeerModel *m) { m->reset(); }
void destroy(PeerModel *m) { delete m; }

const PeerApi apis[] = {
    {PEER_BUILD "/compile-time", create_ct, process, reset, destroy},
    {PEER_BUILD "/run-time", create_rt, process, reset, destroy},
};
} // namespace

extern "C" const PeerApi *peer_list(int *n)
{
    *n = (int)(sizeof apis / sizeof apis[0]);
    return apis;
}

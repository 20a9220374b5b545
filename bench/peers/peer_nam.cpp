// peer_nam.cpp — Neural Amp Modeler's LSTM (NeuralAmpModelerCore,
// nam::lstm::LSTM) as a peer for bench_peers.c, with its exact activations
// (tanhf) and with its fast tanh (a global switch in NAM). NAM has no GRU.
#include <memory>
#include <vector>

#include "NAM/activations.h"
#include "NAM/lstm.h"
#include "peer.h"

#ifndef PEER_BUILD
#define PEER_BUILD "nam"
#endif

struct PeerModel {
    std::vector<float> weights; // NAM's flat layout, kept for reset()
    int hidden = 0;
    bool fast = false;
    std::unique_ptr<nam::lstm::LSTM> m;
    void build()
    {
        std::vector<float> w = weights; // NAM's constructor takes a non-const reference
        m = std::make_unique<nam::lstm::LSTM>(1, 1, 1, 1, hidden, w, 48000.0);
    }
};

namespace {
// NAM's order: the cell's [4H][1 + H] matrix row-major (input column
// first, PyTorch's gate order), the summed biases [4H], the initial h and
// c [H] each, then the head's weights [H] and bias.
PeerModel *create(const PeerWeights *w, bool fast)
{
    if (w->gru)
        return nullptr;
    auto *p = new PeerModel;
    const int H = w->hidden, G = 4;
    p->hidden = H;
    p->fast = fast;
    for (int r = 0; r < G * H; r++) {
        p->weights.push_back(w->w_ih[r]);
        for (int c = 0; c < H; c++)
            p->weights.push_back(w->w_hh[(size_t)r * (size_t)H + (size_t)c]);
    }
    for (int r = 0; r < G * H; r++)
        p->weights.push_back(w->b_ih[r] + w->b_hh[r]);
    p->weights.insert(p->weights.end(), (size_t)(2 * H), 0.0f);
    p->weights.insert(p->weights.end(), w->dense_w, w->dense_w + H);
    p->weights.push_back(w->dense_b);
    p->build();
    return p;
}

PeerModel *create_exact(const PeerWeights *w) { return create(w, false); }
PeerModel *create_fast(const PeerWeights *w) { return create(w, true); }

void process(PeerModel *p, const float *in, float *out, size_t n)
{
    if (p->fast)
        nam::activations::Activation::enable_fast_tanh();
    else
        nam::activations::Activation::disable_fast_tanh();
    float *ip = const_cast<float *>(in), *op = out;
    p->m->process(&ip, &op, (int)n);
}

void reset(PeerModel *p) { p->build(); }
void destroy(PeerModel *p) { delete p; }

const PeerApi apis[] = {
    {PEER_BUILD "/lstm", create_exact, process, reset, destroy},
    {PEER_BUILD "/lstm-fast-tanh", create_fast, process, reset, destroy},
};
} // namespace

extern "C" const PeerApi *peer_list(int *n)
{
    *n = (int)(sizeof apis / sizeof apis[0]);
    return apis;
}

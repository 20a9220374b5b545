/*
 * peer.h — how bench_peers.c drives another engine: a one-layer audio
 * model (input 1, one LSTM or GRU layer, dense output 1) built from
 * PyTorch-layout weights, run in blocks. Each adapter (peer_*.cpp) is
 * C++ because the engines it wraps are; this C interface keeps the
 * benchmark itself in C and the adapters free of rnnfx's headers.
 */
#ifndef RNNFX_BENCH_PEER_H
#define RNNFX_BENCH_PEER_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* PyTorch's tensors of torch.nn.LSTM / GRU (gates i, f, g, o / r, z, n),
 * row-major, plus the dense output's weights [hidden] and bias. */
typedef struct {
    int gru; /* 0 LSTM, 1 GRU */
    int hidden;
    const float *w_ih, *w_hh, *b_ih, *b_hh; /* [G*H][1], [G*H][H], [G*H], [G*H] */
    const float *dense_w;
    float dense_b;
} PeerWeights;

typedef struct PeerModel PeerModel;

typedef struct {
    const char *name; /* engine, API and build, e.g. "rtneural-xsimd/compile-time" */
    /* NULL if the engine has no such model (a cell or a size it cannot build). */
    PeerModel *(*create)(const PeerWeights *w);
    void (*process)(PeerModel *m, const float *in, float *out, size_t n);
    void (*reset)(PeerModel *m);
    void (*destroy)(PeerModel *m);
} PeerApi;

/* The engines this program was built with; *n gets their count. */
const PeerApi *peer_list(int *n);

#ifdef __cplusplus
}
#endif

#endif

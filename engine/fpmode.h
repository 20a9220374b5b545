/*
 * fpmode.h — flush-to-zero / denormals-are-zero around engine work (internal).
 *
 * Decaying recurrent state and tiny gradients would otherwise hit the CPU's
 * denormal slow path. The mode is set on entry and the caller's mode restored
 * on exit, so a host's floating-point mode is never changed behind its back.
 * MXCSR is per thread: each thread that runs engine work brackets it itself.
 * On machines without MXCSR these are no-ops.
 *
 * Thread: any, audio included (two register moves).
 */
#ifndef RNNFX_FPMODE_H
#define RNNFX_FPMODE_H

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif

typedef struct {
    unsigned csr;
} RnnfxFpMode;

static inline RnnfxFpMode rnnfx_fp_enter(void)
{
    RnnfxFpMode m = {0};
#if defined(__x86_64__) || defined(__i386__)
    m.csr = _mm_getcsr();
    _mm_setcsr(m.csr | 0x8040u); /* FTZ | DAZ */
#endif
    return m;
}

static inline void rnnfx_fp_leave(RnnfxFpMode m)
{
#if defined(__x86_64__) || defined(__i386__)
    _mm_setcsr(m.csr);
#else
    (void)m;
#endif
}

#endif

/*
 * resample_avx512.c — the resampler's inner loop (resample_kern.inc) for
 * CPUs with AVX-512; used only when CPUID reports it (see resample.c).
 */
#if defined(__x86_64__) && defined(__AVX512F__)
#define KERN_SUFFIX avx512
#include "resample_kern.inc"
#else
typedef int rnnfx_resample_avx512_unused; /* ISO C forbids an empty unit */
#endif

/*
 * resample_avx2.c — the resampler's inner loop (resample_kern.inc) for CPUs
 * with AVX2 and FMA; used only when CPUID reports them (see resample.c).
 */
#if defined(__x86_64__) && defined(__AVX2__) && defined(__FMA__)
#define KERN_SUFFIX avx2
#include "resample_kern.inc"
#else
typedef int rnnfx_resample_avx2_unused; /* ISO C forbids an empty unit */
#endif

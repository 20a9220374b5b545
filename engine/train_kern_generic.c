/*
 * train_kern_generic.c — the trainer's inner loops (train_kern.inc) compiled
 * for the baseline instruction set; always built and always usable.
 */
#define KERN_TABLE rnnfx_train_kernels_generic
#define KERN_NAME "generic"
#define KERN_SUFFIX generic
#include "train_kern.inc"

#include <stdlib.h>

/* The choice is made from CPUID each call (cheap) rather than cached in a
 * global, so there is no data race when several trainers start at once. */
const RnnfxTrainKernels *rnnfx_train_kernels_select(void)
{
    const char *force = getenv("RNNFX_TRAIN_KERNELS");
#if defined(__GNUC__) && defined(__x86_64__)
    __builtin_cpu_init();
    int has512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
                 __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw");
    int has2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (force && strcmp(force, "generic") == 0)
        return &rnnfx_train_kernels_generic;
    if (force && strcmp(force, "avx2") == 0 && has2)
        return &rnnfx_train_kernels_avx2;
    if (has512 && !(force && strcmp(force, "avx2") == 0))
        return &rnnfx_train_kernels_avx512;
    if (has2)
        return &rnnfx_train_kernels_avx2;
#else
    (void)force;
#endif
    return &rnnfx_train_kernels_generic;
}

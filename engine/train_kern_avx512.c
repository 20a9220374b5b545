/*
 * train_kern_avx512.c — the trainer's inner loops (train_kern.inc) compiled
 * with avx512 flags (added by the Makefile from this file's name); used only when
 * the CPU reports avx512 support (see train_kern_generic.c).
 */
#define KERN_TABLE rnnfx_train_kernels_avx512
#define KERN_NAME "avx512"
#define KERN_SUFFIX avx512
#include "train_kern.inc"

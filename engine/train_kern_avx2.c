/*
 * train_kern_avx2.c — the trainer's inner loops (train_kern.inc) compiled
 * with avx2 flags (added by the Makefile from this file's name); used only when
 * the CPU reports avx2 support (see train_kern_generic.c).
 */
#define KERN_TABLE rnnfx_train_kernels_avx2
#define KERN_NAME "avx2"
#define KERN_SUFFIX avx2
#include "train_kern.inc"

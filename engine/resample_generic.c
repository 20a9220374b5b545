/*
 * resample_generic.c — the resampler's inner loop (resample_kern.inc) for
 * the baseline instruction set; always built and always usable.
 */
#define KERN_SUFFIX generic
#include "resample_kern.inc"

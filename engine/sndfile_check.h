/*
 * sndfile_check.h — what libsndfile only tells its log: that a sound file
 * was cut short.
 *
 * libsndfile opens a file whose audio was cut short (an aborted copy or
 * recording) without complaint and reads the frames present; only its log
 * says that a chunk is shorter than the header claims, in a different
 * wording per format ("data : N (should be M)" in WAV, " SSND : ..." in
 * AIFF, "Data Size : ..." in AU, the RIFF/FORM/riff size in W64 and RF64).
 * Rendering, training or convolving with half a take must not pass
 * quietly, so every reader of sound files asks here (the tools' audio
 * reader and the engine's impulse-response reader).
 *
 * What this is not: a validator of whole files (libsndfile refuses what it
 * cannot parse).
 */
#ifndef RNNFX_SNDFILE_CHECK_H
#define RNNFX_SNDFILE_CHECK_H

#include <stddef.h>

#include <sndfile.h>

/* 1 when sf's log reports a size from the header more than 16 bytes past
 * what the file holds (a pad byte or a writer's miscount is not a cut),
 * with msg saying so ("truncated: ..."); 0 otherwise. Sizes from
 * 0x7F000000 up are the placeholders of recordings streamed through a
 * pipe, whose length was unknown when the header went out, and pass.
 * Thread: any, not audio (only for a file just opened). */
int rnnfx_sndfile_truncated(SNDFILE *sf, char *msg, size_t len);

#endif

/*
 * seqlock.h — a sequence lock for what save() stores (internal to the
 * plugins).
 *
 * LV2 lets a host call save() while run() plays, and the audio thread
 * changes what save stores (the model's path, the generator). The audio
 * thread writes between rnnfx_seq_write_begin and _end (two stores, no
 * lock, no wait); save copies between rnnfx_seq_read_begin and
 * rnnfx_seq_read_retry, and copies again while a write overlapped it.
 */
#ifndef RNNFX_SEQLOCK_H
#define RNNFX_SEQLOCK_H

#include <sched.h>
#include <stdatomic.h>

/* Thread: the one writer (audio). The count is odd while a write runs. */
static inline void rnnfx_seq_write_begin(atomic_uint *seq)
{
    const unsigned s = atomic_load_explicit(seq, memory_order_relaxed);
    atomic_store_explicit(seq, s + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
}

static inline void rnnfx_seq_write_end(atomic_uint *seq)
{
    const unsigned s = atomic_load_explicit(seq, memory_order_relaxed);
    atomic_store_explicit(seq, s + 1, memory_order_release);
}

/* Thread: a reader (save). Waits out a write under way (microseconds)
 * and returns the count to give rnnfx_seq_read_retry. */
static inline unsigned rnnfx_seq_read_begin(atomic_uint *seq)
{
    for (;;) {
        const unsigned s = atomic_load_explicit(seq, memory_order_acquire);
        if (!(s & 1u))
            return s;
        sched_yield();
    }
}

/* Whether a write overlapped the copy made since rnnfx_seq_read_begin
 * returned s (then copy again). */
static inline int rnnfx_seq_read_retry(atomic_uint *seq, unsigned s)
{
    atomic_thread_fence(memory_order_acquire);
    return atomic_load_explicit(seq, memory_order_relaxed) != s;
}

#endif

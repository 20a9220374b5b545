/*
 * run_guard.h — keeps restore() out of a running run() (internal to the
 * plugins).
 *
 * LV2 puts restore() in the instantiation class: never at the same time as
 * run(). Not every host keeps that rule: Ardour 7 loads a preset from its
 * GUI thread while the audio thread plays (LV2Plugin::load_preset calls
 * lilv_state_restore under no process lock), and restore() swaps cores,
 * frees retired ones and rewrites settings that run() is using. A state
 * word keeps the two apart without making the audio thread wait: run()
 * takes the word only if it is idle, and otherwise plays silence for that
 * cycle; restore() waits (off the audio thread, a cycle at most) until it
 * can take the word. A host that keeps the rule never sees either path.
 */
#ifndef RNNFX_RUN_GUARD_H
#define RNNFX_RUN_GUARD_H

#include <stdatomic.h>
#include <time.h>

enum { RNNFX_GUARD_IDLE = 0, RNNFX_GUARD_RUN, RNNFX_GUARD_RESTORE };

/* Thread: audio. 1 if run() may go ahead (release it with
 * rnnfx_guard_leave), 0 while a restore holds the plugin. No wait. */
static inline int rnnfx_guard_try_run(atomic_int *g)
{
    int idle = RNNFX_GUARD_IDLE;
    return atomic_compare_exchange_strong_explicit(g, &idle, RNNFX_GUARD_RUN,
                                                   memory_order_acquire, memory_order_relaxed);
}

/* Thread: restore (not audio). Waits until no run() is under way, in
 * 100 us sleeps, then holds the plugin until rnnfx_guard_leave. */
static inline void rnnfx_guard_restore_enter(atomic_int *g)
{
    for (;;) {
        int idle = RNNFX_GUARD_IDLE;
        if (atomic_compare_exchange_weak_explicit(g, &idle, RNNFX_GUARD_RESTORE,
                                                  memory_order_acquire, memory_order_relaxed))
            return;
        const struct timespec ts = {0, 100000};
        nanosleep(&ts, NULL);
    }
}

/* Thread: whoever entered. */
static inline void rnnfx_guard_leave(atomic_int *g)
{
    atomic_store_explicit(g, RNNFX_GUARD_IDLE, memory_order_release);
}

#endif

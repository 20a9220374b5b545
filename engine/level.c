/*
 * level.c — a capture's gain on a reference guitar part, K-weighted (see
 * level.h for what the figure means).
 *
 * The reference is synthesised here rather than stored, so the engine ships
 * no audio data and the signal exists at any sample rate: each note is an
 * ideal plucked string as a magnetic pickup hears it (harmonic k at
 * sin(k pi p) / k for a pick at p = 0.18 of the string, each decaying
 * faster than the one below), with a 2 ms attack so no note starts with a
 * click.
 */
#include "level.h"

#include <math.h>

static const double PI = 3.14159265358979323846;

/* ---- K-weighting -----------------------------------------------------------
 * The two analogue prototypes behind BS.1770's 48 kHz coefficients, as
 * fitted in the open literature on the standard (a shelf of +4.0 dB about
 * 1682 Hz, a second-order high-pass at 38.1 Hz), taken to `rate` by the
 * bilinear transform with the frequencies pre-warped. The test checks the
 * result against the standard's published 48 kHz coefficients. */

static void biquad_clear(RnnfxBiquad *q) { q->z1 = q->z2 = 0.0; }

void rnnfx_kweight_init(RnnfxKWeight *k, double rate)
{
    /* the shelf */
    const double f_s = 1681.974450955533, g_db = 3.999843853973347, q_s = 0.7071752369554196;
    double K = tan(PI * f_s / rate);
    const double vh = pow(10.0, g_db / 20.0), vb = pow(vh, 0.4996667741545416);
    double a0 = 1.0 + K / q_s + K * K;
    k->shelf.b0 = (vh + vb * K / q_s + K * K) / a0;
    k->shelf.b1 = 2.0 * (K * K - vh) / a0;
    k->shelf.b2 = (vh - vb * K / q_s + K * K) / a0;
    k->shelf.a1 = 2.0 * (K * K - 1.0) / a0;
    k->shelf.a2 = (1.0 - K / q_s + K * K) / a0;
    /* the high-pass (numerator 1, -2, 1 unscaled, as the standard gives it) */
    const double f_h = 38.13547087602444, q_h = 0.5003270373238773;
    K = tan(PI * f_h / rate);
    a0 = 1.0 + K / q_h + K * K;
    k->highpass.b0 = 1.0;
    k->highpass.b1 = -2.0;
    k->highpass.b2 = 1.0;
    k->highpass.a1 = 2.0 * (K * K - 1.0) / a0;
    k->highpass.a2 = (1.0 - K / q_h + K * K) / a0;
    biquad_clear(&k->shelf);
    biquad_clear(&k->highpass);
}

static double biquad_step(RnnfxBiquad *q, double x)
{
    const double y = q->b0 * x + q->z1;
    q->z1 = q->b1 * x - q->a1 * y + q->z2;
    q->z2 = q->b2 * x - q->a2 * y;
    return y;
}

double rnnfx_kweight_energy(RnnfxKWeight *k, const float *x, size_t n)
{
    double e = 0.0;
    for (size_t i = 0; i < n; i++) {
        const double y = biquad_step(&k->highpass, biquad_step(&k->shelf, (double)x[i]));
        e += y * y;
    }
    return e;
}

/* ---- the reference ---------------------------------------------------------- */

#define REF_NOTES 8
#define REF_HARMONICS 96       /* enough for 8 kHz over the lowest note */
#define REF_TOP_HZ 8000.0      /* no partial above: the same music at any rate */
#define REF_PICK 0.18          /* pick position, fraction of the string */
#define REF_ATTACK_S 0.002
#define REF_PEAK_BOUND 0.5     /* -6 dBFS: the notes' peaks stay below */

/* Open E and A strings, then up the neck and a return to the low register;
 * the levels vary as a player's picking does. */
static const double ref_hz[REF_NOTES] = {82.41, 110.00, 146.83, 196.00,
                                         246.94, 329.63, 164.81, 98.00};
static const double ref_level[REF_NOTES] = {1.0, 0.7, 0.85, 0.55, 0.9, 0.6, 1.0, 0.75};

size_t rnnfx_level_ref_frames(double rate)
{
    return (size_t)(RNNFX_LEVEL_REF_SECONDS * rate + 0.5);
}

/* Harmonic k's amplitude before scaling (partials_at stops below
 * REF_TOP_HZ). */
static double harmonic_amp(int k) { return sin(k * PI * REF_PICK) / k; }

/* A note's partials as damped phasors: at sample j of the note, partial k
 * is amp[k] sin(ph[k]), where one sample multiplies amp[k] by dd[k] and
 * turns ph[k] by the angle whose cosine and sine are dc[k] and ds[k].
 * Stepping is float, 8 partials side by side (the compiler vectorises
 * the lanes); the state is set exactly from j every REF_RESYNC samples of
 * the note, so rounding cannot build up and a sample's value does not
 * depend on where a call starts. */
#define REF_RESYNC 1024
typedef struct {
    int n; /* partials, padded to a multiple of 8 with silent ones */
    float amp[REF_HARMONICS + 8], s[REF_HARMONICS + 8], c[REF_HARMONICS + 8];
    float dd[REF_HARMONICS + 8], dc[REF_HARMONICS + 8], ds[REF_HARMONICS + 8];
} Partials;

static void partials_at(Partials *P, int m, size_t j, double rate)
{
    double bound = 0.0;
    int kmax = 0;
    /* and none past 0.45 of the rate, for a model below 16 kHz */
    const double top = REF_TOP_HZ < 0.45 * rate ? REF_TOP_HZ : 0.45 * rate;
    for (int k = 1; k <= REF_HARMONICS && k * ref_hz[m] <= top; k++) {
        bound += fabs(harmonic_amp(k));
        kmax = k;
    }
    /* the sum of |amplitudes| bounds the note's peak: it is scaled to it */
    const double scale = REF_PEAK_BOUND * ref_level[m] / bound;
    const double t = (double)j / rate;
    P->n = (kmax + 7) / 8 * 8;
    for (int i = 0; i < P->n; i++) {
        const int k = i + 1;
        if (k > kmax) {
            P->amp[i] = P->s[i] = P->c[i] = P->dd[i] = P->dc[i] = P->ds[i] = 0.0f;
            continue;
        }
        const double decay = 3.0 + 1.2 * k, f = k * ref_hz[m];
        /* the phase from the whole cycles' remainder: exact at any j */
        const double cyc = f * (double)j / rate, ph = 2.0 * PI * (cyc - floor(cyc));
        P->amp[i] = (float)(scale * harmonic_amp(k) * exp(-decay * t));
        P->s[i] = (float)sin(ph);
        P->c[i] = (float)cos(ph);
        P->dd[i] = (float)exp(-decay / rate);
        P->dc[i] = (float)cos(2.0 * PI * f / rate);
        P->ds[i] = (float)sin(2.0 * PI * f / rate);
    }
}

/* The note's sum now, then one sample on. */
static float partials_step(Partials *P)
{
    float acc[8] = {0};
    for (int i0 = 0; i0 < P->n; i0 += 8)
        for (int l = 0; l < 8; l++) {
            const int i = i0 + l;
            acc[l] += P->amp[i] * P->s[i];
            const float sn = P->s[i] * P->dc[i] + P->c[i] * P->ds[i];
            P->c[i] = P->c[i] * P->dc[i] - P->s[i] * P->ds[i];
            P->s[i] = sn;
            P->amp[i] *= P->dd[i];
        }
    return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}

/* The reference as a stream: note m, sample j of it, its partials. */
typedef struct {
    double rate;
    size_t per_note, pos;
    int m;
    size_t j;
    Partials P;
} RefStream;

/* Puts the stream at sample `first` of the reference. */
static void stream_seek(RefStream *r, size_t first, double rate)
{
    r->rate = rate;
    r->per_note = rnnfx_level_ref_frames(rate) / REF_NOTES;
    r->pos = first;
    r->m = r->per_note ? (int)(first / r->per_note < REF_NOTES ? first / r->per_note : REF_NOTES)
                       : REF_NOTES;
    if (r->m >= REF_NOTES) return;
    r->j = first - (size_t)r->m * r->per_note;
    const size_t sync = r->j / REF_RESYNC * REF_RESYNC;
    partials_at(&r->P, r->m, sync, rate);
    for (size_t j = sync; j < r->j; j++) (void)partials_step(&r->P);
}

static void stream_read(RefStream *r, float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (r->m < REF_NOTES && r->j == r->per_note) { /* the next note */
            r->m++;
            r->j = 0;
            if (r->m < REF_NOTES) partials_at(&r->P, r->m, 0, r->rate);
        } else if (r->m < REF_NOTES && r->j % REF_RESYNC == 0 && r->j > 0) {
            partials_at(&r->P, r->m, r->j, r->rate);
        }
        if (r->m >= REF_NOTES) {
            x[i] = 0.0f;
            continue;
        }
        const double t = (double)r->j / r->rate;
        /* the 2 ms attack: past 50 ms its factor rounds to 1 */
        const double attack = t < 0.05 ? 1.0 - exp(-t / REF_ATTACK_S) : 1.0;
        x[i] = (float)(attack * partials_step(&r->P));
        r->j++;
    }
}

void rnnfx_level_ref(float *x, size_t first, size_t n, double rate)
{
    RefStream r;
    stream_seek(&r, first, rate);
    stream_read(&r, x, n);
}

/* ---- measuring -------------------------------------------------------------- */

double rnnfx_level_measure(RnnfxInstance *inst, double rate)
{
    if (!inst || !(rate > 0.0)) return NAN;
    RnnfxKWeight kin, kout;
    rnnfx_kweight_init(&kin, rate);
    rnnfx_kweight_init(&kout, rate);
    const size_t total = rnnfx_level_ref_frames(rate);
    /* fixed pieces: the same figure for every caller, in whatever blocks
     * it runs its audio */
    float buf[256];
    double e_in = 0.0, e_out = 0.0;
    RefStream ref;
    stream_seek(&ref, 0, rate);
    for (size_t off = 0; off < total; off += 256) {
        const size_t len = total - off < 256 ? total - off : 256;
        stream_read(&ref, buf, len);
        e_in += rnnfx_kweight_energy(&kin, buf, len);
        rnnfx_instance_process(inst, buf, buf, len);
        e_out += rnnfx_kweight_energy(&kout, buf, len);
    }
    if (!(e_in > 0.0) || !isfinite(e_out)) return NAN;
    const double db = 10.0 * log10(e_out / e_in);
    if (!(db >= RNNFX_LEVEL_SILENT_DB)) return NAN; /* also e_out == 0: -inf */
    return db > RNNFX_LEVEL_MAX_DB ? RNNFX_LEVEL_MAX_DB
           : db < -RNNFX_LEVEL_MAX_DB ? -RNNFX_LEVEL_MAX_DB
                                      : db;
}

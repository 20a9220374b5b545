/*
 * resample.c — filter design and streaming for the polyphase resampler
 * (see resample.h). The inner loop lives in resample_kern.inc.
 *
 * Conventions. out/in = L/M. Output k sits at input time t_k = k·M/L; it
 * is the sum over input samples n of x[n]·h(t_k - n), where h is the
 * windowed sinc below, nonzero for |t| < W (the half-width, in input
 * samples). Rows are `taps` long, a whole number of vectors: the window's
 * 2W samples sit at the end of the row and the C - W samples before them
 * (C = taps - W) are zeros, so the rounding costs no look-ahead. Output k
 * reads x[i_k - C + 1 .. i_k + W] with i_k = floor(t_k); phase p = (k·M)
 * mod L picks the row holding h(p/L + C - 1 - m), m = 0..taps-1. Input
 * before the stream's first sample is silence: a fresh resampler holds
 * C - 1 zeros.
 */
#include "resample.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fast.h"

/* The response: flat (within 1.4e-6) to PASSBAND of the lower
 * Nyquist frequency, 120 dB down from that Nyquist frequency on. Kaiser's
 * estimates fall about a dB short (a sweep found 119.2 dB designing for
 * 120), hence the 2 dB margin in STOPBAND_DB. That is what libsamplerate's
 * medium quality measures (about -0.05 dB at 86 %, 118 dB down) with a
 * flatter passband, for a little more latency: 107 samples for the 44.1 ->
 * 48 -> 44.1 kHz round trip against 93. */
#define STOPBAND_DB 122.0
#define PASSBAND 0.85
#define CHUNK 2048         /* input samples taken in per inner-loop run */
#define MAX_TABLE (1 << 22) /* floats: 16 MiB */
#define ALIGN 64

typedef size_t (*RunFn)(const float *table, int taps, int phases, size_t step_i, int step_p,
                        const float *x, size_t limit, size_t *pos, int *phase, float *out);

size_t rnnfx_resample_run_generic(const float *, int, int, size_t, int, const float *, size_t,
                                  size_t *, int *, float *);
#if defined(__x86_64__)
size_t rnnfx_resample_run_avx2(const float *, int, int, size_t, int, const float *, size_t,
                               size_t *, int *, float *);
size_t rnnfx_resample_run_avx512(const float *, int, int, size_t, int, const float *, size_t,
                                 size_t *, int *, float *);
#endif

struct RnnfxResampleFilter {
    int L, M;      /* out/in = L/M, in lowest terms */
    int taps;      /* row length in input samples, a multiple of 16 */
    int half;      /* W: the window's half-width, which is the look-ahead */
    size_t step_i; /* M = step_i * L + step_p: how far t_k moves per output */
    int step_p;
    float *table; /* [L][taps] */
    RunFn run;
    const char *isa;
};

struct RnnfxResampler {
    const RnnfxResampleFilter *f;
    float *buf; /* [cap] the input window: buf[0] is the first sample still needed */
    size_t cap, len;
    size_t pos; /* where the next output's window starts in buf */
    int phase;  /* its phase */
};

static long gcd(long a, long b)
{
    while (b) {
        long t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* The rates as integers in lowest terms, L = out and M = in; 0 if either
 * rate is not a whole number of Hz in a sane range. */
static int reduce(double in_rate, double out_rate, long *L, long *M)
{
    if (!(in_rate >= 1.0 && in_rate <= 1e7 && out_rate >= 1.0 && out_rate <= 1e7)) return 0;
    double a = floor(in_rate + 0.5), b = floor(out_rate + 0.5);
    if (fabs(in_rate - a) > 1e-9 * a || fabs(out_rate - b) > 1e-9 * b) return 0;
    long g = gcd((long)a, (long)b);
    *L = (long)b / g;
    *M = (long)a / g;
    return 1;
}

/* Half-width W for a ratio: Kaiser's length estimate for the transition
 * band from PASSBAND to 1 of the lower Nyquist frequency, halved. */
static long half_for(long L, long M)
{
    double rho = L < M ? (double)L / (double)M : 1.0;
    double width = 0.5 * (1.0 - PASSBAND) * rho; /* cycles per input sample */
    return (long)ceil((STOPBAND_DB - 7.95) / (14.36 * width) / 2.0);
}

/* Row length: the window's 2W samples rounded up to whole vectors. */
static long taps_for(long L, long M) { return (2 * half_for(L, M) + 15) & ~15L; }

int rnnfx_resample_supported(double in_rate, double out_rate)
{
    long L, M;
    if (!reduce(in_rate, out_rate, &L, &M) || L > RNNFX_RESAMPLE_MAX_PHASES) return 0;
    if ((double)M / (double)L > 256.0) return 0;
    return L * taps_for(L, M) <= MAX_TABLE;
}

#define BESSEL_TERMS 200

/* Modified Bessel function of the first kind, order 0 (power series; the
 * terms fall fast for the arguments a Kaiser window uses). inv_k2[k] =
 * 1 / k^2: a multiply instead of a division per term, which was a chain of
 * divisions and most of the time a filter takes to design (measured: the
 * 44.1/48 kHz pair 2.4 -> 1.9 ms, and a plugin builds up to five cores). */
static double bessel_i0(double x, const double *inv_k2)
{
    double sum = 1.0, term = 1.0, q = 0.25 * x * x;
    for (int k = 1; k < BESSEL_TERMS && term > 1e-20 * sum; k++) {
        term *= q * inv_k2[k];
        sum += term;
    }
    return sum;
}

/* Fills the table: row p holds h(p/L + C - 1 - m), normalised to sum 1.
 * 0 if out of memory. */
static int design(RnnfxResampleFilter *r)
{
    const double rho = r->L < r->M ? (double)r->L / (double)r->M : 1.0;
    const double fc = 0.5 * rho * (1.0 + PASSBAND) / 2.0; /* mid-transition */
    const double beta = 0.1102 * (STOPBAND_DB - 8.7);
    double inv_k2[BESSEL_TERMS];
    inv_k2[0] = 0.0;
    for (int k = 1; k < BESSEL_TERMS; k++) inv_k2[k] = 1.0 / ((double)k * (double)k);
    const double half = (double)r->half, i0b = bessel_i0(beta, inv_k2);
    const double centre = (double)(r->taps - r->half);
    double *row = malloc((size_t)r->taps * sizeof *row);
    if (!row) return 0;
    for (int p = 0; p < r->L; p++) {
        double sum = 0.0;
        for (int m = 0; m < r->taps; m++) {
            double tau = (double)p / (double)r->L + centre - 1.0 - (double)m;
            double u = tau / half, a = 2.0 * M_PI * fc * tau;
            double sinc = fabs(a) < 1e-12 ? 1.0 : sin(a) / a;
            double win = u * u < 1.0 ? bessel_i0(beta * sqrt(1.0 - u * u), inv_k2) / i0b : 0.0;
            row[m] = 2.0 * fc * sinc * win;
            sum += row[m];
        }
        float *dst = r->table + (size_t)p * (size_t)r->taps;
        for (int m = 0; m < r->taps; m++) dst[m] = (float)(row[m] / sum);
    }
    free(row);
    return 1;
}

static void *alloc_aligned(size_t floats)
{
    size_t bytes = (floats * sizeof(float) + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    void *p = aligned_alloc(ALIGN, bytes ? bytes : ALIGN);
    if (p) memset(p, 0, bytes);
    return p;
}

static void pick_kernel(RnnfxResampleFilter *r)
{
    r->run = rnnfx_resample_run_generic;
    r->isa = "generic";
#if defined(__x86_64__)
    int level = rnnfx_fast_isa_level();
    if (level >= 2) {
        r->run = rnnfx_resample_run_avx512;
        r->isa = "avx512";
    } else if (level == 1) {
        r->run = rnnfx_resample_run_avx2;
        r->isa = "avx2";
    }
#endif
}

RnnfxStatus rnnfx_resample_filter_new(double in_rate, double out_rate, RnnfxResampleFilter **out,
                                      RnnfxError *err)
{
    if (!out) return rnnfx_fail(err, RNNFX_ERR_ARG, "no output pointer");
    *out = NULL;
    long L, M;
    if (!rnnfx_resample_supported(in_rate, out_rate) || !reduce(in_rate, out_rate, &L, &M))
        return rnnfx_fail(err, RNNFX_ERR_UNSUPPORTED,
                          "no fixed-ratio resampler from %g Hz to %g Hz", in_rate, out_rate);
    RnnfxResampleFilter *f = calloc(1, sizeof *f);
    if (!f) return rnnfx_fail(err, RNNFX_ERR_NOMEM, "out of memory for a resampling filter");
    f->L = (int)L;
    f->M = (int)M;
    f->taps = (int)taps_for(L, M);
    f->half = (int)half_for(L, M);
    f->step_i = (size_t)(M / L);
    f->step_p = (int)(M % L);
    f->table = alloc_aligned((size_t)L * (size_t)f->taps);
    if (!f->table || !design(f)) {
        rnnfx_resample_filter_free(f);
        return rnnfx_fail(err, RNNFX_ERR_NOMEM, "out of memory for a resampling filter");
    }
    pick_kernel(f);
    *out = f;
    return RNNFX_OK;
}

void rnnfx_resample_filter_free(RnnfxResampleFilter *f)
{
    if (!f) return;
    free(f->table);
    free(f);
}

int rnnfx_resample_filter_taps(const RnnfxResampleFilter *f) { return f ? f->taps : 0; }
int rnnfx_resample_filter_phases(const RnnfxResampleFilter *f) { return f ? f->L : 0; }
int rnnfx_resample_filter_delay(const RnnfxResampleFilter *f) { return f ? f->half : 0; }
const char *rnnfx_resample_filter_isa(const RnnfxResampleFilter *f) { return f ? f->isa : "none"; }

RnnfxResampler *rnnfx_resample_new(const RnnfxResampleFilter *f)
{
    if (!f) return NULL;
    RnnfxResampler *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->f = f;
    r->cap = (size_t)f->taps + CHUNK;
    r->buf = alloc_aligned(r->cap);
    if (!r->buf) {
        free(r);
        return NULL;
    }
    rnnfx_resample_reset(r);
    return r;
}

void rnnfx_resample_free(RnnfxResampler *r)
{
    if (!r) return;
    free(r->buf);
    free(r);
}

void rnnfx_resample_reset(RnnfxResampler *r)
{
    if (!r) return;
    r->len = (size_t)(r->f->taps - r->f->half - 1); /* C - 1 samples of silence */
    memset(r->buf, 0, r->len * sizeof(float));
    r->pos = 0;
    r->phase = 0;
}

size_t rnnfx_resample_max_out(const RnnfxResampler *r, size_t n)
{
    /* the new outputs' times t_k = k M / L lie in a half-open interval n
     * input samples long, which holds at most ceil(n L / M) of them */
    return (n * (size_t)r->f->L + (size_t)r->f->M - 1) / (size_t)r->f->M;
}

size_t rnnfx_resample_max_in(const RnnfxResampler *r, size_t room)
{
    /* largest n with ceil(n L / M) <= room */
    return room * (size_t)r->f->M / (size_t)r->f->L;
}

size_t rnnfx_resample_process(RnnfxResampler *r, const float *in, size_t n, float *out)
{
    const RnnfxResampleFilter *f = r->f;
    const size_t taps = (size_t)f->taps;
    size_t produced = 0;
    while (n > 0) {
        size_t take = r->cap - r->len < n ? r->cap - r->len : n;
        memcpy(r->buf + r->len, in, take * sizeof(float));
        r->len += take;
        in += take;
        n -= take;
        if (r->len >= taps)
            produced += f->run(f->table, f->taps, f->L, f->step_i, f->step_p, r->buf,
                               r->len - taps, &r->pos, &r->phase, out + produced);
        /* drop what no future output reads (fewer than taps samples stay) */
        size_t drop = r->pos < r->len ? r->pos : r->len;
        if (drop) memmove(r->buf, r->buf + drop, (r->len - drop) * sizeof(float));
        r->len -= drop;
        r->pos -= drop;
    }
    return produced;
}

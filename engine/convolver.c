/*
 * convolver.c — zero-latency partitioned convolution. See convolver.h.
 *
 * With B = RNNFX_CONV_BLOCK and the response h split as
 *     head  h[0 .. B)                       direct FIR, per sample
 *     tail  h[B + pB .. B + (p+1)B), p < P  one FFT partition each
 * the tail's output for samples (j+1)B .. (j+2)B - 1 depends only on input
 * up to sample (j+1)B - 1, so it is computed when input block j completes
 * (uniformly partitioned overlap-save: X_j = FFT of the last two input
 * blocks, Y = sum_p H_p X_{j-p}, the last B samples of IFFT(Y)) and added
 * during block j+1. Nothing waits for future input: no latency. The terms
 * p >= 1 of Y use only older spectra, so they are added while block j
 * arrives (older_parts_upto), and block j's end adds only H_0 X_j.
 *
 * The FFT is a real transform of N = 2B points done as a complex radix-2
 * FFT of B points on the even/odd pairs plus the usual split step (about
 * 12 ns per sample for the pair of transforms on the benchmark machine); the
 * spectra keep bins 0 .. B in split re/im arrays, so the partition sums are
 * plain multiply-adds over contiguous floats, which the compiler
 * vectorises. The inverse's scale (1/N) is folded into H.
 *
 * Determinism: each output sample's head sum runs over the taps in the same
 * order whatever the chunking, and the tail's sum adds its partitions in
 * the same order however the block arrived, so any block split gives
 * bit-identical output (the chain relies on this). The
 * instruction-set copies below give the same bits too: ISO C mode fuses no
 * multiply-adds and the vectoriser reorders no sums (checked: the AVX-512
 * build and an SSE2-only build agree bit for bit on 50k samples).
 */
#include "convolver.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ir.h"

#define B RNNFX_CONV_BLOCK
#define STRIDE (B + 16) /* floats per re or im row: bins 0 .. B, rounded up to vectors */

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3")
#endif

/* The loops that take the time (the FFT and its split steps, the partition
 * sums, the head FIR) are plain C that the compiler vectorises; on x86-64
 * each is also built for AVX2 and AVX-512 and the loader picks the copy the
 * CPU runs (GNU ifunc), so no kernel file of our own is needed for them. */
#if defined(__x86_64__) && defined(__GNUC__) && defined(__linux__)
#define CONV_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define CONV_CLONES
#endif

struct RnnfxConvolver {
    size_t len; /* response length */
    int parts;  /* P tail partitions (0: the head covers it all) */
    int slot;   /* FDL slot of the newest input spectrum */
    int pos;    /* samples of the current block received, 0 .. B-1 */
    float *head;  /* [B] h[0 .. B), zero-padded */
    float *win;   /* [2B] the previous input block, then the current one */
    float *tail;  /* [B] the tail's output for the current block */
    float *H;     /* [parts][2][STRIDE] partition spectra, scaled by 1/N */
    float *X;     /* [parts][2][STRIDE] input spectra, a ring (frequency-
                     domain delay line), newest at slot */
    float *Y;     /* [2][STRIDE] the next tail's spectrum sum, partitions
                     1 .. next_part-1 added so far */
    int next_part; /* next partition to add to Y (see older_parts_upto) */
    /* input spectra written since the last reset (at most parts): the
     * ring's older slots hold stale spectra, which count as zero. So a
     * reset clears no spectra, which for a 5 s response are megabytes, and
     * the chain resets on the audio thread (re-enabled after a bypass). */
    int filled;
    /* FFT tables and scratch, B-point complex */
    float *cre, *cim;  /* [B] complex work buffer */
    float *twc;        /* [B] -twi: the inverse's twiddles */
    float *sre, *sim;  /* [B] the inverse split step's output */
    float *twr, *twi;  /* [B] per stage of half-length m (1, 2, 4 ..): at
                          m + k, e^{-pi i k / m} for k < m (contiguous, so
                          a stage's inner loop vectorises) */
    float *swr, *swi;  /* [B + 1] e^{-2 pi i k / N} (the split step) */
    uint16_t *rev;     /* [B] bit reversal */
};

/* ---- FFT ------------------------------------------------------------------ */

/* The real transform's split step, bins 1 .. B-1 (0 and B the caller):
 * forward from Z = cfft(x even + i x odd) in cre/cim to X. Written with
 * plain indices k and B - k so that it vectorises (reversed loads). */
CONV_CLONES static void split_fwd(const RnnfxConvolver *cv, float *restrict xr, float *restrict xi)
{
    const float *restrict re = cv->cre, *restrict im = cv->cim;
    const float *restrict swr = cv->swr, *restrict swi = cv->swi;
    for (int k = 1; k < B; k++) {
        const float er = 0.5f * (re[k] + re[B - k]), ei = 0.5f * (im[k] - im[B - k]);
        const float or_ = 0.5f * (im[k] + im[B - k]), oi = -0.5f * (re[k] - re[B - k]);
        xr[k] = er + swr[k] * or_ - swi[k] * oi;
        xi[k] = ei + swr[k] * oi + swi[k] * or_;
    }
}

/* The inverse split step: Z[k] (k < B, natural order) into sre/sim from the
 * spectrum X (bins 0 .. B). */
CONV_CLONES static void split_inv(RnnfxConvolver *cv, const float *restrict yr,
                                  const float *restrict yi)
{
    float *restrict zr = cv->sre, *restrict zi = cv->sim;
    const float *restrict swr = cv->swr, *restrict swi = cv->swi;
    for (int k = 0; k < B; k++) {
        const float ar = yr[k], ai = yi[k], br = yr[B - k], bi = -yi[B - k];
        const float er = ar + br, ei = ai + bi;
        const float dr = ar - br, di = ai - bi;
        const float wr = swr[k], wi = -swi[k];
        const float or_ = dr * wr - di * wi, oi = dr * wi + di * wr;
        zr[k] = er - oi; /* Z = E + i O */
        zi[k] = ei + or_;
    }
}

/* In-place B-point complex FFT of data already in bit-reversed order (the
 * callers scatter it there as they fill the buffer, which saves a pass),
 * forward (e^-) or inverse (e^+, unscaled). The first two stages (twiddles
 * 1 and -i) are one radix-4 pass without multiplications. */
CONV_CLONES static void cfft(const RnnfxConvolver *cv, float *restrict re, float *restrict im,
                             int inverse)
{
    for (int i = 0; i < B; i += 4) {
        const float a0r = re[i] + re[i + 1], a0i = im[i] + im[i + 1];
        const float a1r = re[i] - re[i + 1], a1i = im[i] - im[i + 1];
        const float b0r = re[i + 2] + re[i + 3], b0i = im[i + 2] + im[i + 3];
        const float b1r = re[i + 2] - re[i + 3], b1i = im[i + 2] - im[i + 3];
        /* b1 times -i (forward) or +i (inverse) */
        const float tr = inverse ? -b1i : b1i, ti = inverse ? b1r : -b1r;
        re[i] = a0r + b0r;
        im[i] = a0i + b0i;
        re[i + 2] = a0r - b0r;
        im[i + 2] = a0i - b0i;
        re[i + 1] = a1r + tr;
        im[i + 1] = a1i + ti;
        re[i + 3] = a1r - tr;
        im[i + 3] = a1i - ti;
    }
    const float *tws = inverse ? cv->twc : cv->twi; /* conjugate twiddles for the inverse */
    for (int half = 4; half < B; half <<= 1) {
        const float *twr = cv->twr + half, *twi = tws + half;
        for (int i = 0; i < B; i += 2 * half) {
            float *restrict ar = re + i, *restrict ai = im + i;
            float *restrict br = re + i + half, *restrict bi = im + i + half;
            for (int k = 0; k < half; k++) {
                const float tr = br[k] * twr[k] - bi[k] * twi[k];
                const float ti = br[k] * twi[k] + bi[k] * twr[k];
                br[k] = ar[k] - tr;
                bi[k] = ai[k] - ti;
                ar[k] += tr;
                ai[k] += ti;
            }
        }
    }
}

/* Spectrum bins 0 .. B of the real 2B-point signal x, into (xr, xi). */
static void rfft(RnnfxConvolver *cv, const float *x, float *xr, float *xi)
{
    float *re = cv->cre, *im = cv->cim;
    for (int k = 0; k < B; k++) {
        re[cv->rev[k]] = x[2 * k];
        im[cv->rev[k]] = x[2 * k + 1];
    }
    cfft(cv, re, im, 0);
    /* X[k] = E[k] + W^k O[k], E = (Z[k] + conj Z[B-k]) / 2,
     * O = (Z[k] - conj Z[B-k]) / 2i; Z[B] = Z[0] */
    xr[0] = re[0] + im[0];
    xi[0] = 0.0f;
    xr[B] = re[0] - im[0];
    xi[B] = 0.0f;
    split_fwd(cv, xr, xi);
}

/* The last B samples of the real 2B-point signal whose bins 0 .. B are
 * (yr, yi), times N (the caller's spectra carry the 1/N). */
static void irfft_last(RnnfxConvolver *cv, const float *yr, const float *yi, float *out)
{
    float *re = cv->cre, *im = cv->cim;
    /* E = X[k] + conj X[B-k], O = (X[k] - conj X[B-k]) W^-k (each twice
     * the true value; with the unscaled inverse this gives N y); Z = E + i O,
     * stored bit-reversed for cfft */
    split_inv(cv, yr, yi);
    for (int k = 0; k < B; k++) {
        re[cv->rev[k]] = cv->sre[k];
        im[cv->rev[k]] = cv->sim[k];
    }
    cfft(cv, re, im, 1);
    /* samples B .. 2B-1 are the pairs B/2 .. B-1 */
    for (int k = B / 2; k < B; k++) {
        out[2 * (k - B / 2)] = re[k];
        out[2 * (k - B / 2) + 1] = im[k];
    }
}

/* ---- block processing --------------------------------------------------------- */

/* Y += H_p X_slot for partitions p = from .. to-1, whose input spectra sit
 * at slot, slot - 1, ... (mod P). */
CONV_CLONES static void mac_parts(RnnfxConvolver *cv, int from, int to, int slot)
{
    const int P = cv->parts;
    float *restrict yr = cv->Y, *restrict yi = cv->Y + STRIDE;
    int s = slot;
    if (to > cv->filled + 1)
        to = cv->filled + 1; /* older spectra are zero since the reset (skipping
                                their zero terms gives the same bits) */
    for (int p = from; p < to; p++) {
        const float *restrict hr = cv->H + (size_t)p * 2 * STRIDE, *restrict hi = hr + STRIDE;
        const float *restrict ar = cv->X + (size_t)s * 2 * STRIDE, *restrict ai = ar + STRIDE;
        for (int k = 0; k < STRIDE; k++) {
            yr[k] += hr[k] * ar[k] - hi[k] * ai[k];
            yi[k] += hr[k] * ai[k] + hi[k] * ar[k];
        }
        s = s == 0 ? P - 1 : s - 1;
    }
}

/* The older partitions' share of the next tail, spread over the block: the
 * sum for the block now arriving, Y = sum_{p >= 1} H_p X_{j-p} + H_0 X_j,
 * needs only spectra already made for its p >= 1 terms, so those are added
 * a few at a time as the block's samples come in (up to p = 1 + (P-1) pos/B
 * after pos samples), and the block's end does only its own FFT, one
 * partition and the inverse FFT. A long response then costs each call work
 * in proportion to its length, not a burst of all P partitions in whichever
 * call completes a block. The order of the sum is fixed, so the chunking
 * still does not change a bit. */
static void older_parts_upto(RnnfxConvolver *cv, int pos)
{
    const int P = cv->parts;
    const int want = 1 + (int)(((long long)(P - 1) * pos + B - 1) / B);
    if (want <= cv->next_part) return;
    /* partition p of this sum reads X_{j-p}: slot (newest + 1 - p) mod P */
    int slot = cv->slot + 1 - cv->next_part;
    slot = ((slot % P) + P) % P;
    mac_parts(cv, cv->next_part, want, slot);
    cv->next_part = want;
}

/* Input block complete (win holds the last two blocks): the tail's output
 * for the next block, then a clear sum for the block after. */
static void tail_block(RnnfxConvolver *cv)
{
    const int P = cv->parts;
    older_parts_upto(cv, B);
    cv->slot = cv->slot + 1 == P ? 0 : cv->slot + 1;
    float *xr = cv->X + (size_t)cv->slot * 2 * STRIDE, *xi = xr + STRIDE;
    rfft(cv, cv->win, xr, xi);
    if (cv->filled < P)
        cv->filled++;
    mac_parts(cv, 0, 1, cv->slot);
    irfft_last(cv, cv->Y, cv->Y + STRIDE, cv->tail);
    memset(cv->Y, 0, 2 * STRIDE * sizeof(float));
    cv->next_part = 1;
}

/* out[i] = head . input + tail[pos + i] for i < n, n <= B - pos, the input
 * already in win[B + pos ..]. The sums run tap by tap over all n outputs
 * (vectorised over i), the same order for every chunking. */
CONV_CLONES static void head_run(const RnnfxConvolver *cv, float *restrict out, int n)
{
    const float *w = cv->win + B + cv->pos;
    const float *t = cv->tail + cv->pos;
    for (int i = 0; i < n; i++)
        out[i] = 0.0f;
    for (int k = 0; k < B; k++) {
        const float hk = cv->head[k];
        const float *x = w - k;
        for (int i = 0; i < n; i++)
            out[i] += hk * x[i];
    }
    for (int i = 0; i < n; i++)
        out[i] += t[i];
}

void rnnfx_convolver_process(RnnfxConvolver *cv, const float *in, float *out, size_t n)
{
    if (!cv || n == 0) return;
    float tmp[B];
    while (n > 0) {
        int len = B - cv->pos;
        if ((size_t)len > n) len = (int)n;
        /* the input first: in may be out */
        memcpy(cv->win + B + cv->pos, in, (size_t)len * sizeof(float));
        head_run(cv, tmp, len);
        memcpy(out, tmp, (size_t)len * sizeof(float));
        cv->pos += len;
        in += len;
        out += len;
        n -= (size_t)len;
        if (cv->parts > 1 && cv->pos < B) older_parts_upto(cv, cv->pos);
        if (cv->pos == B) {
            if (cv->parts > 0) tail_block(cv);
            memcpy(cv->win, cv->win + B, B * sizeof(float));
            cv->pos = 0;
        }
    }
}

/* ---- lifetime ------------------------------------------------------------------ */

void rnnfx_convolver_reset(RnnfxConvolver *cv)
{
    if (!cv) return;
    memset(cv->win, 0, 2 * B * sizeof(float));
    memset(cv->tail, 0, B * sizeof(float));
    cv->filled = 0; /* the spectra in X are stale from here on (mac_parts) */
    memset(cv->Y, 0, 2 * STRIDE * sizeof(float));
    cv->slot = 0;
    cv->pos = 0;
    cv->next_part = 1;
}

size_t rnnfx_convolver_length(const RnnfxConvolver *cv) { return cv ? cv->len : 0; }

void rnnfx_convolver_free(RnnfxConvolver *cv)
{
    if (!cv) return;
    free(cv->head);
    free(cv->win);
    free(cv->tail);
    free(cv->H);
    free(cv->X);
    free(cv->Y);
    free(cv->cre);
    free(cv->cim);
    free(cv->twr);
    free(cv->twc);
    free(cv->sre);
    free(cv->sim);
    free(cv->twi);
    free(cv->swr);
    free(cv->swi);
    free(cv->rev);
    free(cv);
}

static float *zalloc(size_t n)
{
    /* 64-byte aligned and zeroed, rounded to whole cache lines */
    size_t bytes = (n * sizeof(float) + 63) & ~(size_t)63;
    float *p = aligned_alloc(64, bytes ? bytes : 64);
    if (p) memset(p, 0, bytes ? bytes : 64);
    return p;
}

RnnfxStatus rnnfx_convolver_new(const float *h, size_t len, RnnfxConvolver **out, RnnfxError *err)
{
    if (out) *out = NULL;
    if (!h || !out || len == 0)
        return rnnfx_fail(err, RNNFX_ERR_ARG, "convolver: no response given");
    /* generous: RNNFX_IR_MAX_SECONDS at the highest accepted rate */
    const size_t max_len = (size_t)(RNNFX_IR_MAX_SECONDS * RNNFX_IR_MAX_RATE);
    if (len > max_len)
        return rnnfx_fail(err, RNNFX_ERR_LIMIT, "convolver: response of %zu samples (limit %zu)",
                          len, max_len);
    for (size_t i = 0; i < len; i++)
        if (!isfinite(h[i]))
            return rnnfx_fail(err, RNNFX_ERR_INVALID,
                              "convolver: the response is not finite at sample %zu", i);
    RnnfxConvolver *cv = calloc(1, sizeof *cv);
    if (!cv) return rnnfx_fail(err, RNNFX_ERR_NOMEM, "convolver: out of memory");
    cv->len = len;
    cv->parts = len > B ? (int)((len - B + B - 1) / B) : 0;
    const size_t P = (size_t)cv->parts;
    cv->head = zalloc(B);
    cv->win = zalloc(2 * B);
    cv->tail = zalloc(B);
    cv->Y = zalloc(2 * STRIDE);
    cv->H = zalloc(P ? P * 2 * STRIDE : 1);
    cv->X = zalloc(P ? P * 2 * STRIDE : 1);
    cv->cre = zalloc(B);
    cv->cim = zalloc(B);
    cv->twr = zalloc(B);
    cv->twi = zalloc(B);
    cv->twc = zalloc(B);
    cv->sre = zalloc(B);
    cv->sim = zalloc(B);
    cv->swr = zalloc(B + 1);
    cv->swi = zalloc(B + 1);
    cv->rev = calloc(B, sizeof *cv->rev);
    if (!cv->head || !cv->win || !cv->tail || !cv->Y || !cv->H || !cv->X || !cv->cre ||
        !cv->cim || !cv->twr || !cv->twi || !cv->twc || !cv->sre || !cv->sim || !cv->swr ||
        !cv->swi || !cv->rev) {
        rnnfx_convolver_free(cv);
        return rnnfx_fail(err, RNNFX_ERR_NOMEM, "convolver: out of memory (%zu partitions)", P);
    }
    /* tables in double, rounded once */
    int bits = 0;
    while ((1 << bits) < B) bits++;
    for (int i = 0; i < B; i++) {
        int r = 0;
        for (int b = 0; b < bits; b++)
            if (i & (1 << b)) r |= 1 << (bits - 1 - b);
        cv->rev[i] = (uint16_t)r;
    }
    const double pi = 3.14159265358979323846;
    for (int m = 1; m < B; m <<= 1) {
        for (int k = 0; k < m; k++) {
            cv->twr[m + k] = (float)cos(-pi * k / m);
            cv->twi[m + k] = (float)sin(-pi * k / m);
            cv->twc[m + k] = -cv->twi[m + k];
        }
    }
    for (int k = 0; k <= B; k++) {
        cv->swr[k] = (float)cos(-pi * k / B);
        cv->swi[k] = (float)sin(-pi * k / B);
    }
    memcpy(cv->head, h, (len < B ? len : B) * sizeof(float));
    /* partition spectra: h_p zero-padded to 2B, scaled by 1/N */
    float *seg = cv->win; /* scratch: win is zeroed below by reset */
    const float scale = 1.0f / (2.0f * B);
    for (size_t p = 0; p < P; p++) {
        memset(seg, 0, 2 * B * sizeof(float));
        size_t start = B + p * B;
        size_t m = len - start < B ? len - start : B;
        for (size_t i = 0; i < m; i++)
            seg[i] = h[start + i] * scale;
        float *hr = cv->H + p * 2 * STRIDE;
        rfft(cv, seg, hr, hr + STRIDE);
    }
    rnnfx_convolver_reset(cv);
    *out = cv;
    return RNNFX_OK;
}

/*
 * align.c — delay and polarity from the least-squares dry->wet impulse
 * response. See align.h for why the plain cross-correlation is not used.
 *
 * The normal equations of the FIR fit are (R + λI) h = r with
 *   R[m] = Σ_t x[t] x[t+m]          (input autocorrelation, Toeplitz)
 *   r[j] = Σ_t x[t] y[t+j]          (cross-correlation, lags -P..Q)
 * Both are accumulated block by block with FFTs (exact sums, no circular
 * wrap: each block's transform is long enough for block + lag range), then
 * the symmetric Toeplitz system is solved by Levinson recursion in O(L²).
 *
 * Two fits (rnnfx_align_detect). The first, on the pair as recorded,
 * locates the response and gives linear_esr and the confidence; when its
 * response is weak (confidence under CLEAR: a few seconds through a hard
 * clipper) fits at 10x and 100x the ridge are tried and the clearest one
 * kept. The second, on both signals through the same whitening filter (the
 * dry signal's linear predictor), is read only within REFINE lags of the
 * located peak and gives the delay and polarity: guitar DI is so dominated
 * by low frequencies that the first fit's response to a memoryless clipper
 * is a lobe several samples wide, so its half-peak onset came out 2-9
 * samples early (on one 4 s take, "5" for a 12-sample delay).
 *
 * Guard taps. The fit runs over GUARD extra lags on both sides of the
 * range asked for, and only the range asked for is searched and returned.
 * A least-squares FIR cut off at a lag must explain with its first and
 * last taps whatever of the wet signal lies beyond them; on a clipping
 * effect (whose distortion products correlate with the input far beyond
 * its response) those edge taps come out as large as the true response
 * or larger. Without the guard, 8 s of a real DI through the reference
 * overdrive (rnnfx-pluck --overdrive, 12 samples late) gave "64 samples
 * early" from the first tap, on one take with the polarity inverted too;
 * with it the same pairs give 11-12 (tests/test_align.c).
 */
#include "align.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fft.h"

#define GUARD 32 /* fitted but never searched, each side (see above) */

void rnnfx_align_options_default(RnnfxAlignOptions *opts)
{
    opts->max_lag = 8192;
    opts->max_lead = 64;
    opts->max_samples = 2880000; /* 60 s at 48 kHz */
    opts->ridge = 1e-4;
}

void rnnfx_align_result_free(RnnfxAlignResult *res)
{
    if (!res)
        return;
    free(res->ir);
    res->ir = NULL;
    res->ir_len = 0;
}

/* Solves the symmetric Toeplitz system T x = b (T's first row t[0..L-1]) by
 * Levinson recursion. Returns 0, or -1 if the matrix is (numerically) not
 * positive definite. */

/* acc[m] += Σ_k x[k]·e[k + m] for m < L, by FFT: X (already transformed, in
 * xr/xi) conjugate-times E, transformed back. e (er/ei, time domain, zero
 * padded to N) is overwritten. */
static void correlate_add(const double *xr, const double *xi, double *er, double *ei, size_t N,
                          int L, double *acc)
{
    rnnfx_fft(er, ei, N, 0);
    for (size_t k = 0; k < N; k++) {
        double a = xr[k] * er[k] + xi[k] * ei[k];
        double b = xr[k] * ei[k] - xi[k] * er[k];
        er[k] = a;
        ei[k] = b;
    }
    rnnfx_fft(er, ei, N, 1);
    for (int m = 0; m < L; m++)
        acc[m] += er[m] / (double)N;
}

static int levinson(const double *t, const double *b, double *x, int L)
{
    double *f = malloc((size_t)L * sizeof *f);
    double *nf = malloc((size_t)L * sizeof *nf);
    if (!f || !nf) {
        free(f);
        free(nf);
        return -1;
    }
    if (!(t[0] > 0)) {
        free(f);
        free(nf);
        return -1;
    }
    f[0] = 1.0 / t[0]; /* forward vector: T_n f = e_1 */
    x[0] = b[0] / t[0];
    for (int n = 1; n < L; n++) {
        double ef = 0, ex = 0;
        for (int i = 0; i < n; i++) {
            ef += t[n - i] * f[i];
            ex += t[n - i] * x[i];
        }
        double den = 1.0 - ef * ef;
        if (!(den > 1e-12)) {
            free(f);
            free(nf);
            return -1;
        }
        /* f' = ([f;0] - ef [0;rev f]) / den ; backward vector = reverse(f') */
        for (int i = 0; i <= n; i++) {
            double a = i < n ? f[i] : 0.0;
            double bb = i > 0 ? f[n - i] : 0.0; /* [0; reverse(f)] */
            nf[i] = (a - ef * bb) / den;
        }
        memcpy(f, nf, (size_t)(n + 1) * sizeof *f);
        /* x' = [x;0] + (b_n - ex) * reverse(f') */
        double k = b[n] - ex;
        x[n] = 0.0;
        for (int i = 0; i <= n; i++)
            x[i] += k * f[n - i];
    }
    free(f);
    free(nf);
    return 0;
}

/* The ridge-regularised least-squares fit of wet from dry over Lg lags
 * (Pg of them leads): fills R (input autocorrelation, Lg), r (cross-
 * correlation, Lg), h (taps, Lg) and *resid (residual energy). Scratch
 * buffers are allocated here. Returns 0, -1 (memory) or -2 (singular). */
static int ls_fit(const float *dry, const float *wet, size_t n, int Pg, int Lg, double ridge,
                  double *R, double *r, double *h, double yy, double *resid)
{
    size_t N = rnnfx_fft_size((size_t)Lg * 4);
    if (N < 65536)
        N = 65536;
    const size_t B = N - (size_t)Lg; /* block of x; + Lg-1 extension fits in N */
    double *xr = malloc(N * sizeof *xr), *xi = malloc(N * sizeof *xi);
    double *er = malloc(N * sizeof *er), *ei = malloc(N * sizeof *ei);
    if (!xr || !xi || !er || !ei) {
        free(xr), free(xi), free(er), free(ei);
        return -1;
    }
    memset(R, 0, (size_t)Lg * sizeof *R);
    memset(r, 0, (size_t)Lg * sizeof *r);
    for (size_t s = 0; s < n; s += B) {
        size_t len = n - s < B ? n - s : B;
        for (size_t i = 0; i < N; i++) {
            xr[i] = i < len ? dry[s + i] : 0.0;
            xi[i] = 0.0;
        }
        rnnfx_fft(xr, xi, N, 0);
        /* autocorrelation: ext[k] = x[s + k], k < len + Lg - 1 */
        for (size_t k = 0; k < N; k++) {
            size_t idx = s + k;
            er[k] = (k < len + (size_t)Lg - 1 && idx < n) ? dry[idx] : 0.0;
            ei[k] = 0.0;
        }
        correlate_add(xr, xi, er, ei, N, Lg, R);
        /* cross-correlation: ext[k] = y[s - Pg + k] */
        for (size_t k = 0; k < N; k++) {
            long long idx = (long long)s - Pg + (long long)k;
            er[k] = (k < len + (size_t)Lg - 1 && idx >= 0 && idx < (long long)n) ? wet[idx] : 0.0;
            ei[k] = 0.0;
        }
        correlate_add(xr, xi, er, ei, N, Lg, r);
    }
    free(xr), free(xi), free(er), free(ei);
    /* ridge: keeps the fit stable where the input has no energy without
     * biasing the main taps */
    double lam = ridge * R[0];
    double r0 = R[0];
    R[0] += lam;
    int bad = levinson(R, r, h, Lg);
    R[0] = r0;
    if (bad)
        return -2;
    /* residual energy yy - 2 h.r + h'Rh, where h'Rh = h.r - lam |h|^2
     * since (R + lam I) h = r */
    double hr = 0, hh = 0;
    for (int i = 0; i < Lg; i++) {
        hr += h[i] * r[i];
        hh += h[i] * h[i];
    }
    *resid = yy - hr - lam * hh;
    return 0;
}

/* Whitening: the order-WHITEN_ORDER linear predictor of the dry signal
 * (from its autocorrelation, with a noise floor WHITEN_FLOOR below its
 * power so silent bands are not blown up) applied to both signals. The
 * same filter on both sides leaves a linear dry->wet response unchanged,
 * but the fit's resolution no longer follows the input's spectrum: guitar
 * DI is so dominated by low frequencies (successive samples correlate at
 * 0.994-0.999) that the unwhitened response of a memoryless clipper is a
 * lobe +-5-10 samples wide, and on some takes its peak sits several
 * samples off. Returns 0, or -1 on allocation failure. */
#define WHITEN_ORDER 16
#define WHITEN_FLOOR 1e-3
static int whiten(const float *dry, const float *wet, size_t n, float **wd, float **ww)
{
    double ac[WHITEN_ORDER + 1], a[WHITEN_ORDER + 1], tmp[WHITEN_ORDER + 1];
    for (int k = 0; k <= WHITEN_ORDER; k++) {
        double s = 0;
        for (size_t t = (size_t)k; t < n; t++)
            s += (double)dry[t] * dry[t - k];
        ac[k] = s;
    }
    ac[0] *= 1.0 + WHITEN_FLOOR;
    /* Levinson-Durbin for the predictor a[1..p] (a[0] = 1) */
    for (int k = 0; k <= WHITEN_ORDER; k++)
        a[k] = 0;
    a[0] = 1;
    double e = ac[0];
    for (int m = 1; m <= WHITEN_ORDER && e > 0; m++) {
        double acc = ac[m];
        for (int i = 1; i < m; i++)
            acc += a[i] * ac[m - i];
        double k = -acc / e;
        memcpy(tmp, a, sizeof a);
        for (int i = 1; i < m; i++)
            a[i] = tmp[i] + k * tmp[m - i];
        a[m] = k;
        e *= 1 - k * k;
    }
    *wd = malloc((n ? n : 1) * sizeof **wd);
    *ww = malloc((n ? n : 1) * sizeof **ww);
    if (!*wd || !*ww) {
        free(*wd), free(*ww);
        *wd = *ww = NULL;
        return -1;
    }
    for (size_t t = 0; t < n; t++) {
        double sx = 0, sy = 0;
        for (int i = 0; i <= WHITEN_ORDER && (size_t)i <= t; i++) {
            sx += a[i] * dry[t - i];
            sy += a[i] * wet[t - i];
        }
        (*wd)[t] = (float)sx;
        (*ww)[t] = (float)sy;
    }
    return 0;
}

/* What is read from a fitted response ha[0..L-1] (ha[i] is lag i - P). */
typedef struct {
    int peak_lag, delay;
    double peak_tap, confidence;
} Response;

#define REFINE 8 /* the whitened response is read within +-REFINE lags */
#define CLEAR 8.0 /* confidence of a clear response (real pairs: 14-58) */

static void read_response(const double *ha, int L, int P, Response *out)
{
    int peak = 0;
    double hs = 0;
    for (int i = 0; i < L; i++) {
        hs += ha[i] * ha[i];
        if (fabs(ha[i]) > fabs(ha[peak]))
            peak = i;
    }
    double hp = ha[peak];
    /* onset: walking back from the peak, the earliest tap of the unbroken
     * run of taps with the peak's sign reaching half of it (at most 64
     * samples), so the residual response is causal and a separate leading
     * lobe does not pull the delay earlier */
    int onset = peak;
    int lo = peak - 64 < 0 ? 0 : peak - 64;
    while (onset > lo && ha[onset - 1] * hp > 0 && fabs(ha[onset - 1]) >= 0.5 * fabs(hp))
        onset--;
    out->peak_lag = peak - P;
    out->peak_tap = hp;
    out->delay = onset - P;
    out->confidence = fabs(hp) / sqrt(hs / L + 1e-300);
}

RnnfxStatus rnnfx_align_detect(const float *dry, const float *wet, size_t n,
                               const RnnfxAlignOptions *opts, RnnfxAlignResult *res,
                               RnnfxError *err)
{
    RnnfxAlignOptions o;
    if (opts)
        o = *opts;
    else
        rnnfx_align_options_default(&o);
    if (!res || !dry || !wet)
        return rnnfx_fail(err, RNNFX_ERR_ARG, "alignment: missing arguments");
    memset(res, 0, sizeof *res);
    if (o.max_lag < 0 || o.max_lead < 0 || o.max_lag + o.max_lead < 1 || o.max_lag > 1 << 16 ||
        o.max_lead > 1 << 16)
        return rnnfx_fail(err, RNNFX_ERR_ARG, "alignment: invalid search range");
    if (o.max_samples && n > o.max_samples)
        n = o.max_samples;
    /* P..Q is the range searched (and returned); the fit spans GUARD more
     * lags on each side: Pg lags of lead, Qg of delay, Lg taps in all. */
    const int P = o.max_lead, Q = o.max_lag, L = P + Q + 1;
    const int Pg = P + GUARD, Lg = L + 2 * GUARD;
    if (n < (size_t)L * 4)
        return rnnfx_fail(err, RNNFX_ERR_INVALID,
                          "alignment: %zu samples are too few to search a %d-sample range", n, L);

    double xx = 0, yy = 0;
    for (size_t t = 0; t < n; t++) {
        xx += (double)dry[t] * dry[t];
        yy += (double)wet[t] * wet[t];
    }
    if (!(xx > 1e-12 * (double)n) || !(yy > 1e-12 * (double)n))
        return rnnfx_fail(err, RNNFX_ERR_INVALID, "alignment: the %s signal is silent",
                          !(xx > 1e-12 * (double)n) ? "dry" : "wet");

    double *R = malloc((size_t)Lg * sizeof *R);   /* R[m], m = 0..Lg-1 */
    double *r = malloc((size_t)Lg * sizeof *r);   /* r[j+Pg], j = -Pg..Q+GUARD */
    double *h = malloc((size_t)Lg * sizeof *h);
    float *wd = NULL, *ww = NULL;
    if (!R || !r || !h || whiten(dry, wet, n, &wd, &ww)) {
        free(R), free(r), free(h);
        return rnnfx_fail(err, RNNFX_ERR_NOMEM, "alignment: out of memory");
    }

    /* 1. The fit of the pair as recorded: the linear baseline
     * (linear_esr), the plain cross-correlation answer, and where the
     * response is. A weak response (a few seconds through a hard clipper:
     * the distortion products are noise to a linear fit) is compared with
     * fits at larger ridges, which trade resolution for stability, and the
     * clearest wins. */
    double resid;
    Response best;
    int st = ls_fit(dry, wet, n, Pg, Lg, o.ridge, R, r, h, yy, &resid);
    if (st == 0) {
        res->linear_esr = resid > 0 ? resid / yy : 0.0;
        int xbest = GUARD;
        for (int j = GUARD + 1; j < GUARD + L; j++)
            if (fabs(r[j]) > fabs(r[xbest]))
                xbest = j;
        res->xcorr_lag = xbest - Pg;
        res->xcorr_inverted = r[xbest] < 0;
        read_response(h + GUARD, L, P, &best);
    }
    int weak = st == 0 && best.confidence < CLEAR;
    for (int k = 0; st == 0 && k < 2 && best.confidence < CLEAR; k++) {
        double *h2 = malloc((size_t)Lg * sizeof *h2);
        if (!h2)
            break;
        Response c;
        if (ls_fit(dry, wet, n, Pg, Lg, o.ridge * (k == 0 ? 10.0 : 100.0), R, r, h2, yy,
                   &resid) == 0) {
            read_response(h2 + GUARD, L, P, &c);
            if (c.confidence > best.confidence) {
                best = c;
                free(h);
                h = h2;
                h2 = NULL;
            }
        }
        free(h2);
    }
    /* 2. The fit of the whitened pair, read only near that response: its
     * taps are sharp where the first fit's are a smeared lobe, but noisier
     * far from the response (on a few takes a spurious tap elsewhere wins) */
    double *hw = NULL;
    if (st == 0) {
        hw = malloc((size_t)Lg * sizeof *hw);
        double wyy = 0;
        for (size_t t = 0; t < n; t++)
            wyy += (double)ww[t] * ww[t];
        st = hw ? ls_fit(wd, ww, n, Pg, Lg, o.ridge, R, r, hw, wyy, &resid) : -1;
    }
    free(wd), free(ww);
    if (st) {
        free(R), free(r), free(h), free(hw);
        if (st == -1)
            return rnnfx_fail(err, RNNFX_ERR_NOMEM, "alignment: out of memory");
        return rnnfx_fail(err, RNNFX_ERR_INVALID,
                          "alignment: the dry signal has too little variety to estimate a response");
    }
    int c0 = best.peak_lag + P; /* index of the located peak */
    int wlo = c0 - REFINE < 0 ? 0 : c0 - REFINE, whi = c0 + REFINE >= L ? L - 1 : c0 + REFINE;
    Response fine;
    read_response(hw + GUARD + wlo, whi - wlo + 1, P - wlo, &fine);
    free(hw);
    const double *ha = h + GUARD;
    res->peak_lag = fine.peak_lag;
    res->peak_tap = fine.peak_tap;
    /* after a weak first fit the whitened taps are noisy too (on 4 s
     * takes they read 1-3 samples late): the stable fit's peak bounds the
     * delay, as an early answer costs less than a late one */
    res->delay = weak && best.peak_lag < fine.delay ? best.peak_lag : fine.delay;
    res->inverted = fine.peak_tap < 0;
    res->confidence = best.confidence;
    res->first_lag = -P;
    res->ir_len = L;
    res->ir = malloc((size_t)L * sizeof *res->ir);
    if (res->ir)
        for (int i = 0; i < L; i++)
            res->ir[i] = (float)ha[i];
    else
        res->ir_len = 0;
    free(R), free(r), free(h);
    return RNNFX_OK;
}

size_t rnnfx_align_overlap(size_t n_dry, size_t n_wet, int delay, size_t *dry_off, size_t *wet_off)
{
    size_t d0 = 0, w0 = 0;
    if (delay >= 0)
        w0 = (size_t)delay;
    else
        d0 = (size_t)(-(long long)delay);
    if (d0 >= n_dry || w0 >= n_wet) {
        *dry_off = *wet_off = 0;
        return 0;
    }
    size_t a = n_dry - d0, b = n_wet - w0;
    *dry_off = d0;
    *wet_off = w0;
    return a < b ? a : b;
}

float *rnnfx_align_apply(const float *wet, size_t wet_off, size_t len, int inverted)
{
    float *out = malloc((len ? len : 1) * sizeof *out);
    if (!out)
        return NULL;
    const float s = inverted ? -1.0f : 1.0f;
    for (size_t t = 0; t < len; t++)
        out[t] = s * wet[wet_off + t];
    return out;
}

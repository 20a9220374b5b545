/*
 * report.c — self-contained HTML training report with inline SVG charts.
 * See report.h. Charts are drawn by hand (polylines in a viewBox) so the page
 * needs no script or library; each chart function takes data and a box.
 */
#include "report.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fft.h"
#include "model_file.h"

const char *rnnfx_quality_band(double esr)
{
    if (!(esr >= 0))
        return "unknown";
    if (esr < 0.01)
        return "great";
    if (esr < 0.035)
        return "good";
    if (esr < 0.1)
        return "usable";
    return "poor";
}

const char *rnnfx_quality_sentence(double esr)
{
    if (!(esr >= 0))
        return "Quality unknown: no test audio was scored.";
    if (esr < 0.01)
        return "Great: very hard to tell apart from the device.";
    if (esr < 0.035)
        return "Good: close to the device; differences show in direct A/B comparison.";
    if (esr < 0.1)
        return "Usable: the character is there, details differ. More training time or a larger model helps.";
    if (esr < 0.2)
        return "Poor: audibly different. Train longer, try a larger model or check the recordings.";
    return "Poor: clearly different. Check that input and target belong together and are aligned; train longer.";
}

/* ---- a tiny string builder ------------------------------------------------ */
typedef struct {
    char *s;
    size_t len, cap;
    int oom;
} Buf;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void bp(Buf *b, const char *fmt, ...)
{
    if (b->oom)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        size_t room = b->cap - b->len;
        int n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? room : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->oom = 1;
            return;
        }
        if ((size_t)n < room) {
            b->len += (size_t)n;
            return;
        }
        size_t nc = (b->cap ? b->cap * 2 : 65536) + (size_t)n;
        char *ns = realloc(b->s, nc);
        if (!ns) {
            b->oom = 1;
            return;
        }
        b->s = ns;
        b->cap = nc;
    }
}

static void html_text(Buf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<': bp(b, "&lt;"); break;
        case '>': bp(b, "&gt;"); break;
        case '&': bp(b, "&amp;"); break;
        case '"': bp(b, "&quot;"); break;
        default: bp(b, "%c", *s);
        }
    }
}

size_t rnnfx_report_loudest(const float *x, size_t n, size_t len)
{
    if (!x || n <= len)
        return 0;
    double e = 0, best = -1;
    size_t at = 0;
    for (size_t i = 0; i < len; i++)
        e += (double)x[i] * x[i];
    for (size_t i = 0; i + len <= n; i++) {
        if (e > best) {
            best = e;
            at = i;
        }
        if (i + len < n)
            e += (double)x[i + len] * x[i + len] - (double)x[i] * x[i];
    }
    return at;
}

/* ---- chart helpers ---------------------------------------------------------- */
typedef struct {
    double x0, y0, w, h;          /* plot area in SVG units */
    double xmin, xmax, ymin, ymax; /* data range */
    int xlog, ylog;
} Axes;

static double ax_x(const Axes *a, double v)
{
    if (a->xlog)
        v = log10(v > 1e-30 ? v : 1e-30);
    double lo = a->xlog ? log10(a->xmin) : a->xmin, hi = a->xlog ? log10(a->xmax) : a->xmax;
    return a->x0 + (v - lo) / (hi - lo) * a->w;
}

static double ax_y(const Axes *a, double v)
{
    double lo = a->ymin, hi = a->ymax;
    if (a->ylog) {
        v = log10(v > 1e-30 ? v : 1e-30);
        lo = log10(lo);
        hi = log10(hi);
    }
    double t = (v - lo) / (hi - lo);
    if (t < -0.05)
        t = -0.05;
    if (t > 1.05)
        t = 1.05;
    return a->y0 + a->h - t * a->h;
}

static void svg_begin(Buf *b, int W, int H, const char *label)
{
    bp(b, "<svg viewBox=\"0 0 %d %d\" width=\"100%%\" role=\"img\" aria-label=\"", W, H);
    html_text(b, label);
    bp(b, "\" xmlns=\"http://www.w3.org/2000/svg\" font-family=\"sans-serif\" font-size=\"12\">\n");
    bp(b, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#fff\"/>\n", W, H);
}

static void frame(Buf *b, const Axes *a)
{
    bp(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#999\"/>\n",
       a->x0, a->y0, a->w, a->h);
}

static void hgrid(Buf *b, const Axes *a, double v, const char *label, const char *color, int dash)
{
    double y = ax_y(a, v);
    bp(b, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" %s/>\n", a->x0,
       a->x0 + a->w, y, y, color, dash ? "stroke-dasharray=\"4 3\"" : "stroke-width=\"0.5\"");
    if (label)
        bp(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" fill=\"#555\">%s</text>\n",
           a->x0 - 4, y + 4, label);
}

static void vgrid(Buf *b, const Axes *a, double v, const char *label)
{
    double x = ax_x(a, v);
    bp(b, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\" stroke-width=\"0.5\"/>\n",
       x, x, a->y0, a->y0 + a->h);
    if (label)
        bp(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#555\">%s</text>\n", x,
           a->y0 + a->h + 15, label);
}

/* polyline through (xs[i], ys[i]); skips non-finite points */
static void poly(Buf *b, const Axes *a, const double *xs, const double *ys, size_t n,
                 const char *color, double width)
{
    bp(b, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"%.2f\" stroke-linejoin=\"round\" points=\"",
       color, width);
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(xs[i]) || !isfinite(ys[i]) || (a->ylog && ys[i] <= 0))
            continue;
        bp(b, "%.1f,%.1f ", ax_x(a, xs[i]), ax_y(a, ys[i]));
    }
    bp(b, "\"/>\n");
}

static void legend(Buf *b, double x, double y, const char *color, const char *text)
{
    bp(b, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2.5\"/>",
       x, x + 18, y - 4, y - 4, color);
    bp(b, "<text x=\"%.1f\" y=\"%.1f\" fill=\"#333\">", x + 22, y);
    html_text(b, text);
    bp(b, "</text>\n");
}

static void fmt_num(char *s, size_t n, double v)
{
    if (v >= 1e-3 && v < 1e4)
        snprintf(s, n, "%g", v);
    else
        snprintf(s, n, "%.0e", v);
}

/* ---- the charts ---------------------------------------------------------------- */
static void chart_curves(Buf *b, const RnnfxReport *r)
{
    const int W = 760, H = 300;
    svg_begin(b, W, H, "training loss and validation ESR per epoch");
    if (r->n_epochs < 1) {
        bp(b, "<text x=\"20\" y=\"40\">No epoch finished.</text></svg>\n");
        return;
    }
    double lo = 1e30, hi = 0;
    for (int i = 0; i < r->n_epochs; i++) {
        double v[2] = {r->epochs[i].train_loss, r->epochs[i].val_esr};
        for (int k = 0; k < 2; k++)
            if (isfinite(v[k]) && v[k] > 0) {
                if (v[k] < lo)
                    lo = v[k];
                if (v[k] > hi)
                    hi = v[k];
            }
    }
    if (!(hi > 0)) {
        lo = 1e-3;
        hi = 1;
    }
    double ymin = pow(10, floor(log10(lo))), ymax = pow(10, ceil(log10(hi)));
    if (ymax <= ymin)
        ymax = ymin * 10;
    Axes a = {70, 20, W - 90, H - 85, 0, r->n_epochs > 1 ? r->n_epochs : 2, ymin, ymax, 0, 1};
    a.xmin = 1;
    frame(b, &a);
    for (double d = ymin; d <= ymax * 1.0001; d *= 10) {
        char s[32];
        fmt_num(s, sizeof s, d);
        hgrid(b, &a, d, s, "#ddd", 0);
    }
    static const struct { double v; const char *name; } bands[] = {
        {0.01, "great"}, {0.035, "good"}, {0.1, "usable"}};
    for (int k = 0; k < 3; k++)
        if (bands[k].v > ymin && bands[k].v < ymax) {
            hgrid(b, &a, bands[k].v, NULL, "#7a7", 1);
            bp(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" fill=\"#4a4\">%s &lt; %g</text>\n",
               a.x0 + a.w - 4, ax_y(&a, bands[k].v) - 3, bands[k].name, bands[k].v);
        }
    int step = r->n_epochs > 10 ? (r->n_epochs + 9) / 10 : 1;
    for (int e = 1; e <= r->n_epochs; e += step) {
        char s[16];
        snprintf(s, sizeof s, "%d", e);
        vgrid(b, &a, e, s);
    }
    bp(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#555\">epoch</text>\n",
       a.x0 + a.w / 2, a.y0 + a.h + 32);
    double *xs = malloc((size_t)r->n_epochs * sizeof *xs);
    double *tl = malloc((size_t)r->n_epochs * sizeof *tl);
    double *ve = malloc((size_t)r->n_epochs * sizeof *ve);
    if (xs && tl && ve) {
        for (int i = 0; i < r->n_epochs; i++) {
            xs[i] = i + 1;
            tl[i] = r->epochs[i].train_loss;
            ve[i] = r->epochs[i].val_esr;
        }
        poly(b, &a, xs, tl, (size_t)r->n_epochs, "#1f77b4", 2);
        poly(b, &a, xs, ve, (size_t)r->n_epochs, "#d62728", 2);
        if (r->n_epochs == 1) {
            bp(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"#1f77b4\"/>", ax_x(&a, 1), ax_y(&a, tl[0]));
            bp(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"#d62728\"/>", ax_x(&a, 1), ax_y(&a, ve[0]));
        }
    }
    free(xs);
    free(tl);
    free(ve);
    legend(b, 80, H - 5, "#1f77b4", "training loss");
    legend(b, 230, H - 5, "#d62728", "validation ESR");
    bp(b, "</svg>\n");
}

static void chart_wave(Buf *b, const RnnfxReport *r, size_t start, size_t len, const char *what)
{
    const int W = 760, H = 285;
    svg_begin(b, W, H, what);
    if (!r->target || !r->prediction || len < 2 || start + len > r->n) {
        bp(b, "<text x=\"20\" y=\"40\">No test audio.</text></svg>\n");
        return;
    }
    double peak = 1e-9;
    for (size_t i = start; i < start + len; i++) {
        double v = fabs(r->target[i]) > fabs(r->prediction[i]) ? fabs(r->target[i]) : fabs(r->prediction[i]);
        if (v > peak)
            peak = v;
    }
    double ms = 1000.0 * (double)len / r->sample_rate;
    Axes a = {60, 15, W - 80, H - 85, 0, ms, -peak * 1.05, peak * 1.05, 0, 0};
    frame(b, &a);
    hgrid(b, &a, 0, "0", "#ccc", 0);
    char s[32];
    snprintf(s, sizeof s, "%.2f", peak);
    hgrid(b, &a, peak, s, "#eee", 0);
    snprintf(s, sizeof s, "%.2f", -peak);
    hgrid(b, &a, -peak, s, "#eee", 0);
    double tick = ms > 200 ? 50 : ms > 50 ? 10 : ms > 10 ? 2 : 0.5;
    for (double t = 0; t <= ms + 1e-9; t += tick) {
        snprintf(s, sizeof s, "%g", t);
        vgrid(b, &a, t, s);
    }
    bp(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#555\">ms (at %.2f s into the test audio)</text>\n",
       a.x0 + a.w / 2, a.y0 + a.h + 32, (double)start / r->sample_rate);
    /* at most ~1500 points per line: decimate long windows by min/max pairs */
    size_t maxpts = 1500;
    size_t step = len > maxpts ? (len + maxpts - 1) / maxpts : 1;
    size_t np = (len + step - 1) / step * (step > 1 ? 2 : 1);
    double *xs = malloc(np * sizeof *xs), *yt = malloc(np * sizeof *yt), *yp = malloc(np * sizeof *yp);
    if (xs && yt && yp) {
        size_t k = 0;
        for (size_t i = 0; i < len; i += step) {
            size_t e = i + step < len ? i + step : len;
            if (step == 1) {
                xs[k] = 1000.0 * (double)i / r->sample_rate;
                yt[k] = r->target[start + i];
                yp[k] = r->prediction[start + i];
                k++;
            } else {
                double tmin = 1e30, tmax = -1e30, pmin = 1e30, pmax = -1e30;
                for (size_t j = i; j < e; j++) {
                    double t = r->target[start + j], p = r->prediction[start + j];
                    tmin = t < tmin ? t : tmin;
                    tmax = t > tmax ? t : tmax;
                    pmin = p < pmin ? p : pmin;
                    pmax = p > pmax ? p : pmax;
                }
                xs[k] = xs[k + 1] = 1000.0 * (double)i / r->sample_rate;
                yt[k] = tmin, yt[k + 1] = tmax;
                yp[k] = pmin, yp[k + 1] = pmax;
                k += 2;
            }
        }
        if (r->input) {
            /* the dry input, faint, scaled to the window */
            double ip = 1e-9;
            for (size_t i = start; i < start + len; i++)
                ip = fabs(r->input[i]) > ip ? fabs(r->input[i]) : ip;
            double *yi = malloc(np * sizeof *yi);
            if (yi && step == 1) {
                for (size_t i = 0; i < k; i++)
                    yi[i] = r->input[start + i] / ip * peak;
                poly(b, &a, xs, yi, k, "#bbb", 1);
            }
            free(yi);
        }
        poly(b, &a, xs, yt, k, "#222", 1.6);
        poly(b, &a, xs, yp, k, "#ff7f0e", 1.3);
    }
    free(xs);
    free(yt);
    free(yp);
    legend(b, 70, H - 5, "#222", "target (the device)");
    legend(b, 240, H - 5, "#ff7f0e", "prediction (the model)");
    if (r->input)
        legend(b, 430, H - 5, "#bbb", "dry input (scaled)");
    bp(b, "</svg>\n");
}

static void chart_spectrum(Buf *b, const RnnfxReport *r)
{
    const int W = 760, H = 300;
    svg_begin(b, W, H, "spectrum of target, prediction and error");
    const size_t seg = 4096;
    if (!r->target || !r->prediction || r->n < 64) {
        bp(b, "<text x=\"20\" y=\"40\">No test audio.</text></svg>\n");
        return;
    }
    size_t nb = seg / 2 + 1;
    double *pt = malloc(nb * sizeof *pt), *pp = malloc(nb * sizeof *pp), *pe = malloc(nb * sizeof *pe);
    float *e = malloc(r->n * sizeof *e);
    double *xs = malloc(nb * sizeof *xs);
    if (!pt || !pp || !pe || !e || !xs) {
        free(pt), free(pp), free(pe), free(e), free(xs);
        bp(b, "</svg>\n");
        return;
    }
    for (size_t i = 0; i < r->n; i++)
        e[i] = r->target[i] - r->prediction[i];
    rnnfx_welch_psd(r->target, r->n, seg, pt);
    rnnfx_welch_psd(r->prediction, r->n, seg, pp);
    rnnfx_welch_psd(e, r->n, seg, pe);
    double ref = 1e-30;
    for (size_t i = 1; i < nb; i++)
        ref = pt[i] > ref ? pt[i] : ref;
    for (size_t i = 0; i < nb; i++) {
        xs[i] = (double)i * r->sample_rate / (double)seg;
        pt[i] = 10 * log10(pt[i] / ref + 1e-12);
        pp[i] = 10 * log10(pp[i] / ref + 1e-12);
        pe[i] = 10 * log10(pe[i] / ref + 1e-12);
    }
    double fmax = r->sample_rate / 2;
    Axes a = {60, 15, W - 90, H - 80, 20, fmax, -100, 5, 1, 0};
    frame(b, &a);
    for (int d = 0; d >= -100; d -= 20) {
        char s[16];
        snprintf(s, sizeof s, "%d dB", d);
        hgrid(b, &a, d, s, "#ddd", 0);
    }
    static const double fr[] = {20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000};
    static const char *fl[] = {"20", "50", "100", "200", "500", "1k", "2k", "5k", "10k", "20k"};
    for (int k = 0; k < 10; k++)
        if (fr[k] <= fmax)
            vgrid(b, &a, fr[k], fl[k]);
    bp(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#555\">Hz</text>\n", a.x0 + a.w / 2,
       a.y0 + a.h + 32);
    poly(b, &a, xs + 1, pe + 1, nb - 1, "#d62728", 1);
    poly(b, &a, xs + 1, pt + 1, nb - 1, "#222", 1.6);
    poly(b, &a, xs + 1, pp + 1, nb - 1, "#ff7f0e", 1.3);
    legend(b, 70, H - 5, "#222", "target");
    legend(b, 170, H - 5, "#ff7f0e", "prediction");
    legend(b, 290, H - 5, "#d62728", "error (target − prediction)");
    bp(b, "</svg>\n");
    free(pt), free(pp), free(pe), free(e), free(xs);
}

static void chart_ir(Buf *b, const RnnfxReport *r)
{
    const int W = 760, H = 200;
    svg_begin(b, W, H, "linear impulse response from dry to wet");
    int lo = r->delay - 40, hi = r->delay + 200;
    if (lo < r->ir_first_lag)
        lo = r->ir_first_lag;
    if (hi > r->ir_first_lag + r->ir_len - 1)
        hi = r->ir_first_lag + r->ir_len - 1;
    int n = hi - lo + 1;
    double peak = 1e-12;
    for (int i = 0; i < n; i++) {
        double v = fabs(r->ir[lo - r->ir_first_lag + i]);
        peak = v > peak ? v : peak;
    }
    Axes a = {60, 15, W - 80, H - 55, lo, hi, -peak * 1.1, peak * 1.1, 0, 0};
    frame(b, &a);
    hgrid(b, &a, 0, "0", "#ccc", 0);
    double *xs = malloc((size_t)n * sizeof *xs), *ys = malloc((size_t)n * sizeof *ys);
    if (xs && ys) {
        for (int i = 0; i < n; i++) {
            xs[i] = lo + i;
            ys[i] = r->ir[lo - r->ir_first_lag + i];
        }
        poly(b, &a, xs, ys, (size_t)n, "#2ca02c", 1.4);
    }
    free(xs);
    free(ys);
    for (int t = (lo / 50) * 50; t <= hi; t += 50) {
        char s[16];
        snprintf(s, sizeof s, "%d", t);
        if (t >= lo)
            vgrid(b, &a, t, s);
    }
    double x = ax_x(&a, r->delay);
    bp(b, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#9467bd\" stroke-dasharray=\"4 3\"/>\n",
       x, x, a.y0, a.y0 + a.h);
    bp(b, "<text x=\"%.1f\" y=\"%.1f\" fill=\"#9467bd\">delay %d</text>\n", x + 4, a.y0 + 14, r->delay);
    bp(b, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" fill=\"#555\">lag (samples)</text>\n",
       a.x0 + a.w / 2, H - 8);
    bp(b, "</svg>\n");
}

RnnfxStatus rnnfx_report_write_html(const char *path, const RnnfxReport *r, RnnfxError *err)
{
    Buf b = {0};
    const char *band = rnnfx_quality_band(r->test_esr);
    const char *color = !strcmp(band, "great") ? "#1a7f37"
                        : !strcmp(band, "good") ? "#2f8f4f"
                        : !strcmp(band, "usable") ? "#b07d00"
                                                   : "#b42318";
    bp(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>");
    html_text(&b, r->title ? r->title : "capture");
    bp(&b, " — rnnfx training report</title>\n<style>\n"
           "body{font-family:sans-serif;max-width:820px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}\n"
           "h1{font-size:1.5em;margin-bottom:.2em} h2{font-size:1.15em;margin-top:1.8em;border-bottom:1px solid #ddd}\n"
           ".verdict{font-size:1.25em;padding:.8em 1em;border-radius:6px;color:#fff;background:%s}\n"
           "table{border-collapse:collapse} td{padding:.15em .8em .15em 0;vertical-align:top}\n"
           "td:first-child{color:#555} pre{background:#f6f6f6;padding:.6em;overflow:auto;font-size:.85em}\n"
           ".small{color:#666;font-size:.9em}\n</style></head><body>\n",
       color);
    bp(&b, "<h1>");
    html_text(&b, r->title ? r->title : "capture");
    bp(&b, "</h1>\n<p class=\"small\">rnnfx training report");
    if (r->model_path) {
        bp(&b, " · model file <code>");
        html_text(&b, r->model_path);
        bp(&b, "</code>");
    }
    bp(&b, "</p>\n");
    if (r->test_esr >= 0)
        bp(&b, "<div class=\"verdict\"><b>Test ESR %.4f — %s.</b> %s</div>\n", r->test_esr, band,
           rnnfx_quality_sentence(r->test_esr));
    else
        bp(&b, "<div class=\"verdict\">%s</div>\n", rnnfx_quality_sentence(r->test_esr));
    bp(&b, "<p class=\"small\">ESR = Σ(target − prediction)² / Σ target², on audio held out from "
           "training (the test regions). Bands: great &lt; 0.01, good &lt; 0.035, usable &lt; 0.1.</p>\n");

    bp(&b, "<h2>Figures</h2>\n<table>\n");
    bp(&b, "<tr><td>test ESR</td><td><b>%.5f</b> (%s)</td></tr>\n", r->test_esr, band);
    bp(&b, "<tr><td>best validation ESR</td><td>%.5f</td></tr>\n", r->best_val_esr);
    if (r->linear_esr >= 0)
        bp(&b, "<tr><td>a linear filter alone</td><td>ESR %.5f (the best FIR fit: how much of the "
               "effect is plain filtering)</td></tr>\n",
           r->linear_esr);
    if (r->arch_desc) {
        bp(&b, "<tr><td>model</td><td>");
        html_text(&b, r->arch_desc);
        bp(&b, "</td></tr>\n");
    }
    bp(&b, "<tr><td>training</td><td>%.1f s, %d epochs, %.0f samples/s</td></tr>\n", r->train_seconds,
       r->n_epochs, r->samples_per_s);
    bp(&b, "<tr><td>delay removed</td><td>%d samples (%.2f ms)%s</td></tr>\n", r->delay,
       1000.0 * r->delay / r->sample_rate, r->inverted ? ", polarity inverted (kept in the model)" : "");
    bp(&b, "<tr><td>plain cross-correlation</td><td>would have said %d samples%s</td></tr>\n",
       r->xcorr_lag, r->xcorr_inverted ? ", inverted" : "");
    if (r->input_desc) {
        bp(&b, "<tr><td>input</td><td>");
        html_text(&b, r->input_desc);
        bp(&b, "</td></tr>\n");
    }
    if (r->target_desc) {
        bp(&b, "<tr><td>target</td><td>");
        html_text(&b, r->target_desc);
        bp(&b, "</td></tr>\n");
    }
    bp(&b, "<tr><td>sample rate</td><td>%.0f Hz</td></tr>\n</table>\n", r->sample_rate);
    if (r->notes && *r->notes) {
        bp(&b, "<h2>What the trainer noticed</h2>\n<ul>\n");
        const char *s = r->notes;
        while (*s) {
            const char *e = strchr(s, '\n');
            size_t l = e ? (size_t)(e - s) : strlen(s);
            if (l) {
                char line[1024];
                snprintf(line, sizeof line, "%.*s", (int)(l < 1000 ? l : 1000), s);
                bp(&b, "<li>");
                html_text(&b, line);
                bp(&b, "</li>\n");
            }
            s += l + (e ? 1 : 0);
        }
        bp(&b, "</ul>\n");
    }

    bp(&b, "<h2>Waveforms (test audio)</h2>\n");
    chart_wave(&b, r, r->zoom_start, r->zoom_len, "zoomed waveform overlay");
    size_t wide = (size_t)(0.25 * r->sample_rate);
    if (r->n > wide) {
        size_t ws = r->zoom_start + r->zoom_len / 2 > wide / 2 ? r->zoom_start + r->zoom_len / 2 - wide / 2 : 0;
        if (ws + wide > r->n)
            ws = r->n - wide;
        bp(&b, "<p class=\"small\">The same place, a quarter second around it:</p>\n");
        chart_wave(&b, r, ws, wide, "wider waveform overlay");
    }
    bp(&b, "<h2>Spectrum (test audio)</h2>\n");
    chart_spectrum(&b, r);
    bp(&b, "<p class=\"small\">Power relative to the target's strongest band. The red line is what "
           "the model gets wrong; the further below the black line, the better.</p>\n");
    bp(&b, "<h2>Training curves</h2>\n");
    chart_curves(&b, r);
    if (r->ir && r->ir_len > 0) {
        bp(&b, "<h2>Alignment</h2>\n<p class=\"small\">The dry→wet linear impulse response (a "
               "least-squares FIR fit). Its onset is the delay the trainer removed; its sign the "
               "polarity.</p>\n");
        chart_ir(&b, r);
    }
    if (r->settings) {
        bp(&b, "<h2>Settings</h2>\n<pre>");
        html_text(&b, r->settings);
        bp(&b, "</pre>\n");
    }
    time_t now = time(NULL);
    char ts[64];
    strftime(ts, sizeof ts, "%Y-%m-%d %H:%M UTC", gmtime(&now));
    bp(&b, "<p class=\"small\">Written %s by rnnfx-train.</p>\n</body></html>\n", ts);
    if (b.oom) {
        free(b.s);
        return rnnfx_fail(err, RNNFX_ERR_NOMEM, "report: out of memory");
    }
    RnnfxStatus st = rnnfx_write_file_atomic(path, b.s, b.len, err);
    free(b.s);
    return st;
}

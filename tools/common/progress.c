/*
 * progress.c — terminal progress bar / plain progress lines. See progress.h.
 */
#include "progress.h"

#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli.h"

void rnnfx_progress_begin(RnnfxProgress *p, FILE *out, int quiet)
{
    memset(p, 0, sizeof *p);
    p->out = out ? out : stdout;
    p->tty = isatty(fileno(p->out));
    p->width = 24;
    p->start = rnnfx_cli_now();
    p->last_print = -1e9;
    p->interval = 10.0;
    p->quiet = quiet;
}

static void fmt_esr(char *buf, size_t len, double v)
{
    if (v < 0)
        snprintf(buf, len, "  -   ");
    else
        snprintf(buf, len, "%.4f", v);
}

void rnnfx_progress_update(RnnfxProgress *p, double fraction, int epoch, int epochs,
                           double train_loss, double val_esr, double best_esr, int epoch_end)
{
    if (p->quiet)
        return;
    double now = rnnfx_cli_now();
    double el = now - p->start;
    if (fraction < 0)
        fraction = 0;
    if (fraction > 1)
        fraction = 1;
    char elapsed[32], eta[32], val[32], best[32], ep[32];
    rnnfx_cli_format_duration(el, elapsed, sizeof elapsed);
    if (fraction > 0.002)
        rnnfx_cli_format_duration(el * (1.0 - fraction) / fraction, eta, sizeof eta);
    else
        snprintf(eta, sizeof eta, "?");
    fmt_esr(val, sizeof val, val_esr);
    fmt_esr(best, sizeof best, best_esr);
    if (epochs > 0)
        snprintf(ep, sizeof ep, "%d/%d", epoch, epochs);
    else
        snprintf(ep, sizeof ep, "%d", epoch);
    if (p->tty) {
        char bar[128];
        int w = p->width < 100 ? p->width : 100;
        int fill = (int)(fraction * w + 0.5);
        for (int i = 0; i < w; i++)
            bar[i] = i < fill ? '#' : '-';
        bar[w] = 0;
        char line[512];
        snprintf(line, sizeof line, "[%s] %3d%%  epoch %s  %s, %s left  loss %.4f  val ESR %s (best %s)",
                 bar, (int)(fraction * 100 + 0.5), ep, elapsed, eta, train_loss, val, best);
        /* never wider than the terminal: a wrapped line cannot be redrawn */
        struct winsize ws;
        if (ioctl(fileno(p->out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 10 && ws.ws_col < sizeof line)
            line[ws.ws_col - 1] = 0;
        fprintf(p->out, "\r%s\033[K", line);
        fflush(p->out);
        p->line_open = 1;
    } else {
        char line[sizeof p->held_line];
        snprintf(line, sizeof line,
                 "progress %3d%%  epoch %s  elapsed %s  left %s  loss %.4f  val_esr %s  best %s\n",
                 (int)(fraction * 100 + 0.5), ep, elapsed, eta, train_loss, val, best);
        const int due = epoch_end ? p->epoch_lines == 0 || now - p->last_print >= RNNFX_PROGRESS_EPOCH_GAP
                                  : now - p->last_print >= p->interval;
        if (due) {
            fputs(line, p->out);
            fflush(p->out);
            p->last_print = now;
            p->held = 0;
            p->epoch_lines += epoch_end;
        } else if (epoch_end) {
            memcpy(p->held_line, line, sizeof line);
            p->held = 1;
        }
    }
}

/* Plain mode: the epoch-end line held back, if any. */
static void flush_held(RnnfxProgress *p)
{
    if (!p->held)
        return;
    fputs(p->held_line, p->out);
    p->held = 0;
    p->epoch_lines++;
    p->last_print = rnnfx_cli_now();
}

void rnnfx_progress_note(RnnfxProgress *p, const char *fmt, ...)
{
    if (p->quiet)
        return;
    if (p->tty && p->line_open) {
        fputs("\r\033[K", p->out);
        p->line_open = 0;
    }
    flush_held(p);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(p->out, fmt, ap);
    va_end(ap);
    fputc('\n', p->out);
    fflush(p->out);
}

void rnnfx_progress_end(RnnfxProgress *p)
{
    if (p->quiet)
        return;
    if (p->tty && p->line_open) {
        fputc('\n', p->out);
        p->line_open = 0;
    }
    flush_held(p);
    fflush(p->out);
}

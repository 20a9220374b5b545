/*
 * rnnfx-pluck — renders a guitar-like DI recording from a plucked-string
 * model, for demos and tests that need realistic dry material without any
 * recording or extra package.
 *
 *   rnnfx-pluck -o dry.wav --seconds 60 --seed 1
 *
 * Six strings in standard tuning, each an extended Karplus-Strong waveguide:
 * a delay line one period long, a one-zero loss filter (brightness) with a
 * per-period decay set from a pitch-dependent T60, a first-order allpass for
 * fine tuning, and an excitation made of a velocity-shaped noise burst
 * passed through a pick-position comb. A new pluck on a sounding string
 * damps what was ringing, as a real pick does; palm muting shortens T60 and
 * darkens the loss filter. The strings are summed through a pickup model
 * (high-pass around 70 Hz, a resonant low-pass near 3 kHz like a
 * magnetic pickup loaded by its cable, and a gentle tone-pot roll-off), giving the spectrum of a DI track.
 *
 * The riff is generated from the seed: bars of palm-muted power-chord
 * chugs, strummed open chords, pentatonic single-note lines and arpeggios
 * at one tempo, with varying dynamics and rests, so the material covers
 * the level range and the attack/decay variety a capture needs.
 *
 * --overdrive IN runs a file through a reference overdrive written here
 * (see overdrive()), the demo's stand-in when no LV2 effect is installed.
 *
 * Not a realistic guitar synthesizer for music (no vibrato, bends, body
 * resonances); it is test material. Writes mono in the format the output's
 * extension names (rnnfx_audio_format_for_path: .wav 32-bit float, .flac
 * 24-bit, .aiff/.caf/.rf64 float, .ogg Vorbis), atomically.
 */
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "audio_io.h"
#include "cli.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

#define MAXLEN 4096

/* ---- deterministic random numbers (xorshift64*) ---------------------------- */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rng_next(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Dull;
}
static double rnd(void) { return (double)(rng_next() >> 11) * (1.0 / 9007199254740992.0); }
static int rndi(int n) { return (int)(rnd() * n); }

/* ---- one string --------------------------------------------------------------- */
typedef struct {
    float buf[MAXLEN];
    int len, pos;
    float rho, S;          /* per-period decay (as per-sample gain), loss filter blend */
    float ap_c, ap_x1, ap_y1;
    float lp_x1;
    float damp_rho, damp_S; /* targets when muted */
    int muted;
} String;

static void string_pluck(String *s, double rate, double freq, double vel, int palm, double pick_pos)
{
    double period = rate / freq;
    int len = (int)floor(period - 0.5); /* loss filter adds ~0.5 sample */
    if (len < 2)
        len = 2;
    if (len > MAXLEN - 1)
        len = MAXLEN - 1;
    double frac = period - 0.5 - len;
    if (frac < 0.05) {
        len -= 1;
        frac += 1.0;
    }
    s->ap_c = (float)((1.0 - frac) / (1.0 + frac));
    /* T60: low notes ring longer; palm mute kills the sustain */
    double t60 = palm ? 0.12 + 0.08 * rnd() : 2.5 * pow(82.4 / freq, 0.6) + 0.5 * rnd();
    s->rho = (float)pow(10.0, -3.0 / (t60 * freq));
    s->S = palm ? 0.49f : (float)(0.25 + 0.2 * (1.0 - vel));
    /* the pick stops most of what was ringing, then excites */
    for (int i = 0; i < MAXLEN; i++)
        s->buf[i] *= 0.25f;
    /* velocity-shaped noise: softer picks are darker */
    double a = 0.55 + 0.35 * (1.0 - vel); /* one-pole low-pass coefficient */
    double lp = 0;
    float exc[MAXLEN];
    for (int i = 0; i < len; i++) {
        double w = rnd() * 2 - 1;
        lp = (1 - a) * w + a * lp;
        exc[i] = (float)lp;
    }
    int d = (int)(pick_pos * len);
    if (d < 1)
        d = 1;
    for (int i = 0; i < len; i++) {
        float c = exc[i] - (i >= d ? exc[i - d] : 0.0f);
        int k = (s->pos + i) % len;
        s->buf[k] = (k < s->len ? s->buf[k] : 0.0f) + (float)(vel * 0.5) * c;
    }
    s->len = len;
    s->pos %= len;
    s->muted = 0;
}

static void string_mute(String *s)
{
    s->muted = 1;
}

static inline float string_tick(String *s)
{
    if (s->len == 0)
        return 0.0f;
    float x = s->buf[s->pos];
    float rho = s->rho, S = s->S;
    if (s->muted) {
        rho *= 0.995f; /* fingers on the string: a fast but not instant stop */
        S = 0.5f;
    }
    float y = rho * ((1.0f - S) * x + S * s->lp_x1);
    s->lp_x1 = x;
    float a = s->ap_c * y + s->ap_x1 - s->ap_c * s->ap_y1;
    s->ap_x1 = y;
    s->ap_y1 = a;
    if (fabsf(a) < 1e-20f)
        a = 0.0f;
    s->buf[s->pos] = a;
    s->pos++;
    if (s->pos >= s->len)
        s->pos = 0;
    return x;
}

/* ---- a score: plucks at sample times ----------------------------------------------- */
typedef struct {
    size_t t;
    int string; /* 0 = low E */
    int fret;   /* -1 = mute the string */
    float vel;
    int palm;
    size_t seq; /* insertion order: ties sort stably */
} Pluck;

typedef struct {
    Pluck *p;
    size_t n, cap;
} Score;

static void add(Score *s, size_t t, int string, int fret, double vel, int palm)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 1024;
        s->p = realloc(s->p, s->cap * sizeof *s->p);
        if (!s->p) {
            fprintf(stderr, "rnnfx-pluck: out of memory\n");
            exit(1);
        }
    }
    if (vel > 1)
        vel = 1;
    if (vel < 0.05)
        vel = 0.05;
    s->p[s->n] = (Pluck){t, string, fret, (float)vel, palm, s->n};
    s->n++;
}

static int cmp_pluck(const void *a, const void *b)
{
    const Pluck *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq ? 1 : 0;
}

static const int open_midi[6] = {40, 45, 50, 55, 59, 64};

/* open chord shapes, frets per string (-1 = not played) */
static const int chords[][6] = {
    {0, 2, 2, 1, 0, 0},   /* E  */
    {0, 2, 2, 0, 0, 0},   /* Em */
    {-1, 0, 2, 2, 2, 0},  /* A  */
    {-1, 0, 2, 2, 1, 0},  /* Am */
    {-1, -1, 0, 2, 3, 2}, /* D  */
    {3, 2, 0, 0, 0, 3},   /* G  */
    {-1, 3, 2, 0, 1, 0},  /* C  */
    {1, 3, 3, 2, 1, 1},   /* F (barre) */
};

static void make_riff(Score *sc, double rate, double seconds)
{
    double bpm = 90 + rndi(60);
    double beat = 60.0 / bpm * rate;
    size_t total = (size_t)(seconds * rate);
    size_t t = (size_t)(0.2 * rate);
    int key_fret = rndi(7); /* root on the low E string */
    while (t < total) {
        int style = rndi(5);
        double dyn = 0.35 + 0.65 * rnd(); /* bar dynamics */
        int bars = 1 + rndi(2);
        for (int bar = 0; bar < bars && t < total; bar++) {
            switch (style) {
            case 0: /* palm-muted power-chord chugs with accents */
            case 1: {
                int root = (key_fret + (int[]){0, 0, 3, 5, 7, 10}[rndi(6)]) % 12;
                int s0 = root > 7 ? 1 : 0;
                int f = s0 ? root - 5 : root;
                if (f < 0)
                    f += 12;
                for (int e = 0; e < 8; e++) {
                    size_t tt = t + (size_t)(e * beat / 2);
                    if (rnd() < 0.12)
                        continue; /* rest */
                    int accent = (e % 4 == 0) || rnd() < 0.2;
                    int palm = !accent || rnd() < 0.3;
                    double v = dyn * (accent ? 1.0 : 0.7) * (0.85 + 0.15 * rnd());
                    add(sc, tt, s0, f, v, palm);
                    add(sc, tt + (size_t)(0.004 * rate), s0 + 1, f + 2, v * 0.95, palm);
                    if (!palm && rnd() < 0.5)
                        add(sc, tt + (size_t)(0.008 * rate), s0 + 2, f + 2, v * 0.9, palm);
                }
                /* mute at the bar end sometimes */
                if (rnd() < 0.4)
                    for (int s = 0; s < 6; s++)
                        add(sc, t + (size_t)(4 * beat) - (size_t)(0.05 * rate), s, -1, 0.1, 0);
                break;
            }
            case 2: { /* strummed open chords, down and up */
                const int *ch = chords[rndi(8)];
                static const int pattern[8] = {1, 0, 1, 2, 0, 2, 1, 2}; /* 1 down, 2 up, 0 rest */
                for (int e = 0; e < 8; e++) {
                    int dir = pattern[e];
                    if (!dir || rnd() < 0.1)
                        continue;
                    size_t tt = t + (size_t)(e * beat / 2);
                    double spread = (0.006 + 0.02 * rnd()) * rate / 6;
                    double v = dyn * (dir == 1 ? 0.9 : 0.6) * (0.8 + 0.2 * rnd());
                    for (int k = 0; k < 6; k++) {
                        int s = dir == 1 ? k : 5 - k;
                        if (ch[s] < 0 || (dir == 2 && s < 2))
                            continue;
                        add(sc, tt + (size_t)(k * spread), s, ch[s], v, 0);
                    }
                }
                break;
            }
            case 3: { /* pentatonic minor line, eighths and sixteenths */
                static const int penta[5] = {0, 3, 5, 7, 10};
                int base = 40 + key_fret + 12;
                double pos = 0;
                while (pos < 4.0) {
                    double dur = rnd() < 0.6 ? 0.5 : 0.25;
                    if (rnd() > 0.08) {
                        int note = base + penta[rndi(5)] + (rnd() < 0.3 ? 12 : 0);
                        /* the highest string that can play it at fret <= 15 */
                        int s = 5;
                        while (s > 0 && note - open_midi[s] < 0)
                            s--;
                        while (s > 0 && note - open_midi[s] < 2 && rnd() < 0.5)
                            s--;
                        int f = note - open_midi[s];
                        if (f >= 0 && f <= 17)
                            add(sc, t + (size_t)(pos * beat), s, f, dyn * (0.6 + 0.4 * rnd()), rnd() < 0.15);
                    }
                    pos += dur;
                }
                break;
            }
            default: { /* arpeggio over a chord, let ring */
                const int *ch = chords[rndi(8)];
                int order[6], n = 0;
                for (int s = 0; s < 6; s++)
                    if (ch[s] >= 0)
                        order[n++] = s;
                for (int e = 0; e < 8; e++) {
                    int k = e < n ? e : n - 1 - (e - n) % n;
                    if (k < 0)
                        k = 0;
                    add(sc, t + (size_t)(e * beat / 2), order[k], ch[order[k]], dyn * (0.5 + 0.3 * rnd()), 0);
                }
                break;
            }
            }
            t += (size_t)(4 * beat);
        }
        if (rnd() < 0.15)
            t += (size_t)(beat * (1 + rndi(4))); /* a pause: decays and silence */
        if (rnd() < 0.2)
            key_fret = rndi(7);
    }
    qsort(sc->p, sc->n, sizeof *sc->p, cmp_pluck);
}

/* rnnfx_audio_write with Ctrl-C (and TERM, HUP) held back until the file
 * is complete: the write goes to "<out>.tmp-XXXXXX" and is renamed at the
 * end, and a signal in between left that temporary file behind. A signal
 * that arrives meanwhile takes effect as soon as the write has finished
 * (a second or two for an hour of audio). Thread: main. */
static RnnfxStatus write_whole(const char *path, const float *y, size_t n, int rate, int fmt,
                               RnnfxError *err)
{
    sigset_t hold, old;
    sigemptyset(&hold);
    sigaddset(&hold, SIGINT);
    sigaddset(&hold, SIGTERM);
    sigaddset(&hold, SIGHUP);
    sigprocmask(SIG_BLOCK, &hold, &old);
    RnnfxStatus st = rnnfx_audio_write(path, y, n, 1, rate, fmt, err);
    sigprocmask(SIG_SETMASK, &old, NULL);
    return st;
}

/* The reference overdrive: what the demo captures when no LV2 effect is
 * installed. A recognisable pedal shape written here: input boost with a
 * first-order high-pass emphasis (the pedal's mid hump), an asymmetric tanh
 * clipper (even harmonics), a one-pole tone low-pass at 3.2 kHz, a DC
 * blocker, and a 12-sample latency like a plugin's filter delay, so the
 * trainer's alignment has something to find. */
static int overdrive(const char *in_path, const char *out_path)
{
    RnnfxAudio a;
    RnnfxError err;
    if (rnnfx_audio_read(in_path, &a, &err) != RNNFX_OK) {
        fprintf(stderr, "rnnfx-pluck: %s\n", err.msg);
        return 1;
    }
    float *x;
    if (rnnfx_audio_mono(&a, RNNFX_AUDIO_MIX, &x, &err) != RNNFX_OK) {
        fprintf(stderr, "rnnfx-pluck: %s\n", err.msg);
        return 1;
    }
    if (a.channels > 1)
        fprintf(stderr, "rnnfx-pluck: note: %s has %d channels; the pedal plays their average "
                        "(the output is mono)\n", in_path, a.channels);
    /* A NaN or infinity would stay in the filters' state for good: the
     * rest of the output came out as silence (NaN written as 0). */
    size_t nonfinite = rnnfx_audio_sanitize(x, a.frames);
    if (nonfinite)
        fprintf(stderr, "rnnfx-pluck: warning: %s: %zu non-finite samples (NaN or infinity) "
                        "played as 0\n", in_path, nonfinite);
    const double rate = a.sample_rate;
    const size_t n = a.frames, lat = 12;
    float *y = calloc(n, sizeof *y);
    if (!y)
        return 1;
    double hp = 0, px = 0, lp = 0, dcx = 0, dcy = 0;
    const double ahp = exp(-2 * M_PI * 700 / rate), alp = 1 - exp(-2 * M_PI * 3200 / rate);
    const double k = 12.0, bias = 0.15;
    for (size_t t = 0; t < n; t++) {
        double v = x[t];
        hp = ahp * (hp + v - px); /* high-passed copy */
        px = v;
        double e = 0.4 * v + 1.6 * hp; /* mid/treble emphasis before clipping */
        double c = tanh(k * e + bias) - tanh(bias);
        lp += alp * (c - lp);
        double d = lp - dcx + 0.995 * dcy; /* DC blocker */
        dcx = lp;
        dcy = d;
        if (t + lat < n)
            y[t + lat] = (float)(0.35 * d);
    }
    int st = write_whole(out_path, y, n, a.sample_rate, rnnfx_audio_format_for_path(out_path), &err);
    if (st != RNNFX_OK)
        fprintf(stderr, "rnnfx-pluck: %s\n", err.msg);
    free(x);
    free(y);
    rnnfx_audio_free(&a);
    return st == RNNFX_OK ? 0 : 1;
}

int main(int argc, char **argv)
{
    /* "--name=value" as well as "--name value", as rnnfx-train takes */
    static const char *const value_opts[] = {
        "--overdrive", "--output", "--seconds", "--rate", "--peak-db", "--seed", NULL};
    argv = rnnfx_cli_split_equals(argc, argv, value_opts, &argc);
    if (!argv) {
        fprintf(stderr, "rnnfx-pluck: out of memory\n");
        return 1;
    }
    const char *out = NULL, *od_in = NULL;
    double seconds = 60, rate = 48000, peak_db = -6;
    long seed = 1;
    const char *render_opt = NULL; /* an option of the riff, for the --overdrive check */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        long l;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            /* It said "-o OUT.wav" and "32-bit float" while "-o x.flac"
             * wrote 24-bit FLAC: the extension chooses the format. */
            printf("usage: rnnfx-pluck -o OUT [--seconds S] [--seed N] [--rate HZ] [--peak-db DB]\n"
                   "       rnnfx-pluck --overdrive IN -o OUT\n"
                   "Renders a plucked-string guitar riff (a DI-like dry recording), mono;\n"
                   "--overdrive runs a file through the reference overdrive pedal instead (several\n"
                   "channels are averaged; the output is mono, at IN's rate).\n"
                   "\n"
                   "  -o, --output OUT  file to write; its extension chooses the format: .wav\n"
                   "                    (32-bit float), .flac (24-bit), .aif/.aiff, .caf, .rf64\n"
                   "                    (32-bit float), .ogg (Vorbis)\n"
                   "  --seconds S       length, 0 < S <= 3600 (default 60)\n"
                   "  --rate HZ         8000..192000 (default 48000)\n"
                   "  --peak-db DB      peak level, -100..0 dBFS (default -6)\n"
                   "  --seed N          riff and sound (default 1)\n"
                   "  -h, --help        this text\n"
                   "  --version         the program's version\n"
                   "\n"
                   "An existing OUT is replaced (never the --overdrive input).\n"
                   "Exit status: 0 written; 1 IN could not be read or OUT written (a folder,\n"
                   "a missing folder); 2 bad usage (unknown option, bad value, no -o, an\n"
                   "extension that names no format, OUT the same file as IN).\n");
            return 0;
        } else if (!strcmp(a, "--version")) {
            return rnnfx_cli_version("rnnfx-pluck");
        } else if (!strcmp(a, "--overdrive") || !strcmp(a, "-o") || !strcmp(a, "--output") ||
                   !strcmp(a, "--seconds") || !strcmp(a, "--rate") || !strcmp(a, "--peak-db") ||
                   !strcmp(a, "--seed")) {
            /* Each bad value used to read "bad argument '--seconds'", with
             * neither the value nor what the option takes. */
            const char *takes = NULL;
            if (!v) {
                takes = "a value";
            } else if (!strcmp(a, "--overdrive")) {
                if (rnnfx_cli_set_once("rnnfx-pluck", a, &od_in, v))
                    return 2;
            } else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
                if (rnnfx_cli_set_once("rnnfx-pluck", "-o/--output", &out, v))
                    return 2;
            } else if (!strcmp(a, "--seconds")) {
                if (rnnfx_cli_parse_double(v, &seconds) || !(seconds > 0) || seconds > 3600)
                    takes = "seconds, above 0 and at most 3600";
                render_opt = a;
            } else if (!strcmp(a, "--rate")) {
                /* a whole number: "--rate 44100.5" wrote a 44100 Hz file */
                if (rnnfx_cli_parse_int(v, 8000, 192000, &l))
                    takes = "a whole number of Hz from 8000 to 192000";
                else
                    rate = (double)l;
                render_opt = a;
            } else if (!strcmp(a, "--peak-db")) {
                if (rnnfx_cli_parse_double(v, &peak_db) || peak_db > 0 || peak_db < -100)
                    takes = "dBFS from -100 to 0";
                render_opt = a;
            } else {
                if (rnnfx_cli_parse_int(v, 0, 1L << 40, &l))
                    takes = "a whole number from 0";
                else
                    seed = l;
                render_opt = a;
            }
            if (takes) {
                if (v)
                    fprintf(stderr, "rnnfx-pluck: bad argument '%s %s': %s takes %s\n", a, v, a,
                            takes);
                else
                    fprintf(stderr, "rnnfx-pluck: bad argument '%s': it needs %s\n", a, takes);
                return 2;
            }
            i++;
        } else {
            fprintf(stderr, "rnnfx-pluck: bad argument '%s': %s (see --help)\n", a,
                    a[0] == '-' ? "unknown option" : "not an option");
            return 2;
        }
    }
    if (od_in && render_opt) {
        /* silently ignored before: the output is the input's length and rate */
        fprintf(stderr, "rnnfx-pluck: %s does not apply to --overdrive (the output has the "
                        "input's length and rate)\n",
                render_opt);
        return 2;
    }
    if (!out) {
        fprintf(stderr, "rnnfx-pluck: no output file (-o OUT.wav, or .flac, ...; see --help)\n");
        return 2;
    }
    if (!od_in && seconds * rate < 1.0) {
        /* wrote a file with no frames, which every other tool refuses */
        fprintf(stderr, "rnnfx-pluck: --seconds %g at %g Hz is less than one sample\n", seconds,
                rate);
        return 2;
    }
    /* The output is checked before any work, with the messages the other
     * tools give: a folder read as "unknown extension (use .wav or
     * .flac)", a missing folder as "cannot create a temporary file beside
     * it" after the whole render, and an unknown extension was found only
     * after rendering. */
    struct stat ost;
    if (stat(out, &ost) == 0 && S_ISDIR(ost.st_mode)) {
        fprintf(stderr, "rnnfx-pluck: %s is a folder; give a file name\n", out);
        return 1;
    }
    if (rnnfx_cli_refuse_special("rnnfx-pluck", NULL, out) != 0)
        return 1;
    /* "--overdrive take.wav -o take.wav" once replaced the take. A usage
     * error (2), as in rnnfx-process: the command line names one file
     * twice. */
    if (od_in && rnnfx_cli_same_file(od_in, out)) {
        fprintf(stderr, "rnnfx-pluck: -o %s would overwrite the input %s; choose another name\n",
                out, od_in);
        return 2;
    }
    if (!rnnfx_audio_format_for_path(out)) {
        fprintf(stderr, "rnnfx-pluck: -o %s: its extension names no audio format (use .wav, "
                        ".flac, .aiff, .caf, .ogg or .rf64)\n",
                out);
        return 2;
    }
    if (rnnfx_cli_check_folder_of("rnnfx-pluck", out) != 0)
        return 1;
    if (od_in)
        return overdrive(od_in, out);
    rng_state ^= (uint64_t)seed * 0xD1B54A32D192ED03ull;
    for (int i = 0; i < 8; i++)
        rng_next();

    Score sc = {0};
    make_riff(&sc, rate, seconds);
    /* the sound gets its own random stream, so a longer render of the same
     * seed starts with exactly the same audio */
    rng_state = 0x9E3779B97F4A7C15ull ^ ((uint64_t)seed * 0x94D049BB133111EBull + 1);
    for (int i = 0; i < 8; i++)
        rng_next();
    size_t n = (size_t)(seconds * rate);
    float *y = calloc(n, sizeof *y);
    String *str = calloc(6, sizeof *str);
    if (!y || !str) {
        fprintf(stderr, "rnnfx-pluck: out of memory\n");
        return 1;
    }
    /* pickup: 2nd-order high-pass 70 Hz, resonant low-pass 2.8 kHz, Q 1.4 */
    double hb0, hb1, hb2, ha1, ha2, lb0, lb1, lb2, la1, la2;
    {
        double w = 2 * M_PI * 70 / rate, al = sin(w) / (2 * 0.707), c = cos(w), a0 = 1 + al;
        hb0 = (1 + c) / 2 / a0, hb1 = -(1 + c) / a0, hb2 = hb0, ha1 = -2 * c / a0, ha2 = (1 - al) / a0;
        w = 2 * M_PI * 2800 / rate, al = sin(w) / (2 * 1.4), c = cos(w), a0 = 1 + al;
        lb0 = (1 - c) / 2 / a0, lb1 = (1 - c) / a0, lb2 = lb0, la1 = -2 * c / a0, la2 = (1 - al) / a0;
    }
    double hx1 = 0, hx2 = 0, hy1 = 0, hy2 = 0, lx1 = 0, lx2 = 0, ly1 = 0, ly2 = 0;
    double tone = 0, tone_a = 1.0 - exp(-2 * M_PI * 1200 / rate);
    size_t k = 0;
    double pick = 0.12 + 0.1 * rnd();
    for (size_t t = 0; t < n; t++) {
        while (k < sc.n && sc.p[k].t <= t) {
            const Pluck *p = &sc.p[k++];
            if (p->fret < 0)
                string_mute(&str[p->string]);
            else
                string_pluck(&str[p->string], rate, 440.0 * pow(2.0, (open_midi[p->string] + p->fret - 69) / 12.0),
                             p->vel, p->palm, pick + 0.04 * (rnd() - 0.5));
        }
        double s = 0;
        for (int j = 0; j < 6; j++)
            s += string_tick(&str[j]);
        double h = hb0 * s + hb1 * hx1 + hb2 * hx2 - ha1 * hy1 - ha2 * hy2;
        hx2 = hx1, hx1 = s, hy2 = hy1, hy1 = h;
        double l = lb0 * h + lb1 * lx1 + lb2 * lx2 - la1 * ly1 - la2 * ly2;
        lx2 = lx1, lx1 = h, ly2 = ly1, ly1 = l;
        /* cable/tone-pot roll-off: one pole at ~1.2 kHz */
        tone += tone_a * (l - tone);
        y[t] = (float)tone;
    }
    double peak = 1e-12;
    for (size_t t = 0; t < n; t++)
        peak = fabs(y[t]) > peak ? fabs(y[t]) : peak;
    float g = (float)(pow(10, peak_db / 20) / peak);
    for (size_t t = 0; t < n; t++)
        y[t] *= g;
    RnnfxError err;
    if (write_whole(out, y, n, (int)rate, rnnfx_audio_format_for_path(out), &err) != RNNFX_OK) {
        fprintf(stderr, "rnnfx-pluck: %s\n", err.msg);
        return 1;
    }
    free(y);
    free(str);
    free(sc.p);
    return 0;
}

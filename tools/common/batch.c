/*
 * batch.c — file lists, output naming and the parallel runner behind
 * rnnfx-process (see batch.h for the contract).
 *
 * Scheduling: one mutex guards a queue of items and a list of files in
 * progress. A file in progress goes in rounds of one chunk; each round is
 * split into one task per channel; workers take channel tasks before
 * starting a new file, so at most `jobs` files are in progress (each holding
 * one chunk) and the last files of a run (or a single long file) still
 * spread over all workers. Whoever finishes the last channel of a round
 * writes it and reads the next. Each channel has its own chain for the
 * whole file, so results do not depend on which worker ran what, nor on the
 * number of workers. (With a stereo impulse response, or a model that runs
 * paired while files wait, a stereo file has one 2-channel chain instead,
 * and one task per round: see batch.h.)
 *
 * Impulse responses are kept in a small cache keyed by (rate, channels of
 * the response as made), filled on first use under its own lock, so a
 * thousand short files at one rate read the response file once.
 *
 * A tail (options' tail_seconds / tail_auto) only lengthens a file's grid:
 * after the input come tail + L zeros instead of L, in rounds of `chunk`
 * like the file's own frames, so the blocks the chains see up to the
 * input's end are those of a run without a tail.
 */
#include "batch.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sndfile.h>

#include "audio_io.h"
#include "cli.h"
#include "file_ids.h"
#include "instance.h"
#include "ir.h"

/* ---- small string helpers -------------------------------------------------- */

/* snprintf for messages: paths may be long, and a cut message is fine. */
static void msgf(char *buf, size_t len, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static void msgf(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
}

static char *dupstr(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

static char *join2(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    int slash = la > 0 && a[la - 1] != '/';
    char *r = malloc(la + lb + 2);
    if (!r)
        return NULL;
    memcpy(r, a, la);
    if (slash)
        r[la++] = '/';
    memcpy(r + la, b, lb + 1);
    return r;
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* Extension without the dot, or "" (a leading dot of a hidden file is not
 * an extension). */
static const char *ext_of(const char *path)
{
    const char *b = base_name(path);
    const char *dot = strrchr(b, '.');
    return dot && dot != b ? dot + 1 : "";
}

/* ---- list building ------------------------------------------------------- */

void rnnfx_batch_list_init(RnnfxBatchList *list)
{
    memset(list, 0, sizeof *list);
}

void rnnfx_batch_list_free(RnnfxBatchList *list)
{
    for (size_t i = 0; i < list->count; i++) {
        free(list->items[i].in_path);
        free(list->items[i].rel_dir);
        free(list->items[i].out_path);
    }
    free(list->items);
    free(list->skip_dir);
    for (size_t i = 0; i < list->n_empty_dirs; i++)
        free(list->empty_dirs[i]);
    free(list->empty_dirs);
    memset(list, 0, sizeof *list);
}

static char *canonical(const char *path);

int rnnfx_batch_list_skip_dir(RnnfxBatchList *list, const char *dir)
{
    free(list->skip_dir);
    list->skip_dir = canonical(dir);
    return list->skip_dir ? 0 : -1;
}

static int push_item(RnnfxBatchList *list, const char *path, const char *rel_dir, int found)
{
    if (list->count == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 64;
        RnnfxBatchItem *n = realloc(list->items, cap * sizeof *n);
        if (!n)
            return -1;
        list->items = n;
        list->cap = cap;
    }
    RnnfxBatchItem *it = &list->items[list->count];
    memset(it, 0, sizeof *it);
    it->in_path = dupstr(path);
    it->rel_dir = dupstr(rel_dir);
    it->found = found;
    if (!it->in_path || !it->rel_dir) {
        free(it->in_path);
        free(it->rel_dir);
        return -1;
    }
    list->count++;
    return 0;
}

/* Extensions libsndfile can read, asked from the library itself (so a
 * libsndfile with MP3 or Opus support is used fully), plus common aliases. */
static int audio_extension(const char *ext)
{
    static const char *aliases[] = {"wav", "wave", "aif", "aiff", "aifc", "flac", "ogg", "oga",
                                    "opus", "caf", "rf64", "w64", "au", "snd"};
    /* libsndfile names MPEG audio ".m1a" only: a folder of .mp3 files was
     * skipped ("folder holds no audio files") although each file, named
     * on its own, was read. Taken when this libsndfile has the format. */
    static const char *mpeg[] = {"mp3", "mp2", "mp1", "mpga"};
    if (!*ext)
        return 0;
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        if (!strcasecmp(ext, aliases[i]))
            return 1;
    int is_mpeg = 0;
    for (size_t i = 0; i < sizeof mpeg / sizeof mpeg[0]; i++)
        is_mpeg |= !strcasecmp(ext, mpeg[i]);
    if (is_mpeg)
        ext = "m1a";
    int count = 0;
    sf_command(NULL, SFC_GET_FORMAT_MAJOR_COUNT, &count, sizeof count);
    for (int i = 0; i < count; i++) {
        SF_FORMAT_INFO info = {0};
        info.format = i;
        if (sf_command(NULL, SFC_GET_FORMAT_MAJOR, &info, sizeof info) != 0 || !info.extension)
            continue;
        /* Headerless raw data cannot be read without being told its layout. */
        if ((info.format & SF_FORMAT_TYPEMASK) == SF_FORMAT_RAW)
            continue;
        if (!strcasecmp(ext, info.extension))
            return 1;
    }
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int is_skip_dir(const RnnfxBatchList *list, const char *path)
{
    if (!list->skip_dir)
        return 0;
    char *c = realpath(path, NULL);
    int same = c && !strcmp(c, list->skip_dir);
    free(c);
    return same;
}

/* Each folder of one folder input is read once (file_ids.h: links are
 * followed, and a link back up the tree made the run hang). */
static int add_dir(RnnfxBatchList *list, RnnfxFileIds *seen, const char *dir, const char *rel,
                   int depth, char *err, size_t err_len)
{
    if (depth > 64) {
        msgf(err, err_len, "%s: folders nested too deeply (a link loop?)", dir);
        return -1;
    }
    DIR *d = opendir(dir);
    if (!d) {
        msgf(err, err_len, "%s: cannot open folder: %s", dir, strerror(errno));
        return -1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            char **nn = realloc(names, cap * sizeof *nn);
            if (!nn)
                break;
            names = nn;
        }
        if (!(names[n] = dupstr(e->d_name)))
            break;
        n++;
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, cmp_str);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        char *p = join2(dir, names[i]);
        struct stat st;
        if (!p) {
            rc = -1;
            msgf(err, err_len, "out of memory");
        } else if (stat(p, &st) != 0) {
            /* A dangling link in a folder is not worth stopping the run. */
        } else if (S_ISDIR(st.st_mode) && is_skip_dir(list, p)) {
            /* the output folder: never read back as input */
        } else if (S_ISDIR(st.st_mode) && rnnfx_file_ids_seen(seen, &st) != 0) {
            /* read already (a link to a folder of this input, or a loop),
             * or no memory to tell: its files are in the list once */
        } else if (S_ISDIR(st.st_mode)) {
            size_t lr = strlen(rel), ln = strlen(names[i]);
            char *sub = malloc(lr + ln + 2);
            if (!sub) {
                rc = -1;
                msgf(err, err_len, "out of memory");
            } else {
                memcpy(sub, rel, lr);
                memcpy(sub + lr, names[i], ln);
                sub[lr + ln] = '/';
                sub[lr + ln + 1] = '\0';
                rc = add_dir(list, seen, p, sub, depth + 1, err, err_len);
                free(sub);
            }
        } else if (S_ISREG(st.st_mode) && audio_extension(ext_of(names[i]))) {
            if (push_item(list, p, rel, 1) != 0) {
                rc = -1;
                msgf(err, err_len, "out of memory");
            }
        }
        free(p);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

static int add_path(RnnfxBatchList *list, const char *path, char *err, size_t err_len)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        /* Missing files become failed items later, with a per-file message,
         * so that the other files still get done. */
        return push_item(list, path, "", 0) == 0 ? 0 : -1;
    }
    if (S_ISDIR(st.st_mode)) {
        size_t before = list->count;
        RnnfxFileIds seen = {0};
        int rc = -1;
        if (rnnfx_file_ids_seen(&seen, &st) < 0)
            msgf(err, err_len, "out of memory");
        else
            rc = add_dir(list, &seen, path, "", 0, err, err_len);
        rnnfx_file_ids_free(&seen);
        if (rc != 0)
            return -1;
        if (list->count == before) {
            /* Noted, not fatal: one empty folder among several inputs
             * stopped the whole run before anything was done, while a
             * missing or broken file only fails itself. The caller reports
             * it as a failed input (or as a usage error when it is all
             * there is). */
            char *d = dupstr(path);
            char **n = d ? realloc(list->empty_dirs,
                                   (list->n_empty_dirs + 1) * sizeof *list->empty_dirs)
                         : NULL;
            if (!n) {
                free(d);
                msgf(err, err_len, "out of memory");
                return -1;
            }
            list->empty_dirs = n;
            list->empty_dirs[list->n_empty_dirs++] = d;
        }
        return 0;
    }
    return push_item(list, path, "", 0) == 0 ? 0 : -1;
}

int rnnfx_batch_add_list(RnnfxBatchList *list, const char *list_path, char *err, size_t err_len)
{
    int from_stdin = !strcmp(list_path, "-");
    /* a folder opens and reads as nothing: "--list takes/" ended in "no
     * input files found" */
    struct stat st;
    if (!from_stdin && stat(list_path, &st) == 0 && S_ISDIR(st.st_mode)) {
        msgf(err, err_len, "%s is a folder, not a list file (give a folder as an input itself)",
             list_path);
        return -1;
    }
    FILE *f = from_stdin ? stdin : fopen(list_path, "r");
    if (!f) {
        msgf(err, err_len, "%s: cannot open list file: %s", list_path, strerror(errno));
        return -1;
    }
    char base[PATH_MAX] = ".";
    if (!from_stdin) {
        const char *slash = strrchr(list_path, '/');
        if (slash) {
            size_t n = (size_t)(slash - list_path);
            if (n == 0)
                n = 1;
            if (n >= sizeof base)
                n = sizeof base - 1;
            memcpy(base, list_path, n);
            base[n] = '\0';
        }
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int rc = 0;
    int first_line = 1;
    while (rc == 0 && (len = getline(&line, &cap, f)) >= 0) {
        /* Blanks around a path are not part of it, at either end (only
         * leading ones were dropped: "take.wav  " failed as missing). */
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r' ||
                           line[len - 1] == ' ' || line[len - 1] == '\t'))
            line[--len] = '\0';
        char *s = line;
        /* a UTF-8 byte-order mark, as Windows editors write at the start */
        if (first_line && !strncmp(s, "\xEF\xBB\xBF", 3))
            s += 3;
        first_line = 0;
        while (*s == ' ' || *s == '\t')
            s++;
        if (!*s || *s == '#')
            continue;
        if (s[0] == '/' || from_stdin || !strcmp(base, ".")) {
            rc = add_path(list, s, err, err_len);
        } else {
            char *p = join2(base, s);
            rc = p ? add_path(list, p, err, err_len) : -1;
            free(p);
        }
    }
    if (rc == 0 && ferror(f)) {
        msgf(err, err_len, "%s: cannot read list file: %s", list_path, strerror(errno));
        rc = -1;
    }
    free(line);
    if (!from_stdin)
        fclose(f);
    return rc;
}

int rnnfx_batch_add_arg(RnnfxBatchList *list, const char *arg, char *err, size_t err_len)
{
    if (arg[0] == '@' && arg[1])
        return rnnfx_batch_add_list(list, arg + 1, err, err_len);
    return add_path(list, arg, err, err_len);
}

/* ---- output naming -------------------------------------------------------- */

typedef struct {
    char *key; /* canonical path */
    size_t index;
} KeyIdx;

static int cmp_key(const void *a, const void *b)
{
    return strcmp(((const KeyIdx *)a)->key, ((const KeyIdx *)b)->key);
}

/* A canonical spelling of a path that may not exist yet: the real path of
 * its nearest existing folder plus the rest. Used to compare outputs with
 * inputs and with each other. */
static char *canonical(const char *path)
{
    char *r = realpath(path, NULL);
    if (r)
        return r;
    const char *slash = strrchr(path, '/');
    char dir[PATH_MAX];
    const char *rest;
    if (!slash) {
        snprintf(dir, sizeof dir, ".");
        rest = path;
    } else {
        size_t n = (size_t)(slash - path);
        if (n == 0)
            n = 1;
        if (n >= sizeof dir)
            return dupstr(path);
        memcpy(dir, path, n);
        dir[n] = '\0';
        rest = slash + 1;
    }
    char *d = canonical(dir);
    if (!d)
        return dupstr(path);
    char *j = join2(d, rest);
    free(d);
    return j;
}

/* Rewrites an output path in place so that no folder that does not exist
 * yet is followed by "..", and drops "." and empty components: "o/../a.wav"
 * with no folder o becomes "a.wav". Such a path names a file the system
 * cannot find until the run has made the folder, so the checks done before
 * the run (output is an input or the model, output exists) missed it and a
 * pattern like '../{name}.{ext}' under a new -o folder replaced its own
 * input. Lexical removal is exact here: a folder that does not exist is
 * made by the run as a plain folder, whose ".." is the folder it is made
 * in. Components that exist are left to the system (they may be links).
 * The path keeps its relative or absolute form. */
static void collapse_new_dirs(char *path)
{
    const int absolute = path[0] == '/';
    char out[PATH_MAX];
    size_t len = 0;
    int prefix_exists = 1; /* the folder spelled by out[0..len) exists */
    out[0] = '\0';
    const char *p = path;
    while (*p) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        const char *end = strchr(p, '/');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == 1 && p[0] == '.') {
            p += n;
            continue;
        }
        if (n == 2 && p[0] == '.' && p[1] == '.' && !prefix_exists && len > 0) {
            /* The last component is a folder the run will make: step back
             * over it lexically. */
            char *s = strrchr(out, '/');
            len = s ? (size_t)(s - out) : 0;
            out[len] = '\0';
            struct stat st;
            prefix_exists = len == 0 ? 1 : stat(out, &st) == 0;
            p += n;
            continue;
        }
        if ((len > 0 || absolute ? len + 1 : len) + n + 1 > sizeof out)
            return; /* too long to rewrite: leave it as given */
        if (len > 0 || absolute)
            out[len++] = '/';
        memcpy(out + len, p, n);
        len += n;
        out[len] = '\0';
        if (prefix_exists) {
            struct stat st;
            prefix_exists = stat(out, &st) == 0;
        }
        p += n;
    }
    if (len == 0) {
        /* Nothing left ("o/.." alone): not a file name; leave it for the
         * later checks to report as given. */
        return;
    }
    memcpy(path, out, len + 1);
}

static int expand_pattern(const char *pattern, const RnnfxBatchItem *it, const char *model_name,
                          const char *out_ext, char *out, size_t out_len, char *err, size_t err_len)
{
    const char *b = base_name(it->in_path);
    const char *e = ext_of(it->in_path);
    size_t name_len = *e ? (size_t)(e - 1 - b) : strlen(b);
    const char *ext = out_ext ? out_ext : e;
    size_t o = 0;
    for (const char *p = pattern; *p;) {
        const char *val = NULL;
        size_t vlen = 0, klen = 0;
        if (*p == '{') {
            const char *close = strchr(p, '}');
            if (!close) {
                msgf(err, err_len, "pattern '%s': '{' without '}'", pattern);
                return -1;
            }
            klen = (size_t)(close - p) + 1;
            if (!strncmp(p, "{name}", klen)) {
                val = b;
                vlen = name_len;
            } else if (!strncmp(p, "{ext}", klen)) {
                val = ext;
                vlen = strlen(ext);
                /* an input with no extension ("take") came out as "take.",
                 * a name ending in a dot: the dot before {ext} goes too */
                if (vlen == 0 && o > 0 && out[o - 1] == '.')
                    o--;
            } else if (!strncmp(p, "{dir}", klen)) {
                val = it->rel_dir;
                vlen = strlen(val);
            } else if (!strncmp(p, "{model}", klen)) {
                val = model_name ? model_name : "model";
                vlen = strlen(val);
            } else {
                msgf(err, err_len,
                         "pattern '%s': unknown placeholder '%.*s' (use {name} {ext} {dir} {model})",
                         pattern, (int)klen, p);
                return -1;
            }
        } else {
            val = p;
            vlen = 1;
            klen = 1;
        }
        if (o + vlen + 1 > out_len) {
            msgf(err, err_len, "output name for %s is too long", it->in_path);
            return -1;
        }
        memcpy(out + o, val, vlen);
        o += vlen;
        p += klen;
    }
    out[o] = '\0';
    if (o == 0 || out[o - 1] == '/') {
        msgf(err, err_len, "pattern '%s' gives an empty file name for %s", pattern, it->in_path);
        return -1;
    }
    return 0;
}

/* 1 if a and b are in the same folder (compared by real path). */
static int same_folder(const char *a, const char *b)
{
    char *ca = canonical(a), *cb = canonical(b);
    int same = 0;
    if (ca && cb) {
        char *sa = strrchr(ca, '/'), *sb = strrchr(cb, '/');
        size_t na = sa ? (size_t)(sa - ca) : 0, nb = sb ? (size_t)(sb - cb) : 0;
        same = na == nb && !strncmp(ca, cb, na);
    }
    free(ca);
    free(cb);
    return same;
}

/* The way out for two inputs that would share an output, one that works
 * for these two. "Use a --pattern with {dir}" was once said for a.wav and
 * sub/a.wav named on the command line, where {dir} is "" for both (it is
 * the subfolder below a folder input) and already in the default pattern:
 * advice that could not work. So the placeholders are offered only when
 * they differ between the two and the pattern lacks them. */
static void clash_advice(const RnnfxBatchItem *a, const RnnfxBatchItem *b,
                         const RnnfxBatchNaming *naming, const char *pattern, char *buf,
                         size_t len)
{
    const char *ba = base_name(a->in_path), *bb = base_name(b->in_path);
    const char *ea = ext_of(a->in_path), *eb = ext_of(b->in_path);
    size_t na = *ea ? (size_t)(ea - 1 - ba) : strlen(ba);
    size_t nb = *eb ? (size_t)(eb - 1 - bb) : strlen(bb);
    const int same_name = na == nb && !strncmp(ba, bb, na);
    const int same_dir = !strcmp(a->rel_dir, b->rel_dir);
    if (!same_name && !strstr(pattern, "{name}"))
        msgf(buf, len, "put {name} in the --pattern (each input's base name), or rename one");
    else if (!same_dir && !strstr(pattern, "{dir}"))
        msgf(buf, len, "put {dir} in the --pattern (the subfolder each was found in below its "
                       "folder input), or rename one");
    else if (same_name && !same_folder(a->in_path, b->in_path) && naming->out_dir)
        msgf(buf, len, "no placeholder tells them apart ({dir}, the subfolder below a folder "
                       "input and empty for a file named on its own, is the same for both): "
                       "write each beside its input instead (no -o, --pattern "
                       "'{name}-fx.{ext}'), give them separate runs with their own -o, or "
                       "rename one");
    else if (same_name && strcasecmp(ea, eb) && naming->out_ext)
        msgf(buf, len, "their names differ only in the extension, which --format makes the "
                       "same: give them separate runs, or rename one");
    else
        msgf(buf, len, "no placeholder tells them apart: give them separate runs, or rename one");
}

/* Removes the items marked RNNFX_BATCH_CANCELLED (rnnfx_batch_name_outputs'
 * marker for a file not to be taken), keeping the order of the rest;
 * returns how many went. */
static size_t drop_marked(RnnfxBatchList *list)
{
    size_t w = 0, n = list->count;
    for (size_t i = 0; i < n; i++) {
        if (list->items[i].state == RNNFX_BATCH_CANCELLED) {
            free(list->items[i].in_path);
            free(list->items[i].rel_dir);
            free(list->items[i].out_path);
            continue;
        }
        list->items[w++] = list->items[i];
    }
    list->count = w;
    return n - w;
}

int rnnfx_batch_name_outputs(RnnfxBatchList *list, const RnnfxBatchNaming *naming, char *err,
                             size_t err_len)
{
    const char *pattern = naming->pattern ? naming->pattern : "{dir}{name}.{ext}";
    int rc = -1, again = 0;
    size_t drops = 0, n_outs = 0; /* outs[0 .. n_outs) hold keys to free */
    KeyIdx *ins = calloc(list->count + 1, sizeof *ins);
    KeyIdx *outs = calloc(list->count + 1, sizeof *outs);
    if (!ins || !outs) {
        msgf(err, err_len, "out of memory");
        goto done;
    }
    /* Drop repeated inputs (the same file named twice, e.g. by a folder and
     * a glob): processing it twice would only race on one output. */
    for (size_t i = 0; i < list->count; i++) {
        ins[i].key = canonical(list->items[i].in_path);
        ins[i].index = i;
        if (!ins[i].key) {
            msgf(err, err_len, "out of memory");
            goto done;
        }
    }
    qsort(ins, list->count, sizeof *ins, cmp_key);
    size_t kept = 0;
    for (size_t i = 0; i < list->count; i++) {
        if (i > 0 && !strcmp(ins[i].key, ins[kept - 1].key)) {
            list->items[ins[i].index].state = RNNFX_BATCH_CANCELLED; /* marker: duplicate */
            free(ins[i].key);
            continue;
        }
        ins[kept++] = ins[i];
    }
    if (kept != list->count) {
        drop_marked(list);
        /* Indices changed: rebuild the sorted input keys. */
        for (size_t i = 0; i < kept; i++)
            free(ins[i].key);
        for (size_t i = 0; i < list->count; i++) {
            ins[i].key = canonical(list->items[i].in_path);
            ins[i].index = i;
            if (!ins[i].key) {
                msgf(err, err_len, "out of memory");
                kept = i;
                goto done_keys;
            }
        }
        qsort(ins, list->count, sizeof *ins, cmp_key);
    }
    kept = list->count;

    n_outs = list->count;
    for (size_t i = 0; i < list->count; i++) {
        RnnfxBatchItem *it = &list->items[i];
        char rel[PATH_MAX];
        if (expand_pattern(pattern, it, naming->model_name, naming->out_ext, rel, sizeof rel, err,
                           err_len) != 0)
            goto done_keys;
        free(it->out_path);
        if (naming->out_dir) {
            it->out_path = join2(naming->out_dir, rel);
        } else if (rel[0] == '/') {
            it->out_path = dupstr(rel);
        } else {
            const char *slash = strrchr(it->in_path, '/');
            if (slash) {
                char dir[PATH_MAX];
                size_t n = (size_t)(slash - it->in_path) + 1;
                if (n >= sizeof dir)
                    n = sizeof dir - 1;
                memcpy(dir, it->in_path, n);
                dir[n] = '\0';
                it->out_path = join2(dir, rel);
            } else {
                it->out_path = dupstr(rel);
            }
        }
        if (!it->out_path) {
            msgf(err, err_len, "out of memory");
            goto done_keys;
        }
        collapse_new_dirs(it->out_path);
        outs[i].key = canonical(it->out_path);
        outs[i].index = i;
        if (!outs[i].key) {
            msgf(err, err_len, "out of memory");
            goto done_keys;
        }
        KeyIdx probe = {outs[i].key, 0};
        KeyIdx *hit = bsearch(&probe, ins, list->count, sizeof *ins, cmp_key);
        if (hit && list->items[hit->index].found && hit->index != i) {
            /* a file a folder scan found is another input's output: an
             * earlier run's, not an input (dropped below) */
            list->items[hit->index].state = RNNFX_BATCH_CANCELLED;
            drops = 1;
        } else if (hit) {
            msgf(err, err_len,
                     "%s: the output name would be the input %s itself; choose another folder "
                     "(-o) or a --pattern",
                     it->out_path, list->items[hit->index].in_path);
            goto done_keys;
        }
    }
    if (drops) {
        /* Without the dropped files, and named again (their outputs, and
         * the outputs that seemed to clash with them, are gone). */
        list->n_own_outputs += drop_marked(list);
        again = 1;
        goto done_keys;
    }
    qsort(outs, list->count, sizeof *outs, cmp_key);
    for (size_t i = 1; i < list->count; i++) {
        if (!strcmp(outs[i].key, outs[i - 1].key)) {
            const RnnfxBatchItem *a = &list->items[outs[i - 1].index];
            const RnnfxBatchItem *b = &list->items[outs[i].index];
            char advice[400];
            clash_advice(a, b, naming, pattern, advice, sizeof advice);
            msgf(err, err_len, "%s and %s would both be written to %s; %s", a->in_path,
                 b->in_path, b->out_path, advice);
            goto done_keys;
        }
    }
    rc = 0;
done_keys:
    for (size_t i = 0; i < kept; i++)
        free(ins[i].key);
    for (size_t i = 0; i < n_outs; i++)
        free(outs[i].key);
done:
    free(ins);
    free(outs);
    /* each pass drops at least one file, so this ends */
    return again ? rnnfx_batch_name_outputs(list, naming, err, err_len) : rc;
}

/* ---- formats ---------------------------------------------------------------- */

int rnnfx_batch_major_from_name(const char *name, const char **ext)
{
    static const struct {
        const char *name, *ext;
        int major;
    } t[] = {
        {"wav", "wav", SF_FORMAT_WAV},     {"flac", "flac", SF_FORMAT_FLAC},
        {"aiff", "aiff", SF_FORMAT_AIFF},  {"aif", "aif", SF_FORMAT_AIFF},
        {"caf", "caf", SF_FORMAT_CAF},     {"ogg", "ogg", SF_FORMAT_OGG},
        {"rf64", "rf64", SF_FORMAT_RF64},  {"w64", "w64", SF_FORMAT_W64},
        {"au", "au", SF_FORMAT_AU},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        if (!strcasecmp(name, t[i].name)) {
            if (ext)
                *ext = t[i].ext;
            return t[i].major;
        }
    }
    return 0;
}

static int subtype_is_float(int subtype)
{
    return subtype == SF_FORMAT_FLOAT || subtype == SF_FORMAT_DOUBLE;
}

/* Picks the output format for an input format and the options; 0 with a
 * message if libsndfile cannot write that combination. */
static int output_format(int in_format, int channels, int rate, const RnnfxBatchOptions *o,
                         char *err, size_t err_len)
{
    int major = o->out_format ? o->out_format : (in_format & SF_FORMAT_TYPEMASK);
    int sub = o->out_subtype ? o->out_subtype : (in_format & SF_FORMAT_SUBMASK);
    SF_INFO info = {0};
    info.channels = channels;
    info.samplerate = rate;
    info.format = major | sub;
    if (sf_format_check(&info))
        return info.format;
    if (!o->out_subtype) {
        /* The input's encoding does not exist in the requested container
         * (e.g. float WAV -> FLAC): use the container's usual encoding. */
        static const int for_int[] = {SF_FORMAT_PCM_24, SF_FORMAT_FLOAT, SF_FORMAT_VORBIS,
                                      SF_FORMAT_PCM_16};
        static const int for_float[] = {SF_FORMAT_FLOAT, SF_FORMAT_PCM_24, SF_FORMAT_VORBIS,
                                        SF_FORMAT_PCM_16};
        const int *fallbacks = subtype_is_float(sub) ? for_float : for_int;
        for (size_t i = 0; i < 4; i++) {
            int s = fallbacks[i];
            info.format = major | s;
            if (sf_format_check(&info))
                return info.format;
        }
    }
    SF_FORMAT_INFO mi = {0}, si = {0};
    mi.format = major;
    si.format = sub;
    sf_command(NULL, SFC_GET_FORMAT_INFO, &mi, sizeof mi);
    sf_command(NULL, SFC_GET_FORMAT_INFO, &si, sizeof si);
    /* When no encoding at all fits, the container's limit is the channel
     * count or the rate (FLAC: 8 channels), not the encoding the message
     * would otherwise blame. */
    static const int any[] = {SF_FORMAT_PCM_16, SF_FORMAT_PCM_24, SF_FORMAT_FLOAT,
                              SF_FORMAT_VORBIS};
    int fits = 0, most = 0;
    for (int c = channels; c >= 1 && !most; c--)
        for (size_t i = 0; i < 4 && !most; i++) {
            info.channels = c;
            info.format = major | any[i];
            if (sf_format_check(&info)) {
                if (c == channels) fits = 1;
                most = c;
            }
        }
    if (!fits && most) {
        msgf(err, err_len, "a %s file holds at most %d channels, this input has %d; add --format "
                           "wav (or w64, caf)",
             mi.name ? mi.name : "file of this kind", most, channels);
        return 0;
    }
    if (!fits) {
        msgf(err, err_len, "a %s file cannot hold audio at %d Hz; add --format wav (or w64, caf)",
             mi.name ? mi.name : "file of this kind", rate);
        return 0;
    }
    /* an --encoding the input's own container cannot hold (pcm16 for an
     * Ogg input): the way out is another container */
    const int hint = (o->out_subtype && !o->out_format) ||
                     (subtype_is_float(sub) && major == SF_FORMAT_FLAC);
    msgf(err, err_len, "cannot write %s samples in a %s file (%d channels, %d Hz)%s",
             si.name ? si.name : "these", mi.name ? mi.name : "this kind of", channels, rate,
             hint ? "; add --format wav" : "");
    return 0;
}

size_t rnnfx_batch_check_formats(const RnnfxBatchList *list, const RnnfxBatchOptions *opts,
                                 size_t *first, char *why, size_t why_len)
{
    size_t bad = 0;
    if (!opts->out_format && !opts->out_subtype)
        return 0; /* each output as its input: nothing asked that could not be */
    for (size_t i = 0; i < list->count; i++) {
        const char *path = list->items[i].in_path;
        struct stat st;
        /* opening a FIFO would wait for a writer; prepare() refuses it */
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        SF_INFO info = {0};
        SNDFILE *sf = sf_open(path, SFM_READ, &info);
        if (!sf)
            continue;
        sf_close(sf);
        char msg[400];
        if (!output_format(info.format, info.channels, info.samplerate, opts, msg, sizeof msg) &&
            bad++ == 0) {
            *first = i;
            msgf(why, why_len, "%s", msg);
        }
    }
    return bad;
}

/* ---- one channel through the chain ---------------------------------------- */

void rnnfx_batch_options_init(RnnfxBatchOptions *opts)
{
    memset(opts, 0, sizeof *opts);
    rnnfx_chain_controls_init(&opts->controls);
    opts->jobs = 1;
    opts->block = 4096;
}

/* The whole-file reference the streaming runner below must equal: one
 * chain, blocks of `block` from sample 0 over the input and L zeros. */
RnnfxStatus rnnfx_batch_process_channel(const RnnfxModel *model, const RnnfxChainControls *controls,
                                        double rate, size_t block, const float *in, float *out,
                                        size_t n, RnnfxError *err)
{
    if (block == 0)
        block = 4096;
    RnnfxChain *chain = NULL;
    RnnfxStatus st = rnnfx_chain_new(model, rate, block, &chain, err);
    if (st != RNNFX_OK)
        return st;
    rnnfx_chain_set_controls(chain, controls);
    /* The chain's output at index i belongs to input index i - L: feed L
     * extra zeros after the input and drop the first L outputs, so the file
     * comes out aligned and as long as it went in. */
    size_t lat = (size_t)rnnfx_chain_latency(chain);
    float *ibuf = malloc(block * sizeof *ibuf);
    float *obuf = malloc(block * sizeof *obuf);
    if (!ibuf || !obuf) {
        free(ibuf);
        free(obuf);
        rnnfx_chain_free(chain);
        return rnnfx_fail(err, RNNFX_ERR_NOMEM, "out of memory");
    }
    size_t total = n + lat;
    for (size_t pos = 0; pos < total; pos += block) {
        size_t b = total - pos < block ? total - pos : block;
        for (size_t k = 0; k < b; k++)
            ibuf[k] = pos + k < n ? in[pos + k] : 0.0f;
        rnnfx_chain_process(chain, ibuf, obuf, b);
        /* Output index pos + k - lat, when inside 0..n-1. Writing can only
         * reach indices below pos + b, whose inputs were already copied. */
        for (size_t k = 0; k < b; k++) {
            size_t j = pos + k;
            if (j >= lat && j - lat < n)
                out[j - lat] = obuf[k];
        }
    }
    free(ibuf);
    free(obuf);
    rnnfx_chain_free(chain);
    return RNNFX_OK;
}

/* ---- the parallel runner ---------------------------------------------------- */

/* Frames per round of a file (rounded up to a multiple of the chain block). */
#define STREAM_CHUNK 65536

/* A file in progress. It goes in rounds over the file's grid of samples
 * (the grid of a whole-file run: the input, then tail + L zeros, cut in
 * blocks of `block` from sample 0): read `chunk` frames, run each channel's part of
 * the round through that channel's chain (one task per channel, any
 * worker), then write what comes out. Whoever finishes the last channel of
 * a round writes it and reads the next, so rounds of one file are in order
 * and one file needs O(chunk) memory. Because chunk is a multiple of block,
 * every chain sees exactly the calls of a whole-file run
 * (rnnfx_batch_process_channel), and the samples are the same. */
typedef struct Job {
    RnnfxBatchItem *item;
    RnnfxAudioReader *rd;
    RnnfxAudioWriter *wr;
    RnnfxChain **chain; /* [channels], each with its own state */
    float **ch;         /* [channels][chunk + lat]: the round, processed in place */
    float *inter;       /* [(chunk + lat) * channels]: interleaved, read and write */
    int channels;       /* as in the file */
    int rate;
    int out_format;
    int clip;           /* integer output: saturate beyond full scale */
    int chain_ch;       /* channels per chain: 1, or 2 (stereo response, or paired) */
    int n_tasks;        /* chains = tasks per round: channels / chain_ch */
    size_t block, chunk, lat;
    size_t pos;         /* grid index of the round's first sample */
    size_t len;         /* samples in this round (input, then zeros at the end) */
    size_t n;           /* frames in the file, known once its end was read */
    size_t tail;        /* frames written after the input's end */
    size_t total;       /* grid length n + tail + lat, once the end was read */
    int at_end;         /* the file's end was read (rounds of zeros may follow) */
    char made_dir[PATH_MAX]; /* the output's folder ... */
    size_t made_from;   /* ... of which we created the part from this length on (0 = none) */
    int next_channel;   /* first task of the round nobody has claimed (under the lock) */
    int done_channels;  /* tasks of the round finished */
    double t0;
    struct Job *next;
} Job;

/* One prepared impulse response (or why it could not be made) for one rate
 * and channel count. */
typedef struct {
    int rate, channels;
    RnnfxIr *ir; /* NULL: error holds why */
    char error[560];
} IrEntry;

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    /* Creating output folders and temporary files, and removing them after
     * a failure, happen under this lock: a folder one file gives up is
     * removed only when empty, never between another file's mkdir and its
     * temporary file. */
    pthread_mutex_t fs_mu;
    RnnfxBatchList *list;
    const RnnfxBatchOptions *opts;
    size_t next_item;
    int preparing; /* workers between taking an item and publishing its job */
    Job *active;   /* files in progress */
    int running_workers;
    _Atomic unsigned long long audio_us;
    _Atomic size_t files_done, files_failed, files_skipped;
    /* impulse responses made so far (opts->ir_path); under ir_mu */
    pthread_mutex_t ir_mu;
    IrEntry *irs;
    size_t n_irs, cap_irs;
    int ir_src_channels; /* channels of the response file (header probe) */
} Run;

static void item_fail(Run *r, RnnfxBatchItem *it, const char *msg)
{
    it->state = RNNFX_BATCH_FAILED;
    msgf(it->error, sizeof it->error, "%s", msg);
    atomic_fetch_add(&r->files_failed, 1);
}

/* Sets made to the folder above path (made_len bytes). */
static void parent_into(char *made, size_t made_len, const char *path)
{
    msgf(made, made_len, "%s", path);
    char *s = strrchr(made, '/');
    if (s)
        *s = '\0';
    else
        made[0] = '\0';
}

/* Creates the folders `file` goes in. made (made_len bytes) gets the
 * deepest folder that exists afterwards and *made_from the length of the
 * first folder this call created (0 if none), for rmdirs_made() when the
 * file fails: also after a failure here. */
static int mkdirs_for(const char *file, char *made, size_t made_len, size_t *made_from, char *err,
                      size_t err_len)
{
    char buf[PATH_MAX];
    *made_from = 0;
    made[0] = '\0';
    msgf(buf, sizeof buf, "%s", file);
    char *slash = strrchr(buf, '/');
    if (!slash || slash == buf)
        return 0;
    *slash = '\0';
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0777) == 0) {
            if (!*made_from)
                *made_from = strlen(buf);
        } else if (errno != EEXIST) {
            msgf(err, err_len, "cannot create folder %s: %s", buf, strerror(errno));
            parent_into(made, made_len, buf);
            return -1;
        }
        *p = '/';
    }
    if (mkdir(buf, 0777) == 0) {
        if (!*made_from)
            *made_from = strlen(buf);
    } else if (errno != EEXIST) {
        msgf(err, err_len, "cannot create folder %s: %s", buf, strerror(errno));
        parent_into(made, made_len, buf);
        return -1;
    }
    struct stat st;
    if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode)) {
        msgf(err, err_len, "%s is not a folder", buf);
        parent_into(made, made_len, buf);
        return -1;
    }
    msgf(made, made_len, "%s", buf);
    return 0;
}

/* Removes the folders mkdirs_for() created, deepest first, while empty. */
static void rmdirs_made(char *made, size_t made_from)
{
    if (!made_from)
        return;
    while (strlen(made) >= made_from && rmdir(made) == 0) {
        char *s = strrchr(made, '/');
        if (!s)
            break;
        *s = '\0';
    }
}

static void free_job(Job *j)
{
    if (!j)
        return;
    rnnfx_audio_reader_close(j->rd);
    rnnfx_audio_writer_abort(j->wr); /* only set while unfinished */
    for (int c = 0; c < j->channels; c++) {
        if (j->chain)
            rnnfx_chain_free(j->chain[c]);
        if (j->ch)
            free(j->ch[c]);
    }
    free(j->chain);
    free(j->ch);
    free(j->inter);
    free(j);
}

/* Gives up a file: no temporary file and no folder of ours stays behind. */
static void fail_job(Run *r, Job *j, const char *msg)
{
    pthread_mutex_lock(&r->fs_mu);
    rnnfx_audio_writer_abort(j->wr);
    j->wr = NULL;
    rmdirs_made(j->made_dir, j->made_from);
    pthread_mutex_unlock(&r->fs_mu);
    item_fail(r, j->item, msg);
}

/* Reads the round starting at grid index j->pos: up to chunk frames, split
 * into channels; after the end of the file come zeros: the tail, then the L
 * that flush the resampler. Sets len (0: nothing left). No lock held. */
static int read_round(Job *j, char *msg, size_t msg_len)
{
    size_t got = 0;
    if (!j->at_end) {
        RnnfxError e = {{0}};
        if (rnnfx_audio_reader_read(j->rd, j->inter, j->chunk, &got, &e) != RNNFX_OK) {
            msgf(msg, msg_len, "%s", e.msg);
            return -1;
        }
    }
    const size_t ch = (size_t)j->channels;
    for (size_t c = 0; c < ch; c++) {
        float *d = j->ch[c];
        const float *s = j->inter + c;
        size_t bad = 0;
        for (size_t i = 0; i < got; i++) {
            float v = s[i * ch];
            bad += !isfinite(v);
            d[i] = v;
        }
        j->item->nonfinite_in += bad;
    }
    if (got < j->chunk && !j->at_end) {
        j->at_end = 1;
        j->n = j->pos + got;
        j->total = j->n + j->tail + j->lat;
    }
    if (!j->at_end) {
        j->len = j->chunk;
        return 0;
    }
    /* Zeros up to the grid's end. Rounds stay `chunk` long (whole blocks)
     * but the last, which may take up to L more (the buffers hold chunk +
     * L): without a tail, the file's last round and its L zeros are one
     * round, as before tails existed. */
    size_t left = j->total - j->pos;
    size_t len = left <= j->chunk + j->lat ? left : j->chunk;
    for (size_t c = 0; c < ch; c++)
        memset(j->ch[c] + got, 0, (len - got) * sizeof(float));
    j->len = len;
    return 0;
}

/* Writes the processed round: output grid index g holds input frame
 * g - L, so the first L outputs of the file are dropped and the file comes
 * out aligned and as long as it went in, plus its tail. Clips integer output, counts what
 * the report needs. No lock held. */
static int write_round(Job *j, char *msg, size_t msg_len)
{
    RnnfxBatchItem *it = j->item;
    size_t k0 = j->lat > j->pos ? j->lat - j->pos : 0;
    if (k0 > j->len)
        k0 = j->len;
    const size_t ch = (size_t)j->channels, frames = j->len - k0;
    size_t over = 0, nonfinite = 0;
    float peak = it->peak;
    for (size_t c = 0; c < ch; c++) {
        const float *s = j->ch[c] + k0;
        float *d = j->inter + c;
        for (size_t i = 0; i < frames; i++) {
            float v = s[i];
            if (!isfinite(v)) {
                nonfinite++;
                v = 0.0f;
            }
            float a = fabsf(v);
            if (a > peak)
                peak = a;
            if (a > 1.0f) {
                over++;
                if (j->clip)
                    v = v > 0 ? 1.0f : -1.0f;
            }
            d[i * ch] = v;
        }
    }
    it->clipped += over;
    it->nonfinite += nonfinite;
    it->peak = peak;
    RnnfxError e = {{0}};
    if (frames && rnnfx_audio_writer_write(j->wr, j->inter, frames, &e) != RNNFX_OK) {
        msgf(msg, msg_len, "%s", e.msg);
        return -1;
    }
    return 0;
}

/* The response for a file of `file_ch` channels at `rate`, made on first
 * use and kept for the run (a failure is kept too, so a thousand files at
 * a rate it cannot be made for read it once). A stereo response is made
 * stereo only for stereo files; everything else gets mono. Returns 0, or
 * -1 with a message. Called without the run's main lock. */
static int get_ir(Run *r, int rate, int file_ch, const RnnfxIr **out, char *msg, size_t msg_len)
{
    const int want = file_ch == 2 && r->ir_src_channels == 2 ? 2 : 1;
    const char *path = r->opts->ir_path;
    int rc = -1;
    pthread_mutex_lock(&r->ir_mu);
    IrEntry *e = NULL;
    for (size_t i = 0; i < r->n_irs; i++)
        if (r->irs[i].rate == rate && r->irs[i].channels == want)
            e = &r->irs[i];
    if (!e) {
        if (r->n_irs == r->cap_irs) {
            size_t cap = r->cap_irs ? r->cap_irs * 2 : 4;
            IrEntry *n = realloc(r->irs, cap * sizeof *n);
            if (!n) {
                msgf(msg, msg_len, "out of memory");
                goto done;
            }
            r->irs = n;
            r->cap_irs = cap;
        }
        e = &r->irs[r->n_irs++];
        memset(e, 0, sizeof *e);
        e->rate = rate;
        e->channels = want;
        RnnfxError err = {{0}};
        RnnfxStatus st = rnnfx_ir_load(path, (double)rate, want, &e->ir, &err);
        if (st != RNNFX_OK) {
            e->ir = NULL;
            msgf(e->error, sizeof e->error, "impulse response %s (for %d Hz): %s", path, rate,
                 rnnfx_cli_without_path(err.msg[0] ? err.msg : rnnfx_strerror(st), path));
        }
    }
    if (e->ir) {
        *out = e->ir;
        rc = 0;
    } else {
        msgf(msg, msg_len, "%s", e->error);
    }
done:
    pthread_mutex_unlock(&r->ir_mu);
    return rc;
}

/* A chain of chain_ch channels for one task of a file: as
 * rnnfx_batch_process_channel's without a response; with one, built as the
 * plugin builds its chain (an empty chain, then a core with the model and
 * the response swapped in), so the samples are the plugin's. Controls are
 * set (snapped) last. */
static RnnfxStatus make_chain(const RnnfxBatchOptions *o, int rate, int chain_ch, size_t block,
                              const RnnfxIr *ir, RnnfxChain **out, RnnfxError *err)
{
    RnnfxChain *chain = NULL;
    RnnfxStatus st;
    if (!ir) {
        st = rnnfx_chain_new_multi(o->model, (double)rate, chain_ch, block, &chain, err);
    } else {
        st = rnnfx_chain_new_multi(NULL, (double)rate, chain_ch, block, &chain, err);
        RnnfxChainCore *core = NULL, *displaced = NULL;
        /* Borrowed (own_model 0): the core only reads the model, which the
         * caller keeps until the run ends; the cast is for the owning case. */
        if (st == RNNFX_OK)
            st = rnnfx_chain_core_new_ir(chain, (RnnfxModel *)o->model, 0, ir, &core, err);
        if (st == RNNFX_OK) {
            rnnfx_chain_swap(chain, core, &displaced); /* nothing playing: at once */
            rnnfx_chain_core_free(displaced);         /* NULL: nothing was pending */
        } else {
            rnnfx_chain_free(chain);
            chain = NULL;
        }
    }
    if (st != RNNFX_OK)
        return st;
    rnnfx_chain_set_controls(chain, &o->controls);
    *out = chain;
    return RNNFX_OK;
}

/* Checks one file, opens it, reads its first round and only then creates
 * its folder and temporary output, so a file that fails early leaves
 * nothing behind (no lock held). `waiting`: files of the run not yet
 * started. Returns a job ready to publish, or NULL when the item is
 * finished (skipped or failed). */
static Job *prepare(Run *r, RnnfxBatchItem *it, size_t waiting)
{
    const RnnfxBatchOptions *o = r->opts;
    char msg[600];
    double t0 = rnnfx_cli_now();
    struct stat ost, ist;
    if (stat(it->out_path, &ost) == 0) {
        if (rnnfx_cli_same_file(it->in_path, it->out_path)) {
            msgf(msg, sizeof msg, "%s: refusing to overwrite the input file", it->out_path);
            item_fail(r, it, msg);
            return NULL;
        }
        const char *special = rnnfx_cli_special_file(it->out_path);
        if (special) {
            msgf(msg, sizeof msg, "%s is %s, not a file to write; choose another name",
                 it->out_path, special);
            item_fail(r, it, msg);
            return NULL;
        }
        if (o->skip_existing) {
            it->state = RNNFX_BATCH_SKIPPED;
            atomic_fetch_add(&r->files_skipped, 1);
            return NULL;
        }
        if (!o->overwrite) {
            msgf(msg, sizeof msg, "%s exists (use --overwrite to replace it or --skip-existing)",
                     it->out_path);
            item_fail(r, it, msg);
            return NULL;
        }
        if (S_ISDIR(ost.st_mode)) {
            msgf(msg, sizeof msg, "%s is a folder", it->out_path);
            item_fail(r, it, msg);
            return NULL;
        }
    }
    /* Each input is opened more than once (the header probe, then the
     * read), so a pipe, FIFO or device cannot work: a named FIFO made
     * the run wait forever for a writer, and "<(sox ...)" failed as "not
     * an audio file". Say what it is instead. Missing files fall through
     * to the reader's "cannot open". */
    if (stat(it->in_path, &ist) == 0 && !S_ISREG(ist.st_mode)) {
        msgf(msg, sizeof msg, "%s: not a regular file (%s); rnnfx-process reads files: save the "
                              "audio to a file first",
             it->in_path, S_ISFIFO(ist.st_mode) ? "a pipe" : S_ISDIR(ist.st_mode) ? "a folder"
                                                                               : "a device");
        item_fail(r, it, msg);
        return NULL;
    }
    RnnfxAudioReader *rd = NULL;
    RnnfxAudioInfo info;
    RnnfxError e = {{0}};
    if (rnnfx_audio_reader_open(it->in_path, &rd, &info, &e) != RNNFX_OK) {
        msgf(msg, sizeof msg, "%s", e.msg);
        item_fail(r, it, msg);
        return NULL;
    }
    it->frames = info.frames;
    it->channels = info.channels;
    it->sample_rate = info.sample_rate;
    it->clipped = it->nonfinite = it->nonfinite_in = 0; /* counted chunk by chunk */
    it->peak = 0.0f;
    /* The response (if any) before the output's size is checked: with
     * tail_auto it sets the tail, which makes the output longer. */
    const RnnfxIr *ir = NULL;
    if (o->ir_path && get_ir(r, info.sample_rate, info.channels, &ir, msg, sizeof msg) != 0) {
        item_fail(r, it, msg);
        rnnfx_audio_reader_close(rd);
        return NULL;
    }
    const size_t tail = o->tail_auto ? (ir ? rnnfx_ir_frames(ir) : 0)
                        : o->tail_seconds > 0
                            ? (size_t)llround(o->tail_seconds * (double)info.sample_rate)
                            : 0;
    int fmt = output_format(info.format, info.channels, info.sample_rate, o, msg, sizeof msg);
    const unsigned long long max_frames = fmt ? rnnfx_audio_max_frames(fmt, info.channels) : 0;
    const unsigned long long out_frames =
        info.frames > 0 ? (unsigned long long)info.frames + tail : 0;
    if (fmt && max_frames && out_frames > max_frames) {
        /* known now, so say it before the work rather than at 4 GiB */
        msgf(msg, sizeof msg,
             "%llu frames would pass 4 GiB, the most this output type can hold; choose "
             "--format rf64, w64, caf or flac",
             out_frames);
        fmt = 0;
    }
    if (!fmt) {
        char m2[600];
        msgf(m2, sizeof m2, "%s: %s", it->out_path, msg);
        item_fail(r, it, m2);
        rnnfx_audio_reader_close(rd);
        return NULL;
    }
    Job *j = calloc(1, sizeof *j);
    if (!j) {
        rnnfx_audio_reader_close(rd);
        msgf(msg, sizeof msg, "%s: out of memory", it->in_path);
        item_fail(r, it, msg);
        return NULL;
    }
    j->item = it;
    j->rd = rd;
    j->channels = info.channels;
    j->rate = info.sample_rate;
    j->out_format = fmt;
    j->clip = !subtype_is_float(fmt & SF_FORMAT_SUBMASK);
    j->t0 = t0;
    j->block = o->block ? o->block : 4096;
    size_t want = o->chunk ? o->chunk : STREAM_CHUNK;
    j->chunk = (want + j->block - 1) / j->block * j->block;
    j->tail = tail;
    j->chain = calloc((size_t)j->channels, sizeof *j->chain);
    j->ch = calloc((size_t)j->channels, sizeof *j->ch);
    if (!j->chain || !j->ch)
        goto nomem;
    /* A stereo file gets one 2-channel chain (one task per round) for a
     * stereo response, and also, without a response (a mono one is made
     * for mono chains), when its model runs paired (both channels in one
     * time loop: the same samples for less CPU time, instance.h) and
     * enough files wait to keep the other workers busy; otherwise a chain
     * per channel, so a long file's channels run on two cores. */
    const int workers = o->jobs < 1 ? 1 : o->jobs;
    const int paired = !ir && rnnfx_model_runs_paired(o->model) &&
                       (workers == 1 || waiting >= (size_t)workers);
    j->chain_ch = j->channels == 2 && ((ir && rnnfx_ir_channels(ir) == 2) || paired) ? 2 : 1;
    j->n_tasks = j->channels / j->chain_ch;
    for (int t = 0; t < j->n_tasks; t++) {
        /* One chain per channel (or per stereo pair), for the whole file,
         * set as in a whole-file run: controls snapped at the start. */
        if (make_chain(o, j->rate, j->chain_ch, j->block, ir, &j->chain[t], &e) != RNNFX_OK) {
            msgf(msg, sizeof msg, "%s: %s", it->in_path, e.msg);
            item_fail(r, it, msg);
            free_job(j);
            return NULL;
        }
    }
    j->lat = (size_t)rnnfx_chain_latency(j->chain[0]);
    for (int c = 0; c < j->channels; c++)
        if (!(j->ch[c] = malloc((j->chunk + j->lat) * sizeof(float))))
            goto nomem;
    if (!(j->inter = malloc((j->chunk + j->lat) * (size_t)j->channels * sizeof(float))))
        goto nomem;
    if (read_round(j, msg, sizeof msg) != 0) {
        item_fail(r, it, msg);
        free_job(j);
        return NULL;
    }
    /* The first round decoded: now the output may have a place. */
    pthread_mutex_lock(&r->fs_mu);
    int rc = mkdirs_for(it->out_path, j->made_dir, sizeof j->made_dir, &j->made_from, msg, sizeof msg);
    if (rc == 0 && rnnfx_audio_writer_open(it->out_path, j->channels, j->rate, j->out_format, &j->wr,
                                           &e) != RNNFX_OK) {
        msgf(msg, sizeof msg, "%s", e.msg);
        rc = -1;
    }
    pthread_mutex_unlock(&r->fs_mu);
    if (rc != 0) {
        fail_job(r, j, msg);
        free_job(j);
        return NULL;
    }
    return j;
nomem:
    msgf(msg, sizeof msg, "%s: out of memory", it->in_path);
    item_fail(r, it, msg);
    free_job(j);
    return NULL;
}

/* Runs task t's part of the round (channel t, or channels 2t and 2t+1 of
 * a 2-channel chain) through its chain, in blocks on the file's grid (no
 * lock held; the round's data of those channels is this task's alone). */
static void run_channel(Run *r, Job *j, int t)
{
    double us_per_frame = 1e6 / (double)j->rate / (double)j->channels * (double)j->chain_ch;
    if (j->chain_ch == 1) {
        float *x = j->ch[t];
        for (size_t k = 0; k < j->len; k += j->block) {
            size_t b = j->len - k < j->block ? j->len - k : j->block;
            rnnfx_chain_process(j->chain[t], x + k, x + k, b);
        }
    } else {
        float *x0 = j->ch[2 * t], *x1 = j->ch[2 * t + 1];
        for (size_t k = 0; k < j->len; k += j->block) {
            size_t b = j->len - k < j->block ? j->len - k : j->block;
            const float *in[2] = {x0 + k, x1 + k};
            float *outp[2] = {x0 + k, x1 + k};
            rnnfx_chain_process_multi(j->chain[t], in, outp, b);
        }
    }
    /* Progress counts file frames, not the zeros after the end (a tail
     * may span rounds that start past it). */
    size_t real = !j->at_end ? j->len : j->n > j->pos ? j->n - j->pos : 0;
    atomic_fetch_add(&r->audio_us, (unsigned long long)((double)real * us_per_frame + 0.5));
}

/* After the last channel of a round: writes it, then reads the next round
 * (returns 1: publish it) or finishes the file (returns 0: done or failed).
 * No lock held. */
static int advance(Run *r, Job *j)
{
    char msg[600];
    if (write_round(j, msg, sizeof msg) != 0)
        goto fail;
    for (;;) {
        if (j->at_end && j->pos + j->len >= j->total) {
            RnnfxError e = {{0}};
            RnnfxAudioWriter *w = j->wr;
            j->wr = NULL;
            if (rnnfx_audio_writer_commit(w, &e) != RNNFX_OK) {
                msgf(msg, sizeof msg, "%s", e.msg);
                goto fail;
            }
            RnnfxBatchItem *it = j->item;
            it->frames = j->n;
            it->tail_frames = j->tail;
            it->out_float = !j->clip;
            it->state = RNNFX_BATCH_DONE;
            it->seconds = rnnfx_cli_now() - j->t0;
            atomic_fetch_add(&r->files_done, 1);
            return 0;
        }
        if (r->opts->cancel && *r->opts->cancel) {
            /* Interrupted: stop within a chunk, leave no partial output (and
             * no folder made for it); the file counts as not done. */
            pthread_mutex_lock(&r->fs_mu);
            rnnfx_audio_writer_abort(j->wr);
            j->wr = NULL;
            rmdirs_made(j->made_dir, j->made_from);
            pthread_mutex_unlock(&r->fs_mu);
            j->item->state = RNNFX_BATCH_CANCELLED;
            return 0;
        }
        j->pos += j->len;
        if (read_round(j, msg, sizeof msg) != 0)
            goto fail;
        if (j->len > 0)
            return 1;
    }
fail:
    fail_job(r, j, msg);
    return 0;
}

static void unlink_job(Run *r, Job *j)
{
    for (Job **p = &r->active; *p; p = &(*p)->next) {
        if (*p == j) {
            *p = j->next;
            return;
        }
    }
}

static void *worker(void *arg)
{
    Run *r = arg;
    pthread_mutex_lock(&r->mu);
    for (;;) {
        Job *j = r->active;
        while (j && j->next_channel >= j->n_tasks)
            j = j->next;
        if (j) {
            int c = j->next_channel++;
            pthread_mutex_unlock(&r->mu);
            run_channel(r, j, c);
            pthread_mutex_lock(&r->mu);
            if (++j->done_channels == j->n_tasks) {
                /* Nobody can claim this file until its next round is out. */
                pthread_mutex_unlock(&r->mu);
                int more = advance(r, j);
                pthread_mutex_lock(&r->mu);
                if (more) {
                    j->next_channel = 0;
                    j->done_channels = 0;
                } else {
                    unlink_job(r, j);
                    pthread_mutex_unlock(&r->mu);
                    free_job(j);
                    pthread_mutex_lock(&r->mu);
                }
                pthread_cond_broadcast(&r->cv);
            }
            continue;
        }
        int cancelled = r->opts->cancel && *r->opts->cancel;
        if (!cancelled && r->next_item < r->list->count) {
            RnnfxBatchItem *it = &r->list->items[r->next_item++];
            const size_t waiting = r->list->count - r->next_item; /* files not yet started */
            r->preparing++;
            pthread_mutex_unlock(&r->mu);
            Job *nj = prepare(r, it, waiting);
            pthread_mutex_lock(&r->mu);
            r->preparing--;
            if (nj) {
                nj->next = r->active;
                r->active = nj;
            }
            pthread_cond_broadcast(&r->cv);
            continue;
        }
        /* Files in progress publish their next round when its I/O is done:
         * wait for them rather than leave their channels to one worker. */
        if (r->preparing == 0 && !r->active)
            break; /* nothing left to claim and nothing about to appear */
        pthread_cond_wait(&r->cv, &r->mu);
    }
    r->running_workers--;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

/* Audio length from the header only (for the progress total and ETA). */
static double probe_seconds(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return 0.0; /* opening a FIFO would wait for a writer; prepare() refuses it */
    SF_INFO info = {0};
    SNDFILE *sf = sf_open(path, SFM_READ, &info);
    if (!sf)
        return 0.0;
    sf_close(sf);
    return info.samplerate > 0 && info.frames > 0 ? (double)info.frames / info.samplerate : 0.0;
}

static void report(Run *r, double t0, double total_s, int final)
{
    if (!r->opts->progress)
        return;
    RnnfxBatchProgress p;
    p.files_total = r->list->count;
    p.files_done = atomic_load(&r->files_done);
    p.files_failed = atomic_load(&r->files_failed);
    p.files_skipped = atomic_load(&r->files_skipped);
    p.audio_seconds_total = total_s;
    p.audio_seconds_done = (double)atomic_load(&r->audio_us) * 1e-6;
    p.elapsed = rnnfx_cli_now() - t0;
    p.final = final;
    r->opts->progress(&p, r->opts->progress_user);
}

size_t rnnfx_batch_run(RnnfxBatchList *list, const RnnfxBatchOptions *opts)
{
    Run r;
    memset(&r, 0, sizeof r);
    pthread_mutex_init(&r.mu, NULL);
    pthread_mutex_init(&r.fs_mu, NULL);
    pthread_cond_init(&r.cv, NULL);
    r.list = list;
    r.opts = opts;
    atomic_init(&r.audio_us, 0);
    atomic_init(&r.files_done, 0);
    atomic_init(&r.files_failed, 0);
    atomic_init(&r.files_skipped, 0);
    pthread_mutex_init(&r.ir_mu, NULL);
    if (opts->ir_path) {
        /* Whether a stereo file gets a stereo response depends on the
         * file's channels: from its header (a file that cannot be opened
         * fails in rnnfx_ir_load with the reason). */
        SF_INFO ii = {0};
        SNDFILE *sf = sf_open(opts->ir_path, SFM_READ, &ii);
        r.ir_src_channels = sf ? ii.channels : 1;
        if (sf)
            sf_close(sf);
    }
    double t0 = rnnfx_cli_now();
    double total_s = 0.0;
    if (opts->progress)
        for (size_t i = 0; i < list->count; i++)
            total_s += probe_seconds(list->items[i].in_path);

    int n = opts->jobs < 1 ? 1 : opts->jobs;
    pthread_t *th = calloc((size_t)n, sizeof *th);
    int started = 0;
    pthread_mutex_lock(&r.mu);
    for (int i = 0; th && i < n; i++) {
        if (pthread_create(&th[i], NULL, worker, &r) != 0)
            break;
        started++;
        r.running_workers++;
    }
    pthread_mutex_unlock(&r.mu);
    if (started == 0) {
        /* No thread could be started: do the work here. */
        pthread_mutex_lock(&r.mu);
        r.running_workers = 1;
        pthread_mutex_unlock(&r.mu);
        worker(&r);
    } else {
        pthread_mutex_lock(&r.mu);
        while (r.running_workers > 0) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 250000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&r.cv, &r.mu, &ts);
            if (r.running_workers > 0) {
                pthread_mutex_unlock(&r.mu);
                report(&r, t0, total_s, 0);
                pthread_mutex_lock(&r.mu);
            }
        }
        pthread_mutex_unlock(&r.mu);
        for (int i = 0; i < started; i++)
            pthread_join(th[i], NULL);
    }
    free(th);
    size_t failed = 0;
    for (size_t i = 0; i < list->count; i++) {
        RnnfxBatchItem *it = &list->items[i];
        if (it->state == RNNFX_BATCH_PENDING)
            it->state = RNNFX_BATCH_CANCELLED;
        if (it->state == RNNFX_BATCH_FAILED)
            failed++;
    }
    report(&r, t0, total_s, 1);
    for (size_t i = 0; i < r.n_irs; i++)
        rnnfx_ir_free(r.irs[i].ir);
    free(r.irs);
    pthread_mutex_destroy(&r.ir_mu);
    pthread_mutex_destroy(&r.mu);
    pthread_mutex_destroy(&r.fs_mu);
    pthread_cond_destroy(&r.cv);
    return failed;
}

/*
 * sndfile_check.c — a cut-short sound file, from libsndfile's log (see
 * sndfile_check.h).
 */
#include "sndfile_check.h"

#include <stdio.h>
#include <string.h>

int rnnfx_sndfile_truncated(SNDFILE *sf, char *msg, size_t len)
{
    char log[8192];
    log[0] = '\0';
    sf_command(sf, SFC_GET_LOG_INFO, log, sizeof log);
    for (char *line = log; line && *line;) {
        char *next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        /* "<name> : <said> (should be <real>)", indented in AIFF and RF64 */
        while (*line == ' ' || *line == '\t')
            line++;
        const char *colon = strstr(line, " : ");
        unsigned long long said = 0, real = 0;
        /* A size from 0x7F000000 up is a placeholder of a recording
         * streamed through a pipe (sox writes 0x7F00004E into an AIFF's
         * FORM, 0x7FFFF048 into a WAV's RIFF): libsndfile reads the
         * whole take, which is not cut. */
        if (colon && colon > line &&
            sscanf(colon + 3, "%llu (should be %llu)", &said, &real) == 2 && said > real + 16 &&
            said < 0x7F000000ull) {
            int name = (int)(colon - line < 24 ? colon - line : 24);
            while (name > 0 && line[name - 1] == ' ')
                name--;
            snprintf(msg, len,
                     "truncated: the header promises %llu bytes (%.*s), the file holds %llu", said,
                     name, line, real);
            return 1;
        }
        line = next;
    }
    return 0;
}

/*
 * file_ids.c — see file_ids.h.
 */
#include "file_ids.h"

#include <stdlib.h>

int rnnfx_file_ids_seen(RnnfxFileIds *ids, const struct stat *st)
{
    for (size_t i = 0; i < ids->n; i++)
        if (ids->dev[i] == st->st_dev && ids->ino[i] == st->st_ino)
            return 1;
    if (ids->n == ids->cap) {
        size_t cap = ids->cap ? ids->cap * 2 : 64;
        dev_t *d = realloc(ids->dev, cap * sizeof *d);
        if (!d)
            return -1;
        ids->dev = d;
        ino_t *in = realloc(ids->ino, cap * sizeof *in);
        if (!in)
            return -1;
        ids->ino = in;
        ids->cap = cap;
    }
    ids->dev[ids->n] = st->st_dev;
    ids->ino[ids->n] = st->st_ino;
    ids->n++;
    return 0;
}

void rnnfx_file_ids_free(RnnfxFileIds *ids)
{
    free(ids->dev);
    free(ids->ino);
    ids->dev = NULL;
    ids->ino = NULL;
    ids->n = ids->cap = 0;
}

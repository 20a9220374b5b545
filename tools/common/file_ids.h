/*
 * file_ids.h — the set of files and folders a scan has taken, by device and
 * inode, shared by the programs that walk folders (rnnfx-process inputs,
 * rnnfx-train --midi).
 *
 * Links are followed when walking, so one file or folder can be reached by
 * several names, and a link back up the tree ("up -> ..") makes a loop:
 * followed to a depth limit, two such links in one folder meant 2^64 paths.
 * A scan that asks this set before reading a folder (or taking a file)
 * reads each once. A linear search: scans hold thousands of entries, not
 * millions. Not for an audio thread (it allocates).
 */
#ifndef RNNFX_FILE_IDS_H
#define RNNFX_FILE_IDS_H

#include <stddef.h>
#include <sys/stat.h>

typedef struct {
    dev_t *dev;
    ino_t *ino;
    size_t n, cap;
} RnnfxFileIds; /* zero-initialised = empty */

/* 1 if st's file was taken already; else records it and returns 0; -1 when
 * out of memory (nothing recorded). Thread: the scan's. */
int rnnfx_file_ids_seen(RnnfxFileIds *ids, const struct stat *st);

/* Frees the set and leaves it empty. Thread: the scan's. */
void rnnfx_file_ids_free(RnnfxFileIds *ids);

#endif

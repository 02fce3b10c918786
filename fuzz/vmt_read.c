/*
 * Fuzz target: the .vmt reader (tools/trace/vmt.c). Whatever the bytes, the
 * header is taken or refused with a message, the records read up to the
 * end marker or an error with a message, never a crash; every record read
 * writes back to a trace that reads to the same records.
 */
#include "vmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEEP 64 /* records compared after the rewrite */

static int same(const struct vmt_record *a, const struct vmt_record *b)
{
    if (a->type != b->type)
        return 0;
    if (vmt_is_access(a->type))
        return a->addr == b->addr && a->size == b->size;
    return memcmp(a->arg, b->arg, sizeof(a->arg)) == 0 && a->result == b->result &&
           strcmp(a->path, b->path) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *in = fmemopen((void *)data, size ? size : 1, "rb");
    if (!in)
        return 0;
    if (size == 0)
        fgetc(in); /* an empty input: fmemopen needs one byte */
    char err[256] = "";
    struct vmt_reader *r = vmt_reader_open(in, err, sizeof(err));
    if (!r) {
        if (!err[0])
            abort(); /* a refusal always says why */
        fclose(in);
        return 0;
    }
    static struct vmt_record recs[KEEP];
    size_t n = 0;
    struct vmt_record rec;
    int rc;
    while ((rc = vmt_read(r, &rec)) > 0)
        if (n < KEEP)
            recs[n++] = rec;
    if (rc < 0 && !vmt_reader_error(r)[0])
        abort();
    vmt_reader_close(r);
    fclose(in);
    /* what was read writes back and reads the same */
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    struct vmt_writer *w = out ? vmt_writer_open(out, 0, NULL, err, sizeof(err)) : NULL;
    if (!w)
        abort();
    for (size_t i = 0; i < n; i++)
        if (vmt_write(w, &recs[i]) < 0)
            abort();
    if (vmt_writer_close(w) < 0)
        abort();
    fclose(out);
    in = fmemopen(buf, len, "rb");
    r = vmt_reader_open(in, err, sizeof(err));
    if (!r)
        abort();
    for (size_t i = 0; i < n; i++)
        if (vmt_read(r, &rec) != 1 || !same(&rec, &recs[i]))
            abort();
    if (vmt_read(r, &rec) != 0)
        abort();
    vmt_reader_close(r);
    fclose(in);
    free(buf);
    return 0;
}

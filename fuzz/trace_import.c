/*
 * Fuzz target: the importers and the recorder's reader of Valgrind's
 * output (tools/trace/import.c, tools/trace/vglog.c). The first byte
 * chooses: lackey text, ChampSim records, or Valgrind's standard error
 * and log lines as `vmsim record` reads them. Whatever the bytes: imported
 * or refused with a message, never a crash; the trace written reads back
 * to its end.
 */
#include "vglog.h"
#include "vmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void vglog_lines(struct vglog *g, const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return;
    memcpy(text, data, size);
    text[size] = 0;
    int to_log = 0;
    for (char *line = text, *next; line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = 0;
        if (strcmp(line, "@log") == 0) /* the lines after go to the log */
            to_log = 1;
        else if (to_log)
            vglog_log_line(g, line);
        else
            vglog_stderr_line(g, line);
    }
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    char *buf = NULL;
    size_t len = 0;
    char err[256] = "";
    FILE *out = open_memstream(&buf, &len);
    struct vmt_writer *w = out ? vmt_writer_open(out, 0, NULL, err, sizeof(err)) : NULL;
    if (!w)
        abort();
    unsigned mode = data[0] % 3;
    if (mode == 2) {
        struct vglog g;
        vglog_init(&g, w);
        vglog_lines(&g, data + 1, size - 1);
        vglog_free(&g);
    } else {
        FILE *in = size > 1 ? fmemopen((void *)(data + 1), size - 1, "rb") : NULL;
        if (in) {
            int rc = mode == 0 ? vmt_import_lackey(in, w, err, sizeof(err))
                               : vmt_import_champsim(in, w, err, sizeof(err));
            if (rc < 0 && !err[0])
                abort(); /* a refusal always says why */
            fclose(in);
        }
    }
    uint64_t written = vmt_writer_count(w);
    if (vmt_writer_close(w) < 0)
        abort();
    fclose(out);
    FILE *in = fmemopen(buf, len, "rb");
    struct vmt_reader *r = vmt_reader_open(in, err, sizeof(err));
    if (!r)
        abort();
    struct vmt_record rec;
    int rc;
    while ((rc = vmt_read(r, &rec)) > 0)
        ;
    if (rc != 0 || vmt_reader_records(r) != written)
        abort(); /* what the importers write reads back whole */
    vmt_reader_close(r);
    fclose(in);
    free(buf);
    return 0;
}

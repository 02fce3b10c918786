/*
 * convert.c - `vmsim convert`: traces between formats. Lackey text and
 * ChampSim records into .vmt; a .vmt back into lackey text (mm calls as
 * "==mm==" lines, which lackey readers skip) or into its header alone.
 */
#include "cli.h"
#include "vmt.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: vmsim convert [--from lackey|champsim|vmt] [--to vmt|lackey|info] IN [-o OUT]\n\n"
            "Reads a trace (IN, or - for standard input) and writes it in another format\n"
            "(OUT, or standard output): Valgrind lackey text (I, L, S, M lines) and\n"
            "ChampSim binary instruction records (uncompressed) into .vmt (docs/traces.md);\n"
            "a .vmt into lackey text, or its header and record count (info).\n\n"
            "  --from FORMAT  the input's format (default: vmt if it starts with the .vmt\n"
            "                 magic, else lackey)\n"
            "  --to FORMAT    the output's format (default vmt)\n"
            "  -o OUT         the output file\n"
            "  -h, --help     show this help\n");
}

static int to_vmt(FILE *in, FILE *out, const char *from, const char *name)
{
    struct vmt_meta meta;
    vmt_meta_init(&meta);
    vmt_meta_add(&meta, "source", from);
    vmt_meta_add(&meta, "converted_from", name);
    char err[256];
    struct vmt_writer *w = vmt_writer_open(out, 0, &meta, err, sizeof(err));
    vmt_meta_free(&meta);
    if (!w) {
        fprintf(stderr, "vmsim convert: %s\n", err);
        return CLI_FAILED;
    }
    int rc = strcmp(from, "champsim") == 0 ? vmt_import_champsim(in, w, err, sizeof(err))
                                           : vmt_import_lackey(in, w, err, sizeof(err));
    if (rc < 0)
        fprintf(stderr, "vmsim convert: %s: %s\n", name, err);
    if (vmt_writer_close(w) < 0 && rc == 0) {
        fprintf(stderr, "vmsim convert: cannot write the trace\n");
        rc = -1;
    }
    return rc < 0 ? CLI_FAILED : CLI_OK;
}

static void print_lackey(FILE *out, const struct vmt_record *r)
{
    static const char kind[] = {'L', 'S', 'I', 'M'};
    if (vmt_is_access(r->type)) {
        /* lackey's own spelling: "I  ADDR,SIZE", " L ADDR,SIZE" */
        fprintf(out, r->type == VMT_FETCH ? "%c  %08" PRIx64 ",%" PRIu32 "\n" : " %c %08" PRIx64 ",%" PRIu32 "\n",
                kind[r->type], r->addr, r->size);
        return;
    }
    fprintf(out, "==mm== %s", vmt_type_name(r->type));
    unsigned n = r->type == VMT_MMAP ? 6 : r->type == VMT_MREMAP ? 5 : r->type == VMT_SEGMENT ? 5
               : r->type == VMT_BRK ? 1 : r->type == VMT_MUNMAP ? 2 : 3;
    for (unsigned i = 0; i < n; i++)
        fprintf(out, "%s0x%" PRIx64, i ? ", " : "(", r->arg[i]);
    fprintf(out, ")");
    if (r->type != VMT_SEGMENT)
        fprintf(out, " = %" PRId64, r->result);
    if (r->path[0])
        fprintf(out, " %s", r->path);
    fputc('\n', out);
}

static int from_vmt(FILE *in, FILE *out, const char *to, const char *name)
{
    char err[256];
    struct vmt_reader *rd = vmt_reader_open(in, err, sizeof(err));
    if (!rd) {
        fprintf(stderr, "vmsim convert: %s: %s\n", name, err);
        return CLI_FAILED;
    }
    const struct vmt_header *h = vmt_reader_header(rd);
    int info = strcmp(to, "info") == 0;
    if (info) {
        fprintf(out, "version %u, flags 0x%" PRIx32 ", page size %" PRIu32 "\n", h->version,
                h->flags, h->page_size);
        for (size_t i = 0; i < h->meta.n; i++)
            fprintf(out, "%s=%s\n", h->meta.key[i], h->meta.value[i]);
    }
    struct vmt_record r;
    uint64_t counts[VMT_NTYPES] = {0};
    int rc;
    while ((rc = vmt_read(rd, &r)) > 0) {
        counts[r.type]++;
        if (!info)
            print_lackey(out, &r);
    }
    if (rc < 0)
        fprintf(stderr, "vmsim convert: %s: %s\n", name, vmt_reader_error(rd));
    else if (info)
        for (int t = 0; t < VMT_NTYPES; t++)
            if (counts[t])
                fprintf(out, "%s %" PRIu64 "\n", vmt_type_name((enum vmt_type)t), counts[t]);
    vmt_reader_close(rd);
    return rc < 0 ? CLI_FAILED : CLI_OK;
}

int convert_main(int argc, char **argv)
{
    const char *from = NULL, *to = "vmt", *in_name = NULL, *out_name = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return CLI_OK;
        } else if ((!strcmp(a, "--from") || !strcmp(a, "--to") || !strcmp(a, "-o")) && i + 1 < argc) {
            const char *v = argv[++i];
            if (!strcmp(a, "-o"))
                out_name = v;
            else if (!strcmp(a, "--from") && (!strcmp(v, "lackey") || !strcmp(v, "champsim") || !strcmp(v, "vmt")))
                from = v;
            else if (!strcmp(a, "--to") && (!strcmp(v, "vmt") || !strcmp(v, "lackey") || !strcmp(v, "info")))
                to = v;
            else {
                fprintf(stderr, "vmsim convert: bad value '%s' for %s\nTry 'vmsim convert --help'.\n", v, a);
                return CLI_USAGE;
            }
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "vmsim convert: unknown option '%s'\nTry 'vmsim convert --help'.\n", a);
            return CLI_USAGE;
        } else if (!in_name) {
            in_name = a;
        } else {
            fprintf(stderr, "vmsim convert: one input only, not '%s'\nTry 'vmsim convert --help'.\n", a);
            return CLI_USAGE;
        }
    }
    if (!in_name) {
        fprintf(stderr, "vmsim convert: missing the input\nTry 'vmsim convert --help'.\n");
        return CLI_USAGE;
    }
    FILE *in = strcmp(in_name, "-") == 0 ? stdin : fopen(in_name, "rb");
    if (!in) {
        fprintf(stderr, "vmsim convert: %s: %s\n", in_name, strerror(errno));
        return CLI_FAILED;
    }
    if (!from) { /* the magic decides */
        int c = fgetc(in);
        from = c == (unsigned char)VMT_MAGIC[0] ? "vmt" : "lackey";
        if (c != EOF)
            ungetc(c, in);
    }
    int to_text = strcmp(to, "vmt") != 0;
    if (to_text != (strcmp(from, "vmt") == 0)) {
        fprintf(stderr, "vmsim convert: from %s to %s: one side must be vmt\n", from, to);
        if (in != stdin)
            fclose(in);
        return CLI_USAGE;
    }
    FILE *out = out_name ? fopen(out_name, to_text ? "w" : "w+b") : stdout;
    int rc = CLI_FAILED;
    if (!out)
        fprintf(stderr, "vmsim convert: %s: %s\n", out_name, strerror(errno));
    else
        rc = to_text ? from_vmt(in, out, to, in_name) : to_vmt(in, out, from, in_name);
    if (out && out != stdout && fclose(out) != 0)
        rc = CLI_FAILED;
    if (in != stdin)
        fclose(in);
    return rc;
}

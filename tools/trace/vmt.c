/*
 * vmt.c - reader and writer of the .vmt trace (docs/traces.md has the
 * layout). Records are varints: an access is a tag byte (kind, small size)
 * and its address as a zigzag delta from the previous address of its
 * stream (instruction fetches and data each keep their own), so a typical
 * access takes 2-3 bytes before zstd. The body is one zstd stream of
 * frames of at most VMT_FRAME_BYTES input each, read and written through
 * fixed buffers: memory stays bounded whatever the trace's length.
 */
#include "vmt.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#define VMT_FRAME_BYTES (64u << 20) /* input per zstd frame */
#define VMT_BUF 65536               /* the writer's record buffer */
#define VMT_LEVEL 3                 /* zstd's default level: fast, good enough */

enum {
    TAG_ACCESS_MAX = 0x7f, /* below 0x80: kind in bits 0-1, size 1..31 in 2-6 (0: varint) */
    TAG_END = 0x80,
    TAG_MM = 0x81, /* TAG_MM + (type - VMT_MMAP) */
};

static const char *const type_names[VMT_NTYPES] = {
    "load", "store", "fetch", "modify", "mmap", "munmap", "mprotect", "brk", "mremap", "madvise",
    "segment",
};
/* How many arguments each mm record carries, and whether it has a path and a result. */
static const unsigned mm_args[VMT_NTYPES] = {0, 0, 0, 0, 6, 2, 3, 1, 5, 3, 5};

const char *vmt_type_name(enum vmt_type t)
{
    return (unsigned)t < VMT_NTYPES ? type_names[t] : NULL;
}

static int has_path(enum vmt_type t) { return t == VMT_MMAP || t == VMT_SEGMENT; }
static int has_result(enum vmt_type t) { return t != VMT_SEGMENT; }

/* ---- metadata ---- */

void vmt_meta_init(struct vmt_meta *m) { memset(m, 0, sizeof(*m)); }

int vmt_meta_add(struct vmt_meta *m, const char *key, const char *value)
{
    char **k = realloc(m->key, (m->n + 1) * sizeof(*k));
    if (!k)
        return -1;
    m->key = k;
    char **v = realloc(m->value, (m->n + 1) * sizeof(*v));
    if (!v)
        return -1;
    m->value = v;
    m->key[m->n] = strdup(key);
    m->value[m->n] = strdup(value);
    if (!m->key[m->n] || !m->value[m->n]) {
        free(m->key[m->n]);
        free(m->value[m->n]);
        return -1;
    }
    m->n++;
    return 0;
}

const char *vmt_meta_get(const struct vmt_meta *m, const char *key)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->key[i], key) == 0)
            return m->value[i];
    return NULL;
}

void vmt_meta_free(struct vmt_meta *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->key[i]);
        free(m->value[i]);
    }
    free(m->key);
    free(m->value);
    vmt_meta_init(m);
}

static void put_le(unsigned char *p, uint64_t v, unsigned bytes)
{
    for (unsigned i = 0; i < bytes; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le(const unsigned char *p, unsigned bytes)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static uint64_t zigzag(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }
static int64_t unzigzag(uint64_t v) { return (int64_t)(v >> 1) ^ -(int64_t)(v & 1); }

/* ---- writer ---- */

struct vmt_writer {
    FILE *out;
    ZSTD_CCtx *cctx;
    unsigned char buf[VMT_BUF]; /* records not yet compressed */
    size_t len;
    unsigned char *zout;        /* compressed bytes on their way to out */
    size_t zout_size;
    uint64_t frame_in;          /* input in the current frame */
    uint64_t count;
    uint64_t prev[2];           /* last address: [0] data, [1] instruction fetches */
    int failed;
    char err[256];
};

static int wfail(struct vmt_writer *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->err, sizeof(w->err), fmt, ap);
    va_end(ap);
    w->failed = 1;
    return -1;
}

const char *vmt_writer_error(const struct vmt_writer *w) { return w->err; }
uint64_t vmt_writer_count(const struct vmt_writer *w) { return w->count; }

/* Compresses the buffer; mode ZSTD_e_end also closes the frame. */
static int compress_buffer(struct vmt_writer *w, ZSTD_EndDirective mode)
{
    ZSTD_inBuffer in = {w->buf, w->len, 0};
    for (;;) {
        ZSTD_outBuffer o = {w->zout, w->zout_size, 0};
        size_t left = ZSTD_compressStream2(w->cctx, &o, &in, mode);
        if (ZSTD_isError(left))
            return wfail(w, "zstd: %s", ZSTD_getErrorName(left));
        if (o.pos && fwrite(w->zout, 1, o.pos, w->out) != o.pos)
            return wfail(w, "write: %s", strerror(errno));
        int done = mode == ZSTD_e_continue ? in.pos == in.size : left == 0;
        if (done)
            break;
    }
    w->frame_in += w->len;
    w->len = 0;
    if (mode == ZSTD_e_continue && w->frame_in >= VMT_FRAME_BYTES) {
        w->frame_in = 0;
        return compress_buffer(w, ZSTD_e_end);
    }
    return 0;
}

/* Room for one record of at most need bytes. */
static int reserve(struct vmt_writer *w, size_t need)
{
    if (w->failed)
        return -1;
    if (w->len + need > sizeof(w->buf))
        return compress_buffer(w, ZSTD_e_continue);
    return 0;
}

static void put_byte(struct vmt_writer *w, unsigned b) { w->buf[w->len++] = (unsigned char)b; }

static void put_varint(struct vmt_writer *w, uint64_t v)
{
    while (v >= 0x80) {
        w->buf[w->len++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    w->buf[w->len++] = (unsigned char)v;
}

struct vmt_writer *vmt_writer_open(FILE *out, uint32_t flags, const struct vmt_meta *meta,
                                   char *err, size_t errlen)
{
    size_t meta_len = 0;
    for (size_t i = 0; meta && i < meta->n; i++)
        meta_len += strlen(meta->key[i]) + strlen(meta->value[i]) + 2;
    if (meta_len > VMT_META_MAX) {
        snprintf(err, errlen, "metadata of %zu bytes: at most %u", meta_len, VMT_META_MAX);
        return NULL;
    }
    struct vmt_writer *w = calloc(1, sizeof(*w));
    if (w)
        w->zout_size = ZSTD_CStreamOutSize();
    if (!w || !(w->zout = malloc(w->zout_size)) || !(w->cctx = ZSTD_createCCtx())) {
        snprintf(err, errlen, "out of memory");
        if (w)
            free(w->zout);
        free(w);
        return NULL;
    }
    w->out = out;
    ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_compressionLevel, VMT_LEVEL);
    ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_checksumFlag, 1);
    unsigned char h[VMT_HEADER_FIXED] = {0};
    memcpy(h, VMT_MAGIC, 8);
    put_le(h + 8, VMT_VERSION, 2);
    put_le(h + 12, flags, 4);
    put_le(h + 16, 4096, 4);
    put_le(h + 20, meta_len, 4);
    put_le(h + 24, VMT_COUNT_UNKNOWN, 8);
    int bad = fwrite(h, 1, sizeof(h), out) != sizeof(h);
    for (size_t i = 0; meta && i < meta->n && !bad; i++)
        bad = fwrite(meta->key[i], 1, strlen(meta->key[i]) + 1, out) != strlen(meta->key[i]) + 1 ||
              fwrite(meta->value[i], 1, strlen(meta->value[i]) + 1, out) !=
                  strlen(meta->value[i]) + 1;
    if (bad) {
        snprintf(err, errlen, "write: %s", strerror(errno));
        ZSTD_freeCCtx(w->cctx);
        free(w->zout);
        free(w);
        return NULL;
    }
    return w;
}

int vmt_write_access(struct vmt_writer *w, enum vmt_type type, uint64_t addr, uint32_t size)
{
    if (!vmt_is_access(type) || size == 0 || size > VMT_ACCESS_MAX)
        return wfail(w, "an access of %" PRIu32 " bytes (type %d): sizes are 1..%u", size,
                     (int)type, VMT_ACCESS_MAX);
    if (reserve(w, 1 + 5 + 10) < 0)
        return -1;
    int stream = type == VMT_FETCH;
    put_byte(w, (unsigned)type | (size < 32 ? size << 2 : 0));
    if (size >= 32)
        put_varint(w, size);
    put_varint(w, zigzag((int64_t)(addr - w->prev[stream])));
    w->prev[stream] = addr;
    w->count++;
    return 0;
}

int vmt_write(struct vmt_writer *w, const struct vmt_record *r)
{
    if (vmt_is_access(r->type))
        return vmt_write_access(w, r->type, r->addr, r->size);
    if ((unsigned)r->type >= VMT_NTYPES)
        return wfail(w, "record type %d unknown", (int)r->type);
    size_t plen = has_path(r->type) ? strnlen(r->path, VMT_PATH_MAX + 1) : 0;
    if (plen > VMT_PATH_MAX)
        return wfail(w, "a path longer than %u bytes", VMT_PATH_MAX);
    if (reserve(w, 1 + 7 * 10 + 5 + plen) < 0)
        return -1;
    put_byte(w, TAG_MM + (unsigned)(r->type - VMT_MMAP));
    for (unsigned i = 0; i < mm_args[r->type]; i++)
        put_varint(w, r->arg[i]);
    if (has_result(r->type))
        put_varint(w, zigzag(r->result));
    if (has_path(r->type)) {
        put_varint(w, plen);
        memcpy(w->buf + w->len, r->path, plen);
        w->len += plen;
    }
    w->count++;
    return 0;
}

int vmt_writer_close(struct vmt_writer *w)
{
    int rc = -1;
    if (!w->failed && reserve(w, 11) == 0) {
        put_byte(w, TAG_END);
        put_varint(w, w->count);
        rc = compress_buffer(w, ZSTD_e_end);
    }
    if (rc == 0 && fflush(w->out) != 0)
        rc = wfail(w, "write: %s", strerror(errno));
    /* The count into the header, where the output can seek (not a pipe). */
    long end = rc == 0 ? ftell(w->out) : -1;
    if (end >= 0 && fseek(w->out, 24, SEEK_SET) == 0) {
        unsigned char c[8];
        put_le(c, w->count, 8);
        if (fwrite(c, 1, 8, w->out) != 8 || fseek(w->out, end, SEEK_SET) != 0 ||
            fflush(w->out) != 0)
            rc = wfail(w, "write: %s", strerror(errno));
    }
    ZSTD_freeCCtx(w->cctx);
    free(w->zout);
    free(w);
    return rc;
}

/* ---- reader ---- */

struct vmt_reader {
    FILE *in;
    ZSTD_DCtx *dctx;
    unsigned char *zin;   /* compressed bytes */
    size_t zin_size;
    ZSTD_inBuffer input;
    unsigned char *out;   /* decompressed bytes */
    size_t out_size, pos, len;
    size_t frame_left;    /* ZSTD_decompressStream's last hint: 0 at a frame's end */
    int input_eof;
    struct vmt_header header;
    uint64_t records;
    uint64_t prev[2];
    int failed, ended;
    char err[256];
};

static int rfail(struct vmt_reader *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err, sizeof(r->err), fmt, ap);
    va_end(ap);
    r->failed = 1;
    return -1;
}

const char *vmt_reader_error(const struct vmt_reader *r) { return r->err; }
const struct vmt_header *vmt_reader_header(const struct vmt_reader *r) { return &r->header; }
uint64_t vmt_reader_records(const struct vmt_reader *r) { return r->records; }

/* More decompressed bytes: 1, 0 at the end of the input (every frame
 * complete), -1 on an error. */
static int refill(struct vmt_reader *r)
{
    r->pos = r->len = 0;
    while (r->len == 0) {
        if (r->input.pos == r->input.size) {
            if (r->input_eof)
                break;
            size_t n = fread(r->zin, 1, r->zin_size, r->in);
            if (n == 0) {
                if (ferror(r->in))
                    return rfail(r, "read: %s", strerror(errno));
                r->input_eof = 1;
                break;
            }
            r->input = (ZSTD_inBuffer){r->zin, n, 0};
        }
        ZSTD_outBuffer o = {r->out, r->out_size, 0};
        size_t hint = ZSTD_decompressStream(r->dctx, &o, &r->input);
        if (ZSTD_isError(hint))
            return rfail(r, "bad zstd data after %" PRIu64 " records: %s", r->records,
                         ZSTD_getErrorName(hint));
        r->frame_left = hint;
        r->len = o.pos;
    }
    if (r->len)
        return 1;
    if (r->frame_left)
        return rfail(r, "truncated: the zstd frame is cut after %" PRIu64 " records", r->records);
    return 0;
}

static inline int get_byte(struct vmt_reader *r, unsigned *b)
{
    if (r->pos == r->len) {
        int rc = refill(r);
        if (rc <= 0) {
            *b = 0;
            if (rc == 0)
                rfail(r, "truncated: no end marker after %" PRIu64 " records", r->records);
            return -1;
        }
    }
    *b = r->out[r->pos++];
    return 0;
}

static inline int get_varint(struct vmt_reader *r, uint64_t *v)
{
    uint64_t x = 0;
    *v = 0;
    for (unsigned shift = 0;; shift += 7) {
        unsigned b;
        if (get_byte(r, &b) < 0)
            return -1;
        if (shift == 63 && b > 1)
            return rfail(r, "record %" PRIu64 ": a number wider than 64 bits", r->records);
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            break;
    }
    *v = x;
    return 0;
}

static int read_header(struct vmt_reader *r)
{
    unsigned char h[VMT_HEADER_FIXED];
    size_t n = fread(h, 1, sizeof(h), r->in);
    if (n >= 8 && memcmp(h, VMT_MAGIC, 8) != 0)
        return rfail(r, "not a .vmt trace (bad magic)");
    if (n < sizeof(h))
        return rfail(r, "truncated: the header has %zu of %d bytes", n, VMT_HEADER_FIXED);
    r->header.version = (unsigned)get_le(h + 8, 2);
    if (r->header.version != VMT_VERSION)
        return rfail(r, "trace version %u: this vmsim reads version %d", r->header.version,
                     VMT_VERSION);
    r->header.flags = (uint32_t)get_le(h + 12, 4);
    r->header.page_size = (uint32_t)get_le(h + 16, 4);
    if (r->header.page_size != 4096)
        return rfail(r, "page size %" PRIu32 ": only 4096 is supported", r->header.page_size);
    uint64_t meta_len = get_le(h + 20, 4);
    r->header.count = get_le(h + 24, 8);
    if (meta_len > VMT_META_MAX)
        return rfail(r, "metadata of %" PRIu64 " bytes: at most %u", meta_len, VMT_META_MAX);
    char *meta = malloc(meta_len + 1);
    if (!meta)
        return rfail(r, "out of memory");
    if (fread(meta, 1, meta_len, r->in) != meta_len) {
        free(meta);
        return rfail(r, "truncated: the metadata is cut");
    }
    meta[meta_len] = 0;
    int rc = 0;
    for (size_t at = 0; at < meta_len && rc == 0;) {
        const char *key = meta + at;
        const char *kend = memchr(key, 0, meta_len - at);
        const char *vend = kend ? memchr(kend + 1, 0, meta_len - (size_t)(kend + 1 - meta)) : NULL;
        if (!vend) {
            rc = rfail(r, "metadata: '%.40s' is not a terminated key and value", key);
            break;
        }
        if (vmt_meta_add(&r->header.meta, key, kend + 1) < 0)
            rc = rfail(r, "out of memory");
        at = (size_t)(vend + 1 - meta);
    }
    free(meta);
    return rc;
}

struct vmt_reader *vmt_reader_open(FILE *in, char *err, size_t errlen)
{
    struct vmt_reader *r = calloc(1, sizeof(*r));
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    r->in = in;
    vmt_meta_init(&r->header.meta);
    r->zin_size = ZSTD_DStreamInSize();
    r->out_size = ZSTD_DStreamOutSize();
    r->zin = malloc(r->zin_size);
    r->out = malloc(r->out_size);
    r->dctx = ZSTD_createDCtx();
    if (!r->zin || !r->out || !r->dctx)
        rfail(r, "out of memory");
    else
        read_header(r);
    if (r->failed) {
        snprintf(err, errlen, "%s", r->err);
        vmt_reader_close(r);
        return NULL;
    }
    return r;
}

static int read_access(struct vmt_reader *r, unsigned tag, struct vmt_record *rec)
{
    uint64_t size = tag >> 2, delta;
    if (size == 0 && get_varint(r, &size) < 0)
        return -1;
    if (size == 0 || size > VMT_ACCESS_MAX)
        return rfail(r, "record %" PRIu64 ": an access of %" PRIu64 " bytes", r->records, size);
    if (get_varint(r, &delta) < 0)
        return -1;
    rec->type = (enum vmt_type)(tag & 3);
    int stream = rec->type == VMT_FETCH;
    rec->addr = r->prev[stream] + (uint64_t)unzigzag(delta);
    r->prev[stream] = rec->addr;
    rec->size = (uint32_t)size;
    return 1;
}

static int read_mm(struct vmt_reader *r, unsigned tag, struct vmt_record *rec)
{
    rec->type = (enum vmt_type)(VMT_MMAP + (tag - TAG_MM));
    memset(rec->arg, 0, sizeof(rec->arg));
    for (unsigned i = 0; i < mm_args[rec->type]; i++)
        if (get_varint(r, &rec->arg[i]) < 0)
            return -1;
    rec->result = 0;
    uint64_t v;
    if (has_result(rec->type)) {
        if (get_varint(r, &v) < 0)
            return -1;
        rec->result = unzigzag(v);
    }
    rec->path[0] = 0;
    if (has_path(rec->type)) {
        if (get_varint(r, &v) < 0)
            return -1;
        if (v > VMT_PATH_MAX)
            return rfail(r, "record %" PRIu64 ": a path of %" PRIu64 " bytes", r->records, v);
        for (uint64_t i = 0; i < v; i++) {
            unsigned b;
            if (get_byte(r, &b) < 0)
                return -1;
            if (b == 0)
                return rfail(r, "record %" PRIu64 ": a NUL byte in a path", r->records);
            rec->path[i] = (char)b;
        }
        rec->path[v] = 0;
    }
    return 1;
}

/* After the end marker: nothing may follow, decompressed or not. */
static int check_end(struct vmt_reader *r, uint64_t count)
{
    if (count != r->records)
        return rfail(r, "the end marker counts %" PRIu64 " records, the trace holds %" PRIu64,
                     count, r->records);
    if (r->header.count != VMT_COUNT_UNKNOWN && r->header.count != r->records)
        return rfail(r, "the header counts %" PRIu64 " records, the trace holds %" PRIu64,
                     r->header.count, r->records);
    if (r->pos < r->len)
        return rfail(r, "bytes after the end marker");
    int rc = refill(r);
    if (rc != 0 || fgetc(r->in) != EOF)
        return rfail(r, "bytes after the end marker");
    return 0;
}

/* The varint at p, of at most 10 bytes, all in the buffer: its length, or 0
 * for one wider than 64 bits (get_varint then says so). */
static inline size_t decode_varint(const unsigned char *p, uint64_t *v)
{
    uint64_t x = 0;
    for (size_t i = 0; i < 10; i++) {
        unsigned b = p[i];
        if (i == 9 && b > 1)
            return 0;
        x |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *v = x;
            return i + 1;
        }
    }
    return 0;
}

/* The common record, an access whose size is in its tag, when all of its
 * bytes (at most 11) are in the buffer: decoded without a test of the
 * buffer's end per byte. 1 with the record, 0 to take the general way (which
 * also reports what is wrong with it). */
static inline int read_access_fast(struct vmt_reader *r, struct vmt_access *acc)
{
    if (r->len - r->pos < 11)
        return 0;
    const unsigned char *p = r->out + r->pos;
    unsigned tag = p[0], size = tag >> 2;
    uint64_t delta;
    if (tag > TAG_ACCESS_MAX || size == 0) /* a mm call, the end, or a size of its own */
        return 0;
    size_t n = decode_varint(p + 1, &delta);
    if (!n)
        return 0;
    r->pos += 1 + n;
    acc->type = (enum vmt_type)(tag & 3);
    int stream = acc->type == VMT_FETCH;
    acc->addr = r->prev[stream] + (uint64_t)unzigzag(delta);
    r->prev[stream] = acc->addr;
    acc->size = size;
    r->records++;
    return 1;
}

/* Any record, its bytes read one at a time through the buffer's refills. */
static __attribute__((noinline)) int read_record(struct vmt_reader *r, struct vmt_record *rec)
{
    if (r->failed)
        return -1;
    if (r->ended)
        return 0;
    unsigned tag;
    if (get_byte(r, &tag) < 0)
        return -1;
    int rc;
    if (tag <= TAG_ACCESS_MAX) {
        rc = read_access(r, tag, rec);
    } else if (tag == TAG_END) {
        uint64_t count;
        if (get_varint(r, &count) < 0)
            return -1;
        r->ended = check_end(r, count) == 0;
        return r->ended ? 0 : -1;
    } else if (tag < TAG_MM + (VMT_NTYPES - VMT_MMAP)) {
        rc = read_mm(r, tag, rec);
    } else {
        return rfail(r, "record %" PRIu64 ": unknown tag 0x%02x", r->records, tag);
    }
    if (rc > 0)
        r->records++;
    return rc;
}

int vmt_read(struct vmt_reader *r, struct vmt_record *rec)
{
    struct vmt_access a;
    if (!r->failed && !r->ended && read_access_fast(r, &a)) {
        rec->type = a.type;
        rec->addr = a.addr;
        rec->size = a.size;
        return 1;
    }
    return read_record(r, rec);
}

size_t vmt_read_accesses(struct vmt_reader *r, struct vmt_access *out, size_t max)
{
    size_t n = 0;
    if (r->failed || r->ended)
        return 0;
    while (n < max && read_access_fast(r, &out[n]))
        n++;
    return n;
}

void vmt_reader_close(struct vmt_reader *r)
{
    if (!r)
        return;
    ZSTD_freeDCtx(r->dctx);
    free(r->zin);
    free(r->out);
    vmt_meta_free(&r->header.meta);
    free(r);
}

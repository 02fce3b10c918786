/*
 * vmt.h - the .vmt memory trace (docs/traces.md): a versioned header with
 * metadata, then records (loads, stores, instruction fetches, mm calls with
 * their results, the program's starting image) compressed with zstd in
 * streaming frames. The reader and writer (vmt.c) hold a bounded buffer
 * whatever the trace's length; every error is a message, never a crash.
 */
#ifndef VMSIM_VMT_H
#define VMSIM_VMT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define VMT_MAGIC "\x89VMT\r\n\x1a\n" /* 8 bytes: not text, survives no newline conversion */
#define VMT_VERSION 1
#define VMT_HEADER_FIXED 32            /* bytes before the metadata block */
#define VMT_META_MAX (1u << 20)        /* the metadata block's largest size */
#define VMT_PATH_MAX 4096              /* a path in a record, bytes */
#define VMT_ACCESS_MAX 65536           /* the largest access a record may carry */
#define VMT_COUNT_UNKNOWN UINT64_MAX   /* header: count not known, the end marker decides */

/* Header flags. */
enum {
    VMT_F_EXEC = 1u << 0,   /* the metadata names the exec image (exec, argv) */
    VMT_F_MM = 1u << 1,     /* the records hold the program's mm calls */
    VMT_F_NATIVE = 1u << 2, /* native_minflt and native_majflt are in the metadata */
    VMT_F_IMAGE = 1u << 3,  /* segment records give the starting image as traced */
};

enum vmt_type {
    VMT_LOAD,     /* addr, size */
    VMT_STORE,
    VMT_FETCH,    /* an instruction fetch */
    VMT_MODIFY,   /* a load and a store of the same bytes (lackey's M) */
    VMT_MMAP,     /* arg: addr, len, prot, flags, fd, offset; path of fd (may be empty) */
    VMT_MUNMAP,   /* addr, len */
    VMT_MPROTECT, /* addr, len, prot */
    VMT_BRK,      /* addr */
    VMT_MREMAP,   /* old addr, old len, new len, flags, new addr */
    VMT_MADVISE,  /* addr, len, advice */
    VMT_SEGMENT,  /* the starting image: start, len, prot, offset, kind (enum vmt_seg); path */
    VMT_NTYPES
};

/* What a VMT_SEGMENT of the starting image is. */
enum vmt_seg { VMT_SEG_FILE, VMT_SEG_ANON, VMT_SEG_STACK, VMT_SEG_BRK };

struct vmt_record {
    enum vmt_type type;
    uint32_t size;        /* accesses */
    uint64_t addr;        /* accesses */
    uint64_t arg[6];      /* mm calls and segments, in the order above */
    int64_t result;       /* mm calls: the value returned, or -errno */
    char path[VMT_PATH_MAX + 1]; /* VMT_MMAP (the file of fd), VMT_SEGMENT; "" if none */
};

/* Metadata: key=value pairs, in order; a key may repeat (argv). */
struct vmt_meta {
    size_t n;
    char **key, **value;
};
void vmt_meta_init(struct vmt_meta *m);
int vmt_meta_add(struct vmt_meta *m, const char *key, const char *value); /* 0, -1 ENOMEM */
const char *vmt_meta_get(const struct vmt_meta *m, const char *key); /* first value or NULL */
void vmt_meta_free(struct vmt_meta *m);

struct vmt_header {
    unsigned version;
    uint32_t flags;
    uint32_t page_size;
    uint64_t count; /* records, or VMT_COUNT_UNKNOWN */
    struct vmt_meta meta;
};

/* Writing. vmt_writer_open writes the header (count unknown); records follow;
 * vmt_writer_close writes the end marker, ends the zstd frame and, on a file
 * that can seek, puts the count into the header. Each returns 0, or -1 with
 * the reason in err. */
struct vmt_writer;
struct vmt_writer *vmt_writer_open(FILE *out, uint32_t flags, const struct vmt_meta *meta,
                                   char *err, size_t errlen);
int vmt_write(struct vmt_writer *w, const struct vmt_record *r);
/* A load, store, fetch or modify without filling a struct vmt_record. */
int vmt_write_access(struct vmt_writer *w, enum vmt_type type, uint64_t addr, uint32_t size);
int vmt_writer_close(struct vmt_writer *w); /* frees w whatever happens */
uint64_t vmt_writer_count(const struct vmt_writer *w);
const char *vmt_writer_error(const struct vmt_writer *w);

/* Reading. vmt_reader_open reads and checks the header (NULL and a message
 * in err on bad magic, another version, a cut or oversized header).
 * vmt_read returns 1 with a record, 0 at the end marker (after checking
 * the count), -1 on an error (vmt_reader_error: truncated, a bad zstd frame,
 * a bad record, bytes after the end). */
struct vmt_reader;
struct vmt_reader *vmt_reader_open(FILE *in, char *err, size_t errlen);
const struct vmt_header *vmt_reader_header(const struct vmt_reader *r);
int vmt_read(struct vmt_reader *r, struct vmt_record *rec);
const char *vmt_reader_error(const struct vmt_reader *r);
uint64_t vmt_reader_records(const struct vmt_reader *r); /* records read so far */

/* An access record alone, for reading many at a time. */
struct vmt_access {
    uint64_t addr;
    uint32_t size;
    enum vmt_type type; /* VMT_LOAD .. VMT_MODIFY */
};
/* Up to max access records that follow, in order, into out: how many (0 when
 * the next record is anything else, or is not yet decompressed: vmt_read
 * then reads it). For replays, which spend their time on accesses. */
size_t vmt_read_accesses(struct vmt_reader *r, struct vmt_access *out, size_t max);
void vmt_reader_close(struct vmt_reader *r);

/* Names: "load", "store", "fetch", "modify", "mmap", ...; NULL outside. */
const char *vmt_type_name(enum vmt_type t);
/* 1 when the type is a memory access. */
static inline int vmt_is_access(enum vmt_type t) { return t <= VMT_MODIFY; }

/* Importers: text or binary from in, records to w. 0, or -1 with a message
 * naming the line or record in err. */
int vmt_import_lackey(FILE *in, struct vmt_writer *w, char *err, size_t errlen);
int vmt_import_champsim(FILE *in, struct vmt_writer *w, char *err, size_t errlen);
/* One lackey line (without its newline): 1 with an access in rec, 0 for a
 * line to skip (==PID== and --PID-- lines, blank lines), -1 malformed. */
int vmt_lackey_line(const char *line, struct vmt_record *rec);

#endif

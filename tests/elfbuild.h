/*
 * elfbuild.h - ELF64 x86-64 program files written byte by byte by the tests
 * of execve, brk and the stack, so that no test depends on the programs of
 * the machine it runs on. A file is filled with tu_pattern bytes, then the
 * header, the program headers and the PT_INTERP string are written over it.
 *
 * The default layout is that of a small program as the toolchain links it:
 * four PT_LOADs (r, r-x, r, rw with a bss crossing two pages) and
 * PT_GNU_STACK without PF_X.
 */
#ifndef VMSIM_ELFBUILD_H
#define VMSIM_ELFBUILD_H

#include "testutil.h"

#include <elf.h>
#include <sys/stat.h>

#define EB_MAX_SEGS 12

struct eb_seg {
    uint32_t type, flags;
    uint64_t offset, vaddr, filesz, memsz, align;
};

struct eb_elf {
    uint16_t type, machine, phentsize, phnum; /* phnum 0: the count of seg */
    int no_phdrs;                             /* e_phnum 0 */
    uint64_t entry, phoff, file_size;
    const char *interp;                       /* PT_INTERP first, at offset 0x300 */
    int nseg;
    struct eb_seg seg[EB_MAX_SEGS];
};

/* The default program: ET_EXEC at base (or ET_DYN at 0 when base is 0 and
 * pie is set), entry at base + 0x1000, a 16 KiB file. */
static inline struct eb_elf eb_program(uint64_t base, int pie)
{
    struct eb_elf e = {.type = pie ? ET_DYN : ET_EXEC, .machine = EM_X86_64,
                       .phentsize = sizeof(Elf64_Phdr), .entry = base + 0x1000, .phoff = 64,
                       .file_size = 0x4000, .nseg = 5};
    e.seg[0] = (struct eb_seg){PT_LOAD, PF_R, 0, base, 0x1000, 0x1000, 0x1000};
    e.seg[1] = (struct eb_seg){PT_LOAD, PF_R | PF_X, 0x1000, base + 0x1000, 0x1000, 0x1000, 0x1000};
    e.seg[2] = (struct eb_seg){PT_LOAD, PF_R, 0x2000, base + 0x2000, 0x800, 0x800, 0x1000};
    e.seg[3] = (struct eb_seg){PT_LOAD, PF_R | PF_W, 0x2e10, base + 0x3e10, 0x200, 0x3000, 0x1000};
    e.seg[4] = (struct eb_seg){PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0, 16};
    return e;
}

/* A loader as ld.so is built: ET_DYN at 0, three PT_LOADs, 12 KiB. */
static inline struct eb_elf eb_loader(void)
{
    struct eb_elf e = {.type = ET_DYN, .machine = EM_X86_64, .phentsize = sizeof(Elf64_Phdr),
                       .entry = 0x1100, .phoff = 64, .file_size = 0x3000, .nseg = 3};
    e.seg[0] = (struct eb_seg){PT_LOAD, PF_R, 0, 0, 0x1000, 0x1000, 0x1000};
    e.seg[1] = (struct eb_seg){PT_LOAD, PF_R | PF_X, 0x1000, 0x1000, 0x1000, 0x1000, 0x1000};
    e.seg[2] = (struct eb_seg){PT_LOAD, PF_R | PF_W, 0x2000, 0x2000, 0x100, 0x100, 0x1000};
    return e;
}

static inline void eb_put(unsigned char *buf, uint64_t size, uint64_t off, const void *src,
                          uint64_t len)
{
    if (off < size)
        memcpy(buf + off, src, len < size - off ? len : size - off);
}

/* Writes e to path (host path) with the given mode. */
static inline void eb_write(const char *path, const struct eb_elf *e, unsigned mode)
{
    uint64_t size = e->file_size;
    unsigned char *buf = malloc(size ? size : 1);
    assert_non_null(buf);
    for (uint64_t i = 0; i < size; i++)
        buf[i] = tu_pattern(i);
    struct eb_seg segs[EB_MAX_SEGS + 1];
    int n = 0;
    if (e->interp)
        segs[n++] = (struct eb_seg){PT_INTERP, PF_R, 0x300, 0x300, strlen(e->interp) + 1,
                                    strlen(e->interp) + 1, 1};
    for (int i = 0; i < e->nseg; i++)
        segs[n++] = e->seg[i];
    Elf64_Ehdr eh = {0};
    memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    eh.e_type = e->type;
    eh.e_machine = e->machine;
    eh.e_version = EV_CURRENT;
    eh.e_entry = e->entry;
    eh.e_phoff = e->phoff;
    eh.e_ehsize = sizeof(eh);
    eh.e_phentsize = e->phentsize;
    eh.e_phnum = e->no_phdrs ? 0 : e->phnum ? e->phnum : (uint16_t)n;
    eb_put(buf, size, 0, &eh, sizeof(eh));
    for (int i = 0; i < n; i++) {
        Elf64_Phdr ph = {.p_type = segs[i].type, .p_flags = segs[i].flags,
                         .p_offset = segs[i].offset, .p_vaddr = segs[i].vaddr,
                         .p_paddr = segs[i].vaddr, .p_filesz = segs[i].filesz,
                         .p_memsz = segs[i].memsz, .p_align = segs[i].align};
        eb_put(buf, size, e->phoff + (uint64_t)i * sizeof(ph), &ph, sizeof(ph));
    }
    if (e->interp)
        eb_put(buf, size, 0x300, e->interp, strlen(e->interp) + 1);
    tu_host_write(path, buf, size);
    free(buf);
    assert_int_equal(chmod(path, mode), 0);
}

/* Writes e as name inside the machine's root folder, mode 0755. */
static inline void eb_install(const char *root, const char *name, const struct eb_elf *e)
{
    char path[600];
    eb_write(tu_join(path, sizeof(path), root, name), e, 0755);
}

#endif

/* x86-64 page-table entries: Intel's bit layout, 512 entries per 4 KiB table. */
#ifndef VMSIM_PGTABLE_H
#define VMSIM_PGTABLE_H

#include <stdint.h>

#define _PAGE_PRESENT (1ULL << 0)
#define _PAGE_RW (1ULL << 1)
#define _PAGE_USER (1ULL << 2)
#define _PAGE_PWT (1ULL << 3)
#define _PAGE_PCD (1ULL << 4)
#define _PAGE_ACCESSED (1ULL << 5)
#define _PAGE_DIRTY (1ULL << 6)
#define _PAGE_PSE (1ULL << 7)
#define _PAGE_GLOBAL (1ULL << 8)
/* Linux's software bit for PROT_NONE: present to the kernel, absent to the MMU. */
#define _PAGE_PROTNONE _PAGE_GLOBAL
/* Linux's software bit for the zero page and other pages with no struct page refs. */
#define _PAGE_SPECIAL (1ULL << 9)
#define _PAGE_PKEY_SHIFT 59 /* bits 59-62: protection key */
#define _PAGE_PKEY_MASK (0xfULL << _PAGE_PKEY_SHIFT)
#define _PAGE_NX (1ULL << 63)
#define PTE_PFN_MASK 0x000ffffffffff000ULL

#define PTRS_PER_TABLE 512
#define TABLE_SHIFT(level) (12 + 9 * ((level) - 1)) /* level 1 = PTE table */

/* Non-leaf entries: present, writable, user, accessed, dirty, as Linux's _PAGE_TABLE. */
#define _PAGE_TABLE (_PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED | _PAGE_DIRTY)

typedef uint64_t pte_t;

/* A guard marker (MADV_GUARD_INSTALL): a non-present entry the hardware
 * ignores and the fault handler answers with SIGSEGV. */
#define PTE_MARKER_GUARD (1ULL << 58)

/* A swap entry in a non-present PTE, as x86-64 encodes it: the type in
 * bits 59-63, the offset inverted in bits 9-58 (so that a stray walk finds
 * no real frame there: the L1TF mitigation), bit 7 when the page was
 * exclusive to this mm. */
#define SWP_TYPE_BITS 5
#define SWP_OFFSET_SHIFT 14 /* the bit after _PAGE_PROTNONE, plus SWP_TYPE_BITS */
#define _PAGE_SWP_EXCLUSIVE (1ULL << 7)

static inline pte_t swp_entry_pte(unsigned type, uint64_t offset, int exclusive)
{
    return ((~offset << SWP_OFFSET_SHIFT) >> SWP_TYPE_BITS) | ((uint64_t)type << (64 - SWP_TYPE_BITS)) |
           (exclusive ? _PAGE_SWP_EXCLUSIVE : 0);
}
static inline uint64_t pte_swp_offset(pte_t e)
{
    return ~(e & ~_PAGE_SWP_EXCLUSIVE) << SWP_TYPE_BITS >> SWP_OFFSET_SHIFT;
}
static inline unsigned pte_swp_type(pte_t e) { return (unsigned)(e >> (64 - SWP_TYPE_BITS)); }
static inline int pte_swp_exclusive(pte_t e) { return (e & _PAGE_SWP_EXCLUSIVE) != 0; }

static inline uint64_t pte_pfn(pte_t e) { return (e & PTE_PFN_MASK) >> 12; }
static inline int pte_none(pte_t e) { return e == 0; }
/* Present to the kernel: mapped, possibly PROT_NONE. */
static inline int pte_present(pte_t e) { return (e & (_PAGE_PRESENT | _PAGE_PROTNONE)) != 0; }
static inline int pte_write(pte_t e) { return (e & _PAGE_RW) != 0; }
static inline int pte_dirty(pte_t e) { return (e & _PAGE_DIRTY) != 0; }
static inline int pte_special(pte_t e) { return (e & _PAGE_SPECIAL) != 0; }
static inline int pte_is_guard(pte_t e) { return e == PTE_MARKER_GUARD; }
static inline int pte_is_swap(pte_t e) { return !pte_none(e) && !pte_present(e) && !pte_is_guard(e); }
static inline unsigned pte_pkey(pte_t e) { return (unsigned)((e & _PAGE_PKEY_MASK) >> _PAGE_PKEY_SHIFT); }
static inline unsigned table_index(uint64_t va, int level)
{
    return (unsigned)(va >> TABLE_SHIFT(level)) & (PTRS_PER_TABLE - 1);
}

#endif

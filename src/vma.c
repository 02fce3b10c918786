/*
 * Virtual memory areas, as Linux kept them before 6.1 (mm/mmap.c): each mm
 * holds its VMAs in a sorted doubly linked list and in a red-black tree keyed
 * by vm_start and augmented with rb_subtree_gap, the largest free gap below a
 * VMA anywhere in its subtree. That makes find_vma and the top-down search for
 * a free range O(log n).
 *
 * Merging follows Linux's rules: neighbours merge when they touch, have the
 * same flags, the same backing object with contiguous offsets, and compatible
 * anon_vmas. Simplification: no mempolicy or userfaultfd context to compare.
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define STACK_GUARD_GAP (256ULL << PAGE_SHIFT) /* Linux's stack_guard_gap */

uint64_t stack_guard_gap_bytes(void) { return STACK_GUARD_GAP; }

static struct vm_area_struct *rb_vma(struct rb_node *n)
{
    return n ? rb_entry(n, struct vm_area_struct, vm_rb) : NULL;
}

/* Where the gap below a VMA ends: a stack keeps a guard gap below itself. */
uint64_t vm_start_gap(const struct vm_area_struct *vma)
{
    uint64_t start = vma->vm_start;
    if (vma->vm_flags & VM_GROWSDOWN)
        start = start > STACK_GUARD_GAP ? start - STACK_GUARD_GAP : 0;
    return start;
}

/* The free space right below a VMA. The tree keeps plain gaps; the search
 * applies stack guard gaps afterwards, as Linux's does. */
static uint64_t vma_gap(const struct vm_area_struct *vma)
{
    return vma->vm_start - (vma->vm_prev ? vma->vm_prev->vm_end : 0);
}

static int gap_augment(struct rb_node *n)
{
    struct vm_area_struct *vma = rb_vma(n);
    uint64_t max = vma_gap(vma);
    if (n->left && rb_vma(n->left)->rb_subtree_gap > max)
        max = rb_vma(n->left)->rb_subtree_gap;
    if (n->right && rb_vma(n->right)->rb_subtree_gap > max)
        max = rb_vma(n->right)->rb_subtree_gap;
    if (vma->rb_subtree_gap == max)
        return 0;
    vma->rb_subtree_gap = max;
    return 1;
}

struct vm_area_struct *vma_alloc(struct mm_struct *mm)
{
    struct vm_area_struct *vma = calloc(1, sizeof(*vma));
    if (vma)
        vma->vm_mm = mm;
    return vma;
}

void vma_free(struct vm_area_struct *vma)
{
    unlink_anon_vmas(vma);
    if (vma->mapping) {
        vma_unlink_file(vma);
        mapping_put(vma->vm_mm->m, vma->mapping);
    }
    if (vma->vm_file)
        fput(vma->vm_mm->m, vma->vm_file);
    free(vma);
}

struct vm_area_struct *find_vma(struct mm_struct *mm, uint64_t addr)
{
    struct rb_node *n = mm->mm_rb.node;
    struct vm_area_struct *found = NULL;
    while (n) {
        struct vm_area_struct *vma = rb_vma(n);
        if (vma->vm_end > addr) {
            found = vma;
            if (vma->vm_start <= addr)
                break;
            n = n->left;
        } else {
            n = n->right;
        }
    }
    return found;
}

struct vm_area_struct *find_vma_intersection(struct mm_struct *mm, uint64_t start, uint64_t end)
{
    struct vm_area_struct *vma = find_vma(mm, start);
    return (vma && vma->vm_start < end) ? vma : NULL;
}

static void update_highest(struct mm_struct *mm)
{
    struct rb_node *last = rb_last(&mm->mm_rb);
    mm->highest_vm_end = last ? rb_vma(last)->vm_end : 0;
}

void vma_link(struct mm_struct *mm, struct vm_area_struct *vma)
{
    struct rb_node **link = &mm->mm_rb.node, *parent = NULL;
    struct vm_area_struct *prev = NULL;
    while (*link) {
        parent = *link;
        if (vma->vm_start < rb_vma(parent)->vm_start) {
            link = &parent->left;
        } else {
            prev = rb_vma(parent);
            link = &parent->right;
        }
    }
    /* The list first: the gap of a VMA is measured from its list predecessor. */
    struct vm_area_struct *next = prev ? prev->vm_next : mm->mmap;
    vma->vm_prev = prev;
    vma->vm_next = next;
    if (prev)
        prev->vm_next = vma;
    else
        mm->mmap = vma;
    if (next)
        next->vm_prev = vma;
    vma->rb_subtree_gap = 0;
    rb_link_node(&vma->vm_rb, parent, link);
    rb_insert(&vma->vm_rb, &mm->mm_rb, gap_augment);
    if (next)
        rb_propagate(&next->vm_rb, gap_augment);
    mm->map_count++;
    update_highest(mm);
}

void vma_unlink(struct mm_struct *mm, struct vm_area_struct *vma)
{
    struct vm_area_struct *prev = vma->vm_prev, *next = vma->vm_next;
    rb_erase(&vma->vm_rb, &mm->mm_rb, gap_augment);
    if (prev)
        prev->vm_next = next;
    else
        mm->mmap = next;
    if (next) {
        next->vm_prev = prev;
        rb_propagate(&next->vm_rb, gap_augment);
    }
    vma->vm_next = vma->vm_prev = NULL;
    mm->map_count--;
    update_highest(mm);
}

void vma_gap_update(struct vm_area_struct *vma)
{
    rb_propagate(&vma->vm_rb, gap_augment);
}

void vma_set_range(struct vm_area_struct *vma, uint64_t start, uint64_t end, uint64_t pgoff)
{
    /* Only ever shrinks or grows into free space, so the tree order holds. */
    vma->vm_start = start;
    vma->vm_end = end;
    vma->vm_pgoff = pgoff;
    vma_gap_update(vma);
    if (vma->vm_next)
        vma_gap_update(vma->vm_next);
    update_highest(vma->vm_mm);
}

/* ---- searching for free space ---- */

/* A free range found by a search: [start, end), and the VMA right above it
 * (NULL above the highest VMA). */
struct gap {
    uint64_t start, end;
    struct vm_area_struct *next;
};

/* The gap below vma clipped to [low, high), if len fits in it. */
static int gap_below(struct vm_area_struct *vma, uint64_t len, uint64_t low, uint64_t high,
                     struct gap *g)
{
    uint64_t start = vma->vm_prev ? vma->vm_prev->vm_end : 0;
    uint64_t end = vma->vm_start;
    if (start < low)
        start = low;
    if (end > high)
        end = high;
    if (end <= start || end - start < len)
        return 0;
    *g = (struct gap){start, end, vma};
    return 1;
}

/* The highest gap that fits, in O(log n): subtrees whose largest gap is too
 * small are never entered. */
static int highest_gap(struct rb_node *n, uint64_t len, uint64_t low, uint64_t high,
                       struct gap *g)
{
    struct vm_area_struct *vma = rb_vma(n);
    if (!vma || vma->rb_subtree_gap < len)
        return 0;
    /* Gaps in the right subtree begin at or above vm_end. */
    if (vma->vm_end < high && highest_gap(n->right, len, low, high, g))
        return 1;
    if (gap_below(vma, len, low, high, g))
        return 1;
    /* Gaps in the left subtree end at or below vm_start. */
    return vma->vm_start > low && highest_gap(n->left, len, low, high, g);
}

static int lowest_gap(struct rb_node *n, uint64_t len, uint64_t low, uint64_t high,
                      struct gap *g)
{
    struct vm_area_struct *vma = rb_vma(n);
    if (!vma || vma->rb_subtree_gap < len)
        return 0;
    if (vma->vm_start > low && lowest_gap(n->left, len, low, high, g))
        return 1;
    if (gap_below(vma, len, low, high, g))
        return 1;
    return vma->vm_end < high && lowest_gap(n->right, len, low, high, g);
}

/* The space above the highest VMA, clipped to [low, high). */
static int top_gap(const struct mm_struct *mm, uint64_t len, uint64_t low, uint64_t high,
                   struct gap *g)
{
    uint64_t start = mm->highest_vm_end > low ? mm->highest_vm_end : low;
    if (start >= high || high - start < len)
        return 0;
    *g = (struct gap){start, high, NULL};
    return 1;
}

/* Linux's unmapped_area_topdown: take the highest gap that fits; when the VMA
 * above it is a stack whose guard gap reaches into it, search again below
 * that guard gap. Returns the start, or 0 when nothing fits. */
uint64_t unmapped_area_topdown(struct mm_struct *mm, uint64_t len, uint64_t low, uint64_t high)
{
    struct gap g;
    for (;;) {
        if (len > high || high - len < low)
            return 0;
        if (!top_gap(mm, len, low, high, &g) && !highest_gap(mm->mm_rb.node, len, low, high, &g))
            return 0;
        if (g.next && (g.next->vm_flags & VM_GROWSDOWN) && vm_start_gap(g.next) < g.end) {
            high = vm_start_gap(g.next);
            continue;
        }
        return g.end - len;
    }
}

/* Linux's unmapped_area: the lowest gap that fits, moving past a stack whose
 * guard gap it would enter. */
uint64_t unmapped_area(struct mm_struct *mm, uint64_t len, uint64_t low, uint64_t high)
{
    struct gap g;
    for (;;) {
        if (len > high || high - len < low)
            return 0;
        if (!lowest_gap(mm->mm_rb.node, len, low, high, &g) && !top_gap(mm, len, low, high, &g))
            return 0;
        if (g.next && (g.next->vm_flags & VM_GROWSDOWN) && vm_start_gap(g.next) < g.start + len) {
            low = g.next->vm_end;
            continue;
        }
        return g.start;
    }
}

/* ---- split and merge ---- */

struct vm_area_struct *vm_area_dup(struct mm_struct *mm, const struct vm_area_struct *src)
{
    struct vm_area_struct *vma = vma_alloc(mm);
    if (!vma)
        return NULL;
    *vma = *src;
    vma->vm_mm = mm;
    vma->vm_rb = (struct rb_node){0};
    vma->vm_next = vma->vm_prev = NULL;
    vma->shared_next = vma->shared_prev = NULL;
    vma->anon_vma = NULL;
    vma->anon_vma_chain = NULL;
    if (vma->mapping) {
        mapping_get(vma->mapping);
        vma_link_file(vma);
    }
    if (vma->vm_file)
        vma->vm_file->refcount++;
    return vma;
}

int split_vma(struct mm_struct *mm, struct vm_area_struct *vma, uint64_t addr, int new_below)
{
    if (vma->vm_name) /* a special mapping's may_split refuses */
        return -22; /* EINVAL */
    int err = hugetlb_may_split(vma, addr);
    if (err)
        return err;
    struct vm_area_struct *new = vm_area_dup(mm, vma);
    if (!new)
        return -12; /* ENOMEM */
    if (vma->anon_vma && anon_vma_clone(new, vma)) {
        vma_free(new);
        return -12;
    }
    uint64_t pgoff_at_addr = vma->vm_pgoff + ((addr - vma->vm_start) >> PAGE_SHIFT);
    if (new_below) {
        new->vm_end = addr;
        vma_set_range(vma, addr, vma->vm_end, pgoff_at_addr);
    } else {
        new->vm_start = addr;
        new->vm_pgoff = pgoff_at_addr;
        vma_set_range(vma, vma->vm_start, addr, vma->vm_pgoff);
    }
    vma_link(mm, new);
    return 0;
}

/* Linux's is_mergeable_anon_vma: equal anon_vmas, or one side without any
 * whose other side was not forked (a forked VMA's pages are shared). */
static int anon_vmas_compatible(const struct vm_area_struct *a, const struct vm_area_struct *b)
{
    if (!a->anon_vma)
        return !vma_is_fork_child(b);
    if (!b->anon_vma)
        return !vma_is_fork_child(a);
    return a->anon_vma == b->anon_vma;
}

/* Linux's is_mergeable_vma + anon_vma checks, for a directly below b. A
 * hugetlb VMA never merges (host-measured: not even with the other piece of
 * its own split). */
static int can_merge(const struct vm_area_struct *a, const struct vm_area_struct *b)
{
    return !((a->vm_flags | b->vm_flags) & VM_HUGETLB) && a->vm_end == b->vm_start &&
           a->vm_flags == b->vm_flags && !a->vm_name && !b->vm_name &&
           a->mapping == b->mapping && a->vm_file == b->vm_file &&
           anon_vmas_compatible(a, b) &&
           a->vm_pgoff + ((a->vm_end - a->vm_start) >> PAGE_SHIFT) == b->vm_pgoff;
}

/* a absorbs b, its upper neighbour. */
static void merge_into(struct mm_struct *mm, struct vm_area_struct *a, struct vm_area_struct *b)
{
    uint64_t end = b->vm_end;
    a->may_have_guards |= b->may_have_guards;
    if (!a->anon_vma && b->anon_vma) { /* a takes b's pages: link a to b's anon_vmas */
        struct anon_vma_chain *chain = b->anon_vma_chain;
        a->anon_vma = b->anon_vma;
        a->anon_vma_chain = chain;
        b->anon_vma_chain = NULL;
        b->anon_vma = NULL;
        for (struct anon_vma_chain *avc = chain; avc; avc = avc->same_vma)
            avc->vma = a;
    }
    vma_unlink(mm, b);
    vma_free(b);
    vma_set_range(a, a->vm_start, end, a->vm_pgoff);
}

struct vm_area_struct *vma_merge_neighbours(struct mm_struct *mm, struct vm_area_struct *vma)
{
    struct vm_area_struct *prev = vma->vm_prev, *next = vma->vm_next;
    /* Joining all three also needs prev's and next's anon_vmas to agree. */
    if (prev && next && can_merge(prev, vma) && can_merge(vma, next) &&
        !anon_vmas_compatible(prev, next))
        next = NULL;
    if (prev && can_merge(prev, vma)) {
        merge_into(mm, prev, vma);
        vma = prev;
    }
    if (next && can_merge(vma, next))
        merge_into(mm, vma, next);
    return vma;
}

struct vm_area_struct *vma_merge_next(struct mm_struct *mm, struct vm_area_struct *vma)
{
    struct vm_area_struct *next = vma->vm_next;
    if (next && can_merge(vma, next))
        merge_into(mm, vma, next);
    return vma;
}

uint64_t vma_pkey_flags(const vms_machine *m, int prot)
{
    return (m->cfg.pku && prot == PROT_EXEC) ? VM_PKEY_BIT0 : 0;
}

/* The PTE bits of a VMA's pages (Linux's vm_page_prot): a shared writable file
 * mapping is write-protected until each page's first write (write-notify),
 * so that the page cache learns which pages are dirty. */
uint64_t vm_page_prot(const struct vm_area_struct *vma)
{
    uint64_t prot = vma_page_prot(vma->vm_flags);
    if (vma->mapping && vma->mapping->kind == MAPPING_FILE)
        prot &= ~_PAGE_RW;
    return prot;
}

/* x86's protection_map: private mappings never get RW in the PTE (writes go
 * through a copy-on-write fault); write implies read; PROT_NONE is "present to
 * the kernel, absent to the MMU". */
uint64_t vma_page_prot(uint64_t vm_flags)
{
    if (!(vm_flags & VM_ACCESS_FLAGS))
        return _PAGE_PROTNONE | _PAGE_ACCESSED;
    uint64_t prot = _PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED;
    if (vm_flags & VM_PKEY_BIT0)
        prot |= 1ULL << _PAGE_PKEY_SHIFT;
    if (!(vm_flags & VM_EXEC))
        prot |= _PAGE_NX;
    if ((vm_flags & (VM_SHARED | VM_WRITE)) == (VM_SHARED | VM_WRITE))
        prot |= _PAGE_RW;
    return prot;
}

/* ---- introspection ---- */

const char *vms_vma_kind_name(enum vms_vma_kind k)
{
    static const char *const names[VMS_VMA_NKINDS] = {
        [VMS_VMA_ANON] = "anon",
        [VMS_VMA_SHARED_ANON] = "shared-anon",
        [VMS_VMA_FILE_PRIVATE] = "file-private",
        [VMS_VMA_FILE_SHARED] = "file-shared",
        [VMS_VMA_HEAP] = "heap",
        [VMS_VMA_STACK] = "stack",
        [VMS_VMA_SPECIAL] = "special",
        [VMS_VMA_HUGETLB] = "hugetlb",
    };
    return (unsigned)k < VMS_VMA_NKINDS ? names[k] : "unknown";
}

static vms_addr node_start(const struct rb_node *n) { return n ? rb_vma((struct rb_node *)n)->vm_start : 0; }

static void vma_describe(const struct vm_area_struct *vma, struct vms_vma_info *vi)
{
    memset(vi, 0, sizeof(*vi));
    vi->start = vma->vm_start;
    vi->end = vma->vm_end;
    vi->pgoff = vma->vm_pgoff;
    vi->vm_flags = vma->vm_flags;
    vi->prot = (vma->vm_flags & VM_READ ? PROT_READ : 0) | (vma->vm_flags & VM_WRITE ? PROT_WRITE : 0) |
               (vma->vm_flags & VM_EXEC ? PROT_EXEC : 0);
    vi->shared = (vma->vm_flags & VM_MAYSHARE) != 0;
    vi->guards = vma->may_have_guards;
    maps_describe(vma, vi);
    const struct rb_node *n = &vma->vm_rb;
    vi->red = n->red;
    for (const struct rb_node *p = n->parent; p; p = p->parent)
        vi->depth++;
    vi->parent = node_start(n->parent);
    vi->left = node_start(n->left);
    vi->right = node_start(n->right);
    vi->gap = vma_gap(vma);
    vi->subtree_gap = vma->rb_subtree_gap;
}

int vms_vma_visit(vms_task *t, int (*fn)(void *arg, const struct vms_vma_info *vi), void *arg)
{
    if (t->oom_killed)
        return -ESRCH;
    struct vms_vma_info vi;
    for (const struct vm_area_struct *vma = t->mm->mmap; vma; vma = vma->vm_next) {
        vma_describe(vma, &vi);
        int r = fn(arg, &vi);
        if (r)
            return r;
    }
    if (!t->mm->exec.done)
        return 0;
    maps_describe_gate(&vi);
    return fn(arg, &vi);
}

/*
 * Reverse mapping, as Linux's mm/rmap.c: from a frame to every PTE that maps
 * it. A file or shmem page is found through its object's list of VMAs
 * (i_mmap) at its page index; an anonymous page through its anon_vma, which
 * lists (by anon_vma_chain links) every VMA that may map it: the VMA it was
 * faulted in and that VMA's copies in forked children.
 *
 * Each VMA with anonymous memory has a chain of links to its own anon_vma and
 * to those of the VMAs it was forked from; a page points to the anon_vma of
 * the VMA that allocated it, so the walk from a parent's page reaches the
 * children that still share it, while a child's own pages stay out of its
 * parent's walks.
 * Simplifications: chains are linked lists, not interval trees; fork never
 * reuses an ancestor's idle anon_vma (Linux does for long fork chains; that
 * only saves memory).
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>

static int avc_link(struct vm_area_struct *vma, struct anon_vma *av)
{
    struct anon_vma_chain *avc = malloc(sizeof(*avc));
    if (!avc)
        return -ENOMEM;
    avc->vma = vma;
    avc->anon_vma = av;
    avc->same_vma = vma->anon_vma_chain;
    vma->anon_vma_chain = avc;
    avc->prev = NULL;
    avc->next = av->head;
    if (av->head)
        av->head->prev = avc;
    av->head = avc;
    av->refcount++;
    return 0;
}

static struct anon_vma *anon_vma_alloc(vms_machine *m, struct anon_vma *parent)
{
    struct anon_vma *av = calloc(1, sizeof(*av));
    if (av) {
        av->id = ++m->next_anon_vma_id;
        av->parent = parent;
    }
    return av;
}

static void anon_vma_put(struct anon_vma *av)
{
    if (--av->refcount == 0)
        free(av);
}

void unlink_anon_vmas(struct vm_area_struct *vma)
{
    struct anon_vma_chain *avc = vma->anon_vma_chain;
    while (avc) {
        struct anon_vma_chain *next = avc->same_vma;
        struct anon_vma *av = avc->anon_vma;
        if (avc->prev)
            avc->prev->next = avc->next;
        else
            av->head = avc->next;
        if (avc->next)
            avc->next->prev = avc->prev;
        free(avc);
        anon_vma_put(av);
        avc = next;
    }
    vma->anon_vma_chain = NULL;
    vma->anon_vma = NULL;
}

int anon_vma_clone(struct vm_area_struct *dst, const struct vm_area_struct *src)
{
    for (const struct anon_vma_chain *avc = src->anon_vma_chain; avc; avc = avc->same_vma)
        if (avc_link(dst, avc->anon_vma)) {
            unlink_anon_vmas(dst);
            return -ENOMEM;
        }
    dst->anon_vma = src->anon_vma;
    return 0;
}

int vma_is_fork_child(const struct vm_area_struct *vma)
{
    return vma->anon_vma && vma->anon_vma_chain && vma->anon_vma_chain->same_vma;
}

/* A neighbour that could merge with vma but for its access flags lends its
 * anon_vma, so that a later mprotect can merge them (Linux's
 * find_mergeable_anon_vma); not a forked one, whose pages others share. */
static struct anon_vma *mergeable_anon_vma(const struct vm_area_struct *a,
                                           const struct vm_area_struct *b,
                                           const struct vm_area_struct *owner)
{
    if (!owner->anon_vma || vma_is_fork_child(owner) || a->vm_end != b->vm_start ||
        a->mapping != b->mapping || a->vm_file != b->vm_file ||
        ((a->vm_flags ^ b->vm_flags) & ~VM_ACCESS_FLAGS) ||
        a->vm_pgoff + ((a->vm_end - a->vm_start) >> PAGE_SHIFT) != b->vm_pgoff)
        return NULL;
    return owner->anon_vma;
}

int anon_vma_prepare(vms_machine *m, struct vm_area_struct *vma)
{
    if (vma->anon_vma)
        return 0;
    struct anon_vma *av = NULL;
    if (vma->vm_next)
        av = mergeable_anon_vma(vma, vma->vm_next, vma->vm_next);
    if (!av && vma->vm_prev)
        av = mergeable_anon_vma(vma->vm_prev, vma, vma->vm_prev);
    struct anon_vma *fresh = av ? NULL : anon_vma_alloc(m, NULL);
    if (!av && !fresh)
        return -ENOMEM;
    if (avc_link(vma, av ? av : fresh)) {
        free(fresh);
        return -ENOMEM;
    }
    vma->anon_vma = av ? av : fresh;
    return 0;
}

int anon_vma_fork(vms_machine *m, struct vm_area_struct *vma, const struct vm_area_struct *pvma)
{
    vma->anon_vma = NULL;
    vma->anon_vma_chain = NULL;
    if (!pvma->anon_vma)
        return 0;
    if (anon_vma_clone(vma, pvma))
        return -ENOMEM;
    struct anon_vma *av = anon_vma_alloc(m, pvma->anon_vma);
    if (!av || avc_link(vma, av)) {
        free(av);
        unlink_anon_vmas(vma);
        return -ENOMEM;
    }
    vma->anon_vma = av;
    return 0;
}

/* ---- the walk ---- */


static int rmap_one(vms_machine *m, struct vm_area_struct *vma, uint32_t pfn,
                    rmap_fn fn, void *arg)
{
    uint64_t va = vma_address(vma, m->pm.pages[pfn].index);
    if (!va)
        return 0;
    pte_t *pte = pte_offset(vma->vm_mm, va);
    if (!pte || !pte_present(*pte) || pte_special(*pte) || pte_pfn(*pte) != pfn)
        return 0;
    return fn(vma, va, pte, arg);
}

int rmap_walk(vms_machine *m, uint32_t pfn, rmap_fn fn, void *arg)
{
    const struct page *page = pfn_to_page(&m->pm, pfn);
    int ret = 0;
    if (page->flags & PG_anon) {
        const struct anon_vma *av = page->mapping;
        for (const struct anon_vma_chain *avc = av->head; avc && !ret; avc = avc->next)
            ret = rmap_one(m, avc->vma, pfn, fn, arg);
    } else if (page->flags & (PG_file | PG_shmem)) {
        const struct address_space *as = page->mapping;
        for (struct vm_area_struct *vma = as->i_mmap; vma && !ret; vma = vma->shared_next)
            ret = rmap_one(m, vma, pfn, fn, arg);
    }
    return ret;
}

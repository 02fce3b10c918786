/*
 * The vDSO's mappings, as x86's arch/x86/entry/vdso/vma.c makes them at
 * execve (Linux 6.18): one search below mmap_base for 8 pages, then [vvar]
 * (4 pages of the kernel's time and random-number data), [vvar_vclock]
 * (2 pages of clock-source data) and [vdso] (the 2-page code image), each a
 * VMA of its own that never merges. AT_SYSINFO_EHDR points at [vdso].
 * Simplifications: the image is vmsim's own (an ELF header, then zeros: no
 * code runs in vmsim), the data pages read as zeros, and the pages belong to
 * each process (Linux shares one copy). As in Linux a special mapping cannot
 * be split (EINVAL: munmap or mprotect of a part), mremap cannot grow it
 * (EFAULT), and [vvar]'s VM_PFNMAP refuses MADV_DONTNEED and MADV_FREE.
 */
#include "internal.h"
#include "xarray.h"

#include <elf.h>
#include <errno.h>
#include <string.h>

#define VVAR_PAGES 4
#define VCLOCK_PAGES 2
#define VDSO_IMAGE_PAGES 2
#define VVAR_FLAGS (VM_READ | VM_MAYREAD | VM_IO | VM_DONTDUMP | VM_PFNMAP | VM_DONTEXPAND)

/* The first page of the image: an ELF header that says what it is. */
static void write_vdso_image(void *page)
{
    Elf64_Ehdr eh = {0};
    memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    eh.e_type = ET_DYN;
    eh.e_machine = EM_X86_64;
    eh.e_version = EV_CURRENT;
    eh.e_ehsize = sizeof(eh);
    eh.e_phentsize = sizeof(Elf64_Phdr);
    eh.e_shentsize = sizeof(Elf64_Shdr);
    memcpy(page, &eh, sizeof(eh));
}

/* A special mapping (Linux's _install_special_mapping) of its own object. */
static int install_special_mapping(struct vms_task *t, uint64_t addr, unsigned pages,
                                   uint64_t vm_flags, const char *name, int image)
{
    vms_machine *m = t->m;
    struct mm_struct *mm = t->mm;
    struct address_space *as = shmem_create(m, (uint64_t)pages << PAGE_SHIFT);
    if (!as)
        return -ENOMEM;
    if (image) {
        int major = 0;
        uint32_t pfn = shmem_get_page(m, as, 0, &major);
        if (pfn == PFN_NONE) {
            mapping_put(m, as);
            return -ENOMEM;
        }
        write_vdso_image(pfn_to_virt(&m->pm, pfn));
        /* Written: reclaim must keep (or swap) it, never drop it as zeros. */
        m->pm.pages[pfn].flags |= PG_dirty;
    }
    struct vm_area_struct *vma = vma_alloc(mm);
    if (!vma) {
        mapping_put(m, as);
        return -ENOMEM;
    }
    vma->vm_start = addr;
    vma->vm_end = addr + ((uint64_t)pages << PAGE_SHIFT);
    vma->vm_flags = vm_flags;
    vma->mapping = as;
    vma->vm_name = name;
    vma_link(mm, vma);
    vma_link_file(vma);
    mm->total_vm += pages;
    return 0;
}

int arch_setup_additional_pages(struct vms_task *t)
{
    uint64_t addr, len = (uint64_t)(VVAR_PAGES + VCLOCK_PAGES + VDSO_IMAGE_PAGES) << PAGE_SHIFT;
    int err = get_unmapped_area(t->mm, NULL, 0, len, 0, 0, &addr);
    if (err)
        return err;
    uint64_t text = addr + ((uint64_t)(VVAR_PAGES + VCLOCK_PAGES) << PAGE_SHIFT);
    err = install_special_mapping(t, text, VDSO_IMAGE_PAGES,
                                  VM_READ | VM_EXEC | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC |
                                      VM_DONTEXPAND,
                                  "[vdso]", 1);
    if (!err)
        err = install_special_mapping(t, addr, VVAR_PAGES, VVAR_FLAGS,
                                      "[vvar]", 0);
    if (!err)
        err = install_special_mapping(t, addr + ((uint64_t)VVAR_PAGES << PAGE_SHIFT), VCLOCK_PAGES,
                                      VVAR_FLAGS, "[vvar_vclock]", 0);
    if (!err)
        t->mm->exec.vdso = text;
    return err;
}

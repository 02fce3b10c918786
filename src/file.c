/*
 * Open files and descriptor tables (Linux's fs/file.c, fs/open.c).
 */
#include "internal.h"

#include <stdlib.h>

void fput(vms_machine *m, struct vms_file *f)
{
    if (--f->refcount > 0)
        return;
    if (f->mapping)
        mapping_put(m, f->mapping);
    free(f);
}

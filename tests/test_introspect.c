/*
 * test_introspect.c - the read-only introspection API (include/vmsim.h):
 * vms_task_visit, vms_vma_visit with the VMA tree's shape and gaps and the
 * maps line of each VMA, vms_tlb_visit and the TLB geometry, vms_frame_info
 * by owner, vms_pgtable_visit and vms_task_pgd. Each test checks what the
 * visitors report against what the machine did (vms_maps, vms_walk, the
 * statistics) and that looking changed nothing: the statistics are the
 * same before and after, and vms_check still holds.
 */
#include "testutil.h"

#define RW (PROT_READ | PROT_WRITE)
#define PRIV (MAP_PRIVATE | MAP_ANONYMOUS)

/* ---- helpers: collect what a visitor reports ---- */

#define MAX_SEEN 64

struct vmas_seen {
    int n;
    struct vms_vma_info vi[MAX_SEEN];
    char name[MAX_SEEN][128];
};

static int collect_vma(void *arg, const struct vms_vma_info *vi)
{
    struct vmas_seen *s = arg;
    assert_true(s->n < MAX_SEEN);
    s->vi[s->n] = *vi;
    snprintf(s->name[s->n], sizeof(s->name[0]), "%s", vi->name);
    s->vi[s->n].name = s->name[s->n];
    s->n++;
    return 0;
}

struct tlbs_seen {
    int n;
    struct vms_tlb_entry e[256];
};

static int collect_tlb(void *arg, const struct vms_tlb_entry *e)
{
    struct tlbs_seen *s = arg;
    if (s->n < 256)
        s->e[s->n++] = *e;
    return 0;
}

static const struct vms_tlb_entry *find_tlb(const struct tlbs_seen *s, enum vms_tlb_level l,
                                            uint64_t vpn)
{
    for (int i = 0; i < s->n; i++)
        if (s->e[i].level == l && s->e[i].vpn == vpn)
            return &s->e[i];
    return NULL;
}

/* Looking must leave every counter as it was. */
static void assert_stats_equal(const struct vms_stats *a, const struct vms_stats *b)
{
    assert_memory_equal(a, b, sizeof(*a));
}

/* ---- VMAs ---- */

static void test_vma_kinds_names_and_maps_lines(void **state)
{
    struct tu_env *e = *state;
    char path[400];
    snprintf(path, sizeof(path), "%s/data.bin", e->root);
    tu_host_fill(path, 3 * TU_PAGE);
    int fd = vms_open(e->t, "data.bin", O_RDWR, 0);
    assert_true(fd >= 0);
    vms_addr anon = tu_anon(e->t, 2 * TU_PAGE, RW);
    vms_addr shared = tu_mmap(e->t, 0, TU_PAGE, RW, MAP_SHARED | MAP_ANONYMOUS);
    int64_t fpriv = vms_mmap(e->t, 0, 3 * TU_PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
    int64_t fshared = vms_mmap(e->t, 0, 2 * TU_PAGE, RW, MAP_SHARED, fd, TU_PAGE);
    assert_true(fpriv > 0 && fshared > 0);
    assert_int_equal(vms_madvise(e->t, anon, TU_PAGE, MADV_GUARD_INSTALL), 0);

    struct vms_stats *before = tu_stats(e->m);
    struct vmas_seen s = {0};
    assert_int_equal(vms_vma_visit(e->t, collect_vma, &s), 0);
    struct vms_stats *after = tu_stats(e->m);
    assert_stats_equal(before, after);

    assert_int_equal(s.n, 4);
    /* Address order, and each VMA where the calls put it. */
    for (int i = 1; i < s.n; i++)
        assert_true(s.vi[i - 1].end <= s.vi[i].start);
    int seen_kinds = 0;
    for (int i = 0; i < s.n; i++) {
        const struct vms_vma_info *v = &s.vi[i];
        assert_int_equal(v->gate, 0);
        if (v->start == anon) {
            assert_int_equal(v->kind, VMS_VMA_ANON);
            assert_int_equal(v->guards, 1);
            assert_int_equal(v->prot, RW);
            assert_int_equal(v->pgoff, anon >> 12);
            assert_int_equal(v->offset, 0);
            assert_string_equal(v->name, "");
            seen_kinds |= 1;
        } else if (v->start == shared) {
            assert_int_equal(v->kind, VMS_VMA_SHARED_ANON);
            assert_int_equal(v->shared, 1);
            assert_string_equal(v->name, "/dev/zero (deleted)");
            seen_kinds |= 2;
        } else if (v->start == (vms_addr)fpriv) {
            assert_int_equal(v->kind, VMS_VMA_FILE_PRIVATE);
            assert_int_equal(v->prot, PROT_READ);
            assert_string_equal(v->name, "/data.bin");
            assert_int_not_equal(v->ino, 0);
            seen_kinds |= 4;
        } else if (v->start == (vms_addr)fshared) {
            assert_int_equal(v->kind, VMS_VMA_FILE_SHARED);
            assert_int_equal(v->offset, TU_PAGE);
            assert_int_equal(v->pgoff, 1);
            seen_kinds |= 8;
        }
    }
    assert_int_equal(seen_kinds, 15);

    /* The lines put together are the maps text, byte for byte. */
    char *maps = tu_maps(e->t);
    char joined[4096] = "";
    for (int i = 0; i < s.n; i++) {
        char line[256];
        int n = vms_vma_maps_line(&s.vi[i], line, sizeof(line));
        assert_int_equal(n, (int)strlen(line));
        strcat(joined, line);
        strcat(joined, "\n");
    }
    assert_string_equal(joined, maps);
    /* snprintf semantics: the length needed, nothing written past len. */
    char tiny[8];
    assert_int_equal(vms_vma_maps_line(&s.vi[0], tiny, sizeof(tiny)), (int)strcspn(maps, "\n"));
    assert_int_equal(strlen(tiny), 7);
    assert_int_equal(vms_vma_maps_line(&s.vi[0], NULL, 0), (int)strcspn(maps, "\n"));
    free(maps);
    free(before);
    free(after);
    tu_assert_clean(e->m);
}

static void test_vma_kind_names(void **state)
{
    (void)state;
    assert_string_equal(vms_vma_kind_name(VMS_VMA_ANON), "anon");
    assert_string_equal(vms_vma_kind_name(VMS_VMA_FILE_SHARED), "file-shared");
    assert_string_equal(vms_vma_kind_name(VMS_VMA_HUGETLB), "hugetlb");
    assert_string_equal(vms_vma_kind_name(VMS_VMA_NKINDS), "unknown");
    assert_string_equal(vms_frame_owner_name(VMS_FRAME_PAGE_CACHE), "page-cache");
    assert_string_equal(vms_frame_owner_name(VMS_FRAME_NOWNERS), "unknown");
    assert_string_equal(vms_tlb_level_name(VMS_TLB_L1I), "L1i");
    assert_string_equal(vms_tlb_level_name(VMS_TLB_NLEVELS), "unknown");
}

/* Rebuilds the tree from the parent/left/right starts and checks it is a
 * red-black tree whose gaps are what the addresses say. */
static void test_vma_tree_shape_and_gaps(void **state)
{
    (void)state;
    vms_machine *m = tu_machine();
    vms_task *t = tu_spawn(m);
    /* 20 VMAs with holes of different sizes between them (none merge). */
    vms_addr base = 0x10000000;
    for (int i = 0; i < 20; i++) {
        vms_addr at = base + (uint64_t)i * 64 * TU_PAGE;
        tu_mmap(t, at, (uint64_t)(i % 5 + 1) * TU_PAGE, i % 2 ? PROT_READ : RW,
                PRIV | MAP_FIXED);
    }
    struct vmas_seen s = {0};
    assert_int_equal(vms_vma_visit(t, collect_vma, &s), 0);
    assert_int_equal(s.n, 20);
    int roots = 0;
    for (int i = 0; i < s.n; i++) {
        const struct vms_vma_info *v = &s.vi[i];
        uint64_t want_gap = v->start - (i ? s.vi[i - 1].end : 0);
        assert_int_equal(v->gap, want_gap);
        if (v->depth == 0) {
            roots++;
            assert_int_equal(v->parent, 0);
            assert_int_equal(v->red, 0);
        }
        /* Children name this node as parent and sit one level deeper. */
        uint64_t sub = v->gap;
        for (int j = 0; j < s.n; j++) {
            const struct vms_vma_info *c = &s.vi[j];
            if (c->start == v->left || c->start == v->right) {
                assert_int_equal(c->parent, v->start);
                assert_int_equal(c->depth, v->depth + 1);
                assert_false(v->red && c->red);
                if (c->subtree_gap > sub)
                    sub = c->subtree_gap;
            }
        }
        assert_int_equal(v->subtree_gap, sub);
        if (v->left)
            assert_true(v->left < v->start);
        if (v->right)
            assert_true(v->right > v->start);
    }
    assert_int_equal(roots, 1);
    vms_machine_destroy(m);
}

static int stop_at_second(void *arg, const struct vms_vma_info *vi)
{
    (void)vi;
    return ++*(int *)arg == 2 ? 42 : 0;
}

static void test_vma_visit_stops_when_told(void **state)
{
    (void)state;
    vms_machine *m = tu_machine();
    vms_task *t = tu_spawn(m);
    tu_mmap(t, 0x20000000, TU_PAGE, RW, PRIV | MAP_FIXED);
    tu_mmap(t, 0x30000000, TU_PAGE, RW, PRIV | MAP_FIXED);
    tu_mmap(t, 0x40000000, TU_PAGE, RW, PRIV | MAP_FIXED);
    int calls = 0;
    assert_int_equal(vms_vma_visit(t, stop_at_second, &calls), 42);
    assert_int_equal(calls, 2);
    vms_machine_destroy(m);
}

static int count_task(void *arg, vms_task *t)
{
    int *pids = arg;
    pids[++pids[0]] = vms_task_pid(t);
    return 0;
}

static void test_task_visit_in_creation_order(void **state)
{
    (void)state;
    vms_machine *m = tu_machine();
    vms_task *a = tu_spawn(m);
    vms_task *b = vms_fork(a);
    vms_task *c = vms_clone_thread(a);
    assert_non_null(b);
    assert_non_null(c);
    int pids[8] = {0};
    assert_int_equal(vms_task_visit(m, count_task, pids), 0);
    assert_int_equal(pids[0], 3);
    assert_int_equal(pids[1], vms_task_pid(a));
    assert_int_equal(pids[2], vms_task_pid(b));
    assert_int_equal(pids[3], vms_task_pid(c));
    assert_true(vms_task_same_mm(a, c));
    assert_ptr_equal(vms_task_machine(b), m);
    assert_false(vms_task_same_mm(a, b));
    vms_exit(b);
    memset(pids, 0, sizeof(pids));
    assert_int_equal(vms_task_visit(m, count_task, pids), 0);
    assert_int_equal(pids[0], 2);
    vms_machine_destroy(m);
}

/* ---- TLBs ---- */

static void test_tlb_entries_match_the_walk(void **state)
{
    (void)state;
    struct vms_config c = tu_config(64ULL << 20);
    c.dtlb = (struct vms_tlb_geometry){64, 4};
    c.itlb = (struct vms_tlb_geometry){128, 8};
    c.stlb = (struct vms_tlb_geometry){1536, 12};
    c.pcid = 0;
    c.ncpus = 2;
    vms_machine *m = tu_machine_with(&c);
    vms_task *t = tu_spawn(m);
    vms_addr a = tu_anon(t, 4 * TU_PAGE, RW);
    tu_store_byte(t, a, 1);
    tu_store_byte(t, a + TU_PAGE, 2);
    (void)tu_load_byte(t, a + 2 * TU_PAGE);

    struct vms_stats *before = tu_stats(m);
    struct tlbs_seen s = {0};
    assert_int_equal(vms_tlb_visit(m, 0, collect_tlb, &s), 0);
    struct vms_stats *after = tu_stats(m);
    assert_stats_equal(before, after);

    for (int i = 0; i < 2; i++) {
        vms_addr va = a + (uint64_t)i * TU_PAGE;
        struct vms_walk w;
        assert_int_equal(vms_walk(t, va, &w), 0);
        for (enum vms_tlb_level l = VMS_TLB_L1D; l <= VMS_TLB_L2; l += 2) {
            const struct vms_tlb_entry *e = find_tlb(&s, l, va >> 12);
            assert_non_null(e);
            assert_int_equal(e->pfn, w.pa >> 12);
            assert_int_equal(e->pcid, 0);
            assert_int_equal(e->page_size, 4096);
            assert_int_equal(e->writable, 1);
            assert_int_equal(e->dirty, 1);
            assert_int_equal(e->exec, 0);
            assert_int_equal(e->user, 1);
            assert_int_equal(e->global, 0);
            struct vms_tlb_geometry g;
            assert_int_equal(vms_tlb_geometry(m, l, &g), 0);
            assert_int_equal(e->set, (va >> 12) % (g.entries / g.ways));
            assert_true(e->way < g.ways);
        }
        assert_null(find_tlb(&s, VMS_TLB_L1I, va >> 12));
    }
    /* Every entry is of a level in range; CPU 1 ran nothing. */
    struct tlbs_seen s1 = {0};
    assert_int_equal(vms_tlb_visit(m, 1, collect_tlb, &s1), 0);
    assert_int_equal(s1.n, 0);
    assert_int_equal(vms_tlb_visit(m, 2, collect_tlb, &s1), -EINVAL);
    struct vms_tlb_geometry g;
    assert_int_equal(vms_tlb_geometry(m, VMS_TLB_L1I, &g), 0);
    assert_int_equal(g.entries, 128);
    assert_int_equal(g.ways, 8);
    assert_int_equal(vms_tlb_geometry(m, VMS_TLB_NLEVELS, &g), -EINVAL);
    assert_int_equal(vms_cpu_count(m), 2);
    struct vms_cpu_info ci;
    assert_int_equal(vms_cpu_info(m, 0, &ci), 0);
    assert_int_equal(ci.pid, vms_task_pid(t));
    assert_int_equal(ci.cr3_pa, vms_task_pgd(t));
    assert_int_equal(ci.lazy, 0);
    assert_int_equal(vms_cpu_info(m, 1, &ci), 0);
    assert_int_equal(ci.cr3_pa, 0);
    assert_int_equal(vms_cpu_info(m, 2, &ci), -EINVAL);

    /* munmap's flush takes them out. */
    assert_int_equal(vms_munmap(t, a, 4 * TU_PAGE), 0);
    struct tlbs_seen s2 = {0};
    assert_int_equal(vms_tlb_visit(m, 0, collect_tlb, &s2), 0);
    assert_int_equal(s2.n, 0);
    free(before);
    free(after);
    tu_assert_clean(m);
    vms_machine_destroy(m);
}

static void test_tlb_entries_carry_the_pcid(void **state)
{
    (void)state;
    struct vms_config c = tu_config(64ULL << 20);
    c.pcid = 1;
    vms_machine *m = tu_machine_with(&c);
    vms_task *a = tu_spawn(m);
    vms_task *b = tu_spawn(m);
    vms_addr va = tu_anon(a, TU_PAGE, RW);
    vms_addr vb = tu_mmap(b, va + 16 * TU_PAGE, TU_PAGE, RW, PRIV | MAP_FIXED);
    tu_store_byte(a, va, 1);
    tu_store_byte(b, vb, 1); /* b's CR3 load keeps a's entries under a's PCID */
    struct tlbs_seen s = {0};
    assert_int_equal(vms_tlb_visit(m, 0, collect_tlb, &s), 0);
    const struct vms_tlb_entry *ea = find_tlb(&s, VMS_TLB_L1D, va >> 12);
    const struct vms_tlb_entry *eb = find_tlb(&s, VMS_TLB_L1D, vb >> 12);
    assert_non_null(ea);
    assert_non_null(eb);
    assert_int_not_equal(ea->pcid, 0);
    assert_int_not_equal(eb->pcid, 0);
    assert_int_not_equal(ea->pcid, eb->pcid);
    struct vms_cpu_info ci;
    assert_int_equal(vms_cpu_info(m, 0, &ci), 0);
    assert_int_equal(ci.pcid, eb->pcid);
    assert_int_equal(ci.pid, vms_task_pid(b));
    vms_machine_destroy(m);
}

/* ---- frames ---- */

static void test_frames_by_owner(void **state)
{
    struct tu_env *e = *state;
    char path[400];
    snprintf(path, sizeof(path), "%s/f.bin", e->root);
    tu_host_fill(path, TU_PAGE);
    int fd = vms_open(e->t, "f.bin", O_RDONLY, 0);
    assert_true(fd >= 0);
    vms_addr anon = tu_anon(e->t, 2 * TU_PAGE, RW);
    vms_addr zero = tu_anon(e->t, TU_PAGE, RW);
    vms_addr shm = tu_mmap(e->t, 0, TU_PAGE, RW, MAP_SHARED | MAP_ANONYMOUS);
    int64_t file = vms_mmap(e->t, 0, TU_PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
    assert_true(file > 0);
    tu_store_byte(e->t, anon, 1);
    (void)tu_load_byte(e->t, zero);
    tu_store_byte(e->t, shm, 1);
    (void)tu_load_byte(e->t, (vms_addr)file);
    vms_task *child = vms_fork(e->t); /* anon is now mapped twice */
    assert_non_null(child);

    struct vms_walk w;
    struct vms_frame_info fi;
    struct vms_stats *before = tu_stats(e->m);

    assert_int_equal(vms_walk(e->t, anon, &w), 0);
    assert_int_equal(vms_frame_info(e->m, w.pa >> 12, &fi), 0);
    assert_int_equal(fi.owner, VMS_FRAME_ANON);
    assert_int_equal(fi.mapcount, 2);
    assert_int_equal(fi.index, anon >> 12);
    assert_int_equal(fi.dirty, 0); /* anonymous pages are dirty in their PTE */
    for (int i = 0; i < w.levels; i++) {
        assert_int_equal(vms_frame_info(e->m, w.step[i].table_pa >> 12, &fi), 0);
        assert_int_equal(fi.owner, VMS_FRAME_PGTABLE);
        assert_int_equal(fi.mapcount, 0);
    }
    assert_int_equal(vms_walk(e->t, zero, &w), 0);
    assert_int_equal(vms_frame_info(e->m, w.pa >> 12, &fi), 0);
    assert_int_equal(fi.owner, VMS_FRAME_ZERO);
    assert_int_equal(vms_walk(e->t, shm, &w), 0);
    assert_int_equal(vms_frame_info(e->m, w.pa >> 12, &fi), 0);
    assert_int_equal(fi.owner, VMS_FRAME_SHMEM);
    assert_int_equal(fi.mapcount, 1); /* fork copies no tables of a VMA without anon pages */
    assert_int_equal(fi.index, 0);
    assert_int_equal(vms_walk(e->t, (vms_addr)file, &w), 0);
    assert_int_equal(vms_frame_info(e->m, w.pa >> 12, &fi), 0);
    assert_int_equal(fi.owner, VMS_FRAME_PAGE_CACHE);
    assert_int_equal(fi.lru, 1);
    assert_int_equal(fi.mapcount, 1);
    assert_int_equal(vms_frame_info(e->m, 0, &fi), 0);
    assert_int_equal(fi.owner, VMS_FRAME_RESERVED);

    /* The frames not free are what the statistics call used; the first
     * frame of each free block names its block. */
    uint64_t n = vms_frame_count(e->m), used = 0, tables = 0, cache = 0;
    assert_int_equal(n, (64ULL << 20) / TU_PAGE);
    for (uint64_t pfn = 0; pfn < n; pfn++) {
        assert_int_equal(vms_frame_info(e->m, pfn, &fi), 0);
        if (fi.owner == VMS_FRAME_FREE) {
            assert_true(fi.head <= pfn && pfn < fi.head + (1ULL << fi.order));
            assert_int_equal(fi.refcount, 0);
            continue;
        }
        used++;
        tables += fi.owner == VMS_FRAME_PGTABLE;
        cache += fi.owner == VMS_FRAME_PAGE_CACHE;
    }
    assert_int_equal(used, before->frames_used);
    assert_int_equal(tables, before->pgtable_frames);
    assert_int_equal(cache, before->cache_frames);
    assert_int_equal(vms_frame_info(e->m, n, &fi), -EINVAL);
    struct vms_stats *after = tu_stats(e->m);
    assert_stats_equal(before, after);
    free(before);
    free(after);
    tu_assert_clean(e->m);
}

/* ---- page tables ---- */

struct tables_seen {
    int n, ptes;
    unsigned present_leaves;
    uint64_t pte_va[16];
    int levels_seen[6];
};

static int collect_table(void *arg, const struct vms_pgtable_info *pi)
{
    struct tables_seen *s = arg;
    s->n++;
    s->levels_seen[pi->level]++;
    unsigned present = 0;
    for (int i = 0; i < 512; i++)
        present += (pi->entries[i] & VMS_PTE_P) != 0;
    assert_int_equal(present, pi->present);
    assert_int_equal(pi->span, 1ULL << (12 + 9 * (pi->level - 1)));
    if (pi->level == 1) {
        assert_string_equal(pi->name, "PTE");
        if (s->ptes < 16)
            s->pte_va[s->ptes] = pi->va;
        s->ptes++;
        s->present_leaves += pi->present;
    }
    return 0;
}

static void test_pgtable_visit_counts_the_tree(void **state)
{
    (void)state;
    for (int levels = 4; levels <= 5; levels++) {
        struct vms_config c = tu_config(64ULL << 20);
        c.pgtable_levels = levels;
        c.zero_page = 1;
        vms_machine *m = tu_machine_with(&c);
        vms_task *t = tu_spawn(m);
        /* Two PTE tables: one 2 MiB region apart. */
        vms_addr a = tu_mmap(t, 0x40000000, 3 * TU_PAGE, RW, PRIV | MAP_FIXED);
        vms_addr b = tu_mmap(t, 0x40200000, TU_PAGE, RW, PRIV | MAP_FIXED);
        tu_store_byte(t, a, 1);
        tu_store_byte(t, a + 2 * TU_PAGE, 1);
        tu_store_byte(t, b, 1);
        struct vms_stats *before = tu_stats(m);
        struct tables_seen s = {0};
        assert_int_equal(vms_pgtable_visit(t, collect_table, &s), 0);
        struct vms_stats *after = tu_stats(m);
        assert_stats_equal(before, after);
        assert_int_equal(s.n, before->pgtable_frames);
        assert_int_equal(s.levels_seen[levels], 1);
        assert_int_equal(s.ptes, 2);
        assert_int_equal(s.pte_va[0], 0x40000000);
        assert_int_equal(s.pte_va[1], 0x40200000);
        assert_int_equal(s.present_leaves, 3);
        assert_int_equal(vms_task_pgtable_levels(t), levels);
        /* The top table is where CR3 points, and a walk starts there. */
        struct vms_walk w;
        assert_int_equal(vms_walk(t, a, &w), 0);
        assert_int_equal(vms_task_pgd(t), w.step[0].table_pa);
        uint64_t pte = 0;
        assert_int_equal(vms_phys_read(m, w.step[levels - 1].table_pa + 8 * ((a >> 12) & 511), &pte,
                                       sizeof(pte)),
                         0);
        assert_int_equal(VMS_PTE_PFN(pte), w.pa >> 12);
        assert_true(pte & VMS_PTE_RW);
        assert_true(pte & VMS_PTE_D);
        assert_true(pte & VMS_PTE_NX);
        free(before);
        free(after);
        tu_assert_clean(m);
        vms_machine_destroy(m);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_vma_kinds_names_and_maps_lines, tu_env_setup,
                                        tu_env_teardown),
        cmocka_unit_test(test_vma_kind_names),
        cmocka_unit_test(test_vma_tree_shape_and_gaps),
        cmocka_unit_test(test_vma_visit_stops_when_told),
        cmocka_unit_test(test_task_visit_in_creation_order),
        cmocka_unit_test(test_tlb_entries_match_the_walk),
        cmocka_unit_test(test_tlb_entries_carry_the_pcid),
        cmocka_unit_test_setup_teardown(test_frames_by_owner, tu_env_setup, tu_env_teardown),
        cmocka_unit_test(test_pgtable_visit_counts_the_tree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

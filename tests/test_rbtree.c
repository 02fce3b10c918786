/*
 * test_rbtree.c - tests for the red-black tree that models Linux's
 * lib/rbtree.c (intrusive, augmented; used for the VMA tree).
 *
 * The augmented value here is a subtree maximum of a per-node value, a
 * stand-in for the VMA tree's largest-gap cache. Every check is against a
 * brute-force recompute of the whole tree, so the test does not trust the
 * implementation's own incremental bookkeeping. Randomness comes from a
 * fixed-seed xorshift64* so failures reproduce exactly.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "rbtree.h"

#define BIG_N 10000
#define CHECK_EVERY 100

struct item {
    uint64_t key;
    uint64_t value;        /* per-node value the augmentation aggregates */
    uint64_t subtree_max;  /* max of value over this node's subtree */
    struct rb_node rb;
};

struct prng {
    uint64_t s;
};

/* xorshift64*: tiny, deterministic, good enough to shuffle test inputs. */
static uint64_t prng_next(struct prng *p)
{
    p->s ^= p->s >> 12;
    p->s ^= p->s << 25;
    p->s ^= p->s >> 27;
    return p->s * UINT64_C(2685821657736338717);
}

/* Slight modulo bias is irrelevant for shuffling test data. */
static size_t prng_below(struct prng *p, size_t n)
{
    return (size_t)(prng_next(p) % n);
}

static void shuffle(size_t *a, size_t n, struct prng *p)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = prng_below(p, i);
        size_t t = a[i - 1];

        a[i - 1] = a[j];
        a[j] = t;
    }
}

static size_t *identity(size_t n)
{
    size_t *a = malloc(n * sizeof(*a));

    assert_non_null(a);
    for (size_t i = 0; i < n; i++)
        a[i] = i;
    return a;
}

static struct item *item_of(const struct rb_node *n)
{
    return rb_entry(n, struct item, rb);
}

static uint64_t cached_max(const struct rb_node *n)
{
    return n != NULL ? item_of(n)->subtree_max : 0;
}

static int item_aug(struct rb_node *n)
{
    struct item *it = item_of(n);
    uint64_t m = it->value;

    if (cached_max(n->left) > m)
        m = cached_max(n->left);
    if (cached_max(n->right) > m)
        m = cached_max(n->right);
    if (it->subtree_max == m)
        return 0;
    it->subtree_max = m;
    return 1;
}

/* items[k].key == k, so a node's container is checkable by its key. */
static struct item *make_items(size_t n, struct prng *p)
{
    struct item *items = calloc(n, sizeof(*items));

    assert_non_null(items);
    for (size_t i = 0; i < n; i++) {
        items[i].key = i;
        items[i].value = 1 + prng_next(p) % 1000000;
        /* Garbage cache: rb_insert must not trust it. */
        items[i].subtree_max = prng_next(p);
    }
    return items;
}

static void item_insert(struct rb_root *root, struct item *it,
                        rb_augment_fn aug)
{
    struct rb_node **link = &root->node;
    struct rb_node *parent = NULL;

    while (*link != NULL) {
        parent = *link;
        link = it->key < item_of(parent)->key ? &parent->left : &parent->right;
    }
    rb_link_node(&it->rb, parent, link);
    rb_insert(&it->rb, root, aug);
}

static void check_valid(const struct rb_root *root)
{
    const char *why = "(no reason given)";

    if (rb_validate(root, &why) < 0)
        fail_msg("rb_validate: %s", why);
}

/* Recompute the maximum from scratch and compare with every cached value. */
static uint64_t brute_max(const struct rb_node *n, size_t *count)
{
    uint64_t m, l, r;

    if (n == NULL)
        return 0;
    (*count)++;
    l = brute_max(n->left, count);
    r = brute_max(n->right, count);
    m = item_of(n)->value;
    if (l > m)
        m = l;
    if (r > m)
        m = r;
    assert_int_equal(item_of(n)->subtree_max, m);
    return m;
}

/* Both traversal directions see exactly the expected keys, in order, and
 * each node still belongs to the container that owns that key. */
static void check_order(const struct rb_root *root, const struct item *items,
                        const unsigned char *present, size_t universe)
{
    const struct rb_node *n = rb_first(root);

    for (size_t k = 0; k < universe; k++) {
        if (!present[k])
            continue;
        assert_non_null(n);
        assert_ptr_equal(item_of(n), &items[k]);
        n = rb_next(n);
    }
    assert_null(n);
    n = rb_last(root);
    for (size_t k = universe; k-- > 0;) {
        if (!present[k])
            continue;
        assert_non_null(n);
        assert_ptr_equal(item_of(n), &items[k]);
        n = rb_prev(n);
    }
    assert_null(n);
}

static void check_all(const struct rb_root *root, const struct item *items,
                      const unsigned char *present, size_t universe,
                      int augmented)
{
    size_t count = 0, expected = 0;

    check_valid(root);
    check_order(root, items, present, universe);
    for (size_t k = 0; k < universe; k++)
        expected += present[k];
    if (augmented) {
        brute_max(root->node, &count);
        assert_int_equal(count, expected);
    }
}

/* Check often while the tree is small (where edge cases live), then
 * periodically to keep 10,000-element runs fast. */
static int due(size_t step)
{
    return step < CHECK_EVERY || step % CHECK_EVERY == 0;
}

static void test_empty(void **state)
{
    struct rb_root root = { NULL };
    const char *why = NULL;

    (void)state;
    assert_int_equal(rb_validate(&root, &why), 0);
    assert_null(why);
    assert_null(rb_first(&root));
    assert_null(rb_last(&root));
}

/* Insert keys in the given order, checking along the way. */
static void run_inserts(const size_t *order, size_t n, uint64_t seed)
{
    struct prng p = { seed };
    struct item *items = make_items(n, &p);
    unsigned char *present = calloc(n, 1);
    struct rb_root root = { NULL };

    assert_non_null(present);
    for (size_t i = 0; i < n; i++) {
        item_insert(&root, &items[order[i]], item_aug);
        present[order[i]] = 1;
        if (due(i))
            check_all(&root, items, present, n, 1);
    }
    check_all(&root, items, present, n, 1);
    free(present);
    free(items);
}

static void test_insert_ascending(void **state)
{
    size_t *order = identity(BIG_N);

    (void)state;
    run_inserts(order, BIG_N, 1);
    free(order);
}

static void test_insert_descending(void **state)
{
    size_t *order = identity(BIG_N);

    (void)state;
    for (size_t i = 0; i < BIG_N; i++)
        order[i] = BIG_N - 1 - i;
    run_inserts(order, BIG_N, 2);
    free(order);
}

static void test_insert_random(void **state)
{
    struct prng p = { 3 };
    size_t *order = identity(BIG_N);

    (void)state;
    shuffle(order, BIG_N, &p);
    run_inserts(order, BIG_N, 4);
    free(order);
}

/* Insert all n keys in one random order, erase them in another. */
static void run_insert_erase(size_t n, uint64_t seed, int every_step)
{
    struct prng p = { seed };
    struct item *items = make_items(n, &p);
    unsigned char *present = calloc(n, 1);
    size_t *order = identity(n);
    struct rb_root root = { NULL };

    assert_non_null(present);
    shuffle(order, n, &p);
    for (size_t i = 0; i < n; i++) {
        item_insert(&root, &items[order[i]], item_aug);
        present[order[i]] = 1;
    }
    check_all(&root, items, present, n, 1);
    shuffle(order, n, &p);
    for (size_t i = 0; i < n; i++) {
        rb_erase(&items[order[i]].rb, &root, item_aug);
        present[order[i]] = 0;
        if (every_step || due(n - i))
            check_all(&root, items, present, n, 1);
    }
    assert_null(root.node);
    free(order);
    free(present);
    free(items);
}

static void test_erase_random(void **state)
{
    (void)state;
    run_insert_erase(BIG_N, 5, 0);
}

/* Many small trees, checked after every single erase, hit each fixup case
 * (and erasing the root, leaves, and two-child nodes) many times over. */
static void test_erase_small_trees(void **state)
{
    (void)state;
    for (size_t n = 1; n <= 48; n++)
        for (uint64_t seed = 1; seed <= 20; seed++)
            run_insert_erase(n, n * 1000 + seed, 1);
}

/* Interleaved inserts and erases, as a VMA tree sees under mmap/munmap. */
static void test_mixed_ops(void **state)
{
    const size_t universe = 2000;
    struct prng p = { 6 };
    struct item *items = make_items(universe, &p);
    unsigned char *present = calloc(universe, 1);
    struct rb_root root = { NULL };

    (void)state;
    assert_non_null(present);
    for (size_t step = 0; step < 40000; step++) {
        size_t k = prng_below(&p, universe);

        if (present[k])
            rb_erase(&items[k].rb, &root, item_aug);
        else
            item_insert(&root, &items[k], item_aug);
        present[k] = !present[k];
        if (step % 50 == 0)
            check_all(&root, items, present, universe, 1);
    }
    check_all(&root, items, present, universe, 1);
    free(present);
    free(items);
}

/* aug == NULL must give a correct plain tree. */
static void test_plain_tree(void **state)
{
    const size_t n = 3000;
    struct prng p = { 7 };
    struct item *items = make_items(n, &p);
    unsigned char *present = calloc(n, 1);
    size_t *order = identity(n);
    struct rb_root root = { NULL };

    (void)state;
    assert_non_null(present);
    shuffle(order, n, &p);
    for (size_t i = 0; i < n; i++) {
        item_insert(&root, &items[order[i]], NULL);
        present[order[i]] = 1;
    }
    check_all(&root, items, present, n, 0);
    shuffle(order, n, &p);
    for (size_t i = 0; i < n / 2; i++) {
        rb_erase(&items[order[i]].rb, &root, NULL);
        present[order[i]] = 0;
    }
    check_all(&root, items, present, n, 0);
    free(order);
    free(present);
    free(items);
}

static void test_navigation(void **state)
{
    static const size_t order[] = { 5, 2, 8, 0, 9, 3, 7, 1, 6, 4 };
    const size_t n = sizeof(order) / sizeof(order[0]);
    struct prng p = { 8 };
    struct item *items = make_items(n, &p);
    struct rb_root root = { NULL };
    struct rb_node *it;
    size_t k;

    (void)state;
    item_insert(&root, &items[order[0]], item_aug);
    /* Single node: it is both ends and has no neighbours. */
    assert_ptr_equal(rb_first(&root), &items[5].rb);
    assert_ptr_equal(rb_last(&root), &items[5].rb);
    assert_null(rb_next(&items[5].rb));
    assert_null(rb_prev(&items[5].rb));
    for (k = 1; k < n; k++)
        item_insert(&root, &items[order[k]], item_aug);
    assert_ptr_equal(rb_first(&root), &items[0].rb);
    assert_ptr_equal(rb_last(&root), &items[n - 1].rb);
    for (k = 0, it = rb_first(&root); it != NULL; it = rb_next(it), k++)
        assert_int_equal(item_of(it)->key, k);
    assert_int_equal(k, n);
    for (k = n, it = rb_last(&root); it != NULL; it = rb_prev(it))
        assert_int_equal(item_of(it)->key, --k);
    assert_int_equal(k, 0);
    /* Ends move when the extreme nodes are erased. */
    rb_erase(&items[0].rb, &root, item_aug);
    rb_erase(&items[n - 1].rb, &root, item_aug);
    assert_ptr_equal(rb_first(&root), &items[1].rb);
    assert_ptr_equal(rb_last(&root), &items[n - 2].rb);
    assert_null(rb_prev(&items[1].rb));
    assert_null(rb_next(&items[n - 2].rb));
    free(items);
}

static uint64_t scan_max(const struct item *items, const unsigned char *present,
                         size_t n)
{
    uint64_t m = 0;

    for (size_t k = 0; k < n; k++)
        if (present[k] && items[k].value > m)
            m = items[k].value;
    return m;
}

/* Changing a node's value then calling rb_propagate must fix every
 * ancestor, both when the value grows and when it shrinks. */
static void test_propagate(void **state)
{
    const size_t n = 1000;
    struct prng p = { 9 };
    struct item *items = make_items(n, &p);
    unsigned char *present = calloc(n, 1);
    size_t *order = identity(n);
    struct rb_root root = { NULL };

    (void)state;
    assert_non_null(present);
    shuffle(order, n, &p);
    for (size_t i = 0; i < n; i++) {
        item_insert(&root, &items[order[i]], item_aug);
        present[order[i]] = 1;
    }
    for (size_t round = 0; round < 300; round++) {
        struct item *it = &items[prng_below(&p, n)];

        it->value = round % 2 ? 1 : 2000000 + round;  /* shrink / grow */
        rb_propagate(&it->rb, item_aug);
        check_all(&root, items, present, n, 1);
        assert_int_equal(item_of(root.node)->subtree_max,
                         scan_max(items, present, n));
    }
    free(order);
    free(present);
    free(items);
}

/* Flipping any one node's colour breaks a rule: the root must be black,
 * and any other node sits beside a sibling subtree whose black height it
 * no longer matches. Broken parent links must be reported too. */
static void test_validate_detects_corruption(void **state)
{
    const size_t n = 63;
    struct prng p = { 10 };
    struct item *items = make_items(n, &p);
    size_t *order = identity(n);
    struct rb_root root = { NULL };
    const char *why;

    (void)state;
    shuffle(order, n, &p);
    for (size_t i = 0; i < n; i++)
        item_insert(&root, &items[order[i]], item_aug);
    check_valid(&root);
    for (size_t k = 0; k < n; k++) {
        why = NULL;
        items[k].rb.red = !items[k].rb.red;
        assert_int_equal(rb_validate(&root, &why), -1);
        assert_non_null(why);
        assert_true(strlen(why) > 0);
        assert_int_equal(rb_validate(&root, NULL), -1);
        items[k].rb.red = !items[k].rb.red;
    }
    check_valid(&root);
    for (size_t k = 0; k < n; k++) {
        struct rb_node *saved = items[k].rb.parent;

        why = NULL;
        items[k].rb.parent = saved == NULL ? &items[(k + 1) % n].rb : NULL;
        assert_int_equal(rb_validate(&root, &why), -1);
        assert_non_null(why);
        items[k].rb.parent = saved;
    }
    check_valid(&root);
    free(order);
    free(items);
}

static void link_by_hand(struct rb_node *n, struct rb_node *parent,
                         struct rb_node **slot, int red)
{
    rb_link_node(n, parent, slot);
    n->red = red;
}

/* Hand-built trees that break exactly one rule each, so every check in
 * rb_validate is exercised on its own. */
static void test_validate_hand_built(void **state)
{
    struct item it[3] = { { .key = 0 }, { .key = 1 }, { .key = 2 } };
    struct rb_root root = { NULL };
    const char *why = NULL;

    (void)state;
    link_by_hand(&it[1].rb, NULL, &root.node, 0);
    assert_int_equal(rb_validate(&root, &why), 1);
    /* Red-red on the left; every path still has one black node. */
    link_by_hand(&it[0].rb, &it[1].rb, &it[1].rb.left, 1);
    link_by_hand(&it[2].rb, &it[0].rb, &it[0].rb.right, 1);
    assert_int_equal(rb_validate(&root, &why), -1);
    assert_string_equal(why, "red node has a red child");
    /* Black grandchild: paths through it have two blacks, others one. */
    it[2].rb.red = 0;
    assert_int_equal(rb_validate(&root, &why), -1);
    assert_string_equal(why, "black heights of sibling subtrees differ");
    /* Balanced again: a black root with two red children. */
    it[0].rb.right = NULL;
    link_by_hand(&it[2].rb, &it[1].rb, &it[1].rb.right, 1);
    assert_int_equal(rb_validate(&root, &why), 1);
    it[1].rb.red = 1;
    assert_int_equal(rb_validate(&root, &why), -1);
    assert_string_equal(why, "root is red");
    it[1].rb.red = 0;
    it[2].rb.red = 7;
    assert_int_equal(rb_validate(&root, &why), -1);
    assert_string_equal(why, "colour field is neither 0 nor 1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_insert_ascending),
        cmocka_unit_test(test_insert_descending),
        cmocka_unit_test(test_insert_random),
        cmocka_unit_test(test_erase_random),
        cmocka_unit_test(test_erase_small_trees),
        cmocka_unit_test(test_mixed_ops),
        cmocka_unit_test(test_plain_tree),
        cmocka_unit_test(test_navigation),
        cmocka_unit_test(test_propagate),
        cmocka_unit_test(test_validate_detects_corruption),
        cmocka_unit_test(test_validate_hand_built),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

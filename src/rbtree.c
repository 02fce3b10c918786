/*
 * rbtree.c - intrusive red-black tree with optional augmentation.
 *
 * Models Linux's lib/rbtree.c, the balanced tree behind the VMA tree
 * (before the maple tree) with its augmented "largest gap" value.
 * Written from the textbook algorithm (CLRS insert/delete fixups with NULL
 * standing in for the black NIL leaf), not from the kernel source.
 *
 * Simplifications: colour is a plain int; mirror-image cases share code via
 * a direction argument; augmentation is fixed up once along one path and
 * then kept exact by every rotation, instead of Linux's finer-grained
 * callbacks; no ordering of stores for lockless (RCU) readers.
 */
#include "rbtree.h"

enum { LEFT = 0, RIGHT = 1 };

/* The child slot on side dir: one routine then serves both mirror cases. */
static struct rb_node **child_slot(struct rb_node *n, int dir)
{
    return dir == RIGHT ? &n->right : &n->left;
}

/* NULL plays CLRS's NIL leaf, which is black. */
static int is_red(const struct rb_node *n)
{
    return n != NULL && n->red;
}

/* The pointer that refers to n: its parent's child slot, or the root slot. */
static struct rb_node **parent_slot(struct rb_node *n, struct rb_root *root)
{
    struct rb_node *p = n->parent;

    if (p == NULL)
        return &root->node;
    return p->left == n ? &p->left : &p->right;
}

static void recompute(struct rb_node *n, rb_augment_fn aug)
{
    if (aug != NULL)
        (void)aug(n);
}

/*
 * Move x down to side dir; its child on the other side takes x's place.
 * Only x and that child change descendants, and everything above keeps the
 * same set of descendants, so recomputing x (now lower) and then the new
 * subtree top keeps every augmented value exact.
 */
static void rotate(struct rb_root *root, struct rb_node *x, int dir,
                   rb_augment_fn aug)
{
    struct rb_node *y = *child_slot(x, !dir);
    struct rb_node *inner = *child_slot(y, dir);

    *child_slot(x, !dir) = inner;
    if (inner != NULL)
        inner->parent = x;
    *parent_slot(x, root) = y;
    y->parent = x->parent;
    *child_slot(y, dir) = x;
    x->parent = y;
    recompute(x, aug);
    recompute(y, aug);
}

/* Hang v where u hangs now; u's own child links are the caller's business. */
static void transplant(struct rb_root *root, struct rb_node *u,
                       struct rb_node *v)
{
    *parent_slot(u, root) = v;
    if (v != NULL)
        v->parent = u->parent;
}

static struct rb_node *leftmost(struct rb_node *n)
{
    while (n->left != NULL)
        n = n->left;
    return n;
}

static struct rb_node *rightmost(struct rb_node *n)
{
    while (n->right != NULL)
        n = n->right;
    return n;
}

void rb_propagate(struct rb_node *n, rb_augment_fn aug)
{
    if (aug == NULL)
        return;
    /*
     * Always walk to the root and ignore aug's "changed" result: stopping
     * early is only sound if n's cached value was valid beforehand, which a
     * freshly linked node's is not. The walk is O(log n) anyway.
     */
    for (; n != NULL; n = n->parent)
        (void)aug(n);
}

void rb_link_node(struct rb_node *node, struct rb_node *parent,
                  struct rb_node **link)
{
    node->parent = parent;
    node->left = NULL;
    node->right = NULL;
    node->red = 1;  /* red keeps every black height unchanged */
    *link = node;
}

/*
 * Resolve a red-red violation at z whose uncle is black: at most two
 * rotations make a black subtree top, so rebalancing ends here.
 */
static void insert_rotate(struct rb_root *root, struct rb_node *z,
                          struct rb_node *p, int dir, rb_augment_fn aug)
{
    struct rb_node *g = p->parent;

    if (z == *child_slot(p, !dir)) {
        /* Inner grandchild: turn it into the outer case first. */
        rotate(root, p, dir, aug);
        p = z;
    }
    p->red = 0;
    g->red = 1;
    rotate(root, g, !dir, aug);
}

static void insert_fixup(struct rb_root *root, struct rb_node *z,
                         rb_augment_fn aug)
{
    struct rb_node *p;

    while ((p = z->parent) != NULL && p->red) {
        struct rb_node *g = p->parent;  /* exists: the root is black */
        int dir = p == g->right;
        struct rb_node *uncle = *child_slot(g, !dir);

        if (!is_red(uncle)) {
            insert_rotate(root, z, p, dir, aug);
            break;
        }
        /* Red uncle: push g's black down; the conflict may move up to g. */
        p->red = 0;
        uncle->red = 0;
        g->red = 1;
        z = g;
    }
    root->node->red = 0;
}

void rb_insert(struct rb_node *node, struct rb_root *root, rb_augment_fn aug)
{
    /*
     * Make every value exact before rebalancing; rotations then keep them
     * exact and recolouring does not touch them, so no later pass is needed.
     */
    rb_propagate(node, aug);
    insert_fixup(root, node, aug);
}

/*
 * One CLRS delete-fixup iteration: parent's child on side dir carries an
 * extra black. Returns the node that carries it next, or the root when the
 * deficit has been absorbed. The sibling exists because its side has a
 * black height at least one greater than the deficient side.
 */
static struct rb_node *erase_step(struct rb_root *root, struct rb_node *parent,
                                  int dir, rb_augment_fn aug)
{
    struct rb_node *w = *child_slot(parent, !dir);

    if (w->red) {
        /* Rotate the red sibling up so the new sibling is black. */
        w->red = 0;
        parent->red = 1;
        rotate(root, parent, dir, aug);
        w = *child_slot(parent, !dir);
    }
    if (!is_red(w->left) && !is_red(w->right)) {
        /* Take one black off both sides; parent now carries the deficit. */
        w->red = 1;
        return parent;
    }
    if (!is_red(*child_slot(w, !dir))) {
        /* Only the near nephew is red: rotate it into the far position. */
        (*child_slot(w, dir))->red = 0;
        w->red = 1;
        rotate(root, w, !dir, aug);
        w = *child_slot(parent, !dir);
    }
    /* Far nephew red: one rotation gives the deficient side an extra black. */
    w->red = parent->red;
    parent->red = 0;
    (*child_slot(w, !dir))->red = 0;
    rotate(root, parent, dir, aug);
    return root->node;
}

static void erase_fixup(struct rb_root *root, struct rb_node *x,
                        struct rb_node *parent, rb_augment_fn aug)
{
    while (x != root->node && !is_red(x)) {
        /*
         * x may be NULL; the sibling never is, so comparing with the right
         * slot still tells which side x is on.
         */
        int dir = x == parent->right;

        x = erase_step(root, parent, dir, aug);
        parent = x->parent;
    }
    if (x != NULL)
        x->red = 0;  /* a red node absorbs the extra black */
}

/* Where a node was lost: the subtree now in that spot and its parent. */
struct hole {
    struct rb_node *x, *parent;
    int black_lost;
};

/* Node has at most one child: that child simply takes its place. */
static struct hole unlink_simple(struct rb_root *root, struct rb_node *node)
{
    struct rb_node *x = node->left != NULL ? node->left : node->right;
    struct hole h = { x, node->parent, !node->red };

    transplant(root, node, x);
    return h;
}

/*
 * Node has two children: its successor y (which has no left child) takes
 * node's place and colour, so the colour actually lost is y's, at y's old
 * spot. Only links change; no payload is copied between nodes.
 */
static struct hole unlink_via_successor(struct rb_root *root,
                                        struct rb_node *node)
{
    struct rb_node *y = leftmost(node->right);
    struct hole h = { y->right, y, !y->red };

    if (y->parent != node) {
        h.parent = y->parent;
        transplant(root, y, y->right);
        y->right = node->right;
        y->right->parent = y;
    }
    transplant(root, node, y);
    y->left = node->left;
    y->left->parent = y;
    y->red = node->red;
    return h;
}

void rb_erase(struct rb_node *node, struct rb_root *root, rb_augment_fn aug)
{
    struct hole h = node->left != NULL && node->right != NULL
                        ? unlink_via_successor(root, node)
                        : unlink_simple(root, node);

    /*
     * Every node that lost a descendant lies on the path from the hole up
     * to the root (that path passes through the successor in its new
     * place). Fixing it now makes all values exact; the rebalancing
     * rotations then keep them exact, so no pass is needed afterwards.
     */
    rb_propagate(h.parent, aug);
    if (h.black_lost)
        erase_fixup(root, h.x, h.parent, aug);
    node->parent = NULL;
    node->left = NULL;
    node->right = NULL;
}

struct rb_node *rb_first(const struct rb_root *root)
{
    return root->node != NULL ? leftmost(root->node) : NULL;
}

struct rb_node *rb_last(const struct rb_root *root)
{
    return root->node != NULL ? rightmost(root->node) : NULL;
}

struct rb_node *rb_next(const struct rb_node *n)
{
    struct rb_node *p;

    if (n->right != NULL)
        return leftmost(n->right);
    /* Climb until we arrive from a left child: that ancestor is next. */
    for (p = n->parent; p != NULL && n == p->right; p = p->parent)
        n = p;
    return p;
}

struct rb_node *rb_prev(const struct rb_node *n)
{
    struct rb_node *p;

    if (n->left != NULL)
        return rightmost(n->left);
    for (p = n->parent; p != NULL && n == p->left; p = p->parent)
        n = p;
    return p;
}

static int invalid(const char **why, const char *reason)
{
    if (why != NULL)
        *why = reason;
    return -1;
}

/* Checks that only look at n and its direct children. */
static int check_local(const struct rb_node *n, const char **why)
{
    if (n->red != 0 && n->red != 1)
        return invalid(why, "colour field is neither 0 nor 1");
    if (n->left != NULL && n->left == n->right)
        return invalid(why, "node has the same left and right child");
    if ((n->left != NULL && n->left->parent != n) ||
        (n->right != NULL && n->right->parent != n))
        return invalid(why, "child's parent link does not point back");
    if (n->red && (is_red(n->left) || is_red(n->right)))
        return invalid(why, "red node has a red child");
    return 0;
}

/*
 * Black height of the subtree at n, or -1. The parent-link check also
 * guarantees termination on a corrupted tree: every node reached has a
 * unique parent pointer, so no node can be reached twice.
 */
static int check_subtree(const struct rb_node *n, const char **why)
{
    int lh, rh;

    if (n == NULL)
        return 0;
    if (check_local(n, why) < 0)
        return -1;
    lh = check_subtree(n->left, why);
    if (lh < 0)
        return -1;
    rh = check_subtree(n->right, why);
    if (rh < 0)
        return -1;
    if (lh != rh)
        return invalid(why, "black heights of sibling subtrees differ");
    return lh + !n->red;
}

int rb_validate(const struct rb_root *root, const char **why)
{
    const struct rb_node *top = root->node;

    if (top == NULL)
        return 0;
    if (top->parent != NULL)
        return invalid(why, "root has a parent");
    if (top->red)
        return invalid(why, "root is red");
    return check_subtree(top, why);
}

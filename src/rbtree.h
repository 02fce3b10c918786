/*
 * rbtree.h - intrusive red-black tree with optional augmentation.
 *
 * Models Linux's lib/rbtree.c: nodes are embedded in caller structures
 * (rb_entry recovers the container), callers do their own key walk and link
 * the new leaf, and an augmentation hook keeps a per-subtree cached value
 * up to date (the VMA tree used it for the largest free gap, before Linux
 * 6.1 replaced that tree with the maple tree).
 *
 * Simplifications: the colour is a plain int rather than a bit packed into
 * the parent pointer; augmentation is one "recompute this node from its
 * children" callback instead of Linux's propagate/copy/rotate triple, and
 * it is always propagated to the root; no RCU-safe store ordering for
 * lockless readers; the fixups follow the textbook (CLRS) case analysis.
 */
#ifndef VMSIM_RBTREE_H
#define VMSIM_RBTREE_H

#include <stddef.h>

struct rb_node {
    struct rb_node *parent, *left, *right;
    int red;                 /* 1 red, 0 black */
};

struct rb_root { struct rb_node *node; };

/* Augmentation: called bottom-up on a node whose children (or own key) changed.
 * It recomputes the node's cached subtree value from itself and its children and
 * returns nonzero if that value changed. May be NULL for a plain tree. */
typedef int (*rb_augment_fn)(struct rb_node *n);

#define rb_entry(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

/* Insert: caller finds the place (like Linux): walks from root->node comparing keys,
 * then calls rb_link_node(node, parent, link) where link is &parent->left/right or
 * &root->node, then rb_insert(node, root, aug). */
void rb_link_node(struct rb_node *node, struct rb_node *parent, struct rb_node **link);
void rb_insert(struct rb_node *node, struct rb_root *root, rb_augment_fn aug);

/* Unlinks node by relinking its neighbours; no payload is ever moved, so
 * pointers to the other containers stay valid. Clears node's links. */
void rb_erase(struct rb_node *node, struct rb_root *root, rb_augment_fn aug);

/* Recompute augmentation from n up to the root (call after changing n's key data). */
void rb_propagate(struct rb_node *n, rb_augment_fn aug);

/* In-order navigation; NULL at either end or for an empty tree. */
struct rb_node *rb_first(const struct rb_root *root);
struct rb_node *rb_last(const struct rb_root *root);
struct rb_node *rb_next(const struct rb_node *n);
struct rb_node *rb_prev(const struct rb_node *n);

/* Checks colour rules (root black, no red-red, equal black height) and parent links;
 * returns the black height, or -1 and writes a one-line reason to *why.
 * The black height counts black nodes on any root-to-leaf path (0 for an
 * empty tree). why may be NULL; it is left untouched on success. */
int rb_validate(const struct rb_root *root, const char **why);

#endif /* VMSIM_RBTREE_H */

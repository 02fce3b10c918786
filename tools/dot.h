/*
 * Graphviz (dot) pictures of an address space, for print and docs: the
 * page-table tree and the VMA tree. Written from the introspection API
 * (views.h); `dot -Tsvg` draws them.
 */
#ifndef VMSIM_DOT_H
#define VMSIM_DOT_H

#include "views.h"

#include <stdio.h>

/* The task's page-table tree: one node per table (its used entries with
 * their bits and PFN, at most 24 a table), edges from entries to the
 * tables and frames they point at. With has_walk, the entries and edges
 * the MMU reads to translate `walk` are highlighted. 0, or -errno. */
int dot_write_pgtable(FILE *out, vms_machine *m, vms_task *t, const char *title, int has_walk,
                      vms_addr walk);

/* The task's VMA tree: one node per VMA (its colour in words and in fill,
 * its range, rights, name, the gap below it and its subtree's largest gap),
 * edges to its left and right children, NIL leaves as points. 0, or -errno. */
int dot_write_vma_tree(FILE *out, vms_task *t, const char *title);

#endif

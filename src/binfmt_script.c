/*
 * "#!" scripts, as Linux's fs/binfmt_script.c runs them: the first line
 * (within the file's first 256 bytes) names an interpreter and at most one
 * argument (the rest of the line, spaces inside kept, trailing ones cut);
 * argv[0] is replaced by the interpreter's name, the argument and the
 * script's path, and the interpreter is loaded in its place. A name that
 * the 256 bytes cut short is ENOEXEC, as an empty one.
 * The interpreter's path is a path inside the machine ("/" is its root).
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int spacetab(char c) { return c == ' ' || c == '\t'; }

/* The first byte in [first, last] that is not a space or tab, or NULL. */
static const char *next_non_spacetab(const char *first, const char *last)
{
    for (; first <= last; first++)
        if (!spacetab(*first))
            return first;
    return NULL;
}

/* The first space, tab or NUL in [first, last], or NULL. */
static const char *next_terminator(const char *first, const char *last)
{
    for (; first <= last; first++)
        if (spacetab(*first) || !*first)
            return first;
    return NULL;
}

int load_script(struct linux_binprm *bprm)
{
    char buf[BINPRM_BUF_SIZE + 1];
    memcpy(buf, bprm->buf, BINPRM_BUF_SIZE);
    buf[BINPRM_BUF_SIZE] = '\0';
    if (buf[0] != '#' || buf[1] != '!')
        return -ENOEXEC;
    const char *buf_end = buf + BINPRM_BUF_SIZE - 1;
    char *i_end = memchr(buf, '\n', BINPRM_BUF_SIZE);
    if (!i_end) {
        const char *first = next_non_spacetab(buf + 2, buf_end);
        /* all spaces, or a name the buffer may have cut */
        if (!first || !next_terminator(first, buf_end))
            return -ENOEXEC;
        i_end = buf + BINPRM_BUF_SIZE - 1;
    }
    while (spacetab(i_end[-1]))
        i_end--;
    const char *i_name = next_non_spacetab(buf + 2, i_end);
    if (!i_name || i_name == i_end)
        return -ENOEXEC;
    const char *i_arg = NULL;
    char *i_sep = (char *)next_terminator(i_name, i_end);
    if (i_sep && *i_sep)
        i_arg = next_non_spacetab(i_sep, i_end);
    /* argv[0] goes; then, pushed in reverse: the script, the argument, the
     * interpreter's name. */
    remove_arg_zero(bprm);
    int err = copy_string_kernel(bprm, bprm->interp);
    if (err)
        return err;
    bprm->argc++;
    *i_end = '\0';
    if (i_arg) {
        *i_sep = '\0';
        err = copy_string_kernel(bprm, i_arg);
        if (err)
            return err;
        bprm->argc++;
    }
    err = copy_string_kernel(bprm, i_name);
    if (err)
        return err;
    bprm->argc++;
    /* The name a nested script's interpreter gets is this interpreter's path. */
    char *name = strdup(i_name);
    if (!name)
        return -ENOMEM;
    free(bprm->interp_owned);
    bprm->interp = bprm->interp_owned = name;
    return open_exec(bprm->t, name, 1, &bprm->interpreter);
}

/*
 * `vmsim shell` driven as a person drives it: through a pseudo-terminal
 * (forkpty), with keys (Tab, the up arrow, Ctrl-C, Ctrl-D) and lines, its
 * output read back from the terminal. Also as a script feed: lines on a pipe.
 * The tool's path is the first argument.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define KEY_TAB "\t"
#define KEY_UP "\033[A"
#define KEY_CTRL_C "\003"
#define KEY_CTRL_D "\004"
#define WAIT_MS 20000 /* generous: the sanitizer build is slow */

struct fixture {
    const char *tool;
    char home[64]; /* a fresh HOME, removed afterwards */
    char state[96]; /* XDG_STATE_HOME when not empty */
};

struct session {
    int fd;    /* the terminal's master side, or the pipe to stdin */
    int outfd; /* where the output is read: fd, or a pipe from stdout */
    pid_t pid;
    char out[1 << 16]; /* everything read so far */
    size_t len;
    size_t seen; /* expect() looks from here on */
    size_t sent; /* the length of the output when keys were last sent */
};

/* ---- the child ---- */

static void child_env(const struct fixture *f, const char *home, int color)
{
    setenv("TERM", "xterm", 1);
    setenv("HOME", home, 1);
    if (f->state[0])
        setenv("XDG_STATE_HOME", f->state, 1);
    else
        unsetenv("XDG_STATE_HOME");
    if (color)
        unsetenv("NO_COLOR");
    else
        setenv("NO_COLOR", "1", 1);
}

static void exec_shell(const char *tool, char *const extra[])
{
    char *argv[16] = {(char *)tool, "shell"};
    int n = 2;
    for (int i = 0; extra && extra[i] && n < 15; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    for (int tries = 0; tries < 50; tries++) { /* ETXTBSY: a write handle lingers briefly */
        execv(tool, argv);
        if (errno != ETXTBSY)
            break;
        usleep(100 * 1000);
    }
    _exit(127);
}

/* Starts the shell on a new terminal of 80 columns. */
static void start_tty(struct session *s, const struct fixture *f, const char *home, int color,
                      char *const extra[])
{
    struct winsize ws = {.ws_row = 40, .ws_col = 80};
    memset(s, 0, sizeof(*s));
    s->pid = forkpty(&s->fd, NULL, NULL, &ws);
    assert_true(s->pid >= 0);
    if (s->pid == 0) {
        child_env(f, home ? home : f->home, color);
        exec_shell(f->tool, extra);
    }
    s->outfd = s->fd;
}

/* Starts the shell with pipes for stdin and stdout (stderr joins stdout). */
static void start_pipe(struct session *s, const struct fixture *f, char *const extra[])
{
    int in[2], out[2];
    memset(s, 0, sizeof(*s));
    assert_int_equal(pipe(in), 0);
    assert_int_equal(pipe(out), 0);
    s->pid = fork();
    assert_true(s->pid >= 0);
    if (s->pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        dup2(out[1], 2);
        close(in[0]), close(in[1]), close(out[0]), close(out[1]);
        child_env(f, f->home, 0);
        exec_shell(f->tool, extra);
    }
    close(in[0]);
    close(out[1]);
    s->fd = in[1];
    s->outfd = out[0];
}

/* ---- talking to it ---- */

static void send_text(struct session *s, const char *text)
{
    size_t len = strlen(text);
    while (len) {
        ssize_t n = write(s->fd, text, len);
        assert_true(n > 0);
        text += n;
        len -= (size_t)n;
    }
    s->sent = s->len;
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads what is there within ms; 0 at the end of the output. */
static int read_some(struct session *s, int ms)
{
    struct pollfd p = {.fd = s->outfd, .events = POLLIN};
    if (poll(&p, 1, ms) <= 0)
        return 1;
    if (s->len + 1 >= sizeof(s->out))
        fail_msg("the shell wrote more than %zu bytes", sizeof(s->out));
    ssize_t n = read(s->outfd, s->out + s->len, sizeof(s->out) - 1 - s->len);
    if (n <= 0) /* EIO on a terminal whose other side is closed */
        return 0;
    s->len += (size_t)n;
    s->out[s->len] = '\0';
    return 1;
}

/* Waits until text appears after what earlier expectations consumed. */
static void expect_text(struct session *s, const char *text)
{
    long deadline = now_ms() + WAIT_MS;
    for (;;) {
        char *at = strstr(s->out + s->seen, text);
        if (at) {
            s->seen = (size_t)(at - s->out) + strlen(text);
            return;
        }
        long left = deadline - now_ms();
        if (left <= 0 || !read_some(s, (int)left))
            fail_msg("expected \"%s\"; the shell wrote:\n%s", text, s->out);
    }
}

/* The output as a terminal shows it, line after line: libedit redraws a
 * line with a carriage return and cursor moves (CSI n G), erases its end
 * (CSI K); other escapes (colours) leave no text. */
static void render(const struct session *s, char *screen, size_t size)
{
    char line[512];
    size_t col = 0, width = 0, used = 0;
    for (size_t i = 0; i < s->len; i++) {
        char c = s->out[i];
        if (c == '\033' && i + 1 < s->len && s->out[i + 1] == '[') {
            size_t j = i + 2, n = 0;
            while (j < s->len && ((s->out[j] >= '0' && s->out[j] <= '9') || s->out[j] == ';'))
                n = s->out[j] == ';' ? 0 : n * 10 + (size_t)(s->out[j] - '0'), j++;
            if (j < s->len && s->out[j] == 'G')
                col = n ? n - 1 : 0;
            else if (j < s->len && s->out[j] == 'K')
                width = col;
            i = j;
        } else if (c == '\r') {
            col = 0;
        } else if (c == '\b') {
            col = col ? col - 1 : 0;
        } else if (c == '\n') {
            used += (size_t)snprintf(screen + used, size - used, "%.*s\n", (int)width, line);
            if (used >= size)
                used = size - 1;
            col = width = 0;
        } else if (col < sizeof(line) && (unsigned char)c >= ' ') {
            while (width < col)
                line[width++] = ' ';
            line[col++] = c;
            width = col > width ? col : width;
        }
    }
    snprintf(screen + used, size - used, "%.*s", (int)width, line);
}

/* Waits until a line of the screen holds text (each screen line is looked
 * at once: the last one seen is remembered). */
static void expect_screen(struct session *s, const char *text)
{
    static char screen[1 << 16]; /* too large for the stack of a test */
    long deadline = now_ms() + WAIT_MS;
    for (;;) {
        render(s, screen, sizeof(screen));
        if (strstr(screen, text))
            return;
        long left = deadline - now_ms();
        if (left <= 0 || !read_some(s, (int)left))
            fail_msg("expected \"%s\" on the screen; it shows:\n%s", text, screen);
    }
}

/* How many times text appears in the whole output. */
static int count_text(const struct session *s, const char *text)
{
    int n = 0;
    for (const char *p = strstr(s->out, text); p; p = strstr(p + 1, text))
        n++;
    return n;
}

/* The terminal is in libedit's mode: not canonical (the master's termios
 * are the terminal's own). libedit writes its prompt before it leaves the
 * canonical mode, and a key sent in between would reach the line
 * discipline instead of libedit. */
static int editing(const struct session *s)
{
    struct termios t;
    return tcgetattr(s->fd, &t) == 0 && !(t.c_lflag & ICANON);
}

/* Waits until the shell waits for a line: a prompt ("vmsim> " or ">> ")
 * at the end of the output, on a line begun since keys were last sent, and
 * the terminal in libedit's hands. */
static void wait_prompt(struct session *s)
{
    long deadline = now_ms() + WAIT_MS;
    for (;;) {
        if (s->len >= s->sent + 2 && memcmp(s->out + s->len - 2, "> ", 2) == 0 &&
            memchr(s->out + s->sent, '\n', s->len - s->sent)) {
            while (!editing(s) && now_ms() < deadline)
                usleep(2000);
            return;
        }
        long left = deadline - now_ms();
        if (left <= 0 || !read_some(s, (int)left))
            fail_msg("expected a prompt; the shell wrote:\n%s", s->out);
    }
}

/* Keys at the start of a line: sent once the prompt is there (keys typed
 * ahead work, but their echo would come twice). */
static void type(struct session *s, const char *keys)
{
    wait_prompt(s);
    send_text(s, keys);
}

/* Reads to the end of the output; the exit status. */
static int finish(struct session *s)
{
    if (s->fd != s->outfd)
        close(s->fd);
    long deadline = now_ms() + WAIT_MS;
    while (now_ms() < deadline && read_some(s, 200))
        ;
    int status;
    long wait_until = now_ms() + WAIT_MS;
    pid_t r;
    while ((r = waitpid(s->pid, &status, WNOHANG)) == 0 && now_ms() < wait_until) {
        read_some(s, 50);
    }
    if (r == 0) {
        kill(s->pid, SIGKILL);
        waitpid(s->pid, &status, 0);
        fail_msg("the shell did not end; it wrote:\n%s", s->out);
    }
    close(s->outfd);
    if (!WIFEXITED(status))
        fail_msg("the shell died of signal %d; it wrote:\n%s", WTERMSIG(status), s->out);
    return WEXITSTATUS(status);
}

/* ---- fixture ---- */

static int setup(void **state)
{
    struct fixture *f = *state;
    f->state[0] = '\0';
    snprintf(f->home, sizeof(f->home), "/tmp/vmsim-shell-test-XXXXXX");
    return mkdtemp(f->home) ? 0 : -1;
}

static void remove_in(const char *dir, const char *name)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (unlink(path) != 0 && errno == EISDIR)
        rmdir(path);
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    remove_in(f->home, ".vmsim_history");
    remove_in(f->home, "file.txt");
    remove_in(f->home, "state/vmsim/history");
    remove_in(f->home, "state/vmsim");
    remove_in(f->home, "state");
    return rmdir(f->home);
}

/* ---- on a terminal ---- */

static void banner_prompt_and_ctrl_d(void **state)
{
    struct session s;
    start_tty(&s, *state, NULL, 0, NULL);
    expect_text(&s, "m = vmsim.machine 1");
    expect_text(&s, "t = vmsim.task 1000");
    expect_text(&s, "files: the folder \".\" of this machine is \"/\" inside m");
    /* inside a line Ctrl-D deletes the character under the cursor */
    type(&s, "512" "\002" KEY_CTRL_D "\r"); /* Ctrl-B: back one character */
    expect_text(&s, "\r\n51\r\n");
    type(&s, KEY_CTRL_D);
    assert_int_equal(finish(&s), 0);
    assert_int_equal(count_text(&s, "^D"), 0); /* leaves without an echo */
}

static void tab_completes_a_method_and_the_call_is_told(void **state)
{
    struct session s;
    start_tty(&s, *state, NULL, 0, NULL);
    expect_text(&s, "vmsim> ");
    type(&s, "a = t:mm" KEY_TAB);
    expect_screen(&s, "vmsim> a = t:mmap");
    send_text(&s, "(0, 4096, \"rw\", \"private|anonymous\")\r");
    expect_text(&s, "task 1000: mmap(0x0, 4096, \"rw\", \"private|anonymous\")");
    expect_text(&s, "= 0x7ffff7ffe000");
    expect_text(&s, "vmsim> ");
    /* the first store: a demand-zero fault, told under the call */
    type(&s, "t:store(a, \"Hi\")\r");
    expect_text(&s, "task 1000: store(0x7ffff7ffe000, \"Hi\")");
    expect_text(&s, "fault  CPU 0  anonymous, demand-zero");
    expect_text(&s, "= true");
    type(&s, "t:load(a, 2)\r");
    expect_text(&s, "load(0x7ffff7ffe000, 2) = \"Hi\"");
    expect_text(&s, "vmsim> ");
    type(&s, KEY_CTRL_D);
    assert_int_equal(finish(&s), 0);
}

static void tab_completes_constants_and_commands(void **state)
{
    struct session s;
    start_tty(&s, *state, NULL, 0, NULL);
    expect_text(&s, "vmsim> ");
    type(&s, "vmsim.PROT_RE" KEY_TAB);
    expect_screen(&s, "vmsim> vmsim.PROT_READ");
    send_text(&s, "\r");
    expect_text(&s, "\r\n1\r\n"); /* PROT_READ's value */
    /* several matches: listed, the line kept */
    expect_text(&s, "vmsim> ");
    type(&s, "vmsim.MAP_SHA" KEY_TAB);
    expect_screen(&s, "vmsim> vmsim.MAP_SHARED");
    send_text(&s, KEY_TAB); /* both names listed */
    expect_screen(&s, "\nvmsim.MAP_SHARED           vmsim.MAP_SHARED_VALIDATE\n");
    send_text(&s, "_" KEY_TAB);
    expect_screen(&s, "vmsim> vmsim.MAP_SHARED_VALIDATE");
    send_text(&s, "\r");
    expect_text(&s, "\r\n3\r\n");
    expect_text(&s, "vmsim> ");
    type(&s, ":wa" KEY_TAB);
    expect_screen(&s, "vmsim> :walk");
    send_text(&s, " 0\r");
    expect_text(&s, "PGD[0] @ 0x");
    expect_text(&s, "vmsim> ");
    type(&s, ":q" KEY_TAB);
    expect_screen(&s, "vmsim> :quit");
    send_text(&s, "\r");
    assert_int_equal(finish(&s), 0);
}

static void maps_and_walk(void **state)
{
    struct session s;
    start_tty(&s, *state, NULL, 0, NULL);
    expect_text(&s, "vmsim> ");
    type(&s, "a = t:mmap(0, 8192, \"rw\", \"private|anonymous\")\r");
    expect_text(&s, "= 0x7ffff7ffd000");
    type(&s, "t:store(a + 4096, \"x\")\r");
    expect_text(&s, "= true");
    type(&s, ":maps\r");
    expect_text(&s, "/proc/1000/maps:");
    expect_text(&s, "7ffff7ffd000-7ffff7fff000 rw-p 00000000 00:00 0\r\n");
    type(&s, ":walk a + 4096\r");
    expect_text(&s, "va 0x00007ffff7ffe000: 9 + 9 + 9 + 9 + 12 bits");
    expect_text(&s, "PGD index  bits 47..39     011111111 = 255");
    expect_text(&s, "PTE index  bits 20..12     111111110 = 510");
    expect_text(&s, "PTE[510] @ 0x");
    expect_text(&s, "P RW US A D NX -> frame 0x");
    expect_text(&s, "va 0x7ffff7ffe000 -> pa 0x");
    /* the page not yet touched: the walk ends at an empty PTE */
    type(&s, ":walk a\r");
    expect_text(&s, "PTE[509] @ 0x");
    expect_text(&s, "empty: the walk stops");
    type(&s, ":stats\r");
    expect_text(&s, "minor_faults                    1            +1");
    type(&s, ":stats\r");
    expect_text(&s, "minor_faults                    1            +0");
    type(&s, KEY_CTRL_D);
    assert_int_equal(finish(&s), 0);
}

static void errors_print_and_the_session_goes_on(void **state)
{
    struct session s;
    start_tty(&s, *state, NULL, 0, NULL);
    expect_text(&s, "vmsim> ");
    type(&s, "nil + 1\r");
    expect_text(&s, "stdin:1: attempt to perform arithmetic on a nil value");
    type(&s, "t:mmap(0, 4096, \"rwz\", \"private|anonymous\")\r");
    expect_text(&s, "unknown protection letter 'z'");
    type(&s, "t:munmap(1, 4096)\r");
    expect_text(&s, "= nil, \"EINVAL\", 22");
    type(&s, ":nothing\r");
    expect_text(&s, "unknown command :nothing");
    type(&s, ":help\r");
    expect_text(&s, ":walk ADDR       ADDR's 9/9/9/9/12 split");
    type(&s, "20 + 22\r");
    expect_text(&s, "\r\n42\r\n");
    type(&s, KEY_CTRL_D);
    assert_int_equal(finish(&s), 0);
}

static void a_statement_over_several_lines(void **state)
{
    struct session s;
    start_tty(&s, *state, NULL, 0, NULL);
    expect_text(&s, "vmsim> ");
    type(&s, "for i = 1, 2 do\r");
    expect_text(&s, ">> ");
    type(&s, "print(i * 100)\r");
    expect_text(&s, ">> ");
    type(&s, "end\r");
    expect_text(&s, "100\r\n200\r\n");
    type(&s, KEY_CTRL_D);
    assert_int_equal(finish(&s), 0);
}

static void up_arrow_recalls_a_line(void **state)
{
    struct session s;
    start_tty(&s, *state, NULL, 0, NULL);
    expect_text(&s, "vmsim> ");
    type(&s, "n = (n or 0) + 1; return n * 11\r");
    expect_text(&s, "\r\n11\r\n");
    expect_text(&s, "vmsim> ");
    type(&s, KEY_UP);
    expect_screen(&s, "vmsim> n = (n or 0) + 1; return n * 11\n"
                      "11\n"
                      "vmsim> n = (n or 0) + 1; return n * 11");
    send_text(&s, "\r");
    expect_text(&s, "\r\n22\r\n");
    type(&s, KEY_CTRL_D);
    assert_int_equal(finish(&s), 0);
}

static void history_outlives_the_session(void **state)
{
    struct fixture *f = *state;
    struct session s;
    start_tty(&s, f, NULL, 0, NULL);
    expect_text(&s, "vmsim> ");
    type(&s, "return 6 * 7\r");
    expect_text(&s, "\r\n42\r\n");
    type(&s, KEY_CTRL_D);
    assert_int_equal(finish(&s), 0);
    char path[128];
    snprintf(path, sizeof(path), "%s/.vmsim_history", f->home);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 077, 0); /* for its owner only */

    start_tty(&s, f, NULL, 0, NULL);
    expect_text(&s, "vmsim> ");
    type(&s, KEY_UP);
    expect_screen(&s, "vmsim> return 6 * 7");
    send_text(&s, "\r");
    expect_text(&s, "\r\n42\r\n");
    type(&s, KEY_CTRL_D);
    assert_int_equal(finish(&s), 0);
}

static void history_in_xdg_state_home(void **state)
{
    struct fixture *f = *state;
    snprintf(f->state, sizeof(f->state), "%s/state", f->home);
    assert_int_equal(mkdir(f->state, 0700), 0);
    struct session s;
    start_tty(&s, f, NULL, 0, NULL);
    type(&s, "return 3 * 5\r");
    expect_text(&s, "\r\n15\r\n");
    type(&s, KEY_CTRL_D);
    assert_int_equal(finish(&s), 0);
    char path[160];
    snprintf(path, sizeof(path), "%s/vmsim/history", f->state);
    FILE *file = fopen(path, "r");
    assert_non_null(file);
    char text[256] = {0};
    assert_true(fread(text, 1, sizeof(text) - 1, file) > 0);
    fclose(file);
    assert_non_null(strstr(text, "return")); /* libedit's encoding keeps the letters */
    snprintf(path, sizeof(path), "%s/.vmsim_history", f->home);
    assert_int_not_equal(access(path, F_OK), 0); /* not in HOME */
}

static void an_unwritable_home_only_loses_the_history(void **state)
{
    struct session s;
    start_tty(&s, *state, "/proc/self/nonexistent", 0, NULL);
    expect_text(&s, "vmsim> ");
    type(&s, "return 2 + 3\r");
    expect_text(&s, "\r\n5\r\n");
    type(&s, KEY_CTRL_D);
    assert_int_equal(finish(&s), 0);
    assert_int_equal(count_text(&s, "rror"), 0);
}

static void ctrl_c_stops_a_line_and_abandons_another(void **state)
{
    struct session s;
    start_tty(&s, *state, NULL, 0, NULL);
    expect_text(&s, "vmsim> ");
    type(&s, "while true do end\r");
    usleep(300 * 1000);
    send_text(&s, KEY_CTRL_C);
    expect_text(&s, "interrupted");
    expect_text(&s, "vmsim> ");
    type(&s, "this line is abandoned" KEY_CTRL_C);
    expect_text(&s, "vmsim> ");
    type(&s, "return 4 * 4\r");
    expect_text(&s, "\r\n16\r\n");
    type(&s, KEY_CTRL_D);
    assert_int_equal(finish(&s), 0);
    assert_int_equal(count_text(&s, "abandoned'"), 0); /* never run */
}

static void colour_on_a_terminal(void **state)
{
    struct session s;
    start_tty(&s, *state, NULL, 1, NULL);
    expect_text(&s, "vmsim> ");
    type(&s, "t:store(t:mmap(0, 4096, \"rw\", \"private|anonymous\"), \"x\")\r");
    expect_text(&s, "\033[1;31mfault\033[0m  CPU 0  anonymous, demand-zero");
    type(&s, KEY_CTRL_D);
    assert_int_equal(finish(&s), 0);
}

/* Ctrl-D destroys the machine: a store through a shared mapping reaches
 * the host file. */
static void ctrl_d_writes_dirty_pages_back(void **state)
{
    struct fixture *f = *state;
    char path[128];
    snprintf(path, sizeof(path), "%s/file.txt", f->home);
    FILE *file = fopen(path, "w");
    assert_non_null(file);
    fputs("Hello from the page cache\n", file);
    fclose(file);
    char *extra[] = {"--root", f->home, "--ram", "64M", "--cpus", "2", NULL};
    struct session s;
    start_tty(&s, f, NULL, 0, extra);
    expect_text(&s, "m = vmsim.machine 1 (2 CPUs, 64 MiB)");
    type(&s, "fd = t:open(\"file.txt\", \"rdwr\")\r");
    expect_text(&s, "= 3");
    type(&s, "p = t:mmap(0, 26, \"rw\", \"shared\", fd, 0)\r");
    expect_text(&s, "= 0x7ffff7ffe000");
    type(&s, "t:store(p, \"Hi\")\r");
    expect_text(&s, "= true");
    type(&s, KEY_CTRL_D);
    assert_int_equal(finish(&s), 0);
    char text[64] = {0};
    file = fopen(path, "r");
    assert_non_null(file);
    assert_non_null(fgets(text, sizeof(text), file));
    fclose(file);
    assert_string_equal(text, "Hillo from the page cache\n");
}

/* ---- as a script feed ---- */

static void a_pipe_is_a_script_feed(void **state)
{
    struct session s;
    start_pipe(&s, *state, NULL);
    send_text(&s, "t:mmap(0,4096,\"rw\",\"private|anonymous\")\n"
                  "x = 7\n"
                  "x * 6\n"
                  ":maps\n");
    assert_int_equal(finish(&s), 0);
    assert_int_equal(count_text(&s, "vmsim>"), 0); /* no prompt */
    assert_int_equal(count_text(&s, "m = vmsim.machine"), 0); /* no banner */
    assert_non_null(strstr(s.out, "task 1000: mmap(0x0, 4096, \"rw\", \"private|anonymous\")\n"
                                  "    cr3    CPU 0  CR3 <- PGD 0x00002000 (context switch, "
                                  "TLB flushed)\n"
                                  "    = 0x7ffff7ffe000\n"));
    assert_non_null(strstr(s.out, "\n42\n"));
    assert_non_null(strstr(s.out, "  7ffff7ffe000-7ffff7fff000 rw-p 00000000 00:00 0\n"));
    assert_null(strchr(s.out, '\033')); /* no colour */
}

static void a_failing_line_fails_the_feed(void **state)
{
    struct session s;
    start_pipe(&s, *state, NULL);
    send_text(&s, "x = 1\nerror('boom')\nprint('still here', x)\n");
    assert_int_equal(finish(&s), 1);
    /* the error, in its place among the output, and the lines after it ran */
    assert_non_null(strstr(s.out, "stdin:1: boom\nstill here\t1\n"));
}

static void handles_of_a_destroyed_machine_are_refused(void **state)
{
    struct session s;
    start_pipe(&s, *state, NULL);
    send_text(&s, "m:destroy()\n:maps\n:stats\n:walk 4096\nt:mmap(0, 4096, 'rw', 'private')\n");
    assert_int_equal(finish(&s), 1);
    assert_non_null(strstr(s.out, "t is not a live task"));
    assert_non_null(strstr(s.out, "m is not a live machine"));
    assert_int_equal(count_text(&s, "is not a live"), 3);
    assert_null(strstr(s.out, "Sanitizer"));
}

static void an_unfinished_statement_fails_the_feed(void **state)
{
    struct session s;
    start_pipe(&s, *state, NULL);
    send_text(&s, "for i = 1, 2 do\nprint(i)\n");
    assert_int_equal(finish(&s), 1);
    assert_non_null(strstr(s.out, "the input ended inside a statement"));
}

static void os_exit_ends_the_session_cleanly(void **state)
{
    struct fixture *f = *state;
    char path[128];
    snprintf(path, sizeof(path), "%s/file.txt", f->home);
    FILE *file = fopen(path, "w");
    assert_non_null(file);
    fputs("Hello\n", file);
    fclose(file);
    char *extra[] = {"--root", f->home, "--quiet", NULL};
    struct session s;
    start_pipe(&s, f, extra);
    send_text(&s, "fd = t:open('file.txt', 'rdwr')\n"
                  "p = t:mmap(0, 6, 'rw', 'shared', fd, 0)\n"
                  "t:store(p, 'J')\n"
                  "os.exit(3)\n"
                  "print('not run')\n");
    assert_int_equal(finish(&s), 3);
    assert_string_equal(s.out, "true\n");
    char text[16] = {0};
    file = fopen(path, "r");
    assert_non_null(file);
    assert_non_null(fgets(text, sizeof(text), file));
    fclose(file);
    assert_string_equal(text, "Jello\n"); /* written back on the way out */
}

static void tables_print_their_fields(void **state)
{
    struct session s;
    start_pipe(&s, *state, NULL);
    send_text(&s, "{3, 2, 1, b = 'x', a = {true}, [1.5] = 0}\n"
                  "local t = {} for i = 1, 40 do t[i] = i end return t\n");
    assert_int_equal(finish(&s), 0);
    assert_non_null(strstr(s.out, "{3, 2, 1, a = {true}, b = \"x\", ...}\n"));
    assert_non_null(strstr(s.out, "{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, "
                                  "19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, ...}\n"));
}

static void quiet_tells_no_calls(void **state)
{
    struct session s;
    char *extra[] = {"--quiet", NULL};
    start_pipe(&s, *state, extra);
    send_text(&s, "a = t:mmap(0,4096,\"rw\",\"private|anonymous\")\nt:store(a, 'x')\na\n");
    assert_int_equal(finish(&s), 0);
    assert_string_equal(s.out, "true\n140737354129408 (0x7ffff7ffe000)\n");
}

static void a_bad_configuration_is_refused(void **state)
{
    struct session s;
    char *extra[] = {"--ram", "12Q", NULL};
    start_pipe(&s, *state, extra);
    assert_int_equal(finish(&s), 2);
    assert_non_null(strstr(s.out, "vmsim shell: --ram: field 'ram': not a size"));
    char *unknown[] = {"--colour", NULL};
    start_pipe(&s, *state, unknown);
    assert_int_equal(finish(&s), 2);
    assert_non_null(strstr(s.out, "vmsim shell: --colour: unknown config field 'colour'"));
    char *root[] = {"--root", "/nonexistent/vmsim-shell-test", NULL};
    start_pipe(&s, *state, root);
    assert_int_equal(finish(&s), 2);
    assert_non_null(strstr(s.out, "cannot make the machine: ENOENT"));
    char *stray[] = {"script.lua", NULL};
    start_pipe(&s, *state, stray);
    assert_int_equal(finish(&s), 2);
    assert_non_null(strstr(s.out, "unexpected argument script.lua"));
}

static void help(void **state)
{
    struct session s;
    char *extra[] = {"--help", NULL};
    start_pipe(&s, *state, extra);
    assert_int_equal(finish(&s), 0);
    assert_non_null(strstr(s.out, "Usage: vmsim shell"));
    assert_non_null(strstr(s.out, ":walk ADDR"));
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s PATH-OF-VMSIM\n", argv[0]);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    struct fixture f = {.tool = argv[1]};
#define T(fn) cmocka_unit_test_prestate_setup_teardown(fn, setup, teardown, &f)
    const struct CMUnitTest tests[] = {
        T(banner_prompt_and_ctrl_d),
        T(tab_completes_a_method_and_the_call_is_told),
        T(tab_completes_constants_and_commands),
        T(maps_and_walk),
        T(errors_print_and_the_session_goes_on),
        T(a_statement_over_several_lines),
        T(up_arrow_recalls_a_line),
        T(history_outlives_the_session),
        T(history_in_xdg_state_home),
        T(an_unwritable_home_only_loses_the_history),
        T(ctrl_c_stops_a_line_and_abandons_another),
        T(colour_on_a_terminal),
        T(ctrl_d_writes_dirty_pages_back),
        T(a_pipe_is_a_script_feed),
        T(a_failing_line_fails_the_feed),
        T(handles_of_a_destroyed_machine_are_refused),
        T(an_unfinished_statement_fails_the_feed),
        T(os_exit_ends_the_session_cleanly),
        T(tables_print_their_fields),
        T(quiet_tells_no_calls),
        T(a_bad_configuration_is_refused),
        T(help),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}

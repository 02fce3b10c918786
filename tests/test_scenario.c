/*
 * test_scenario.c - the scenario reader through the oracle's public face
 * (difftest/oracle.h): what each line reads as (printed back as the
 * tester prints it), the limits of every number, and the message, with
 * its line number, for each kind of bad input. Nothing here runs on the
 * host: only oracle_scenario_parse.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "oracle.h"

/* Reads text (len bytes) and expects one step that prints as want. */
static void expect_reads_as_n(const char *text, size_t len, const char *want)
{
    char err[512] = "", call[512];
    oracle_scenario *s = oracle_scenario_parse("t.txt", text, len, err, sizeof(err));
    if (!s)
        fail_msg("'%s' refused: %s", text, err);
    assert_int_equal(oracle_scenario_steps(s), 1);
    oracle_scenario_call(s, 0, call, sizeof(call));
    assert_string_equal(call, want);
    oracle_scenario_free(s);
}

static void expect_reads_as(const char *text, const char *want)
{
    expect_reads_as_n(text, strlen(text), want);
}

/* Reads text (len bytes) and expects it refused with a message holding want. */
static void expect_error_n(const char *text, size_t len, const char *want)
{
    char err[512] = "";
    oracle_scenario *s = oracle_scenario_parse("t.txt", text, len, err, sizeof(err));
    assert_null(s);
    if (!strstr(err, want))
        fail_msg("message '%s' does not hold '%s'", err, want);
}

static void expect_error(const char *text, const char *want) { expect_error_n(text, strlen(text), want); }

static void test_numbers(void **state)
{
    (void)state;
    expect_reads_as("load +0x100 010\n", "load +0x100 0xa"); /* decimal, never octal */
    expect_reads_as("lseek 3 -0x8000000000000000 SET", "lseek 3 -0x8000000000000000 SET");
    expect_reads_as("lseek 3 0xffffffffffffffff SET", "lseek 3 -0x1 SET");
    expect_error("lseek 3 -0x8000000000000001 SET", "t.txt:1: lseek: bad or missing argument 2");
    expect_error("lseek 3 0x10000000000000000 SET", "t.txt:1: lseek: bad or missing argument 2");
    expect_error("lseek 3 18446744073709551616 SET", "bad or missing argument 2");
    expect_reads_as("close 0xffffffff", "close -1"); /* a 32-bit pattern is the int */
    expect_error("close 0x100000003", "t.txt:1: close: bad or missing argument 1");
    expect_error("close 0x", "bad or missing argument 1");
    expect_error("close +3", "bad or missing argument 1");
    expect_reads_as("store +0x0 1 0xff", "store +0x0 0x1 0xff");
    expect_error("store +0x0 1 0x100", "the first byte stored: 0..0xff");
    expect_error("store +0x0 1 -1", "the first byte stored: 0..0xff");
}

static void test_addresses_and_flags(void **state)
{
    (void)state;
    expect_reads_as("munmap +-0x1000 0x1000", "munmap +-0x1000 0x1000");
    expect_reads_as("munmap 0x7ffff000 0", "munmap 0x7ffff000 0x0");
    expect_reads_as("mprotect +0x0 0x1000 NONE", "mprotect +0x0 0x1000 NONE");
    expect_reads_as("mprotect +0x0 0x1000 READ|0x4", "mprotect +0x0 0x1000 READ|EXEC");
    expect_reads_as("mmap +0x0 0x1000 READ 0x22 -1 0", "mmap +0x0 0x1000 READ PRIVATE|ANONYMOUS -1 0x0");
    expect_reads_as("open f0 RDWR|CREAT", "open f0 RDWR|CREAT");
    expect_reads_as("@3 fork", "@3 fork");
    expect_reads_as("mincore +0x0 0x1000 vecnull", "mincore +0x0 0x1000 vecnull");
    expect_error("mprotect +0x0 0x1000 READ||WRITE", "bad or missing argument 3");
    expect_error("mmap +0x0 0x1000 READ PRIVATE|ANONYMOS -1 0", "('PRIVATE|ANONYMOS': expected mmap flags");
    expect_error("open nosuch RDONLY", "t.txt:1: refused: a path belongs to a recorded scenario");
    expect_error("@8 fork", "t.txt:1: refused: bad process (@0..@7");
    expect_error("@256 fork", "t.txt:1: bad process '@256' (@0..@7; @255 in a recorded scenario)");
    expect_error("@1", "no operation after '@1'");
}

static void test_lines(void **state)
{
    (void)state;
    /* comments, blanks and a CRLF file */
    char err[512] = "";
    const char text[] = "# a comment\r\n\r\n   \t\n  # indented \x01\xff comment\nsync\r\n@1 exit";
    oracle_scenario *s = oracle_scenario_parse("t.txt", text, sizeof(text) - 1, err, sizeof(err));
    assert_non_null(s);
    assert_int_equal(oracle_scenario_steps(s), 2);
    assert_int_equal(oracle_scenario_line(s, 0), 5);
    assert_int_equal(oracle_scenario_line(s, 1), 6);
    oracle_scenario_free(s);
    expect_error("sync\nsync # why\n", "t.txt:2: sync: unexpected '#' after the last argument");
    expect_error("sync\nload +0x0\n", "t.txt:2: load: missing argument 2 (a length: a number); load takes 2");
    expect_error("sync\nsync\nnosuch 1 2\n", "t.txt:3: unknown operation 'nosuch'");
    expect_error("exit\n", "t.txt:1: refused: process 0 cannot exit");
    expect_error("load +0x8000000 4\n", "t.txt:1: refused: access outside the window");
}

/* A recorded scenario's steps: its operation lines, set, arg, env and maps aside. */
static oracle_scenario *recorded(const char *text)
{
    char err[512] = "";
    oracle_scenario *s = oracle_scenario_parse("r.txt", text, strlen(text), err, sizeof(err));
    if (!s)
        fail_msg("refused: %s", err);
    assert_true(oracle_scenario_recorded(s));
    return s;
}

static void test_recorded_lines(void **state)
{
    (void)state;
    oracle_scenario *s = recorded("set pku=0\n"
                                  "arg prog\n"
                                  "arg \"two words, a \\\" and \\x41\"\n"
                                  "arg+ \" more\"\n"
                                  "env HOME 5\n"
                                  "execve /usr/bin/true => 0\n"
                                  "maps 555555554000-555555556000 r--p 00000000 /usr/bin/true\n"
                                  "maps 7ffff7fc2000-7ffff7fc6000 r--p 00000000 /a b (deleted)\n"
                                  "brk 0 => 0x55555555e000\n"
                                  "open \"/a b\" RDONLY|0x80000 => -ENOENT\n"
                                  "store 0x7ffff7fc0000 1 0x78 => ok\n"
                                  "load 0x1000 1 => SIGSEGV\n"
                                  "thread => @1\n"
                                  "@1 exit => 0\n");
    assert_int_equal(oracle_scenario_steps(s), 14);
    char call[512];
    const struct { int step; const char *want; } calls[] = {
        {2, "arg \"two words, a \\\" and A\""}, {5, "execve /usr/bin/true"},
        {6, "maps 555555554000-555555556000 r--p 00000000 /usr/bin/true"},
        {7, "maps 7ffff7fc2000-7ffff7fc6000 r--p 00000000 /a b (deleted)"},
        {8, "brk 0x0"}, {9, "open \"/a b\" RDONLY|0x80000"}, {13, "@1 exit"},
    };
    for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
        oracle_scenario_call(s, calls[i].step, call, sizeof(call));
        assert_string_equal(call, calls[i].want);
    }
    oracle_scenario_free(s);
    /* A scenario that starts with an ordinary line is a live one. */
    char err[512];
    s = oracle_scenario_parse("l.txt", "load +0x0 1\n", 12, err, sizeof(err));
    assert_false(oracle_scenario_recorded(s));
    oracle_scenario_free(s);
}

static void test_recorded_refusals(void **state)
{
    (void)state;
    /* Lines of a recording in a live scenario. */
    expect_error("load +0x0 1\nbrk 0x0\n", "t.txt:2: refused: this line belongs to a recorded scenario");
    expect_error("load +0x0 1 => ok\n", "t.txt:1: refused: an answer ('=> ...') belongs to a recorded");
    /* The order a recording has. */
    expect_error("execve /p => 0\nset pku=0\n", "t.txt:2: refused: set comes before every other line");
    expect_error("execve /p => 0\narg+ x\n", "t.txt:2: refused: arg+ continues the arg line");
    expect_error("arg x\nmaps 1000-2000 r--p 00000000\n", "t.txt:2: refused: maps lines follow the operation");
    expect_error("arg x\nbrk 0\n", "t.txt:2: refused: arg and env lines are followed by their execve");
    expect_error("execve /p => 0\narg x\n", "t.txt:2: refused: arg and env lines are followed by their execve, "
                                            "and the scenario ends first");
    /* Nothing a recording replays writes a file of this machine. */
    expect_error("execve /p\nopen /etc/passwd RDWR\n", "t.txt:2: refused: a recorded scenario opens files read-only");
    expect_error("execve /p\nopen /x RDONLY|CREAT\n", "t.txt:2: refused: a recorded scenario opens files read-only");
    expect_error("execve /p\npwrite 3 0x1000 1 0\n", "t.txt:2: refused: a recorded scenario writes no file");
    /* Bad lines of each new kind, named by line. */
    expect_error("set no_such=1\n", "t.txt:1: set: bad or missing argument 1");
    expect_error("env A=B 3\n", "t.txt:1: env: bad or missing argument 1");
    expect_error("env A 200000\n", "t.txt:1: env: bad or missing argument 2");
    expect_error("arg \"open\n", "t.txt:1: arg: a quote is not closed");
    expect_error("arg \"\\q\"\n", "t.txt:1: arg: bad or missing argument 1");
    expect_error("execve /p => maybe\n", "t.txt:1: execve: bad answer after '=>' ('maybe'");
    expect_error("execve /p\nstore 0x1000 1 0 => 5\n", "t.txt:2: store: bad answer after '=>'");
    expect_error("execve /p\nthread => 3\n", "t.txt:2: thread: bad answer after '=>'");
    expect_error("execve /p\nmaps 1000-2000 r-zp 0\n", "t.txt:2: maps: bad line");
    expect_error("execve /p\nmmap 0x0 0x1000 READ PRIVATE|ANONYMOUS -1 0 => 0x1000 x\n",
                 "t.txt:2: mmap: unexpected 'x' after the last argument");
}

static void test_bad_bytes(void **state)
{
    (void)state;
    static const char nul_in_comment[] = "sync\n# a comment with a NUL \0 in it\n";
    static const char nul_in_op[] = "sync\nsync\0\n";
    expect_error_n(nul_in_comment, sizeof(nul_in_comment) - 1, "t.txt:2: a NUL byte at column 24");
    expect_error_n(nul_in_op, sizeof(nul_in_op) - 1, "t.txt:2: a NUL byte at column 5");
    expect_error("sync\nload +0x0 4\xc3\xa9\n", "t.txt:2: byte 0xc3 at column 12 is not printable ASCII");
    expect_error("sync\x1b[0m\n", "t.txt:1: byte 0x1b at column 5");
    char longline[600];
    memset(longline, ' ', sizeof(longline));
    memcpy(longline, "sync", 4);
    longline[sizeof(longline) - 1] = '\0';
    expect_error(longline, "t.txt:1: line longer than 400 bytes");
    longline[400] = '\0'; /* 400 bytes: still a line */
    expect_reads_as(longline, "sync");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_addresses_and_flags),
        cmocka_unit_test(test_lines),
        cmocka_unit_test(test_bad_bytes),
        cmocka_unit_test(test_recorded_lines),
        cmocka_unit_test(test_recorded_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

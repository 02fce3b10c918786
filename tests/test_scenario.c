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
    expect_error("open nosuch RDONLY", "expected a file name: f0, f1, f2, f3, new, d or missing");
    expect_error("@8 fork", "t.txt:1: bad process '@8' (@0..@7)");
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

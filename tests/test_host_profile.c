/*
 * test_host_profile.c - the host profile (host/profile.c), the one place
 * that reads this machine: what it reads must be usable on any host (it
 * never fails, it says where a value could not be read), and a tester can
 * ask whether the host changed under it mid-run (another program turning a
 * swap area on, a sysctl set), which would make any difference it saw
 * meaningless. These tests look at the reader, not at this host's values.
 */
#include "testutil.h"

#include "vmsim_host.h"

#include <string.h>

static void test_a_quiet_host_has_not_changed(void **state)
{
    (void)state;
    struct host_profile p;
    host_profile_read(&p, "/tmp");
    char what[256];
    assert_int_equal(host_profile_changed(&p, "/tmp", what, sizeof(what)), 0);
    assert_string_equal(what, "");
}

/* A profile read before the host changed: here, one that says other values
 * than the host's now. Each changed value is named with both readings. */
static void test_changed_values_are_named(void **state)
{
    (void)state;
    struct host_profile then;
    host_profile_read(&then, "/tmp");
    uint64_t swap_now = then.swap_total;
    then.swap_total += 64ULL << 20;
    then.max_map_count -= 1;
    char what[256], want[128];
    assert_int_equal(host_profile_changed(&then, "/tmp", what, sizeof(what)), 2);
    snprintf(want, sizeof(want), "swap_total %llu -> %llu", (unsigned long long)then.swap_total,
             (unsigned long long)swap_now);
    assert_non_null(strstr(what, want));
    assert_non_null(strstr(what, "max_map_count"));
    /* A short buffer still counts every change and stays a string. */
    char tiny[8];
    assert_int_equal(host_profile_changed(&then, "/tmp", tiny, sizeof(tiny)), 2);
    assert_true(strlen(tiny) < sizeof(tiny));
}

/* The profile sets the machine's config within what the library accepts. */
static void test_profile_gives_a_valid_config(void **state)
{
    (void)state;
    struct host_profile p;
    host_profile_read(&p, "/tmp");
    struct vms_config c;
    vms_config_init(&c);
    host_profile_apply(&p, &c);
    char msg[200];
    assert_int_equal(vms_config_check(&c, msg, sizeof(msg)), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_quiet_host_has_not_changed),
        cmocka_unit_test(test_changed_values_are_named),
        cmocka_unit_test(test_profile_gives_a_valid_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

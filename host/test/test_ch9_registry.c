/* The chapter 9 registry: ids unique and in run order, the --only rule, and
 * docs/host.md's table of checks equal to the registry (id and title).
 *
 * usage: test_ch9_registry [PATH/docs/host.md]   (meson passes it; default
 * HILDA_DOCS_HOST_MD). When the table differs, the table that belongs there
 * is printed, ready to paste. */
#include <stdio.h>
#include <stdlib.h>

#include "ch9.h"
#include "testutil.h"

#ifndef HILDA_DOCS_HOST_MD
#define HILDA_DOCS_HOST_MD "docs/host.md"
#endif

#define TABLE_HEADING "## The chapter 9 battery (`ch9`)"
#define TABLE_HEADER "| id | check |"

static const char *docs_path = HILDA_DOCS_HOST_MD;

static void ids_unique_and_in_stage_order(void **state)
{
    (void)state;
    size_t n;
    const struct hilda_ch9_check *k = hilda_ch9_checks(&n);
    assert_true(n >= 50);
    for (size_t i = 0; i < n; i++) {
        assert_non_null(k[i].id);
        assert_non_null(k[i].title);
        assert_non_null(k[i].run);
        assert_true(k[i].title[0] != '\0');
        assert_true(strchr(k[i].title, '|') == NULL);   /* a table cell in docs/host.md */
        if (i)
            assert_true(k[i - 1].stage <= k[i].stage);   /* the registry is the run order */
        for (size_t j = 0; j < i; j++)
            if (strcmp(k[i].id, k[j].id) == 0)
                fail_msg("id %s twice in the registry", k[i].id);
    }
}

/* How many registry entries `only` selects; *first receives the first one's id. */
static size_t selected(const char *only, const char **first)
{
    size_t n, count = 0;
    const struct hilda_ch9_check *k = hilda_ch9_checks(&n);
    *first = NULL;
    for (size_t i = 0; i < n; i++)
        if (hilda_ch9_check_selected(&k[i], only)) {
            if (!count)
                *first = k[i].id;
            count++;
        }
    return count;
}

static void only_rule(void **state)
{
    (void)state;
    const char *first;
    /* a prefix ends at '-' or '.' */
    assert_true(hilda_ch9_id_selected("9.1-device", "9.1"));
    assert_false(hilda_ch9_id_selected("9.10-bad-type", "9.1"));
    assert_true(hilda_ch9_id_selected("9.10-bad-type", "9.10"));
    assert_true(hilda_ch9_id_selected("9.1-device-short", "9.1-device"));
    assert_true(hilda_ch9_id_selected("9.1-device", "9.1-"));
    assert_false(hilda_ch9_id_selected("9.1-device", "9.1-dev"));
    assert_true(hilda_ch9_id_selected("9.9-halt-0x81", "9.9-halt-0x81"));
    assert_false(hilda_ch9_id_selected("9.9-halt-0x81", "9.9-halt-0x8"));
    assert_true(hilda_ch9_id_selected("10-queue", NULL));
    assert_false(hilda_ch9_id_selected("10-queue", ""));

    assert_int_equal(selected("9.1", &first), 5);
    assert_string_equal(first, "9.1-device");
    assert_int_equal(selected("9.10", &first), 5);
    assert_string_equal(first, "9.10-bad-type");
    assert_int_equal(selected("9.13-address", &first), 6);
    assert_int_equal(selected("10-queue", &first), 1);
    assert_int_equal(selected("10", &first), 1);
    assert_string_equal(first, "10-queue");
    assert_int_equal(selected("9.16-reset", &first), 1);
    /* entries standing for one result per string or endpoint */
    assert_int_equal(selected("9.9-halt-0x81", &first), 1);
    assert_string_equal(first, "9.9-halt-0xNN");
    assert_int_equal(selected("9.9-halt", &first), 1);
    assert_int_equal(selected("9.9-halt-0x8", &first), 0);
    assert_int_equal(selected("9.9-halt-0x8g", &first), 0);
    assert_int_equal(selected("9.8-string-1", &first), 1);
    assert_string_equal(first, "9.8-string-N");
    assert_int_equal(selected("9.8-string-12", &first), 1);
    assert_int_equal(selected("9.8-string-x", &first), 0);
    assert_int_equal(selected("9.8-string", &first), 3);   /* -N, -missing, -langid; not string0 */
    size_t n;
    hilda_ch9_checks(&n);
    assert_int_equal(selected("9", &first), n - 1);        /* all but 10-queue */
    assert_true(hilda_ch9_only_matches_any(NULL));
    assert_true(hilda_ch9_only_matches_any("9.9"));
    assert_true(hilda_ch9_only_matches_any("9.8-string-3"));
    assert_false(hilda_ch9_only_matches_any("9.99"));
    assert_false(hilda_ch9_only_matches_any("9.1-dev"));
    assert_false(hilda_ch9_only_matches_any("11"));
    assert_false(hilda_ch9_only_matches_any(""));
}

/* Every id the battery reported against the hilda dongle before the
 * registry existed: each must still have its entry. */
static void todays_ids_covered(void **state)
{
    (void)state;
    static const char *const ids[] = {
        "9.1-device", "9.1-device-short", "9.1-device-long", "9.1-device-maxp0", "9.1-device-os",
        "9.2-config-header", "9.2-config-full", "9.2-config-long", "9.2-config-18", "9.2-config-minus1",
        "9.2-config-1024-maxp0", "9.2-config-index", "9.2-validate", "9.10-bad-type", "9.10-interface",
        "9.10-endpoint", "9.10-set-descriptor", "9.10-unknown-request", "9.19-qualifier", "9.19-other-speed",
        "9.8-string0", "9.8-string0-short", "9.8-string-1", "9.8-string-4", "9.8-string-missing",
        "9.8-string-langid", "9.7-bos", "9.13-address-status-device", "9.13-address-status-ep0",
        "9.13-address-status-interface", "9.13-address-get-interface", "9.13-address-status-ep",
        "9.13-address-descriptor", "9.13-set-configuration", "9.13-set-configuration-invalid",
        "9.13-get-configuration", "9.18-status-device", "9.4-status-interface", "9.9-status-ep0-out",
        "9.9-status-ep0-in", "9.9-clear-halt-ep0", "9.4-status-interface-missing", "9.9-status-ep-missing",
        "9.4-set-feature-interface", "9.12-remote-wakeup", "9.4-get-interface", "9.4-set-interface",
        "9.4-set-interface-invalid", "9.4-get-interface-missing", "9.9-set-halt-ep0", "9.9-halt-0x81",
        "9.9-halt-0x01", "9.9-loopback-toggle", "10-queue", "9.16-reset",
    };
    size_t n;
    const struct hilda_ch9_check *k = hilda_ch9_checks(&n);
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        bool found = false;
        for (size_t j = 0; j < n && !found; j++)
            found = strcmp(k[j].id, ids[i]) == 0 || (strchr(k[j].id, 'N') && hilda_ch9_check_selected(&k[j], ids[i]));
        if (!found)
            fail_msg("%s has no entry in the registry", ids[i]);
    }
}

/* ---- docs/host.md ---- */

static void print_table(FILE *to)
{
    size_t n;
    const struct hilda_ch9_check *k = hilda_ch9_checks(&n);
    fprintf(to, "%s\n|---|---|\n", TABLE_HEADER);
    for (size_t i = 0; i < n; i++)
        fprintf(to, "| `%s` | %s |\n", k[i].id, k[i].title);
}

/* The table under TABLE_HEADING, as text; NULL if there is none. */
static char *docs_table(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char line[1024];
    bool in_section = false, in_table = false;
    size_t cap = 1 << 16, len = 0;
    char *out = calloc(1, cap);
    while (out && fgets(line, sizeof line, f)) {
        if (!in_section) {
            in_section = strncmp(line, TABLE_HEADING, strlen(TABLE_HEADING)) == 0;
            continue;
        }
        if (!in_table) {
            if (strncmp(line, "## ", 3) == 0)
                break;   /* the section ended without a table */
            in_table = strncmp(line, TABLE_HEADER, strlen(TABLE_HEADER)) == 0;
        }
        if (in_table) {
            if (line[0] != '|')
                break;
            size_t l = strlen(line);
            if (len + l + 1 > cap)
                break;
            memcpy(out + len, line, l + 1);
            len += l;
        }
    }
    fclose(f);
    if (out && !len) {
        free(out);
        return NULL;
    }
    return out;
}

static void docs_table_is_the_registry(void **state)
{
    (void)state;
    char *have = docs_table(docs_path);
    char want[1 << 16];
    FILE *m = fmemopen(want, sizeof want, "w");
    assert_non_null(m);
    print_table(m);
    fclose(m);
    bool same = have && strcmp(have, want) == 0;
    if (!same)
        fprintf(stderr, "%s: the table of chapter 9 checks under \"%s\" %s the registry (host/lib/ch9.c).\n"
                        "Put this table there:\n\n%s\n", docs_path, TABLE_HEADING, have ? "differs from" : "is missing from",
                want);
    free(have);   /* once, before fail_msg, which does not return */
    if (!same)
        fail_msg("docs/host.md's check table is not the registry");
}

/* 9.13-set-configuration-invalid's value: never a configuration's, never 0, and no wrap at 255
 * (it once sent 0x0100 there: `v + 1 == 0` on a promoted uint8_t is never true). */
static void invalid_configuration_value(void **state)
{
    (void)state;
    assert_int_equal(hilda_ch9_unused_config_value(1, 1), 2);
    assert_int_equal(hilda_ch9_unused_config_value(1, 3), 4);    /* not configuration 2 of three */
    assert_int_equal(hilda_ch9_unused_config_value(7, 1), 8);
    assert_int_equal(hilda_ch9_unused_config_value(254, 1), 255);
    assert_int_equal(hilda_ch9_unused_config_value(255, 1), 254);
    assert_int_equal(hilda_ch9_unused_config_value(255, 254), 1);  /* only 1..254 and 255 are used: none left */
    assert_int_equal(hilda_ch9_unused_config_value(1, 255), 1);
    for (unsigned v = 1; v <= UINT8_MAX; v++)
        for (unsigned n = 0; n < 4; n++) {
            uint8_t got = hilda_ch9_unused_config_value((uint8_t)v, (uint8_t)n);
            assert_int_not_equal(got, 0);
            assert_int_not_equal(got, v);
            assert_true(got > n);
        }
}

int main(int argc, char **argv)
{
    if (argc > 1)
        docs_path = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ids_unique_and_in_stage_order),
        cmocka_unit_test(only_rule),
        cmocka_unit_test(todays_ids_covered),
        cmocka_unit_test(docs_table_is_the_registry),
        cmocka_unit_test(invalid_configuration_value),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

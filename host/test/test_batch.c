/* The batch protocol's request side, without a device: a line parsed, its
 * cmd found in the registry and its fields read by that command's JSON-args
 * parser (the same args struct the command line fills). */
#include <stdlib.h>

#include "cli.h"
#include "testutil.h"

/* Parses line; returns the status (HILDA_OK when accepted) and leaves r filled. */
static enum hilda_status parse(const char *line, struct batch_request *r, struct hilda_error *e)
{
    hilda_error_clear(e);
    bool ok = batch_request_parse(line, strlen(line), r, e);
    assert_true(ok == (e->status == HILDA_OK));
    return e->status;
}

static void accepted(const char *line, const struct cmd *cmd)
{
    struct batch_request r;
    struct hilda_error e;
    if (parse(line, &r, &e) != HILDA_OK)
        fail_msg("refused: %s (%s)", line, e.message);
    assert_ptr_equal(r.cmd, cmd);
    assert_non_null(r.args);
    batch_request_free(&r);
}

static void refused(const char *line, const char *words)
{
    struct batch_request r;
    struct hilda_error e;
    if (parse(line, &r, &e) == HILDA_OK)
        fail_msg("accepted: %s", line);
    assert_int_equal(e.status, HILDA_ERR_USAGE);
    if (!strstr(e.message, words))
        fail_msg("%s: \"%s\" does not say \"%s\"", line, e.message, words);
    batch_request_free(&r);
}

static void commands_found(void **state)
{
    (void)state;
    accepted("{\"id\":1,\"cmd\":\"ctrl\",\"bmRequestType\":192,\"bRequest\":1,\"wLength\":8}", &cmd_ctrl);
    accepted("{\"cmd\":\"ctrl\",\"bmRequestType\":\"0x40\",\"bRequest\":\"0x10\",\"data\":\"0102\"}", &cmd_ctrl);
    accepted("{\"cmd\":\"list\",\"all\":true}", &cmd_list);
    accepted("{\"cmd\":\"echo\",\"length\":200,\"read_length\":100}", &cmd_echo);
    accepted("{\"cmd\":\"desc\",\"blob\":\"1201\"}", &cmd_desc);
    accepted("{\"cmd\":\"stress\",\"piece\":\"random\",\"seed\":3,\"count\":300}", &cmd_stress);
    accepted("{\"cmd\":\"timing\",\"kinds\":\"in,out\",\"sizes\":\"8,64\",\"count\":10}", &cmd_timing);
    accepted("{\"cmd\":\"uart_send\",\"data\":\"68656c6c6f\"}", &cmd_uart);
    accepted("{\"cmd\":\"uart_recv\",\"count\":0}", &cmd_uart);
    accepted("{\"cmd\":\"uart_baud\",\"baud\":115200}", &cmd_uart);
    accepted("{\"cmd\":\"uart_status\"}", &cmd_uart);
    accepted("{\"cmd\":\"stats\"}", &cmd_stats);
    accepted("{\"cmd\":\"version\"}", &cmd_stats);
    accepted("{\"cmd\":\"reset_counters\"}", &cmd_stats);
    accepted("{\"cmd\":\"fault_stall\"}", &cmd_fault);
    accepted("{\"cmd\":\"fault_delay\",\"ms\":500}", &cmd_fault);
    accepted("{\"cmd\":\"reset\",\"wait_ms\":10000}", &cmd_reset);
    accepted("{\"cmd\":\"bootloader\"}", &cmd_bootloader);
    accepted("{\"cmd\":\"ch9\",\"list\":true}", &cmd_ch9);
}

static void session_commands(void **state)
{
    (void)state;
    static const char *const names[] = { "hello", "open", "close", "info", "wait", "quit" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char line[64];
        snprintf(line, sizeof line, "{\"id\":\"x\",\"cmd\":\"%s\"}", names[i]);
        struct batch_request r;
        struct hilda_error e;
        assert_int_equal(parse(line, &r, &e), HILDA_OK);
        assert_true(r.session >= 0);
        assert_null(r.cmd);
        assert_string_equal(json_string_value(r.id), "x");
        batch_request_free(&r);
    }
}

static void requests_refused(void **state)
{
    (void)state;
    refused("this is not json", "one JSON object per line");
    refused("[1,2]", "not an object");
    refused("{\"id\":1}", "no \"cmd\"");
    refused("{\"cmd\":7}", "\"cmd\" must be a string");
    refused("{\"cmd\":\"launch\"}", "unknown cmd \"launch\"");
    refused("{\"cmd\":\"ctrl\",\"bRequest\":1}", "needs \"bmRequestType\"");
    refused("{\"cmd\":\"ctrl\",\"bmRequestType\":300,\"bRequest\":1}", "\"bmRequestType\" must be an integer in 0..255");
    refused("{\"cmd\":\"ctrl\",\"bmRequestType\":192,\"bRequest\":1,\"wLength\":8,\"data\":\"00\"}", "not \"data\"");
    refused("{\"cmd\":\"ctrl\",\"bmRequestType\":64,\"bRequest\":1,\"timeout_ms\":-5}", "\"timeout_ms\"");
    refused("{\"cmd\":\"echo\",\"data\":\"xyz\"}", "\"data\": 'xyz' is not hexadecimal");
    refused("{\"cmd\":\"echo\",\"length\":5000}", "\"length\"");
    refused("{\"cmd\":\"list\",\"all\":1}", "\"all\" must be true or false");
    refused("{\"cmd\":\"stress\",\"piece\":\"all\"}", "\"piece\" is descriptors");
    refused("{\"cmd\":\"stress\"}", "\"piece\"");
    refused("{\"cmd\":\"timing\",\"kinds\":\"bulk\"}", "kind \"bulk\"");
    refused("{\"cmd\":\"uart_send\"}", "needs \"data\"");
    refused("{\"cmd\":\"uart_baud\",\"baud\":1}", "unsupported baud rate 1; supported: 9600, 14400, ");
    refused("{\"cmd\":\"fault_delay\"}", "\"ms\" (1..5000)");
    refused("{\"cmd\":\"fault_delay\",\"ms\":6000}", "\"ms\"");
    refused("{\"cmd\":\"ch9\",\"rounds\":65}", "\"rounds\"");
    refused("{\"cmd\":\"ch9\",\"only\":\"9.99\"}", "selects no check");
}

/* The id comes back for a refused request too, once the line was an object. */
static void id_kept_when_refused(void **state)
{
    (void)state;
    struct batch_request r;
    struct hilda_error e;
    assert_int_equal(parse("{\"id\":\"s\",\"nocmd\":1}", &r, &e), HILDA_ERR_USAGE);
    assert_string_equal(json_string_value(r.id), "s");
    assert_null(r.name);
    batch_request_free(&r);
    assert_int_equal(parse("{\"id\":4,\"cmd\":\"echo\",\"data\":\"q\"}", &r, &e), HILDA_ERR_USAGE);
    assert_int_equal(json_integer_value(r.id), 4);
    assert_string_equal(r.name, "echo");
    batch_request_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(commands_found),
        cmocka_unit_test(session_commands),
        cmocka_unit_test(requests_refused),
        cmocka_unit_test(id_kept_when_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* fault_stall, fault_delay: the firmware's fault injection, for batch
 * sessions (on the command line: hilda ctrl out vendor device fault_stall
 * 0 0 -). */
#include "cli.h"

struct fault_args {
    unsigned delay_ms;   /* 0: FAULT_STALL; else FAULT_DELAY of that many ms */
};

static bool stall_json(const json_t *req, void *args, struct hilda_error *e)
{
    (void)req, (void)args, (void)e;
    return true;
}

static bool delay_json(const json_t *req, void *args, struct hilda_error *e)
{
    struct fault_args *a = args;
    unsigned long long ms;
    if (!hilda_field_uint(req, "ms", 5000, 0, &ms, e))
        return false;
    if (!ms) {
        hilda_fail(e, HILDA_ERR_USAGE, "fault_delay needs \"ms\" (1..5000)");
        return false;
    }
    a->delay_ms = (unsigned)ms;
    return true;
}

static enum hilda_status fault_run(struct cmd_io *io, void *args, struct hilda_error *e)
{
    const struct fault_args *a = args;
    enum hilda_status st = cmd_open(io, true, e);
    if (st)
        return st;
    return a->delay_ms ? hilda_fault_delay(io->d, (uint16_t)a->delay_ms, e) : hilda_fault_stall(io->d, e);
}

const struct cmd cmd_fault = {
    .name = NULL,   /* batch only */
    .args_size = sizeof(struct fault_args),
    .json = (const struct cmd_json[]){ { "fault_stall", stall_json }, { "fault_delay", delay_json }, { NULL, NULL } },
    .run = fault_run,
};

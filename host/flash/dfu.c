#include "dfu.h"

#include <stdlib.h>
#include <string.h>

#include "crc32.h"
#include "hilda/dfu.h"
#include "hilda/usb.h"
#include "slip.h"

#define DEFAULT_TIMEOUT_MS 5000
#define DEFAULT_RETRIES    3
/* Largest response: HARDWARE_VERSION, 3 + 20 bytes. */
#define RESPONSE_MAX       64
/* Largest request: an OBJECT_WRITE of one MTU's payload. 2051 is what
 * Nordic's USB bootloaders report; a larger MTU is capped to this. */
#define MTU_MAX            4099

struct session {
    const struct hilda_dfu_transport *t;
    unsigned timeout_ms;
    struct slip_decoder rx;
    uint8_t rx_buf[RESPONSE_MAX];
    uint8_t in[512];            /* bytes read but not yet decoded */
    size_t in_len, in_pos;
    uint8_t frame[2 * MTU_MAX + 1];
    struct hilda_dfu_refusal *refusal;
};

const char *hilda_dfu_opcode_name(uint8_t opcode)
{
    switch (opcode) {
#define OP_CASE(name, code) case code: return #name;
        DFU_OPCODES(OP_CASE)
#undef OP_CASE
    default: return "unknown opcode";
    }
}

const char *hilda_dfu_result_sentence(uint8_t result, uint8_t ext_error)
{
    if (result == DFU_RES_EXT_ERROR) {
        switch (ext_error) {
#define EXT_CASE(name, code, sentence) case code: return sentence;
            DFU_EXT_ERRORS(EXT_CASE)
#undef EXT_CASE
        default: return "the bootloader reported an extended error hilda does not know";
        }
    }
    switch (result) {
#define RES_CASE(name, code, sentence) case code: return sentence;
        DFU_RESULTS(RES_CASE)
#undef RES_CASE
    default: return "the bootloader answered with a result code hilda does not know";
    }
}

static enum hilda_status send(struct session *s, const uint8_t *msg, size_t len, struct hilda_error *e)
{
    size_t n = slip_encode(msg, len, s->frame, sizeof s->frame);
    if (n == 0)
        return hilda_fail(e, HILDA_ERR_INTERNAL, "a DFU request of %zu bytes does not fit the frame buffer", len);
    return s->t->write(s->t->ctx, s->frame, n, s->timeout_ms, e);
}

/* The next whole SLIP frame from the bootloader into s->rx_buf. */
static enum hilda_status receive(struct session *s, size_t *len, struct hilda_error *e)
{
    for (;;) {
        while (s->in_pos < s->in_len) {
            enum slip_event ev = slip_decoder_feed(&s->rx, s->in[s->in_pos++]);
            if (ev == SLIP_PACKET) {
                *len = s->rx.len;
                slip_decoder_next(&s->rx);
                return HILDA_OK;
            }
            if (ev == SLIP_DROPPED)
                slip_decoder_next(&s->rx);   /* not a response we can read: wait for the next */
        }
        s->in_len = s->in_pos = 0;
        enum hilda_status st = s->t->read(s->t->ctx, s->in, sizeof s->in, &s->in_len, s->timeout_ms, e);
        if (st)
            return st;
    }
}

/* One request and its response: [0x60, opcode, result, payload...]. On
 * success the payload (want bytes at least) is copied into out. */
static enum hilda_status request(struct session *s, const uint8_t *msg, size_t len, uint8_t *out, size_t want,
                                 struct hilda_error *e)
{
    enum hilda_status st = send(s, msg, len, e);
    if (st)
        return st;
    size_t n;
    if ((st = receive(s, &n, e))) {
        if (st == HILDA_ERR_TIMEOUT)
            return hilda_fail(e, st, "the bootloader did not answer %s within %u ms", hilda_dfu_opcode_name(msg[0]),
                              s->timeout_ms);
        return st;
    }
    const uint8_t *r = s->rx_buf;
    if (n < 3 || r[0] != DFU_OP_RESPONSE || r[1] != msg[0])
        return hilda_fail(e, HILDA_ERR_PROTOCOL, "the bootloader's answer to %s is malformed (%zu bytes, starting "
                          "%02X %02X)", hilda_dfu_opcode_name(msg[0]), n, n ? r[0] : 0, n > 1 ? r[1] : 0);
    if (r[2] != DFU_RES_SUCCESS) {
        uint8_t ext = r[2] == DFU_RES_EXT_ERROR && n > 3 ? r[3] : 0;
        if (s->refusal)
            *s->refusal = (struct hilda_dfu_refusal){ msg[0], r[2], ext };
        if (r[2] == DFU_RES_EXT_ERROR)
            return hilda_fail(e, HILDA_ERR_DFU, "the bootloader refused %s: %s (extended error 0x%02X)",
                              hilda_dfu_opcode_name(msg[0]), hilda_dfu_result_sentence(r[2], ext), ext);
        return hilda_fail(e, HILDA_ERR_DFU, "the bootloader refused %s: %s (result 0x%02X)",
                          hilda_dfu_opcode_name(msg[0]), hilda_dfu_result_sentence(r[2], ext), r[2]);
    }
    if (n - 3 < want)
        return hilda_fail(e, HILDA_ERR_PROTOCOL, "the bootloader's answer to %s is %zu bytes short",
                          hilda_dfu_opcode_name(msg[0]), want - (n - 3));
    if (want)
        memcpy(out, r + 3, want);
    return HILDA_OK;
}

static enum hilda_status simple(struct session *s, uint8_t opcode, struct hilda_error *e)
{
    return request(s, &opcode, 1, NULL, 0, e);
}

enum hilda_status hilda_dfu_ping(const struct hilda_dfu_transport *t, unsigned attempts, struct hilda_error *e)
{
    struct session *s = calloc(1, sizeof *s);
    if (!s)
        return hilda_fail(e, HILDA_ERR_INTERNAL, "out of memory");
    s->t = t;
    s->timeout_ms = 500;
    slip_decoder_init(&s->rx, s->rx_buf, sizeof s->rx_buf);
    enum hilda_status st = HILDA_ERR_TIMEOUT;
    for (unsigned i = 0; i < attempts && st; i++) {
        uint8_t ping[2] = { DFU_OP_PING, (uint8_t)(i + 1) }, id;
        st = request(s, ping, sizeof ping, &id, 1, e);
        if (!st && id != ping[1])
            st = hilda_fail(e, HILDA_ERR_PROTOCOL, "the bootloader answered PING %u with id %u", ping[1], id);
        if (st && st != HILDA_ERR_TIMEOUT && st != HILDA_ERR_PROTOCOL)
            break;
    }
    free(s);
    return st;
}

struct selected {
    uint32_t max, offset, crc;
};

static enum hilda_status select_object(struct session *s, uint8_t type, struct selected *out, struct hilda_error *e)
{
    uint8_t msg[2] = { DFU_OP_OBJECT_SELECT, type }, r[12];
    enum hilda_status st = request(s, msg, sizeof msg, r, sizeof r, e);
    if (!st)
        *out = (struct selected){ usb_get_le32(r), usb_get_le32(r + 4), usb_get_le32(r + 8) };
    return st;
}

static enum hilda_status create_object(struct session *s, uint8_t type, uint32_t size, struct hilda_error *e)
{
    uint8_t msg[6] = { DFU_OP_OBJECT_CREATE, type };
    usb_put_le32(msg + 2, size);
    return request(s, msg, sizeof msg, NULL, 0, e);
}

/* OBJECT_WRITE in chunks: no answers (receipt notifications are off). */
static enum hilda_status write_bytes(struct session *s, const uint8_t *p, size_t len, unsigned chunk,
                                     uint8_t *scratch, struct hilda_error *e)
{
    while (len) {
        size_t n = len < chunk ? len : chunk;
        scratch[0] = DFU_OP_OBJECT_WRITE;
        memcpy(scratch + 1, p, n);
        enum hilda_status st = send(s, scratch, n + 1, e);
        if (st)
            return st;
        p += n;
        len -= n;
    }
    return HILDA_OK;
}

static enum hilda_status crc_get(struct session *s, uint32_t *offset, uint32_t *crc, struct hilda_error *e)
{
    uint8_t op = DFU_OP_CRC_GET, r[8];
    enum hilda_status st = request(s, &op, 1, r, sizeof r, e);
    if (!st) {
        *offset = usb_get_le32(r);
        *crc = usb_get_le32(r + 4);
    }
    return st;
}

struct update {
    struct session *s;
    const struct hilda_dfu_options *o;
    struct hilda_dfu_report *r;
    unsigned chunk;
    uint8_t *scratch;
};

/* One object [from, to) of a stream: create, write, check the CRC of the
 * whole stream so far, send again on a mismatch, execute. */
static enum hilda_status send_object(struct update *u, uint8_t type, const uint8_t *stream, size_t from, size_t to,
                                     unsigned object_no, bool *executing, struct hilda_error *e)
{
    struct session *s = u->s;
    uint32_t want_crc = crc32_update(0, stream, to);
    unsigned retries = u->o->retries ? u->o->retries : DEFAULT_RETRIES;
    for (unsigned attempt = 0;; attempt++) {
        enum hilda_status st = create_object(s, type, (uint32_t)(to - from), e);
        if (st)
            return st;
        bool corrupt = type == DFU_OBJ_DATA && attempt == 0 && u->o->corrupt_object == object_no;
        if (corrupt) {
            uint8_t *copy = malloc(to - from);
            if (!copy)
                return hilda_fail(e, HILDA_ERR_INTERNAL, "out of memory");
            memcpy(copy, stream + from, to - from);
            copy[(to - from) / 2] ^= 0x01;
            st = write_bytes(s, copy, to - from, u->chunk, u->scratch, e);
            free(copy);
        } else {
            st = write_bytes(s, stream + from, to - from, u->chunk, u->scratch, e);
        }
        uint32_t offset, crc;
        if (st || (st = crc_get(s, &offset, &crc, e)))
            return st;
        if (offset == to && crc == want_crc)
            break;
        if (attempt + 1 >= retries)
            return hilda_fail(e, HILDA_ERR_DFU, "object %u (bytes %zu..%zu) did not arrive intact after %u attempts: "
                              "the bootloader holds %u bytes with CRC %08X, expected %zu with %08X", object_no, from,
                              to - 1, retries, offset, crc, to, want_crc);
        u->r->crc_retries++;
    }
    *executing = true;
    return simple(s, DFU_OP_OBJECT_EXECUTE, e);
}

static enum hilda_status send_init(struct update *u, const uint8_t *init, size_t len, struct hilda_error *e)
{
    struct selected sel;
    enum hilda_status st = select_object(u->s, DFU_OBJ_COMMAND, &sel, e);
    if (st)
        return st;
    u->r->command_max = sel.max;
    if (len > sel.max)
        return hilda_fail(e, HILDA_ERR_DFU, "the init packet is %zu bytes; this bootloader takes at most %u", len,
                          sel.max);
    if (sel.offset == len && sel.crc == crc32_update(0, init, len)) {
        /* The bootloader already holds this init packet: executing it again
         * keeps the data it has (what makes a resume possible). */
        u->r->init_resumed = true;
        return simple(u->s, DFU_OP_OBJECT_EXECUTE, e);
    }
    bool executing = false;
    return send_object(u, DFU_OBJ_COMMAND, init, 0, len, 0, &executing, e);
}

/* The bootloader answers the last EXECUTE and then resets; one that resets
 * first is gone before its answer. Whether the new application runs is then
 * for the caller to see (hilda flash reads its version). */
static bool gone_after_last_execute(struct update *u, enum hilda_status st)
{
    if (st != HILDA_ERR_NO_DEVICE && st != HILDA_ERR_IO)
        return false;
    u->r->reset_seen = true;
    return true;
}

/* Where an update resumes, from what OBJECT_SELECT(data) says the bootloader
 * holds: *from is the first image byte still to send. */
static enum hilda_status resume_point(struct update *u, const struct selected *sel, const uint8_t *image, size_t len,
                                      size_t *from, struct hilda_error *e)
{
    *from = 0;
    if (sel->offset == 0 || sel->offset > len)
        return HILDA_OK;
    size_t remainder = sel->offset % sel->max;
    if (sel->crc != crc32_update(0, image, sel->offset)) {
        /* what is there differs from this image from some point on: keep
         * the objects before the one it is in */
        *from = u->r->resumed_from = sel->offset - (remainder ? remainder : sel->max);
        return HILDA_OK;
    }
    u->r->resumed_from = sel->offset;
    *from = sel->offset;
    if (!remainder && sel->offset < len)
        return HILDA_OK;
    /* A cut-off object is finished; an image that is all there already (the
     * same image flashed again) gets the EXECUTE that checks its hash and
     * starts it. */
    size_t start = sel->offset - (remainder ? remainder : sel->max);
    size_t end = start + sel->max < len ? start + sel->max : len;
    uint32_t offset, crc;
    enum hilda_status st = write_bytes(u->s, image + sel->offset, end - sel->offset, u->chunk, u->scratch, e);
    if (!st)
        st = crc_get(u->s, &offset, &crc, e);
    if (st)
        return st;
    if (offset != end || crc != crc32_update(0, image, end)) {
        *from = start;        /* send the whole object again */
        return HILDA_OK;
    }
    st = simple(u->s, DFU_OP_OBJECT_EXECUTE, e);
    if (st && !(end == len && gone_after_last_execute(u, st)))
        return st;
    *from = end;
    return HILDA_OK;
}

static enum hilda_status send_data(struct update *u, const uint8_t *image, size_t len, struct hilda_error *e)
{
    struct selected sel;
    enum hilda_status st = select_object(u->s, DFU_OBJ_DATA, &sel, e);
    if (st)
        return st;
    if (sel.max == 0)
        return hilda_fail(e, HILDA_ERR_PROTOCOL, "the bootloader reports a maximum data object size of 0");
    u->r->data_max = sel.max;
    size_t from;
    if ((st = resume_point(u, &sel, image, len, &from, e)))
        return st;
    unsigned object_no = (unsigned)(from / sel.max);
    while (from < len) {
        size_t to = from + sel.max < len ? from + sel.max : len;
        object_no++;
        bool executing = false;
        st = send_object(u, DFU_OBJ_DATA, image, from, to, object_no, &executing, e);
        if (st && !(to == len && executing && gone_after_last_execute(u, st)))
            return st;
        u->r->objects++;
        from = to;
        if (u->o->progress)
            u->o->progress(u->o->progress_ctx, "data", from, len);
        if (u->o->stop_after_objects && u->r->objects == u->o->stop_after_objects && from < len)
            return hilda_fail(e, HILDA_ERR_INTERRUPTED, "stopped after %u data objects (--test-stop-after-objects)",
                              u->r->objects);
    }
    return HILDA_OK;
}

enum hilda_status hilda_dfu_update(const struct hilda_dfu_transport *t, const uint8_t *init, size_t init_len,
                                   const uint8_t *image, size_t len, const struct hilda_dfu_options *o,
                                   struct hilda_dfu_report *report, struct hilda_dfu_refusal *refusal,
                                   struct hilda_error *e)
{
    memset(report, 0, sizeof *report);
    if (refusal)
        memset(refusal, 0, sizeof *refusal);
    struct session *s = calloc(1, sizeof *s);
    uint8_t *scratch = malloc(MTU_MAX);
    if (!s || !scratch) {
        free(s);
        free(scratch);
        return hilda_fail(e, HILDA_ERR_INTERNAL, "out of memory");
    }
    s->t = t;
    s->timeout_ms = o->timeout_ms ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
    s->refusal = refusal;
    slip_decoder_init(&s->rx, s->rx_buf, sizeof s->rx_buf);
    struct update u = { s, o, report, 0, scratch };

    uint8_t op, r[2];
    uint8_t prn[3] = { DFU_OP_RECEIPT_NOTIF_SET, 0, 0 };
    enum hilda_status st;
    op = DFU_OP_PROTOCOL_VERSION;
    if ((st = request(s, &op, 1, r, 1, e)))
        goto out;
    report->protocol_version = r[0];
    if (r[0] != DFU_PROTOCOL_VERSION) {
        st = hilda_fail(e, HILDA_ERR_DFU, "the bootloader speaks Secure DFU protocol version %u; hilda speaks %u",
                        r[0], DFU_PROTOCOL_VERSION);
        goto out;
    }
    if ((st = request(s, prn, sizeof prn, NULL, 0, e)))
        goto out;
    op = DFU_OP_MTU_GET;
    if ((st = request(s, &op, 1, r, 2, e)))
        goto out;
    report->mtu = usb_get_le16(r);
    /* The MTU counts SLIP-encoded bytes: every payload byte may need two,
     * and the opcode one more (Nordic's hosts compute the same). */
    unsigned mtu = report->mtu < MTU_MAX ? report->mtu : MTU_MAX;
    // cppcheck-suppress knownConditionTrueFalse ; report->mtu is the bootloader's answer: any value
    if (mtu < 7) {
        st = hilda_fail(e, HILDA_ERR_PROTOCOL, "the bootloader reports an MTU of %u bytes: too small", report->mtu);
        goto out;
    }
    u.chunk = report->chunk = (mtu - 1) / 2 - 1;
    if (o->progress)
        o->progress(o->progress_ctx, "init", 0, len);
    if ((st = send_init(&u, init, init_len, e)))
        goto out;
    st = send_data(&u, image, len, e);
out:
    free(scratch);
    free(s);
    return st;
}

/* The rig description: JSON (jansson) to struct hilda_rig, each mistake one
 * sentence naming the entry and the field. */
#include "rig_desc.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void hilda_rig_defaults(struct hilda_rig *r)
{
    *r = (struct hilda_rig){ .reset_pin = 0, .reset_ms = HILDA_RIG_RESET_MS, .power_pin = 1,
                             .power_off_ms = HILDA_RIG_OFF_MS, .power_active_high = true };
    r->adapter.interface = 'A';
}

/* Where a mistake is: "rig.json" or "rig.json, entry 2". */
struct where {
    const char *name;
    int entry;          /* -1: the file holds one entry alone */
    char text[200];
};

static const char *where_text(struct where *w)
{
    if (w->entry < 0)
        snprintf(w->text, sizeof w->text, "%s", w->name);
    else
        snprintf(w->text, sizeof w->text, "%s, entry %d", w->name, w->entry);
    return w->text;
}

static bool get_string(const json_t *obj, const char *key, char *out, size_t cap, struct where *w,
                       const char *what, struct hilda_error *e)
{
    const json_t *v = json_object_get(obj, key);
    if (!v)
        return true;
    if (!json_is_string(v) || json_string_length(v) >= cap) {
        hilda_fail(e, HILDA_ERR_USAGE, "%s: %s must be a string (at most %zu characters)", where_text(w), what,
                   cap - 1);
        return false;
    }
    memcpy(out, json_string_value(v), json_string_length(v) + 1);
    return true;
}

static bool get_uint(const json_t *obj, const char *key, unsigned min, unsigned max, unsigned *out,
                     struct where *w, const char *what, struct hilda_error *e)
{
    const json_t *v = json_object_get(obj, key);
    if (!v)
        return true;
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
        hilda_fail(e, HILDA_ERR_USAGE, "%s: %s must be a whole number %u..%u", where_text(w), what, min, max);
        return false;
    }
    *out = (unsigned)json_integer_value(v);
    return true;
}

static bool get_pin(const json_t *obj, unsigned *pin, struct where *w, const char *what, struct hilda_error *e)
{
    const json_t *v = json_object_get(obj, "pin");
    if (v && (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) >= HILDA_RIG_PINS)) {
        char shown[40];
        if (json_is_integer(v))
            snprintf(shown, sizeof shown, "%lld", (long long)json_integer_value(v));
        else
            snprintf(shown, sizeof shown, "of JSON type %d", (int)json_typeof(v));
        hilda_fail(e, HILDA_ERR_USAGE, "%s: %s pin %s is not one of the adapter's pins 0..7 (D0..D7)",
                   where_text(w), what, shown);
        return false;
    }
    if (v)
        *pin = (unsigned)json_integer_value(v);
    return true;
}

static bool get_object(const json_t *entry, const char *key, const json_t **out, struct where *w,
                       const char *fields, struct hilda_error *e)
{
    *out = json_object_get(entry, key);
    if (*out && !json_is_object(*out)) {
        hilda_fail(e, HILDA_ERR_USAGE, "%s: \"%s\" must be an object (%s)", where_text(w), key, fields);
        return false;
    }
    return true;
}

static bool parse_hex16(const char *s, uint16_t *v)
{
    if (!*s || strlen(s) > 4)
        return false;
    char *end;
    unsigned long x = strtoul(s, &end, 16);
    if (*end)
        return false;
    *v = (uint16_t)x;
    return true;
}

static bool parse_entry(const json_t *entry, struct where *w, struct hilda_rig *r, struct hilda_error *e)
{
    hilda_rig_defaults(r);
    if (!json_is_object(entry)) {
        hilda_fail(e, HILDA_ERR_USAGE, "%s: a JSON object is expected (dongle, adapter, reset, power, uart)",
                   where_text(w));
        return false;
    }
    const json_t *adapter, *reset, *power;
    if (!get_string(entry, "dongle", r->dongle, sizeof r->dongle, w, "\"dongle\" (the dongle's USB serial)", e) ||
        !get_string(entry, "uart", r->uart, sizeof r->uart, w, "\"uart\" (a serial port)", e) ||
        !get_object(entry, "adapter", &adapter, w, "serial, vid, pid, interface", e) ||
        !get_object(entry, "reset", &reset, w, "pin, ms", e) ||
        !get_object(entry, "power", &power, w, "pin, active, off_ms", e))
        return false;
    if (adapter) {
        char vid[8] = "", pid[8] = "", iface[4] = "A";
        if (!get_string(adapter, "serial", r->adapter.serial, sizeof r->adapter.serial, w, "the adapter serial", e) ||
            !get_string(adapter, "vid", vid, sizeof vid, w, "the adapter vid (hex, \"0403\")", e) ||
            !get_string(adapter, "pid", pid, sizeof pid, w, "the adapter pid (hex, \"6001\")", e) ||
            !get_string(adapter, "interface", iface, sizeof iface, w, "the adapter interface (\"A\")", e))
            return false;
        if ((*vid && !parse_hex16(vid, &r->adapter.vid)) || (*pid && !parse_hex16(pid, &r->adapter.pid))) {
            hilda_fail(e, HILDA_ERR_USAGE, "%s: the adapter vid and pid are 4 hex digits, such as \"0403\" and "
                       "\"6001\"", where_text(w));
            return false;
        }
        if (strlen(iface) != 1 || iface[0] < 'A' || iface[0] > 'D') {
            hilda_fail(e, HILDA_ERR_USAGE, "%s: the adapter interface is one of \"A\", \"B\", \"C\", \"D\", not "
                       "\"%s\"", where_text(w), iface);
            return false;
        }
        r->adapter.interface = iface[0];
    }
    if (reset && (!get_pin(reset, &r->reset_pin, w, "reset", e) ||
                  !get_uint(reset, "ms", 1, HILDA_RIG_MS_MAX, &r->reset_ms, w, "reset ms", e)))
        return false;
    if (power) {
        char active[8] = "high";
        if (!get_pin(power, &r->power_pin, w, "power", e) ||
            !get_uint(power, "off_ms", 1, HILDA_RIG_MS_MAX, &r->power_off_ms, w, "power off_ms", e) ||
            !get_string(power, "active", active, sizeof active, w, "power active (\"high\" or \"low\")", e))
            return false;
        if (strcmp(active, "high") && strcmp(active, "low")) {
            hilda_fail(e, HILDA_ERR_USAGE, "%s: power active \"%s\" is neither \"high\" nor \"low\"",
                       where_text(w), active);
            return false;
        }
        r->power_active_high = !strcmp(active, "high");
    }
    return true;
}

/* "A, B, C" into out: the dongles the description lists. */
static void list_dongles(const json_t *entries, char *out, size_t cap)
{
    size_t at = 0, i;
    const json_t *x;
    out[0] = '\0';
    json_array_foreach(entries, i, x) {
        const char *s = json_string_value(json_object_get(x, "dongle"));
        int n = snprintf(out + at, cap - at, "%s%s", i ? ", " : "", s ? s : "?");
        if (n < 0 || (size_t)n >= cap - at)
            break;
        at += (size_t)n;
    }
}

enum hilda_status hilda_rig_override(struct hilda_rig *r, const struct hilda_rig_overrides *o,
                                     struct hilda_error *e)
{
    if (o && o->adapter) {
        if (strlen(o->adapter) >= sizeof r->adapter.serial)
            return hilda_fail(e, HILDA_ERR_USAGE, "--adapter: that serial is too long");
        strcpy(r->adapter.serial, o->adapter);
    }
    if (o && o->reset_pin >= 0)
        r->reset_pin = (unsigned)o->reset_pin;
    if (o && o->power_pin >= 0)
        r->power_pin = (unsigned)o->power_pin;
    if (o && o->power_active_high >= 0)
        r->power_active_high = o->power_active_high != 0;
    if (r->reset_pin >= HILDA_RIG_PINS || r->power_pin >= HILDA_RIG_PINS)
        return hilda_fail(e, HILDA_ERR_USAGE, "the rig's pins are 0..7 (D0..D7)");
    if (r->reset_pin == r->power_pin)
        return hilda_fail(e, HILDA_ERR_USAGE, "reset and power are both on pin D%u: they need a pin each",
                          r->reset_pin);
    return HILDA_OK;
}

static enum hilda_status select_entry(const json_t *entries, struct where *w, const struct hilda_rig_overrides *o,
                                      struct hilda_rig *r, struct hilda_error *e)
{
    size_t n = json_array_size(entries), i;
    const json_t *x;
    const char *want = o ? o->dongle : NULL;
    char known[400];
    if (n > 1) {
        /* several dongles: each entry is found by its dongle's serial, so each needs one, its own */
        json_array_foreach(entries, i, x) {
            const char *s = json_string_value(json_object_get(x, "dongle"));
            if (!s || !*s)
                return hilda_fail(e, HILDA_ERR_USAGE, "%s, entry %zu: with several dongles every entry needs its "
                                  "\"dongle\" serial", w->name, i);
            for (size_t j = 0; j < i; j++)
                if (!strcmp(s, json_string_value(json_object_get(json_array_get(entries, j), "dongle"))))
                    return hilda_fail(e, HILDA_ERR_USAGE, "%s: the dongle %s appears in entries %zu and %zu",
                                      w->name, s, j, i);
        }
    }
    json_array_foreach(entries, i, x) {
        w->entry = (int)i;
        struct hilda_rig cand;
        if (!parse_entry(x, w, &cand, e))
            return e->status;
        /* one entry that names no dongle is the bench's only one, whichever is asked for */
        bool unnamed = n == 1 && !*cand.dongle;
        if (want ? unnamed || !strcmp(cand.dongle, want) : n == 1) {
            *r = cand;
            if (unnamed && want && strlen(want) < sizeof r->dongle)
                strcpy(r->dongle, want);
            return hilda_rig_override(r, o, e);
        }
    }
    list_dongles(entries, known, sizeof known);
    if (want)
        return hilda_fail(e, HILDA_ERR_USAGE, "the rig description %s has no entry for the dongle %s (it lists %s)",
                          w->name, want, known);
    return hilda_fail(e, HILDA_ERR_USAGE, "the rig description %s lists %zu dongles: choose one with --dongle "
                      "SERIAL (%s)", w->name, n, known);
}

enum hilda_status hilda_rig_parse(const char *text, size_t len, const char *name,
                                  const struct hilda_rig_overrides *o, struct hilda_rig *r, struct hilda_error *e)
{
    json_error_t jerr;
    json_t *root = json_loadb(text, len, 0, &jerr);
    struct where w = { .name = name, .entry = -1 };
    if (!root)
        return hilda_fail(e, HILDA_ERR_USAGE, "the rig description %s is not JSON: %s (line %d)", name, jerr.text,
                          jerr.line);
    enum hilda_status st;
    json_t *entries = json_is_object(root) ? json_object_get(root, "dongles") : NULL;
    if (!json_is_object(root))
        st = hilda_fail(e, HILDA_ERR_USAGE, "the rig description %s: a JSON object is expected, with \"dongles\" "
                        "or one dongle's entry", name);
    else if (entries && (!json_is_array(entries) || !json_array_size(entries)))
        st = hilda_fail(e, HILDA_ERR_USAGE, "the rig description %s: \"dongles\" must be a non-empty array of "
                        "entries", name);
    else if (entries)
        st = select_entry(entries, &w, o, r, e);
    else {
        /* one entry alone: --dongle must name it, if it names one and the entry does */
        if (!parse_entry(root, &w, r, e))
            st = e->status;
        else if (o && o->dongle && *r->dongle && strcmp(o->dongle, r->dongle))
            st = hilda_fail(e, HILDA_ERR_USAGE, "the rig description %s has no entry for the dongle %s (it lists %s)",
                            name, o->dongle, r->dongle);
        else {
            if (o && o->dongle && !*r->dongle && strlen(o->dongle) < sizeof r->dongle)
                strcpy(r->dongle, o->dongle);
            st = hilda_rig_override(r, o, e);
        }
    }
    json_decref(root);
    return st;
}

enum hilda_status hilda_rig_load(const char *path, const struct hilda_rig_overrides *o, struct hilda_rig *r,
                                 struct hilda_error *e)
{
    if (!path) {
        hilda_rig_defaults(r);
        if (o && o->dongle && strlen(o->dongle) < sizeof r->dongle)
            strcpy(r->dongle, o->dongle);
        return hilda_rig_override(r, o, e);
    }
    FILE *f = fopen(path, "rb");
    if (!f)
        return hilda_fail(e, HILDA_ERR_USAGE, "cannot read the rig description %s: %s", path, strerror(errno));
    char *text = NULL;
    size_t len = 0, cap = 0, got;
    char buf[4096];
    while ((got = fread(buf, 1, sizeof buf, f)) > 0) {
        if (len + got > 1u << 20) {
            fclose(f);
            free(text);
            return hilda_fail(e, HILDA_ERR_USAGE, "the rig description %s is larger than 1 MiB", path);
        }
        if (len + got > cap) {
            cap = (len + got) * 2;
            char *t = realloc(text, cap);
            if (!t) {
                fclose(f);
                free(text);
                return hilda_fail(e, HILDA_ERR_INTERNAL, "out of memory");
            }
            text = t;
        }
        memcpy(text + len, buf, got);
        len += got;
    }
    fclose(f);
    enum hilda_status st = hilda_rig_parse(text ? text : "", len, path, o, r, e);
    free(text);
    return st;
}

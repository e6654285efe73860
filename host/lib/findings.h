/* Findings: what the parser and the validator say about descriptors (or a
 * check about a device), each with an id, a severity, where and a sentence.
 * The list is bounded: past HILDA_FINDINGS_MAX entries the rest are only
 * counted, so a hostile device cannot make the host allocate without end. */
#ifndef HILDA_FINDINGS_H
#define HILDA_FINDINGS_H

#include <stddef.h>

#define HILDA_FINDINGS_MAX 512

enum hilda_severity {
    HILDA_SEV_INFO,      /* worth knowing, not a violation */
    HILDA_SEV_WARNING,   /* questionable, or a "should" of the specification */
    HILDA_SEV_ERROR,     /* malformed, or violates a "shall" of chapter 9 */
};

struct hilda_finding {
    char id[32];         /* stable: "P-BLENGTH-ZERO", "C9-CFG-ATTR", ... (docs/host.md) */
    enum hilda_severity severity;
    char where[64];      /* "configuration 1 offset 18", "string 3", ... */
    char message[224];
};

struct hilda_findings {
    struct hilda_finding *v;
    size_t n, cap;
    size_t dropped;      /* findings beyond HILDA_FINDINGS_MAX (or lost to memory) */
};

void hilda_findings_init(struct hilda_findings *f);
void hilda_findings_free(struct hilda_findings *f);
void hilda_findings_add(struct hilda_findings *f, enum hilda_severity sev, const char *id, const char *where,
                        const char *fmt, ...) __attribute__((format(printf, 5, 6)));
size_t hilda_findings_count(const struct hilda_findings *f, enum hilda_severity at_least);
const char *hilda_severity_name(enum hilda_severity s);

#endif

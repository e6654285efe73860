/* Descriptor set output: the text form (laid out like `lsusb -v`) and the
 * JSON form, both from the parsed bytes, both bounds-checked like the
 * parser. Device strings are escaped before they reach a terminal. */
#ifndef HILDA_DESCPRINT_H
#define HILDA_DESCPRINT_H

#include <stdio.h>

#include "descset.h"
#include "findings.h"
#include "json.h"

void hilda_print_desc_set(FILE *out, const struct hilda_desc_set *s, bool hex);
void hilda_print_findings(FILE *out, const struct hilda_findings *f);

/* New JSON values (device text made valid UTF-8 on the way) */
json_t *hilda_json_desc_set(const struct hilda_desc_set *s);
json_t *hilda_json_findings(const struct hilda_findings *f);

#endif

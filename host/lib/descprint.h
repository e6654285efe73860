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

void hilda_json_desc_set(struct hj *j, const struct hilda_desc_set *s);
void hilda_json_findings(struct hj *j, const struct hilda_findings *f);

#endif

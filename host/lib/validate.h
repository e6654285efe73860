/* The descriptor validator: parses a descriptor set (descset.h) and says
 * what is malformed ("P-" findings from the parser) and what breaks the
 * rules of USB 2.0 chapter 9 ("C9-" findings). docs/host.md lists the ids. */
#ifndef HILDA_VALIDATE_H
#define HILDA_VALIDATE_H

#include "descset.h"
#include "findings.h"

void hilda_validate(const struct hilda_desc_set *s, struct hilda_findings *f);

#endif

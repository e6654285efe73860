/* nrfutil DFU packages: a .zip holding manifest.json, the init packet (.dat)
 * and the image (.bin). Only application packages are accepted: the dongle's
 * bootloader and SoftDevice are not hilda's to replace over DFU. */
#ifndef HILDA_DFU_PACKAGE_H
#define HILDA_DFU_PACKAGE_H

#include "image.h"
#include "status.h"

/* Fills out with the application image (at 0x1000) and its init packet. */
enum hilda_status hilda_dfu_package_read(const char *path, struct hilda_image *out, struct hilda_error *e);

#endif

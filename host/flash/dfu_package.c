#include "dfu_package.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

#include "hilda/dfu.h"

/* Entries larger than this are not an nRF52840 package (1 MiB of flash;
 * manifests and init packets are a few hundred bytes). */
#define ENTRY_MAX (2u * 1024u * 1024u)

static enum hilda_status read_entry(zip_t *z, const char *path, const char *name, uint8_t **out, size_t *len,
                                    struct hilda_error *e)
{
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat(z, name, 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE))
        return hilda_fail(e, HILDA_ERR_IMAGE, "the package %s has no file \"%s\" (its manifest names it)", path, name);
    if (st.size > ENTRY_MAX)
        return hilda_fail(e, HILDA_ERR_IMAGE, "\"%s\" in %s is %llu bytes: too large for an nRF52840", name, path,
                          (unsigned long long)st.size);
    uint8_t *buf = malloc(st.size ? st.size : 1);
    zip_file_t *f = buf ? zip_fopen(z, name, 0) : NULL;
    zip_int64_t got = f ? zip_fread(f, buf, st.size) : -1;
    if (f)
        zip_fclose(f);
    if (got < 0 || (zip_uint64_t)got != st.size) {
        free(buf);
        return hilda_fail(e, HILDA_ERR_IMAGE, "cannot read \"%s\" from the package %s (corrupt zip?)", name, path);
    }
    *out = buf;
    *len = (size_t)st.size;
    return HILDA_OK;
}

/* manifest.json: {"manifest": {"application": {"bin_file": ..., "dat_file": ...}}} */
static enum hilda_status application_files(const char *path, const uint8_t *text, size_t len, const char **bin,
                                           const char **dat, json_t **root, struct hilda_error *e)
{
    json_error_t je;
    *root = json_loadb((const char *)text, len, 0, &je);
    if (!*root)
        return hilda_fail(e, HILDA_ERR_IMAGE, "manifest.json in %s is not valid JSON (line %d: %s)", path, je.line,
                          je.text);
    json_t *manifest = json_object_get(*root, "manifest");
    json_t *app = json_object_get(manifest, "application");
    if (!json_is_object(app)) {
        const char *other = json_object_get(manifest, "softdevice_bootloader") ? "softdevice_bootloader"
                            : json_object_get(manifest, "bootloader")       ? "bootloader"
                            : json_object_get(manifest, "softdevice")       ? "softdevice"
                                                                            : NULL;
        if (other)
            return hilda_fail(e, HILDA_ERR_IMAGE,
                              "the package %s holds a %s update, not an application: hilda flashes applications only",
                              path, other);
        return hilda_fail(e, HILDA_ERR_IMAGE, "manifest.json in %s has no \"application\" entry", path);
    }
    *bin = json_string_value(json_object_get(app, "bin_file"));
    *dat = json_string_value(json_object_get(app, "dat_file"));
    if (!*bin || !*dat)
        return hilda_fail(e, HILDA_ERR_IMAGE, "manifest.json in %s lacks the application's bin_file or dat_file", path);
    return HILDA_OK;
}

enum hilda_status hilda_dfu_package_read(const char *path, struct hilda_image *out, struct hilda_error *e)
{
    memset(out, 0, sizeof *out);
    int zerr = 0;
    zip_t *z = zip_open(path, ZIP_RDONLY, &zerr);
    if (!z)
        return hilda_fail(e, HILDA_ERR_IMAGE, "%s is not a readable zip file (libzip error %d)", path, zerr);
    uint8_t *manifest = NULL, *bin = NULL;
    size_t manifest_len = 0, bin_len = 0;
    json_t *root = NULL;
    const char *bin_name = NULL, *dat_name = NULL;
    enum hilda_status st = read_entry(z, path, "manifest.json", &manifest, &manifest_len, e);
    if (!st)
        st = application_files(path, manifest, manifest_len, &bin_name, &dat_name, &root, e);
    if (!st)
        st = read_entry(z, path, bin_name, &bin, &bin_len, e);
    if (!st)
        st = read_entry(z, path, dat_name, &out->init_packet, &out->init_len, e);
    if (!st && bin_len == 0)
        st = hilda_fail(e, HILDA_ERR_IMAGE, "the application image in %s is empty", path);
    if (!st) {
        /* A package's application is a flat binary for the application area. */
        out->format = HILDA_IMAGE_PACKAGE;
        out->start = DFU_APP_START;
        out->data = bin;
        out->len = bin_len;
        bin = NULL;
    } else {
        free(out->init_packet);
        out->init_packet = NULL;
    }
    free(bin);
    free(manifest);
    json_decref(root);
    zip_close(z);
    return st;
}

/* udev monitor messages to the clients: see uevent.h. */
#include "uevent.h"

#include <arpa/inet.h>
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#define MONITOR_MAGIC 0xFEEDCAFEu
#define PROPERTIES_MAX 8192

/* The header libudev puts before the properties (sd-device monitor). */
struct monitor_header {
    char prefix[8];                  /* "libudev" */
    uint32_t magic;                  /* network order */
    uint32_t header_size;
    uint32_t properties_off;
    uint32_t properties_len;
    uint32_t filter_subsystem_hash;  /* network order */
    uint32_t filter_devtype_hash;    /* network order */
    uint32_t filter_tag_bloom_hi;
    uint32_t filter_tag_bloom_lo;
};

uint32_t uevent_hash(const char *s)
{
    const uint32_t m = 0x5BD1E995u;
    size_t len = strlen(s);
    uint32_t h = (uint32_t)len;
    const unsigned char *p = (const unsigned char *)s;
    for (; len >= 4; len -= 4, p += 4) {
        uint32_t k = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        k *= m;
        k ^= k >> 24;
        k *= m;
        h *= m;
        h ^= k;
    }
    switch (len) {
    case 3: h ^= (uint32_t)p[2] << 16; /* fall through */
    case 2: h ^= (uint32_t)p[1] << 8;  /* fall through */
    case 1: h ^= p[0]; h *= m;
    }
    h ^= h >> 13;
    h *= m;
    h ^= h >> 15;
    return h;
}

static size_t put(char *buf, size_t at, const char *key, const char *value)
{
    int n = snprintf(buf + at, PROPERTIES_MAX - at, "%s%s", key, value);
    if (n < 0 || (size_t)n >= PROPERTIES_MAX - at)
        return at;
    return at + (size_t)n + 1;   /* keep the NUL as the separator */
}

static void send_one(const char *path, const struct iovec *iov)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof sa.sun_path)
        return;
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        if (errno == ECONNREFUSED)
            unlink(path);            /* the client closed its monitor */
        close(fd);
        return;
    }
    struct msghdr msg = { .msg_iov = (struct iovec *)iov, .msg_iovlen = 2 };
    ssize_t n = sendmsg(fd, &msg, 0);
    (void)n;                         /* a full queue loses the event, as netlink would */
    close(fd);
}

void uevent_send(const char *dir, const char *action, const char *devpath, const char *subsystem,
                 const char *devtype, const char *properties)
{
    static unsigned long long seqnum = 1;
    char buf[PROPERTIES_MAX];
    char seq[24];
    snprintf(seq, sizeof seq, "%llu", seqnum++);
    size_t len = 0;
    len = put(buf, len, "ACTION=", action);
    len = put(buf, len, "DEVPATH=", devpath);
    len = put(buf, len, "SUBSYSTEM=", subsystem);
    len = put(buf, len, "SEQNUM=", seq);
    for (const char *line = properties; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t n = end ? (size_t)(end - line) : strlen(line);
        if (n > 0 && len + n + 1 <= PROPERTIES_MAX) {
            memcpy(buf + len, line, n);
            buf[len + n] = '\0';
            len += n + 1;
        }
        line = end ? end + 1 : line + n;
    }
    struct monitor_header h = {
        .prefix = "libudev",
        .magic = htonl(MONITOR_MAGIC),
        .header_size = sizeof h,
        .properties_off = sizeof h,
        .properties_len = (uint32_t)len,
        .filter_subsystem_hash = htonl(uevent_hash(subsystem)),
        .filter_devtype_hash = devtype ? htonl(uevent_hash(devtype)) : 0,
    };
    const struct iovec iov[2] = { { &h, sizeof h }, { buf, len } };

    char pattern[4096];
    snprintf(pattern, sizeof pattern, "%s/event[0-9]*", dir);
    glob_t g;
    if (glob(pattern, GLOB_NOSORT, NULL, &g) != 0)
        return;
    for (size_t i = 0; i < g.gl_pathc; i++)
        send_one(g.gl_pathv[i], iov);
    globfree(&g);
}

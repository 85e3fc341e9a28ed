/* capture.c - libpcap behind one loop for live interfaces and files.
 *
 * Files are opened one at a time, in order, the first at once so that a
 * typo fails at startup. Every error is one line naming the file or the
 * interface; a corrupt or truncated file is an error value, never a crash:
 * libpcap checks each record's length against the file's snap length. */

/* pcap.h and grp.h (initgroups) need more than strict C11 shows. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "capture.h"

#include <errno.h>
#include <grp.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <linux/if_packet.h>
#include <sys/socket.h>
#endif

#include "base/limits.h"
#include "packet.h"

#define CAPTURE_DEFAULT_SNAPLEN SNAPLEN_MAX
#define CAPTURE_DEFAULT_TIMEOUT_MS 100

struct capture {
    pcap_t *pcap;               /* NULL between two files */
    int live;
    int live_fd;                /* live: pollable descriptor, or -1 */
    int timeout_ms;             /* live: longest wait in capture_next */
    int linktype;               /* LINKTYPE_* of the open pcap */
    char **paths;               /* file mode: our copies, in order */
    size_t count;
    size_t next_file;           /* index of the next file to open */
    char *bpf;                  /* NULL when no filter */
    char name[256];             /* current file ("stdin" for "-") or iface */
    atomic_int stop;            /* set by capture_break (a signal handler or
                                   another thread: lock-free, so both may) */
    uint32_t last_drops;        /* libpcap's 32-bit counters at last look */
    uint32_t last_ifdrops;
    uint64_t drops;             /* running 64-bit totals */
    uint64_t ifdrops;
    uint64_t packets_read;      /* live: handed out by capture_next */
    uint64_t file_packets;      /* files: read from the current file */
    uint64_t drain_until_ms;    /* live, stopping: end of the drain (monotonic) */
    bool drained;               /* the kernel had nothing more to give */
    bool drain_done;
    void (*on_wait)(void *);    /* live: called before waiting for the kernel */
    void *on_wait_arg;
    char *file_buffer;          /* file mode: stdio buffer of the open file */
};

/* libpcap reads a file record by record through stdio, whose buffer is
 * 4 KiB: a read system call for every three or four packets. A larger one
 * makes that one per this many bytes. */
#define CAPTURE_FILE_BUFFER (1024 * 1024)

/* Formats one line into err; newlines from library messages become spaces
 * so that the caller's log stays one line per error. */
static void set_error(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_error(char *err, size_t errlen, const char *fmt, ...)
{
    if (err == NULL || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    size_t len = strlen(err);
    while (len > 0 && (err[len - 1] == '\n' || err[len - 1] == ' '))
        err[--len] = '\0';
    for (size_t i = 0; i < len; i++)
        if (err[i] == '\n' || err[i] == '\r')
            err[i] = ' ';
}

static void clear_error(char *err, size_t errlen)
{
    if (err != NULL && errlen > 0)
        err[0] = '\0';
}

/* pcap_datalink gives a DLT_* value, which differs from the LINKTYPE_*
 * value stored in files (and used by packet.h) for raw IP and, on OpenBSD,
 * loopback. */
static int linktype_from_dlt(int dlt)
{
    if (dlt == DLT_RAW)
        return LINK_RAW;
    if (dlt == DLT_LOOP)
        return LINK_LOOP;
    return dlt;
}

static void unsupported_linktype_error(const struct capture *c, int dlt,
                                       char *err, size_t errlen)
{
    char user_name[16];
    const char *link_name = pcap_datalink_val_to_name(dlt);
    if (link_name == NULL && dlt >= 147 && dlt <= 162) {
        /* DLT_USER0..15: private use, and absent from libpcap's table. */
        snprintf(user_name, sizeof(user_name), "USER%d", dlt - 147);
        link_name = user_name;
    }
    set_error(err, errlen, "%s: unsupported link type %d (%s)", c->name,
              c->linktype, link_name != NULL ? link_name : "unknown");
}

static int apply_filter(struct capture *c, char *err, size_t errlen)
{
    if (c->bpf == NULL)
        return 0;
    struct bpf_program program;
    if (pcap_compile(c->pcap, &program, c->bpf, 1, PCAP_NETMASK_UNKNOWN) != 0) {
        set_error(err, errlen, "%s: bad BPF filter '%s': %s", c->name, c->bpf,
                  pcap_geterr(c->pcap));
        return -1;
    }
    int rc = pcap_setfilter(c->pcap, &program);
    pcap_freecode(&program);
    if (rc != 0) {
        set_error(err, errlen, "%s: cannot apply BPF filter '%s': %s", c->name,
                  c->bpf, pcap_geterr(c->pcap));
        return -1;
    }
    return 0;
}

static void close_current(struct capture *c)
{
    if (c->pcap != NULL) {
        pcap_close(c->pcap);   /* closes the FILE, which used file_buffer */
        c->pcap = NULL;
    }
    free(c->file_buffer);
    c->file_buffer = NULL;
}

/* Opens the next file in the list. We open the FILE ourselves so that a
 * missing file is reported with errno's words, then hand it to libpcap,
 * which reads both pcap and pcapng. */
static int open_next_file(struct capture *c, char *err, size_t errlen)
{
    const char *path = c->paths[c->next_file++];
    c->file_packets = 0;
    int is_stdin = strcmp(path, "-") == 0;
    snprintf(c->name, sizeof(c->name), "%s", is_stdin ? "stdin" : path);

    FILE *fp = is_stdin ? stdin : fopen(path, "rb");
    if (fp == NULL) {
        set_error(err, errlen, "cannot open '%s': %s", path, strerror(errno));
        return -1;
    }
    /* Not for stdin, which outlives the capture (no buffer of ours may
     * stay behind in it). Without the memory the default buffer does. */
    if (!is_stdin && (c->file_buffer = malloc(CAPTURE_FILE_BUFFER)) != NULL)
        setvbuf(fp, c->file_buffer, _IOFBF, CAPTURE_FILE_BUFFER);
    char pcap_err[PCAP_ERRBUF_SIZE] = "";
    c->pcap = pcap_fopen_offline_with_tstamp_precision(
        fp, PCAP_TSTAMP_PRECISION_MICRO, pcap_err);
    if (c->pcap == NULL) {
        if (!is_stdin)
            fclose(fp);
        close_current(c);   /* the buffer */
        set_error(err, errlen, "cannot read '%s': %s", c->name, pcap_err);
        return -1;
    }
    c->linktype = linktype_from_dlt(pcap_datalink(c->pcap));
    if (apply_filter(c, err, errlen) != 0) {
        close_current(c);
        return -1;
    }
    return 0;
}

static struct capture *capture_alloc(const struct capture_options *o)
{
    struct capture *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    if (o != NULL && o->bpf != NULL && o->bpf[0] != '\0') {
        c->bpf = strdup(o->bpf);
        if (c->bpf == NULL) {
            free(c);
            return NULL;
        }
    }
    return c;
}

int capture_open_files(struct capture **out, char *const *paths, size_t count,
                       const struct capture_options *o, char *err,
                       size_t errlen)
{
    *out = NULL;
    clear_error(err, errlen);
    if (count == 0) {
        set_error(err, errlen, "no capture file to read");
        return -1;
    }
    struct capture *c = capture_alloc(o);
    if (c == NULL || (c->paths = calloc(count, sizeof(char *))) == NULL) {
        set_error(err, errlen, "out of memory");
        capture_close(c);
        return -1;
    }
    c->count = count;
    for (size_t i = 0; i < count; i++) {
        c->paths[i] = strdup(paths[i]);
        if (c->paths[i] == NULL) {
            set_error(err, errlen, "out of memory");
            capture_close(c);
            return -1;
        }
    }
    if (open_next_file(c, err, errlen) != 0) {
        capture_close(c);
        return -1;
    }
    *out = c;
    return 0;
}

/* Several processes (or capture threads) share one interface: each joins
 * the same PACKET_FANOUT group on its packet socket, and the kernel hands
 * each packet to one of them by flow hash (symmetric: both directions of a
 * connection go to the same member). IP fragments are reassembled first
 * (FLAG_DEFRAG) so that they hash like the rest of their datagram. */
static int join_fanout(struct capture *c, unsigned group, char *err, size_t errlen)
{
#ifdef PACKET_FANOUT
    int arg = (int)(group | ((unsigned)(PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_DEFRAG) << 16));
    if (setsockopt(pcap_fileno(c->pcap), SOL_PACKET, PACKET_FANOUT, &arg, sizeof(arg)) == 0)
        return 0;
    set_error(err, errlen, "%s: cannot join fanout group %u: %s%s", c->name, group,
              strerror(errno), errno == EINVAL ? " (a member of that group with other "
                                                 "settings, or not a packet socket?)" : "");
#else
    set_error(err, errlen, "%s: capture.fanout_group %u: PACKET_FANOUT needs Linux",
              c->name, group);
#endif
    return -1;
}

/* Words for a failed pcap_activate: libpcap's detail when it has some, else
 * its words for the status ("No such device exists"), with a hint for the
 * mistake everybody makes once. */
static void activate_error(struct capture *c, int rc, char *err, size_t errlen)
{
    const char *detail = pcap_geterr(c->pcap);
    if (detail == NULL || detail[0] == '\0')
        detail = pcap_statustostr(rc);
    const char *hint = "";
    if (rc == PCAP_ERROR_PERM_DENIED || rc == PCAP_ERROR_PROMISC_PERM_DENIED)
        hint = " (capturing needs root or CAP_NET_RAW)";
    set_error(err, errlen, "cannot capture on '%s': %s%s", c->name, detail,
              hint);
}

int capture_open_live(struct capture **out, const char *iface,
                      const struct capture_options *o, char *err,
                      size_t errlen)
{
    static const struct capture_options defaults = {0, 0, false, NULL, 0, 0};
    char warning[PCAP_ERRBUF_SIZE + 300] = "";
    char pcap_err[PCAP_ERRBUF_SIZE] = "";

    *out = NULL;
    clear_error(err, errlen);
    if (o == NULL)
        o = &defaults;
    struct capture *c = capture_alloc(o);
    if (c == NULL) {
        set_error(err, errlen, "out of memory");
        return -1;
    }
    c->live = 1;
    c->live_fd = -1;
    c->timeout_ms = o->timeout_ms ? (int)o->timeout_ms : CAPTURE_DEFAULT_TIMEOUT_MS;
    snprintf(c->name, sizeof(c->name), "%s", iface);

    c->pcap = pcap_create(iface, pcap_err);
    if (c->pcap == NULL) {
        set_error(err, errlen, "cannot capture on '%s': %s", iface, pcap_err);
        capture_close(c);
        return -1;
    }
    if (o->buffer_mb > (unsigned)INT32_MAX / (1024u * 1024u)) {
        set_error(err, errlen, "%s: capture buffer of %u MB is too large",
                  iface, o->buffer_mb);
        capture_close(c);
        return -1;
    }
    /* Setters only fail on an already active handle; this one is not.
     * On Linux libpcap then reads the kernel's memory-mapped ring
     * (TPACKET_V3): buffer_mb is the ring's size; the timeout is how long a
     * partly filled block waits before it is handed over. Immediate mode
     * is not set: it would make libpcap fall back to TPACKET_V2 (a wake-up
     * per packet). */
    pcap_set_snaplen(c->pcap, o->snaplen ? (int)o->snaplen : CAPTURE_DEFAULT_SNAPLEN);
    pcap_set_promisc(c->pcap, o->promisc ? 1 : 0);
    pcap_set_timeout(c->pcap, c->timeout_ms);
    if (o->buffer_mb)
        pcap_set_buffer_size(c->pcap, (int)(o->buffer_mb * 1024u * 1024u));
    pcap_set_tstamp_precision(c->pcap, PCAP_TSTAMP_PRECISION_MICRO);

    int rc = pcap_activate(c->pcap);
    if (rc < 0) {
        activate_error(c, rc, err, errlen);
        capture_close(c);
        return -1;
    }
    if (rc > 0) {
        /* Warnings: the capture works, but the operator should know. */
        const char *detail = pcap_geterr(c->pcap);
        snprintf(warning, sizeof(warning), "%s: %s%s%s", iface,
                 pcap_statustostr(rc),
                 detail != NULL && detail[0] != '\0' ? ": " : "",
                 detail != NULL ? detail : "");
    }

    int dlt = pcap_datalink(c->pcap);
    c->linktype = linktype_from_dlt(dlt);
    if (!packet_linktype_supported(c->linktype)) {
        unsupported_linktype_error(c, dlt, err, errlen);
        capture_close(c);
        return -1;
    }
    if (apply_filter(c, err, errlen) != 0
        || (o->fanout_group && join_fanout(c, o->fanout_group, err, errlen) != 0)) {
        capture_close(c);
        return -1;
    }
    /* On Linux (TPACKET_V3) libpcap's timeout only retires a block that
     * holds packets: on an idle line pcap_next_ex would block for ever and
     * capture_next could never return CAPTURE_TIMEOUT. So read without blocking and do
     * the waiting ourselves, with poll and our own timeout. */
    c->live_fd = pcap_get_selectable_fd(c->pcap);
    if (c->live_fd >= 0 && pcap_setnonblock(c->pcap, 1, pcap_err) != 0)
        c->live_fd = -1; /* fall back to libpcap's blocking read */
    if (warning[0] != '\0')
        set_error(err, errlen, "%s", warning);
    *out = c;
    return 0;
}

/* pcap_next_ex on a live handle, with our own wait when it is not
 * blocking. Same return values as pcap_next_ex, plus POLL_FAILED (errno
 * says why). */
#define POLL_FAILED (-100)

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* pcap_next_ex, reading on past pcap_breakloop: libpcap reports the break
 * once per place that saw it (its flag, its wake-up eventfd). */
static int next_past_break(struct capture *c, struct pcap_pkthdr **header,
                           const u_char **data)
{
    int rc = PCAP_ERROR_BREAK;
    for (int tries = 0; tries < 4 && rc == PCAP_ERROR_BREAK; tries++)
        rc = pcap_next_ex(c->pcap, header, data);
    return rc;
}

/* Stopping: what the kernel already holds is still read, until it has
 * been quiet for longer than a block timeout (TPACKET_V3 hands a partly
 * filled block over only then) or CAPTURE_DRAIN_MS have passed. Then
 * PCAP_ERROR_BREAK. */
static int next_draining(struct capture *c, struct pcap_pkthdr **header,
                         const u_char **data)
{
    uint64_t now = mono_ms();
    if (!c->drain_until_ms)
        c->drain_until_ms = now + CAPTURE_DRAIN_MS;
    if (now >= c->drain_until_ms)   /* traffic goes on: stop anyway */
        return PCAP_ERROR_BREAK;
    int rc = next_past_break(c, header, data);
    if (rc != 0)
        return rc == 1 ? 1 : PCAP_ERROR_BREAK;
    uint64_t left = c->drain_until_ms - now;
    /* the kernel retires a partly filled block within two timeouts */
    int quiet = 2 * c->timeout_ms + 50;
    struct pollfd pfd = {.fd = c->live_fd, .events = POLLIN, .revents = 0};
    int n = poll(&pfd, 1, left < (uint64_t)quiet ? (int)left : quiet);
    if (n < 0 && errno != EINTR)
        return PCAP_ERROR_BREAK;
    if (n == 0 && left >= (uint64_t)quiet) {
        c->drained = true;
        return PCAP_ERROR_BREAK;
    }
    rc = next_past_break(c, header, data);
    return rc == 1 ? 1 : rc == 0 ? 0 : PCAP_ERROR_BREAK;
}

static int next_live(struct capture *c, struct pcap_pkthdr **header,
                     const u_char **data)
{
    if (c->live_fd < 0)
        return pcap_next_ex(c->pcap, header, data);
    if (c->stop)
        return next_draining(c, header, data);
    /* Read first (the handle does not block): while libpcap holds packets
     * of a TPACKET_V3 block, or the kernel has handed over the next, this
     * costs no system call. Only when there is none, wait with our own
     * timeout, so that pcap_next_ex is never left to block on an idle
     * line; the caller hears of it first (capture_on_wait). */
    int rc = pcap_next_ex(c->pcap, header, data);
    if (rc == PCAP_ERROR_BREAK)
        return next_draining(c, header, data);
    if (rc != 0)
        return rc;
    if (c->on_wait)
        c->on_wait(c->on_wait_arg);
    struct pollfd pfd = {.fd = c->live_fd, .events = POLLIN, .revents = 0};
    int n = poll(&pfd, 1, c->timeout_ms);
    if (n < 0 && errno != EINTR)
        return POLL_FAILED;
    if (c->stop)
        return next_draining(c, header, data);
    if (n <= 0)
        return 0;
    return pcap_next_ex(c->pcap, header, data);
}

/* Microseconds since the epoch; times before it become 0, absurdly late ones
 * saturate. */
static uint64_t timestamp_us(const struct timeval *tv)
{
    if (tv->tv_sec < 0 || tv->tv_usec < 0)
        return 0;
    uint64_t sec = (uint64_t)tv->tv_sec;
    uint64_t usec = (uint64_t)tv->tv_usec;
    if (sec > (UINT64_MAX - usec) / 1000000u)
        return UINT64_MAX;
    return sec * 1000000u + usec;
}

int capture_next(struct capture *c, struct capture_packet *p, char *err,
                 size_t errlen)
{
    clear_error(err, errlen);
    for (;;) {
        /* A live capture that is asked to stop drains first (next_live). */
        if (c->stop && (!c->live || c->live_fd < 0 || c->drain_done))
            return CAPTURE_END;
        if (c->pcap == NULL) {
            if (c->live || c->next_file >= c->count)
                return CAPTURE_END;
            if (open_next_file(c, err, errlen) != 0)
                return CAPTURE_ERROR;
        }
        if (!c->live && !packet_linktype_supported(c->linktype)) {
            unsupported_linktype_error(c, pcap_datalink(c->pcap), err, errlen);
            close_current(c);
            return CAPTURE_ERROR;
        }

        struct pcap_pkthdr *header;
        const u_char *data;
        int rc = c->live ? next_live(c, &header, &data)
                         : pcap_next_ex(c->pcap, &header, &data);
        if (rc == 1) {
            c->packets_read++;
            p->data = data;
            p->caplen = header->caplen;
            p->wire_len = header->len;
            p->ts_us = timestamp_us(&header->ts);
            p->linktype = c->linktype;
            p->file = c->live ? 0 : (uint32_t)c->next_file;
            p->file_packet = c->live ? 0 : ++c->file_packets;
            return CAPTURE_PACKET;
        }
        if (rc == 0) {
            if (c->live)
                return CAPTURE_TIMEOUT;
            continue; /* files do not time out; be safe if one ever does */
        }
        if (rc == PCAP_ERROR_BREAK) {
            if (c->live) {
                c->drain_done = true;
                return CAPTURE_END;   /* capture_break, and drained */
            }
            close_current(c); /* end of this file: on to the next */
            continue;
        }
        /* A read interrupted by the signal that asked us to stop is a stop,
         * not an error. */
        if (c->stop)
            return CAPTURE_END;
        if (rc == POLL_FAILED)
            set_error(err, errlen, "%s: poll: %s", c->name, strerror(errno));
        else
            set_error(err, errlen, "%s: %s", c->name, pcap_geterr(c->pcap));
        if (!c->live)
            close_current(c);
        return CAPTURE_ERROR;
    }
}

int capture_on_wait(struct capture *c, void (*fn)(void *), void *arg)
{
    if (!c->live || c->live_fd < 0)
        return -1;
    c->on_wait = fn;
    c->on_wait_arg = arg;
    return 0;
}

void capture_break(struct capture *c)
{
    c->stop = 1;
    /* Only a live handle can block, and it never changes while open, so a
     * signal handler may touch it; file handles come and go. */
    if (c->live && c->pcap != NULL)
        pcap_breakloop(c->pcap);
}

int capture_kernel_stats(struct capture *c, uint64_t *drops, uint64_t *ifdrops)
{
    *drops = 0;
    *ifdrops = 0;
    if (!c->live || c->pcap == NULL)
        return -1;
    struct pcap_stat ps;
    if (pcap_stats(c->pcap, &ps) != 0)
        return -1;
    /* Unsigned 32-bit subtraction is right across one wrap. */
    c->drops += (uint32_t)(ps.ps_drop - c->last_drops);
    c->ifdrops += (uint32_t)(ps.ps_ifdrop - c->last_ifdrops);
    c->last_drops = ps.ps_drop;
    c->last_ifdrops = ps.ps_ifdrop;
    *drops = c->drops;
    *ifdrops = c->ifdrops;
    return 0;
}

uint64_t capture_unread_at_stop(struct capture *c)
{
    if (!c->live || c->pcap == NULL || c->drained)
        return 0;
    struct pcap_stat ps;
    if (pcap_stats(c->pcap, &ps) != 0)
        return 0;
    /* On Linux ps_recv counts every packet the socket took, dropped ones
     * included; 32-bit counters, so compare modulo 2^32. */
    uint32_t kept = (uint32_t)(ps.ps_recv - ps.ps_drop);
    uint32_t unread = kept - (uint32_t)c->packets_read;
    return unread < (1u << 31) ? unread : 0;
}

int capture_is_live(const struct capture *c)
{
    return c->live;
}

const char *capture_current_name(const struct capture *c)
{
    return c->name;
}

int capture_file_position(const struct capture *c, size_t *files_done,
                          uint64_t *offset)
{
    *files_done = 0;
    *offset = 0;
    if (c->live)
        return -1;
    *files_done = c->next_file - (c->pcap != NULL ? 1 : 0);
    FILE *fp = c->pcap != NULL ? pcap_file(c->pcap) : NULL;
    off_t at = fp != NULL ? ftello(fp) : -1;
    if (at > 0)
        *offset = (uint64_t)at;
    return 0;
}

void capture_close(struct capture *c)
{
    if (c == NULL)
        return;
    close_current(c);
    if (c->paths != NULL) {
        for (size_t i = 0; i < c->count; i++)
            free(c->paths[i]);
        free(c->paths);
    }
    free(c->bpf);
    free(c);
}

int capture_drop_privileges(const char *user, char *err, size_t errlen)
{
    clear_error(err, errlen);
    if (user == NULL || user[0] == '\0' || geteuid() != 0)
        return 0;

    errno = 0;
    struct passwd *pw = getpwnam(user);
    if (pw == NULL) {
        set_error(err, errlen, "cannot drop privileges: unknown user '%s'%s%s",
                  user, errno ? ": " : "", errno ? strerror(errno) : "");
        return -1;
    }
    /* getpwnam's storage may be reused by the group look-ups below. */
    uid_t uid = pw->pw_uid;
    gid_t gid = pw->pw_gid;
    if (uid == 0) {
        set_error(err, errlen,
                  "cannot drop privileges: user '%s' is root; name an "
                  "unprivileged user", user);
        return -1;
    }
    if (initgroups(user, gid) != 0) {
        set_error(err, errlen, "cannot drop privileges: setting the groups of "
                  "'%s': %s", user, strerror(errno));
        return -1;
    }
    if (setgid(gid) != 0) {
        set_error(err, errlen, "cannot drop privileges: setgid(%u): %s",
                  (unsigned)gid, strerror(errno));
        return -1;
    }
    if (setuid(uid) != 0) {
        set_error(err, errlen, "cannot drop privileges: setuid(%u): %s",
                  (unsigned)uid, strerror(errno));
        return -1;
    }
    /* Trust, but verify: with a saved set-user-ID of 0 left behind, an
     * attacker who gets code execution could simply switch back. */
    if (setuid(0) == 0 || seteuid(0) == 0 || getuid() != uid ||
        geteuid() != uid || getgid() != gid || getegid() != gid) {
        set_error(err, errlen,
                  "cannot drop privileges: root could be regained after "
                  "becoming '%s'", user);
        return -1;
    }
    return 0;
}

/* capture.h - packets in, from a live interface or from capture files.
 *
 * A thin layer over libpcap that gives the rest of the sensor one loop for
 * both modes: capture_next until it says CAPTURE_END. Errors come back
 * as one line of text that names the file or interface. */
#ifndef SW_CAPTURE_H
#define SW_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct capture_packet {
    const uint8_t *data;  /* valid until the next capture_next or close */
    uint32_t caplen;      /* bytes in data */
    uint32_t wire_len;    /* bytes on the wire */
    uint64_t ts_us;       /* packet time, microseconds since the epoch */
    int linktype;         /* a LINKTYPE_* value, as packet.h expects */
    uint32_t file;        /* files: 1 + the index of the file it came from; live 0 */
    uint64_t file_packet; /* files: its number in that file, from 1; live 0 */
};

struct capture;

struct capture_options {
    unsigned snaplen;     /* live: bytes kept per packet; 0 = SNAPLEN_MAX */
    unsigned buffer_mb;   /* live: kernel ring size; 0 = libpcap's default */
    bool promisc;         /* live: promiscuous mode */
    const char *bpf;      /* filter expression, NULL or "" for none */
    unsigned timeout_ms;  /* live: longest wait for a packet; 0 = 100 */
    unsigned fanout_group; /* live, Linux: PACKET_FANOUT group (hash), 0 = none */
};

/* Reads `count` capture files (pcap or pcapng, "-" for standard input) one
 * after the other. The first is opened now, so that a wrong path is reported
 * at startup ("cannot open 'x.pcap': No such file or directory"); the others
 * when their turn comes. The paths are copied. Returns 0, or -1 with err
 * filled. */
int capture_open_files(struct capture **out, char *const *paths, size_t count,
                       const struct capture_options *o, char *err,
                       size_t errlen);

/* Opens a live interface. Returns 0, or -1 with err filled. On success err
 * is empty or holds a warning from libpcap worth logging (for example,
 * promiscuous mode not supported). Call before capture_drop_privileges. */
int capture_open_live(struct capture **out, const char *iface,
                      const struct capture_options *o, char *err,
                      size_t errlen);

/* What capture_next says. */
enum capture_result {
    /* Error, err holds one line naming the file or interface (truncated or
     * corrupt file, unsupported link type, a later file that cannot be
     * opened). In file mode the offending file is finished: calling again
     * goes on with the next file, so the caller chooses to stop or not. */
    CAPTURE_ERROR = -1,
    CAPTURE_TIMEOUT = 0,   /* live only: the timeout passed with no packet */
    CAPTURE_PACKET = 1,    /* a packet is in *p */
    CAPTURE_END = 2,       /* end of all input, or capture_break was called */
};

/* Next packet: an enum capture_result. */
int capture_next(struct capture *c, struct capture_packet *p, char *err,
                 size_t errlen);

/* Live: fn(arg) is called, in capture_next, each time no packet is ready
 * and it is about to wait for the kernel: the moment to hand on what was
 * held back for batching. -1 (and never called) for files, or when the
 * handle cannot be polled (libpcap's blocking read is used). */
int capture_on_wait(struct capture *c, void (*fn)(void *), void *arg);

/* Asks capture_next to return CAPTURE_END soon. Async-signal-safe: meant for SIGINT
 * and SIGTERM handlers. A live capture blocked waiting wakes up, then still
 * hands out the packets the kernel holds: until none came for two capture
 * timeouts (a partly filled TPACKET_V3 block is handed over only when its
 * timer ran out), at most CAPTURE_DRAIN_MS (capture_unread_at_stop
 * says what was left). Files stop at once. */
void capture_break(struct capture *c);

/* Live only: the kernel's drop counters (packets dropped for lack of
 * buffer space, and by the interface), as 64-bit totals since open even
 * though libpcap's counters are 32-bit and wrap. Call from the thread that
 * calls capture_next. Returns 0, or -1 (counters set to 0) for files or
 * when libpcap cannot say. */
int capture_kernel_stats(struct capture *c, uint64_t *drops,
                         uint64_t *ifdrops);

/* The longest a live capture drains after capture_break. */
#define CAPTURE_DRAIN_MS 2000

/* Live, after CAPTURE_END from capture_break: packets the kernel had taken
 * that were never read (the drain ran out of time); 0 when it emptied the
 * buffer, for files, or when libpcap cannot say. */
uint64_t capture_unread_at_stop(struct capture *c);

int capture_is_live(const struct capture *c);

/* The file being read ("stdin" for "-") or the interface name. */
const char *capture_current_name(const struct capture *c);
/* File mode: how far the reading is, for a progress display: files
 * finished, and the byte offset reached in the one being read (0 between
 * files, or when the stream cannot tell, as stdin may not). Returns -1 on a
 * live capture. */
int capture_file_position(const struct capture *c, size_t *files_done,
                          uint64_t *offset);

void capture_close(struct capture *c);

/* When running as root and `user` is neither NULL nor empty: become that
 * user (its groups, gid, uid) and check that root cannot be regained.
 * Otherwise does nothing. Returns 0, or -1 with err filled. */
int capture_drop_privileges(const char *user, char *err, size_t errlen);

#endif

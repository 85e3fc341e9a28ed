/* test_capture.c - reading capture files: good, several, broken, filtered.
 *
 * Run from the top of the tree: the broken fixtures are read from
 * tests/data (made by tests/data/make_fixtures.py). Good captures are
 * written here, with libpcap's own dump functions, under /tmp. */
#include "../../sensor/capture.h"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

#define DATA_DIR "tests/data/"
#define BASE_SEC 1577836800u /* 2020-01-01T00:00:00Z */

static char tmp_dir[64];
static char path_a[128], path_b[128], path_mixed[128], path_ng[128];
static char path_text[128], path_empty[128];

static const struct capture_options no_options = {0, 0, false, NULL, 0, 0};

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* Ethernet + IPv4 + TCP with a short payload; `index` is written into the
 * payload so each packet can be recognised. Returns the length. */
static size_t build_packet(uint8_t *buf, uint16_t dport, uint8_t index)
{
    static const uint8_t eth[14] = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0};
    memset(buf, 0, 64);
    memcpy(buf, eth, sizeof(eth));
    uint8_t *ip = buf + 14, *tcp = ip + 20;
    ip[0] = 0x45;
    put16(ip + 2, 20 + 20 + 4);
    ip[8] = 64;
    ip[9] = 6;
    memcpy(ip + 12, (uint8_t[]){10, 0, 0, 1}, 4);
    memcpy(ip + 16, (uint8_t[]){10, 0, 0, 2}, 4);
    put16(tcp, 40000);
    put16(tcp + 2, dport);
    tcp[12] = 5 << 4;
    tcp[13] = 0x18;
    memcpy(tcp + 20, (uint8_t[]){'p', 'k', 't', index}, 4);
    return 14 + 20 + 20 + 4;
}

/* A pcap of `count` packets to `dport` (or alternating 9200 and 80 when
 * dport is 0), one second apart from `first_sec`, usec = index + 1. */
static int write_pcap(const char *path, int count, uint32_t first_sec,
                      uint16_t dport)
{
    pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);
    if (dead == NULL)
        return -1;
    pcap_dumper_t *dumper = pcap_dump_open(dead, path);
    if (dumper == NULL) {
        pcap_close(dead);
        return -1;
    }
    for (int i = 0; i < count; i++) {
        uint8_t pkt[64];
        uint16_t port = dport ? dport : (i % 2 ? 80 : 9200);
        struct pcap_pkthdr h;
        h.caplen = (bpf_u_int32)build_packet(pkt, port, (uint8_t)i);
        h.len = h.caplen + 100; /* pretend the snap length cut it */
        h.ts.tv_sec = (time_t)(first_sec + (uint32_t)i);
        h.ts.tv_usec = i + 1;
        pcap_dump((u_char *)dumper, &h, pkt);
    }
    pcap_dump_close(dumper);
    pcap_close(dead);
    return 0;
}

static void le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* libpcap cannot write pcapng, so build one by hand: section header,
 * interface description (Ethernet, default microsecond resolution), and two
 * enhanced packet blocks. */
static int write_pcapng(const char *path)
{
    uint8_t file[512], pkt[64];
    size_t n = 0;
    memset(file, 0, sizeof(file));

    le32(file + n, 0x0A0D0D0A);          /* section header block */
    le32(file + n + 4, 28);
    le32(file + n + 8, 0x1A2B3C4D);      /* byte-order magic */
    file[n + 12] = 1;                    /* version 1.0 */
    memset(file + n + 16, 0xff, 8);      /* section length unknown */
    le32(file + n + 24, 28);
    n += 28;

    le32(file + n, 1);                   /* interface description block */
    le32(file + n + 4, 20);
    file[n + 8] = 1;                     /* LINKTYPE_ETHERNET */
    le32(file + n + 12, 0);              /* snaplen: no limit */
    le32(file + n + 16, 20);
    n += 20;

    for (int i = 0; i < 2; i++) {
        size_t len = build_packet(pkt, 9200, (uint8_t)i);
        size_t padded = (len + 3) & ~(size_t)3;
        uint32_t block = (uint32_t)(32 + padded);
        uint64_t ts = (uint64_t)BASE_SEC * 1000000u + 250000u + (uint64_t)i;
        le32(file + n, 6);               /* enhanced packet block */
        le32(file + n + 4, block);
        le32(file + n + 8, 0);           /* interface 0 */
        le32(file + n + 12, (uint32_t)(ts >> 32));
        le32(file + n + 16, (uint32_t)ts);
        le32(file + n + 20, (uint32_t)len);
        le32(file + n + 24, (uint32_t)len);
        memcpy(file + n + 28, pkt, len);
        le32(file + n + 28 + padded, block);
        n += block;
    }
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return -1;
    size_t written = fwrite(file, 1, n, f);
    return fclose(f) == 0 && written == n ? 0 : -1;
}

static int write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return -1;
    fputs(text, f);
    return fclose(f);
}

/* Reads until anything but a packet; returns that result and the count. */
static int drain(struct capture *c, int *packets, char *err, size_t errlen)
{
    struct capture_packet p;
    int rc;
    *packets = 0;
    while ((rc = capture_next(c, &p, err, errlen)) == CAPTURE_PACKET)
        (*packets)++;
    return rc;
}

static void test_reads_one_file(void)
{
    struct capture *c;
    char err[256];
    char *paths[] = {path_a};
    CHECK_EQ_INT(capture_open_files(&c, paths, 1, &no_options, err, sizeof(err)), 0);
    if (c == NULL)
        return;
    CHECK_EQ_INT(capture_is_live(c), 0);
    CHECK_EQ_STR(capture_current_name(c), path_a);

    struct capture_packet p;
    for (int i = 0; i < 3; i++) {
        CHECK_EQ_INT(capture_next(c, &p, err, sizeof(err)), CAPTURE_PACKET);
        CHECK_EQ_INT(p.caplen, 58);
        CHECK_EQ_INT(p.wire_len, 158);
        CHECK_EQ_INT(p.linktype, 1);
        CHECK(p.ts_us == ((uint64_t)BASE_SEC + (uint64_t)i) * 1000000u + (uint64_t)i + 1);
        CHECK(p.data != NULL && p.data[57] == i && p.data[12] == 8);
    }
    CHECK_EQ_INT(capture_next(c, &p, err, sizeof(err)), CAPTURE_END);
    CHECK_EQ_INT(capture_next(c, &p, err, sizeof(err)), CAPTURE_END);   /* stays at end */

    uint64_t drops = 9, ifdrops = 9;
    CHECK_EQ_INT(capture_kernel_stats(c, &drops, &ifdrops), -1);
    CHECK(drops == 0 && ifdrops == 0);
    capture_close(c);
}

static void test_two_files_in_sequence(void)
{
    struct capture *c;
    char err[256];
    char *paths[] = {path_a, path_b};
    CHECK_EQ_INT(capture_open_files(&c, paths, 2, &no_options, err, sizeof(err)), 0);
    if (c == NULL)
        return;
    struct capture_packet p;
    int from_a = 0, from_b = 0, rc;
    uint64_t last_ts = 0;
    while ((rc = capture_next(c, &p, err, sizeof(err))) == CAPTURE_PACKET) {
        CHECK(p.ts_us > last_ts);
        last_ts = p.ts_us;
        if (strcmp(capture_current_name(c), path_a) == 0)
            from_a++;
        else if (strcmp(capture_current_name(c), path_b) == 0)
            from_b++;
    }
    CHECK_EQ_INT(rc, CAPTURE_END);
    CHECK_EQ_INT(from_a, 3);
    CHECK_EQ_INT(from_b, 2);
    capture_close(c);
}

static void test_missing_file(void)
{
    struct capture *c = (struct capture *)1;
    char err[256];
    char *paths[] = {"/nonexistent/x.pcap"};
    CHECK_EQ_INT(capture_open_files(&c, paths, 1, &no_options, err, sizeof(err)), -1);
    CHECK(c == NULL);
    CHECK_EQ_STR(err, "cannot open '/nonexistent/x.pcap': No such file or directory");

    CHECK_EQ_INT(capture_open_files(&c, paths, 0, &no_options, err, sizeof(err)), -1);
    CHECK(err[0] != '\0');
}

static void test_missing_later_file_is_an_error_then_goes_on(void)
{
    struct capture *c;
    char err[256];
    char *paths[] = {path_a, "/nonexistent/y.pcap", path_b};
    CHECK_EQ_INT(capture_open_files(&c, paths, 3, &no_options, err, sizeof(err)), 0);
    if (c == NULL)
        return;
    int packets;
    CHECK_EQ_INT(drain(c, &packets, err, sizeof(err)), CAPTURE_ERROR);
    CHECK_EQ_INT(packets, 3);
    CHECK_EQ_STR(err, "cannot open '/nonexistent/y.pcap': No such file or directory");
    CHECK_EQ_INT(drain(c, &packets, err, sizeof(err)), CAPTURE_END);
    CHECK_EQ_INT(packets, 2);
    capture_close(c);
}

static void test_not_a_capture_file(void)
{
    struct capture *c;
    char err[256], expected[300];
    char *paths[] = {path_text};
    CHECK_EQ_INT(capture_open_files(&c, paths, 1, &no_options, err, sizeof(err)), -1);
    snprintf(expected, sizeof(expected), "cannot read '%s': unknown file format", path_text);
    CHECK_EQ_STR(err, expected);

    char *empty[] = {path_empty};
    CHECK_EQ_INT(capture_open_files(&c, empty, 1, &no_options, err, sizeof(err)), -1);
    snprintf(expected, sizeof(expected), "cannot read '%s': ", path_empty);
    CHECK(strncmp(err, expected, strlen(expected)) == 0);
    CHECK(strchr(err, '\n') == NULL);
}

/* Opens one fixture and returns what capture_next says after its packets. */
static int read_fixture(const char *path, int *packets, char *err, size_t errlen)
{
    struct capture *c;
    char *paths[] = {(char *)path};
    *packets = -1;
    if (capture_open_files(&c, paths, 1, &no_options, err, errlen) != 0)
        return -100;
    int rc = drain(c, packets, err, errlen);
    char after[256];
    int packets_after;
    /* The broken file is finished: nothing more, no second error. */
    CHECK_EQ_INT(drain(c, &packets_after, after, sizeof(after)), CAPTURE_END);
    CHECK_EQ_INT(packets_after, 0);
    capture_close(c);
    return rc;
}

static void test_corrupt_file(void)
{
    char err[256];
    int packets;
    CHECK_EQ_INT(read_fixture(DATA_DIR "corrupt.pcap", &packets, err, sizeof(err)),
                 CAPTURE_ERROR);
    CHECK_EQ_INT(packets, 0);
    CHECK_EQ_STR(err, DATA_DIR "corrupt.pcap: invalid packet capture length "
                      "2147483647, bigger than snaplen of 65535");
}

static void test_truncated_file(void)
{
    char err[256];
    int packets;
    CHECK_EQ_INT(read_fixture(DATA_DIR "truncated.pcap", &packets, err, sizeof(err)),
                 CAPTURE_ERROR);
    CHECK_EQ_INT(packets, 1);
    const char *prefix = DATA_DIR "truncated.pcap: truncated dump file; ";
    CHECK(strncmp(err, prefix, strlen(prefix)) == 0);
    CHECK(strchr(err, '\n') == NULL);
}

static void test_unsupported_link_type(void)
{
    char err[256];
    int packets;
    CHECK_EQ_INT(read_fixture(DATA_DIR "badlink.pcap", &packets, err, sizeof(err)),
                 CAPTURE_ERROR);
    CHECK_EQ_INT(packets, 0);
    CHECK_EQ_STR(err, DATA_DIR "badlink.pcap: unsupported link type 147 (USER0)");
}

static void test_bpf_filter(void)
{
    struct capture *c;
    char err[256];
    int packets;
    struct capture_options o = no_options;

    char *a[] = {path_a};
    o.bpf = "tcp port 9999";
    CHECK_EQ_INT(capture_open_files(&c, a, 1, &o, err, sizeof(err)), 0);
    if (c != NULL) {
        CHECK_EQ_INT(drain(c, &packets, err, sizeof(err)), CAPTURE_END);
        CHECK_EQ_INT(packets, 0);
        capture_close(c);
    }

    /* Applied to every file, not only the first. */
    char *mixed[] = {path_mixed, path_mixed};
    o.bpf = "tcp dst port 9200";
    CHECK_EQ_INT(capture_open_files(&c, mixed, 2, &o, err, sizeof(err)), 0);
    if (c != NULL) {
        CHECK_EQ_INT(drain(c, &packets, err, sizeof(err)), CAPTURE_END);
        CHECK_EQ_INT(packets, 12);
        capture_close(c);
    }

    o.bpf = "";   /* empty = no filter */
    CHECK_EQ_INT(capture_open_files(&c, mixed, 1, &o, err, sizeof(err)), 0);
    if (c != NULL) {
        CHECK_EQ_INT(drain(c, &packets, err, sizeof(err)), CAPTURE_END);
        CHECK_EQ_INT(packets, 11);
        capture_close(c);
    }
}

static void test_bad_bpf_filter(void)
{
    struct capture *c;
    char err[256], expected[300];
    struct capture_options o = no_options;
    char *a[] = {path_a};
    o.bpf = "tcp port banana";
    CHECK_EQ_INT(capture_open_files(&c, a, 1, &o, err, sizeof(err)), -1);
    CHECK(c == NULL);
    snprintf(expected, sizeof(expected), "%s: bad BPF filter 'tcp port banana': ", path_a);
    CHECK(strncmp(err, expected, strlen(expected)) == 0);
    CHECK(strlen(err) > strlen(expected));
}

static void test_pcapng(void)
{
    struct capture *c;
    char err[256];
    char *paths[] = {path_ng};
    CHECK_EQ_INT(capture_open_files(&c, paths, 1, &no_options, err, sizeof(err)), 0);
    if (c == NULL) {
        fprintf(stderr, "%s\n", err);
        return;
    }
    struct capture_packet p;
    for (int i = 0; i < 2; i++) {
        CHECK_EQ_INT(capture_next(c, &p, err, sizeof(err)), CAPTURE_PACKET);
        CHECK_EQ_INT(p.caplen, 58);
        CHECK_EQ_INT(p.linktype, 1);
        CHECK(p.ts_us == (uint64_t)BASE_SEC * 1000000u + 250000u + (uint64_t)i);
    }
    CHECK_EQ_INT(capture_next(c, &p, err, sizeof(err)), CAPTURE_END);
    capture_close(c);
}

static void test_stdin(void)
{
    fflush(NULL);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        struct capture *c;
        char err[256];
        char *paths[] = {"-"};
        int packets = 0;
        if (freopen(path_a, "rb", stdin) == NULL)
            _exit(10);
        if (capture_open_files(&c, paths, 1, &no_options, err, sizeof(err)) != 0)
            _exit(11);
        if (strcmp(capture_current_name(c), "stdin") != 0)
            _exit(12);
        if (drain(c, &packets, err, sizeof(err)) != 2)
            _exit(13);
        capture_close(c);
        _exit(packets);
    }
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK_EQ_INT(WEXITSTATUS(status), 3);
}

static void test_break_stops_reading(void)
{
    struct capture *c;
    char err[256];
    char *paths[] = {path_a, path_b};
    CHECK_EQ_INT(capture_open_files(&c, paths, 2, &no_options, err, sizeof(err)), 0);
    if (c == NULL)
        return;
    struct capture_packet p;
    CHECK_EQ_INT(capture_next(c, &p, err, sizeof(err)), CAPTURE_PACKET);
    capture_break(c);
    CHECK_EQ_INT(capture_next(c, &p, err, sizeof(err)), CAPTURE_END);
    CHECK_EQ_INT(capture_next(c, &p, err, sizeof(err)), CAPTURE_END);
    capture_close(c);
}

static void test_live_bad_interface(void)
{
    struct capture *c = (struct capture *)1;
    char err[256];
    CHECK_EQ_INT(capture_open_live(&c, "nosuchif0", &no_options, err, sizeof(err)), -1);
    CHECK(c == NULL);
    CHECK(strncmp(err, "cannot capture on 'nosuchif0': ", 31) == 0);
    CHECK(strchr(err, '\n') == NULL);
}

/* capture.fanout_group: two captures of one group share the interface;
 * a group that another socket joined with other settings is refused, with
 * the reason. Needs root (skipped otherwise, like the loopback test). */
static void test_live_fanout(void)
{
    struct capture *a, *b, *c;
    char err[256];
    unsigned group = 1000u + (unsigned)getpid() % 60000u;
    struct capture_options o = {65535, 2, false, NULL, 50, group};
    if (capture_open_live(&a, "lo", &o, err, sizeof(err)) != 0) {
        fprintf(stderr, "test_live_fanout: skipped: %s\n", err);
        return;
    }
    CHECK_EQ_INT(capture_open_live(&b, "lo", &o, err, sizeof(err)), 0);
    capture_close(b);
    capture_close(a);
    /* The same group id, joined first as round-robin (not hash). */
    int fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
    CHECK(fd >= 0);
    struct sockaddr_ll sll;
    memset(&sll, 0, sizeof(sll));
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = (int)if_nametoindex("lo");
    CHECK_EQ_INT(bind(fd, (struct sockaddr *)&sll, sizeof(sll)), 0);
    int arg = (int)(group | (PACKET_FANOUT_LB << 16));
    CHECK_EQ_INT(setsockopt(fd, SOL_PACKET, PACKET_FANOUT, &arg, sizeof(arg)), 0);
    CHECK_EQ_INT(capture_open_live(&c, "lo", &o, err, sizeof(err)), -1);
    char want[64];
    snprintf(want, sizeof(want), "lo: cannot join fanout group %u: ", group);
    CHECK(strncmp(err, want, strlen(want)) == 0);
    close(fd);
}

/* Loopback, when this process may capture (root in most CI containers). */
static void test_live_loopback(void)
{
    struct capture *c;
    char err[256];
    /* A port of this process's own, so another run of this test on the
     * same machine cannot make the idle line busy. */
    unsigned port = 20000u + (unsigned)getpid() % 40000u;
    char filter[64];
    snprintf(filter, sizeof(filter), "udp dst port %u", port);
    struct capture_options o = {65535, 2, false, filter, 50, 0};
    if (capture_open_live(&c, "lo", &o, err, sizeof(err)) != 0) {
        fprintf(stderr, "test_live_loopback: skipped: %s\n", err);
        return;
    }
    CHECK_EQ_INT(capture_is_live(c), 1);
    CHECK_EQ_STR(capture_current_name(c), "lo");

    /* An idle line must time out, not block for ever. */
    struct capture_packet p;
    CHECK_EQ_INT(capture_next(c, &p, err, sizeof(err)), CAPTURE_TIMEOUT);

    /* One datagram to that port comes back through the filter. */
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(fd >= 0 && sendto(fd, "swtest", 6, 0, (struct sockaddr *)&to,
                            sizeof(to)) == 6);
    if (fd >= 0)
        close(fd);
    int rc = CAPTURE_TIMEOUT;
    for (int i = 0; i < 40 && rc == CAPTURE_TIMEOUT; i++)
        rc = capture_next(c, &p, err, sizeof(err));
    CHECK_EQ_INT(rc, CAPTURE_PACKET);
    if (rc == CAPTURE_PACKET) {
        CHECK_EQ_INT(p.linktype, 1);
        CHECK(p.caplen == p.wire_len && p.caplen >= 14 + 20 + 8 + 6);
        CHECK(memcmp(p.data + p.caplen - 6, "swtest", 6) == 0);
        CHECK(p.ts_us > (uint64_t)BASE_SEC * 1000000u);
    }
    uint64_t drops = 1, ifdrops = 1;
    CHECK_EQ_INT(capture_kernel_stats(c, &drops, &ifdrops), 0);
    capture_break(c);
    CHECK_EQ_INT(capture_next(c, &p, err, sizeof(err)), CAPTURE_END);
    capture_close(c);

    o.bpf = "port port";
    CHECK_EQ_INT(capture_open_live(&c, "lo", &o, err, sizeof(err)), -1);
    CHECK(strncmp(err, "lo: bad BPF filter 'port port': ", 32) == 0);
}

static void test_drop_privileges(void)
{
    char err[256] = "junk";
    CHECK_EQ_INT(capture_drop_privileges(NULL, err, sizeof(err)), 0);
    CHECK_EQ_STR(err, "");
    CHECK_EQ_INT(capture_drop_privileges("", err, sizeof(err)), 0);
    if (geteuid() != 0) {
        /* Not root: nothing to drop, whatever the name. */
        CHECK_EQ_INT(capture_drop_privileges("nobody", err, sizeof(err)), 0);
        return;
    }
    CHECK_EQ_INT(capture_drop_privileges("no-such-user-sw", err, sizeof(err)), -1);
    CHECK(strstr(err, "unknown user 'no-such-user-sw'") != NULL);
    CHECK_EQ_INT(capture_drop_privileges("root", err, sizeof(err)), -1);
    CHECK(strstr(err, "is root") != NULL);

    struct passwd *pw = getpwnam("nobody");
    if (pw == NULL)
        return;
    uid_t nobody = pw->pw_uid;
    fflush(NULL);
    pid_t pid = fork();   /* the child gives up root for good, not us */
    CHECK(pid >= 0);
    if (pid == 0) {
        if (capture_drop_privileges("nobody", err, sizeof(err)) != 0)
            _exit(1);
        if (getuid() != nobody || geteuid() != nobody)
            _exit(2);
        if (setuid(0) == 0)
            _exit(3);
        _exit(0);
    }
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static int setup(void)
{
    snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/sw_capture_XXXXXX");
    if (mkdtemp(tmp_dir) == NULL)
        return -1;
    snprintf(path_a, sizeof(path_a), "%s/a.pcap", tmp_dir);
    snprintf(path_b, sizeof(path_b), "%s/b.pcap", tmp_dir);
    snprintf(path_mixed, sizeof(path_mixed), "%s/mixed.pcap", tmp_dir);
    snprintf(path_ng, sizeof(path_ng), "%s/small.pcapng", tmp_dir);
    snprintf(path_text, sizeof(path_text), "%s/notes.txt", tmp_dir);
    snprintf(path_empty, sizeof(path_empty), "%s/empty.pcap", tmp_dir);
    if (write_pcap(path_a, 3, BASE_SEC, 9200) != 0 ||
        write_pcap(path_b, 2, BASE_SEC + 100, 9200) != 0 ||
        write_pcap(path_mixed, 11, BASE_SEC, 0) != 0 ||
        write_pcapng(path_ng) != 0 ||
        write_text(path_text, "this is not a capture file, it is a note\n") != 0 ||
        write_text(path_empty, "") != 0)
        return -1;
    return 0;
}

static void teardown(void)
{
    const char *paths[] = {path_a, path_b, path_mixed, path_ng, path_text, path_empty};
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
        unlink(paths[i]);
    rmdir(tmp_dir);
}

int main(void)
{
    check_binary = "test_capture";
    if (setup() != 0) {
        printf("FAIL test_capture/setup\n");
        teardown();
        return 1;
    }
    RUN(test_reads_one_file);
    RUN(test_two_files_in_sequence);
    RUN(test_missing_file);
    RUN(test_missing_later_file_is_an_error_then_goes_on);
    RUN(test_not_a_capture_file);
    RUN(test_corrupt_file);
    RUN(test_truncated_file);
    RUN(test_unsupported_link_type);
    RUN(test_bpf_filter);
    RUN(test_bad_bpf_filter);
    RUN(test_pcapng);
    RUN(test_stdin);
    RUN(test_break_stops_reading);
    RUN(test_live_bad_interface);
    RUN(test_live_loopback);
    RUN(test_live_fanout);
    RUN(test_drop_privileges);
    teardown();
    CHECK_EXIT();
}

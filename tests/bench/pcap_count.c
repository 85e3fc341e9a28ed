/* pcap_count.c - the bare libpcap read loop every benchmark is measured
 * against: pcap_loop() over a capture file, counting packets and bytes.
 *   pcap_count FILE      prints "PACKETS BYTES" (captured bytes) */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>

struct totals {
    uint64_t packets;
    uint64_t bytes;
};

static void count(u_char *arg, const struct pcap_pkthdr *h, const u_char *data)
{
    struct totals *t = (struct totals *)(void *)arg;
    t->packets++;
    t->bytes += h->caplen;
    (void)data;
}

int main(int argc, char **argv)
{
    char err[PCAP_ERRBUF_SIZE];
    if (argc != 2) {
        fprintf(stderr, "usage: pcap_count FILE\n");
        return 2;
    }
    pcap_t *p = pcap_open_offline(argv[1], err);
    if (p == NULL) {
        fprintf(stderr, "pcap_count: %s\n", err);
        return 1;
    }
    struct totals t = {0, 0};
    if (pcap_loop(p, -1, count, (u_char *)&t) == -1) {
        fprintf(stderr, "pcap_count: %s\n", pcap_geterr(p));
        pcap_close(p);
        return 1;
    }
    pcap_close(p);
    printf("%llu %llu\n", (unsigned long long)t.packets, (unsigned long long)t.bytes);
    return 0;
}

/* test_classify.c - the nDPI wrapper on packets built by hand. */
#include "../../sensor/classify.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "check.h"

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_PSH 0x08
#define TH_ACK 0x10

/* One side of a TCP conversation: addresses, ports, next sequence number. */
struct endpoint {
    int family; /* 4 or 6 */
    uint8_t addr[16];
    uint16_t port;
    uint32_t seq;
};

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint16_t ipv4_checksum(const uint8_t *h, size_t len)
{
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)(h[i] << 8 | h[i + 1]);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* Writes an IPv4 or IPv6 + TCP packet from `from` to `to` into buf and
 * advances from->seq. Returns the packet length. TCP checksums are left
 * zero: nDPI does not check them (and neither do we). */
static size_t build_tcp(uint8_t *buf, struct endpoint *from,
                        const struct endpoint *to, uint8_t flags,
                        const void *payload, size_t payload_len)
{
    size_t ip_len = from->family == 4 ? 20 : 40;
    size_t total = ip_len + 20 + payload_len;
    memset(buf, 0, ip_len + 20);
    if (from->family == 4) {
        buf[0] = 0x45;
        put16(buf + 2, (uint16_t)total);
        put16(buf + 4, 1);      /* id */
        buf[6] = 0x40;          /* DF */
        buf[8] = 64;            /* TTL */
        buf[9] = 6;             /* TCP */
        memcpy(buf + 12, from->addr, 4);
        memcpy(buf + 16, to->addr, 4);
        put16(buf + 10, ipv4_checksum(buf, 20));
    } else {
        buf[0] = 0x60;
        put16(buf + 4, (uint16_t)(20 + payload_len));
        buf[6] = 6;             /* next header: TCP */
        buf[7] = 64;            /* hop limit */
        memcpy(buf + 8, from->addr, 16);
        memcpy(buf + 24, to->addr, 16);
    }
    uint8_t *tcp = buf + ip_len;
    put16(tcp, from->port);
    put16(tcp + 2, to->port);
    put32(tcp + 4, from->seq);
    put32(tcp + 8, (flags & TH_ACK) ? to->seq : 0);
    tcp[12] = 5 << 4;
    tcp[13] = flags;
    put16(tcp + 14, 65535);
    memcpy(tcp + 20, payload, payload_len);
    from->seq += (uint32_t)payload_len + ((flags & (TH_SYN | TH_FIN)) ? 1 : 0);
    return total;
}

static void endpoints(int family, uint16_t client_port, uint16_t server_port,
                      struct endpoint *client, struct endpoint *server)
{
    memset(client, 0, sizeof(*client));
    memset(server, 0, sizeof(*server));
    client->family = server->family = family;
    if (family == 4) {
        memcpy(client->addr, (uint8_t[]){10, 0, 0, 1}, 4);
        memcpy(server->addr, (uint8_t[]){10, 0, 0, 2}, 4);
    } else {
        memcpy(client->addr, (uint8_t[]){0xfd, 0, [15] = 1}, 16);
        memcpy(server->addr, (uint8_t[]){0xfd, 0, [15] = 2}, 16);
    }
    client->port = client_port;
    server->port = server_port;
    client->seq = 1000;
    server->seq = 5000;
}

/* Everything classify_packet said about a conversation. */
struct verdict {
    int decided;
    int packets;        /* packets fed up to and including the decision */
    const char *name;
};

static void feed(struct classifier *c, struct classify_flow *f,
                 struct verdict *v, const uint8_t *pkt, size_t len,
                 uint64_t *time_ms)
{
    if (v->decided)
        return;
    struct classify_result res = { { "unset", "unset" } };
    v->packets++;
    int r = classify_packet(c, f, pkt, len, (*time_ms)++, &res);
    CHECK(r == 0 || r == 1);
    if (r == 1) {
        v->decided = 1;
        v->name = res.names[0];
    } else {
        CHECK(res.names[0] == NULL && res.names[1] == NULL);
    }
}

static const char http_request[] =
    "GET / HTTP/1.1\r\n"
    "Host: 10.0.0.2:9200\r\n"
    "User-Agent: curl/7.88.1\r\n"
    "Accept: */*\r\n"
    "\r\n";

static const char http_response[] =
    "HTTP/1.1 200 OK\r\n"
    "content-type: application/json; charset=UTF-8\r\n"
    "content-length: 2\r\n"
    "\r\n"
    "{}";

/* Handshake, request, response, ACK: a whole HTTP exchange, fed until nDPI
 * decides. `handshake` = 0 starts mid-stream, as a sensor started late. */
static struct verdict run_http(struct classifier *c, int family,
                               uint16_t server_port, int handshake)
{
    struct endpoint cl, sv;
    struct verdict v = {0, 0, NULL};
    uint8_t pkt[2048];
    uint64_t t = 1577836800000ull;
    endpoints(family, 40000, server_port, &cl, &sv);

    struct classify_flow *f = classify_flow_new();
    CHECK(f != NULL);
    if (f == NULL)
        return v;
    if (handshake) {
        feed(c, f, &v, pkt, build_tcp(pkt, &cl, &sv, TH_SYN, "", 0), &t);
        feed(c, f, &v, pkt, build_tcp(pkt, &sv, &cl, TH_SYN | TH_ACK, "", 0), &t);
        feed(c, f, &v, pkt, build_tcp(pkt, &cl, &sv, TH_ACK, "", 0), &t);
    }
    feed(c, f, &v, pkt, build_tcp(pkt, &cl, &sv, TH_PSH | TH_ACK, http_request,
                                  sizeof(http_request) - 1), &t);
    feed(c, f, &v, pkt, build_tcp(pkt, &sv, &cl, TH_PSH | TH_ACK, http_response,
                                  sizeof(http_response) - 1), &t);
    feed(c, f, &v, pkt, build_tcp(pkt, &cl, &sv, TH_ACK, "", 0), &t);
    classify_flow_free(f);
    return v;
}

static struct classifier *shared_classifier;

static void test_http_ipv4_on_elasticsearch_port(void)
{
    struct verdict v = run_http(shared_classifier, 4, 9200, 1);
    CHECK(v.decided);
    CHECK(v.name != NULL);
    if (v.name != NULL)
        CHECK_EQ_STR(v.name, "HTTP");
    /* SYN, SYN-ACK, ACK, then the request itself decides it. */
    CHECK_EQ_INT(v.packets, 4);
}

static void test_http_ipv4_port_80(void)
{
    struct verdict v = run_http(shared_classifier, 4, 80, 1);
    CHECK(v.decided);
    CHECK(v.name != NULL && strcasecmp(v.name, "HTTP") == 0);
}

static void test_http_ipv6(void)
{
    struct verdict v = run_http(shared_classifier, 6, 9200, 1);
    CHECK(v.decided);
    CHECK(v.name != NULL && strcasecmp(v.name, "HTTP") == 0);
}

static void test_http_midstream(void)
{
    /* No handshake seen: the sensor started while the connection was up. */
    struct verdict v = run_http(shared_classifier, 4, 9200, 0);
    CHECK(v.decided);
    CHECK(v.name != NULL && strcasecmp(v.name, "HTTP") == 0);
}

static void test_redis_on_odd_port_needs_the_reply(void)
{
    static const char ping[] = "*1\r\n$4\r\nPING\r\n", pong[] = "+PONG\r\n";
    struct endpoint cl, sv;
    struct verdict v = {0, 0, NULL};
    uint8_t pkt[256];
    uint64_t t = 1;
    endpoints(4, 40000, 7000, &cl, &sv);

    struct classify_flow *f = classify_flow_new();
    CHECK(f != NULL);
    if (f == NULL)
        return;
    feed(shared_classifier, f, &v, pkt, build_tcp(pkt, &cl, &sv, TH_SYN, "", 0), &t);
    feed(shared_classifier, f, &v, pkt,
         build_tcp(pkt, &sv, &cl, TH_SYN | TH_ACK, "", 0), &t);
    feed(shared_classifier, f, &v, pkt, build_tcp(pkt, &cl, &sv, TH_ACK, "", 0), &t);
    feed(shared_classifier, f, &v, pkt,
         build_tcp(pkt, &cl, &sv, TH_PSH | TH_ACK, ping, sizeof(ping) - 1), &t);
    CHECK(!v.decided);  /* nDPI 4.2 wants to see the server answer */
    feed(shared_classifier, f, &v, pkt,
         build_tcp(pkt, &sv, &cl, TH_PSH | TH_ACK, pong, sizeof(pong) - 1), &t);
    CHECK(v.decided);
    CHECK(v.name != NULL && strcasecmp(v.name, "Redis") == 0);
    classify_flow_free(f);
}

/* xorshift: the same "random" bytes on every run. */
static uint32_t random_next(uint32_t *state)
{
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *state = x;
}

static void test_random_binary_gives_up_with_null(void)
{
    struct endpoint cl, sv;
    struct verdict v = {0, 0, NULL};
    uint8_t pkt[2048], payload[600];
    uint32_t state = 2463534242u;
    uint64_t t = 1000;
    endpoints(4, 41000, 47123, &cl, &sv);

    struct classify_flow *f = classify_flow_new();
    CHECK(f != NULL);
    if (f == NULL)
        return;
    feed(shared_classifier, f, &v, pkt, build_tcp(pkt, &cl, &sv, TH_SYN, "", 0), &t);
    feed(shared_classifier, f, &v, pkt,
         build_tcp(pkt, &sv, &cl, TH_SYN | TH_ACK, "", 0), &t);
    feed(shared_classifier, f, &v, pkt, build_tcp(pkt, &cl, &sv, TH_ACK, "", 0), &t);
    for (int i = 0; i < 16; i++) {
        for (size_t j = 0; j < sizeof(payload); j++)
            payload[j] = (uint8_t)random_next(&state);
        struct endpoint *from = (i % 2) ? &sv : &cl;
        struct endpoint *to = (i % 2) ? &cl : &sv;
        feed(shared_classifier, f, &v, pkt,
             build_tcp(pkt, from, to, TH_PSH | TH_ACK, payload, sizeof(payload)), &t);
    }
    CHECK(!v.decided);

    struct classify_result res = { { "unset", "unset" } };
    CHECK_EQ_INT(classify_giveup(shared_classifier, f, &res), 1);
    CHECK(res.names[0] == NULL);
    classify_flow_free(f);
}

static void test_truncated_and_garbage_packets_do_not_crash(void)
{
    struct endpoint cl, sv;
    uint8_t pkt[2048];
    struct classify_result name;
    endpoints(4, 42000, 9200, &cl, &sv);
    size_t len = build_tcp(pkt, &cl, &sv, TH_PSH | TH_ACK, http_request,
                           sizeof(http_request) - 1);

    struct classify_flow *f = classify_flow_new();
    CHECK(f != NULL);
    if (f == NULL)
        return;
    /* Every prefix of a real packet: the IP length claims more than is there. */
    for (size_t cut = 0; cut < len; cut++) {
        uint8_t *copy = malloc(cut ? cut : 1);   /* exact size: ASan sees overreads */
        CHECK(copy != NULL);
        if (copy == NULL)
            break;
        memcpy(copy, pkt, cut);
        int r = classify_packet(shared_classifier, f, copy, cut, 1, &name);
        CHECK(r == 0 || r == 1);
        free(copy);
    }
    /* A header that is not IP at all. */
    uint8_t junk[64];
    memset(junk, 0xff, sizeof(junk));
    int r = classify_packet(shared_classifier, f, junk, sizeof(junk), 2, &name);
    CHECK(r == 0 || r == 1);
    classify_flow_free(f);
}

static void test_many_flows_new_and_free(void)
{
    /* Flows that are freed undecided, decided, and after a giveup: ASan's
     * leak checker at exit says whether nDPI's per-flow memory went too. */
    for (int i = 0; i < 2000; i++) {
        struct classify_flow *f = classify_flow_new();
        CHECK(f != NULL);
        if (f == NULL)
            return;
        if (i % 3 == 1) {
            struct classify_result name;
            CHECK_EQ_INT(classify_giveup(shared_classifier, f, &name), 1);
        }
        classify_flow_free(f);
    }
    for (int i = 0; i < 200; i++) {
        struct verdict v = run_http(shared_classifier, (i & 1) ? 6 : 4, 9200, 1);
        CHECK(v.decided);
    }
    classify_flow_free(NULL);
}

static void test_several_classifiers(void)
{
    struct classifier *a = classifier_new();
    struct classifier *b = classifier_new();
    CHECK(a != NULL && b != NULL);
    if (a != NULL && b != NULL) {
        struct verdict v = run_http(b, 4, 9200, 1);
        CHECK(v.decided && v.name != NULL && strcasecmp(v.name, "HTTP") == 0);
    }
    classifier_free(a);
    classifier_free(b);
    classifier_free(NULL);
}

int main(void)
{
    check_binary = "test_classify";
    shared_classifier = classifier_new();
    CHECK(shared_classifier != NULL);
    if (shared_classifier == NULL) {
        printf("FAIL test_classify/classifier_new\n");
        return 1;
    }
    RUN(test_http_ipv4_on_elasticsearch_port);
    RUN(test_http_ipv4_port_80);
    RUN(test_http_ipv6);
    RUN(test_http_midstream);
    RUN(test_redis_on_odd_port_needs_the_reply);
    RUN(test_random_binary_gives_up_with_null);
    RUN(test_truncated_and_garbage_packets_do_not_crash);
    RUN(test_many_flows_new_and_free);
    RUN(test_several_classifiers);
    classifier_free(shared_classifier);
    CHECK_EXIT();
}

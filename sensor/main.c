/* main.c - command line, start-up and shut-down of the sensor's threads.
 *
 *   capture (this thread) -> worker[N] -> detect -> output
 *
 * Exit status: 0 success; 1 input or runtime error (unreadable capture,
 * output write failure, events neither delivered to Redis nor spooled);
 * 2 usage or configuration error. */
#include <arpa/inet.h>
#include <getopt.h>
#include <netdb.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../rules/engine.h"
#include "base/limits.h"
#include "capture.h"
#include "config.h"
#include "detect.h"
#include "dispatch.h"
#include "inputs.h"
#include "output.h"
#include "packet.h"
#include "paths.h"
#include "preflight.h"
#include "progress.h"
#include "rdns.h"
#include "worker.h"

#define SCRAPEWATCH_VERSION "0.1.0"

struct options {
    const char *config_path;
    const char *ifaces[INPUTS_MAX]; /* -i, in order; else capture.interfaces */
    size_t iface_count;
    int too_many_ifaces;       /* -i given more than INPUTS_MAX times */
    char **files;
    size_t file_count;
    const char *json_path;
    int workers;               /* -1: from config */
    int test_config;
    int test_rules;
    int read_files;            /* -r */
    int quiet;                 /* no progress line */
    long stats_interval;       /* --stats-interval seconds, -1: not given */
};

static struct capture *volatile running_capture;
static struct inputs *volatile running_inputs;
static volatile sig_atomic_t stop_requested;
/* SIGHUP: the detect thread reloads the rules before its next op, and the
 * output thread reopens its file (logrotate). */
static atomic_int reload_requested;
static atomic_int reopen_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
    if (running_capture)
        capture_break(running_capture);
    if (running_inputs)
        inputs_break(running_inputs);
}

static void on_hangup(int sig)
{
    (void)sig;
    atomic_store(&reload_requested, 1);
    atomic_store(&reopen_requested, 1);
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: scrapewatch [-c FILE] (-r FILE [FILE...] | -i IFACE [-i IFACE...]) [options]\n"
            "  -c, --config FILE     configuration (libconfig); default: " SW_SYSCONFDIR
            "/scrapewatch.conf\n"
            "                        when installed, else the built-in defaults\n"
            "  -r, --read FILE...    read pcap/pcapng files in order; '-' is stdin\n"
            "  -i, --interface IFACE capture live; several -i capture them together\n"
            "                        (default: capture.interfaces)\n"
            "  -j, --json[=PATH]     JSON lines to PATH ('-' or no PATH: stdout)\n"
            "  -w, --workers N       worker threads (overrides sensor.workers)\n"
            "      --test-config     check the configuration, and that every file it names\n"
            "                        can be opened as sensor.user, and exit\n"
            "      --test-rules      check the configuration and the rules, and exit\n"
            "      --stats-interval N  a stats event every N seconds: of packet time when\n"
            "                        reading files (default: only the final one), of wall\n"
            "                        clock when live (overrides events.stats_interval)\n"
            "  -q, --quiet           no progress line while reading files (shown only\n"
            "                        when stderr is a terminal)\n"
            "  -h, --help            this text\n"
            "  -V, --version         print the version\n");
}

static int parse_args(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'}, {"read", no_argument, NULL, 'r'},
        {"interface", required_argument, NULL, 'i'}, {"json", optional_argument, NULL, 'j'},
        {"workers", required_argument, NULL, 'w'}, {"test-config", no_argument, NULL, 'T'},
        {"test-rules", no_argument, NULL, 'R'}, {"quiet", no_argument, NULL, 'q'},
        {"stats-interval", required_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'}, {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int read_files = 0, c;
    memset(o, 0, sizeof(*o));
    o->workers = -1;
    o->stats_interval = -1;
    while ((c = getopt_long(argc, argv, "c:ri:j::w:qhV", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': o->config_path = optarg; break;
        case 'r': read_files = 1; break;
        case 'i':
            if (o->iface_count < INPUTS_MAX)
                o->ifaces[o->iface_count++] = optarg;
            else
                o->too_many_ifaces = 1;
            break;
        case 'j': o->json_path = optarg ? optarg : "-"; break;
        case 'w': {
            char *end;
            long n = strtol(optarg, &end, 10);
            if (*end || n < 1 || n > WORKERS_MAX) {
                fprintf(stderr, "scrapewatch: --workers must be between 1 and %d\n",
                        WORKERS_MAX);
                return 2;
            }
            o->workers = (int)n;
            break;
        }
        case 'T': o->test_config = 1; break;
        case 'R': o->test_rules = 1; break;
        case 'q': o->quiet = 1; break;
        case 'S': {
            char *end;
            o->stats_interval = strtol(optarg, &end, 10);
            if (*end || o->stats_interval < 1 || o->stats_interval > 86400) {
                fprintf(stderr, "scrapewatch: --stats-interval must be between 1 and 86400\n");
                return 2;
            }
            break;
        }
        case 'h': usage(stdout); exit(0);
        case 'V': printf("scrapewatch %s\n", SCRAPEWATCH_VERSION); exit(0);
        default: usage(stderr); return 2;
        }
    }
    o->files = argv + optind;
    o->file_count = (size_t)(argc - optind);
    char err[256];
    if (o->too_many_ifaces
        || inputs_check_names(o->ifaces, o->iface_count, err, sizeof(err)) != 0) {
        fprintf(stderr, "scrapewatch: -i: %s\n",
                o->too_many_ifaces ? "more interfaces than can be captured together" : err);
        return 2;
    }
    if (o->test_config || o->test_rules)
        return 0;
    if ((read_files && o->iface_count) || (read_files && o->file_count == 0)
        || (!read_files && o->file_count)) {
        fprintf(stderr, "scrapewatch: give either -r FILE... or -i IFACE... (see --help)\n");
        return 2;
    }
    o->read_files = read_files;
    return 0;
}

/* All threads and their shared state for one run. */
struct sensor {
    struct sw_config cfg;
    const char *const *pcap_files;   /* offline: the files read, for events */
    size_t pcap_file_count;
    struct worker *workers;
    unsigned worker_count;
    struct dispatch dispatch;
    struct detect detect;
    struct output output;
    _Atomic size_t reasm_used;
    struct capture *capture;   /* files (-r) */
    struct inputs inputs;      /* live interfaces */
    bool live;
    struct rdns *rdns;         /* rdns.enabled: attribution by reverse DNS */
};

/* Our own Redis traffic is not monitored traffic: when the sink talks TCP,
 * packets to and from its server's addresses and port are left out. */
static void sensor_exclude_redis(struct sensor *s)
{
    const struct config_output_redis *r = &s->cfg.output.redis;
    if (!r->enabled || r->unix_socket[0])
        return;
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(r->host, NULL, &hints, &res);
    if (rc != 0) {
        fprintf(stderr, "scrapewatch: warning: cannot resolve output.redis.host '%s' (%s): "
                        "its traffic is not excluded from monitoring\n", r->host,
                gai_strerror(rc));
        return;
    }
    for (const struct addrinfo *a = res; a; a = a->ai_next) {
        if (a->ai_family == AF_INET)
            dispatch_exclude(&s->dispatch, 4,
                             (const uint8_t *)&((const struct sockaddr_in *)(const void *)
                                                    a->ai_addr)->sin_addr,
                             (uint16_t)r->port);
        else if (a->ai_family == AF_INET6)
            dispatch_exclude(&s->dispatch, 6,
                             (const uint8_t *)&((const struct sockaddr_in6 *)(const void *)
                                                    a->ai_addr)->sin6_addr,
                             (uint16_t)r->port);
    }
    freeaddrinfo(res);
}

/* One line: who this process runs as now. */
static void announce_user(void)
{
    char user[96];
    paths_user_name(user, sizeof(user));
    fprintf(stderr, "scrapewatch: running as %s\n", user);
}

static int sensor_drop_privileges(struct sensor *s)
{
    char err[512];
    if (capture_drop_privileges(s->cfg.sensor.user, err, sizeof(err)) != 0) {
        fprintf(stderr, "scrapewatch: %s\n", err);
        return -1;
    }
    announce_user();
    return 0;
}

static int sensor_start(struct sensor *s, const char *json_path, struct rule_engine *engine,
                        const char *config_path)
{
    char err[512];
    unsigned n = s->worker_count;
    bool live = s->live;
    size_t per_worker = (s->cfg.flows.max + n - 1) / n;
    s->workers = calloc(n, sizeof(*s->workers));
    if (!s->workers)
        return -1;
    for (unsigned i = 0; i < n; i++)
        if (worker_init(&s->workers[i], i, &s->cfg, per_worker, &s->reasm_used) != 0) {
            fprintf(stderr, "scrapewatch: cannot set up worker %u (out of memory or nDPI)\n", i);
            return -1;
        }
    dispatch_init(&s->dispatch, s->workers, n, live);
    sensor_exclude_redis(s);
    if (detect_init(&s->detect, &s->cfg, s->workers, n, &s->dispatch, live, engine,
                    &reload_requested, config_path) != 0
        || output_init(&s->output, &s->cfg, &s->detect.out, json_path, err, sizeof(err)) != 0) {
        fprintf(stderr, "scrapewatch: %s\n", err[0] ? err : "cannot set up output");
        return -1;
    }
    detect_set_rdns(&s->detect, s->rdns);
    if (s->rdns && rdns_start(s->rdns) != 0) {
        fprintf(stderr, "scrapewatch: cannot start the rdns resolver thread\n");
        return -1;
    }
    s->output.reopen = &reopen_requested;
    s->output.pcap_files = s->pcap_files;
    s->output.pcap_file_count = s->pcap_file_count;
    /* Files are open: now the capture's privileges can go. */
    if (live && sensor_drop_privileges(s) != 0)
        return -1;
    for (unsigned i = 0; i < n; i++)
        if (worker_start(&s->workers[i]) != 0)
            return -1;
    if (detect_start(&s->detect) != 0 || output_start(&s->output) != 0)
        return -1;
    return 0;
}

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Events written so far, for the progress line. */
static uint64_t sensor_events(const struct sensor *s)
{
    const struct stats *st = &s->detect.stats;
    return stats_get(st, STAT_EVENTS_OP) + stats_get(st, STAT_EVENTS_FLOW) +
           stats_get(st, STAT_RULES_ALERTS);
}

/* The loop over capture files: returns 0 at the end of input or on a
 * signal, 1 when the input is broken (the error is printed; what came
 * before is kept). Live interfaces have a thread each (inputs.h). */
static int sensor_file_loop(struct sensor *s, struct progress *pg)
{
    char err[512];
    struct capture_packet p;
    for (;;) {
        if (stop_requested)
            return 0;
        int r = capture_next(s->capture, &p, err, sizeof(err));
        if (r == CAPTURE_PACKET) {
            dispatch_set_position(&s->dispatch, p.file, p.file_packet);
            dispatch_packet(&s->dispatch, p.data, p.caplen, p.wire_len, p.ts_us, p.linktype);
            progress_packet(pg, s->capture, sensor_events(s));
        } else if (r == CAPTURE_END)
            return 0;
        else if (r == CAPTURE_ERROR) {
            progress_end(pg);
            fprintf(stderr, "scrapewatch: %s\n", err);
            return 1;
        }
    }
}

/* Live: one line on standard error with every place a packet or an event
 * can be lost, by cause (the same counters as the final stats event). */
static void sensor_drop_summary(struct sensor *s)
{
    const struct stats *d = &s->dispatch.stats;
    if (s->inputs.count > 1)
        inputs_summary(&s->inputs, d, stderr);
    fprintf(stderr, "scrapewatch: capture: final: packets=%llu kernel_drops=%llu "
                    "interface_drops=%llu ring_drops=%llu unread_at_stop=%llu "
                    "events_dropped=%llu\n",
            (unsigned long long)stats_get(d, STAT_PACKETS),
            (unsigned long long)stats_get(d, STAT_KERNEL_DROPS),
            (unsigned long long)stats_get(d, STAT_IFACE_DROPS),
            (unsigned long long)stats_get(d, STAT_RING_DROPS),
            (unsigned long long)stats_get(d, STAT_CAPTURE_UNREAD_AT_STOP),
            (unsigned long long)stats_get(&s->output.stats, STAT_EVENTS_DROPPED));
}

/* The resolver thread after the last alert; its save file written. */
static int sensor_stop_rdns(struct sensor *s)
{
    char err[1024];
    int rc = rdns_stop(s->rdns, err, sizeof(err));
    if (rc != 0)
        fprintf(stderr, "scrapewatch: %s\n", err);
    return rc != 0;
}

static int sensor_stop(struct sensor *s)
{
    if (s->dispatch.live)
        inputs_final_stats(&s->inputs, &s->dispatch.stats);
    dispatch_end(&s->dispatch);
    for (unsigned i = 0; i < s->worker_count; i++)
        worker_join(&s->workers[i]);
    detect_join(&s->detect);
    output_join(&s->output);
    int rdns_failed = sensor_stop_rdns(s);
    if (s->dispatch.live)
        sensor_drop_summary(s);
    output_destroy(&s->output);
    int failed = s->output.write_failed | rdns_failed;
    if (failed)
        fprintf(stderr, "scrapewatch: writing events failed\n");
    if (s->output.undelivered) {
        fprintf(stderr, "scrapewatch: %llu events were neither delivered to Redis nor "
                        "spooled (%s)\n",
                (unsigned long long)s->output.undelivered, s->output.undelivered_why);
        failed = 1;
    }
    for (unsigned i = 0; i < s->worker_count; i++)
        worker_destroy(&s->workers[i]);
    detect_destroy(&s->detect);
    rdns_free(s->rdns);
    s->rdns = NULL;
    free(s->workers);
    return failed;
}

/* Files (-r), or the live interfaces: -i, else capture.interfaces. */
static int sensor_open_capture(struct sensor *s, const struct options *o)
{
    char err[512] = "";
    struct capture_options co = {
        .snaplen = s->cfg.capture.snaplen, .buffer_mb = s->cfg.capture.buffer_mb,
        .promisc = s->cfg.capture.promisc, .bpf = s->cfg.capture.bpf,
        .timeout_ms = s->cfg.capture.timeout_ms, .fanout_group = s->cfg.capture.fanout_group,
    };
    s->live = !o->read_files;
    int r;
    if (!s->live)
        r = capture_open_files(&s->capture, o->files, o->file_count, &co, err, sizeof(err));
    else if (o->iface_count)
        r = inputs_open(&s->inputs, o->ifaces, o->iface_count, &co, err, sizeof(err));
    else {
        const char *names[INPUTS_MAX];
        for (size_t i = 0; i < s->cfg.capture.interface_count; i++)
            names[i] = s->cfg.capture.interfaces[i];
        r = inputs_open(&s->inputs, names, s->cfg.capture.interface_count, &co, err,
                        sizeof(err));
    }
    if (r != 0) {
        fprintf(stderr, "scrapewatch: %s\n", err);
        return -1;
    }
    return 0;
}

/* Neither -r nor -i, and no capture.interfaces: one line saying where to
 * name an interface (the packaged service runs without -i). */
static int no_input(const struct options *o, const struct sw_config *cfg)
{
    if (o->read_files || o->iface_count || cfg->capture.interface_count)
        return 0;
    fprintf(stderr, "scrapewatch: no input: give -r FILE... or -i IFACE, or set "
                    "capture.interfaces in %s\n",
            o->config_path ? o->config_path : "the configuration (-c FILE)");
    return 1;
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* From the start: a SIGHUP (logrotate) while the sensor starts up is a
 * reload and reopen once it runs, never the end of it. A reload request
 * must not interrupt reading the capture. */
static void install_hangup(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_hangup;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGHUP, &sa, NULL);
}

static int load_config(struct options *o, struct sw_config *cfg)
{
    char err[1024];
    config_defaults(cfg);
    if (!o->config_path)
        o->config_path = paths_default_config();
    if (o->config_path && config_load(o->config_path, cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "scrapewatch: %s\n", err);
        return -1;
    }
    if (o->workers > 0)
        cfg->sensor.workers = (unsigned)o->workers;
    if (o->stats_interval > 0)
        cfg->events.stats_interval = (unsigned)o->stats_interval;
    struct packet_options po = {
        (uint16_t)cfg->tunnels.vxlan_port, (uint16_t)cfg->tunnels.geneve_port,
        cfg->tunnels.max_depth,
    };
    packet_set_options(&po);
    return 0;
}

/* Where events go, in words. */
static void describe_sinks(const struct sw_config *cfg, const char *json, char *out, size_t cap)
{
    int n = 0;
    if (strcmp(json, "-") == 0)
        n = snprintf(out, cap, "JSON lines to standard output");
    else if (json[0])
        n = snprintf(out, cap, "JSON lines appended to %s (SIGHUP reopens it)", json);
    const struct config_output_redis *r = &cfg->output.redis;
    if (r->enabled && n >= 0 && (size_t)n < cap) {
        char where[400];
        if (r->unix_socket[0])
            snprintf(where, sizeof(where), "%s", r->unix_socket);
        else
            snprintf(where, sizeof(where), "%s:%u", r->host, r->port);
        snprintf(out + n, cap - (size_t)n, "%sRedis at %s (stream %s)", n ? ", " : "", where,
                 r->stream);
    }
}

/* The start-up lines of a live sensor: configuration, rules, sinks. */
static void announce(const struct sw_config *cfg, const struct options *o, const char *json,
                     size_t rule_count)
{
    char sinks[1024] = "nowhere";
    describe_sinks(cfg, json, sinks, sizeof(sinks));
    fprintf(stderr, "scrapewatch: configuration %s\n",
            o->config_path ? o->config_path : "(built-in defaults)");
    fprintf(stderr, "scrapewatch: %zu rules from %s\n", rule_count,
            cfg->detect.rules[0] ? cfg->detect.rules : "(none: detect.rules is \"\")");
    fprintf(stderr, "scrapewatch: events: %s\n", sinks);
}

/* --test-config: the configuration, then every file it names, as the user
 * the sensor will run as. */
/* rdns.enabled: its domain list and cache file load. */
static int test_config_rdns(const struct sw_config *cfg)
{
    if (!cfg->rdns.enabled)
        return 0;
    char err[1024];
    struct rdns *r = rdns_new(&cfg->rdns, cfg->detect.lists, err, sizeof(err));
    if (!r) {
        fprintf(stderr, "scrapewatch: %s\n", err);
        return -1;
    }
    rdns_free(r);
    return 0;
}

static int test_config(const struct sw_config *cfg, const struct options *o, const char *json)
{
    size_t rules = 0;
    int problems = preflight_check(cfg, json, &rules);
    if (problems) {
        fprintf(stderr, "scrapewatch: %s: %d problem%s\n",
                o->config_path ? o->config_path : "(built-in defaults)", problems,
                problems == 1 ? "" : "s");
        return 2;
    }
    if (test_config_rdns(cfg) != 0)
        return 2;
    char sinks[1024] = "nowhere";
    describe_sinks(cfg, json, sinks, sizeof(sinks));
    printf("configuration OK: %s\n", o->config_path ? o->config_path : "(built-in defaults)");
    printf("rules: %zu from %s\n", rules, cfg->detect.rules[0] ? cfg->detect.rules : "(none)");
    printf("lists: %s\n", cfg->detect.lists);
    printf("events: %s\n", sinks);
    printf("user: %s\n", cfg->sensor.user[0] ? cfg->sensor.user : "(the one that starts it)");
    if (cfg->rdns.enabled)
        printf("rdns: %s%s\n", cfg->rdns.cache_file[0] ? "names from " : "FCrDNS of outside "
               "actors through the system resolver (/etc/resolv.conf)",
               cfg->rdns.cache_file);
    printf("interfaces:");
    for (size_t i = 0; i < cfg->capture.interface_count; i++)
        printf(" %s", cfg->capture.interfaces[i]);
    printf("%s\n", cfg->capture.interface_count ? "" : " (none: give -i IFACE)");
    return 0;
}

int main(int argc, char **argv)
{
    struct options o;
    int rc = parse_args(argc, argv, &o);
    if (rc)
        return rc;
    install_hangup();
    static struct sensor s;
    if (load_config(&o, &s.cfg) != 0)
        return 2;
    /* JSON lines: --json, else output.json, else stdout unless Redis is on. */
    const char *json = o.json_path               ? o.json_path
                       : s.cfg.output.json[0]    ? s.cfg.output.json
                       : s.cfg.output.redis.enabled ? ""
                                                    : "-";
    if (o.test_config && !o.test_rules)
        return test_config(&s.cfg, &o, json);
    if (!o.test_rules && no_input(&o, &s.cfg))
        return 2;
    char err[1024];
    struct rule_engine *engine = rule_engine_load(&s.cfg.detect, err, sizeof(err));
    if (!engine) {
        fprintf(stderr, "scrapewatch: %s\n", err);
        return 2;
    }
    if (o.test_rules) {
        printf("rules OK: %zu rules\n", rule_engine_rule_count(engine));
        rule_engine_free(engine);
        return 0;
    }
    if (s.cfg.rdns.enabled
        && !(s.rdns = rdns_new(&s.cfg.rdns, s.cfg.detect.lists, err, sizeof(err)))) {
        fprintf(stderr, "scrapewatch: %s\n", err);
        rule_engine_free(engine);
        return 2;
    }
    if (sensor_open_capture(&s, &o) != 0) {
        rule_engine_free(engine);
        return 1;
    }
    s.worker_count = s.cfg.sensor.workers;
    if (s.live)
        announce(&s.cfg, &o, json, rule_engine_rule_count(engine));
    /* Before the handlers: a signal during the (slow) start-up must still
     * reach the capture, or a live capture would never stop. */
    running_capture = s.capture;
    if (s.live)
        running_inputs = &s.inputs;
    install_signals();
    if (!s.live) {   /* events name the file of their packet */
        s.pcap_files = (const char *const *)o.files;
        s.pcap_file_count = o.file_count;
    }
    if (sensor_start(&s, json, engine, o.config_path) != 0)
        return 1;
    if (!s.dispatch.live && o.stats_interval > 0)
        s.dispatch.stats_interval_us = (uint64_t)o.stats_interval * 1000000;
    struct progress pg;
    progress_init(&pg, o.files, s.live ? 0 : o.file_count, !o.quiet);
    rc = s.live ? inputs_run(&s.inputs, &s.dispatch, now_us) : sensor_file_loop(&s, &pg);
    progress_end(&pg);
    running_capture = NULL;
    rc |= sensor_stop(&s);
    running_inputs = NULL;
    if (s.live)
        inputs_close(&s.inputs);
    else
        capture_close(s.capture);
    return rc;
}

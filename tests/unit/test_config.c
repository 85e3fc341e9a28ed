/* test_config.c - the shipped configuration, and every way a file can be wrong.
 *
 * Run from the repository root: fixture paths are relative to it, and the
 * expected errors name them that way. */
#include "../../sensor/config.h"
#include "../../decoders/http/http.h"
#include "../../decoders/mongodb/mongodb.h"
#include "../../decoders/cassandra/cassandra.h"
#include "../../sensor/paths.h"
#include "check.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* The real registry is linked: decoder names are checked against it. */

static const struct http_params *http_params_of(const struct sw_config *cfg)
{
    return config_decoder_params(cfg, decoder_find("http"));
}

static const struct mongodb_params *mongodb_params_of(const struct sw_config *cfg)
{
    return config_decoder_params(cfg, decoder_find("mongodb"));
}

static const struct cassandra_params *cassandra_params_of(const struct sw_config *cfg)
{
    return config_decoder_params(cfg, decoder_find("cassandra"));
}

static void test_shipped_config_equals_defaults(void)
{
    struct sw_config def, file;
    char err[512] = "";

    config_defaults(&def);
    CHECK_EQ_INT(config_load("config/scrapewatch.conf", &file, err, sizeof(err)), 0);
    CHECK_EQ_STR(err, "");
    CHECK_EQ_STR(file.source, "config/scrapewatch.conf");
    CHECK_EQ_STR(def.source, "");

    CHECK_EQ_STR(file.sensor.id, "scrapewatch");
    CHECK_EQ_INT(file.sensor.workers, 2);
    CHECK_EQ_STR(file.sensor.user, "");
    CHECK_EQ_INT(file.capture.snaplen, 65535);
    CHECK_EQ_INT(file.capture.buffer_mb, 64);
    CHECK(file.capture.promisc);
    CHECK_EQ_STR(file.capture.bpf, "");
    CHECK_EQ_INT(file.capture.ring_kb, 4096);
    CHECK_EQ_INT(file.capture.timeout_ms, 100);
    CHECK_EQ_INT(file.tunnels.vxlan_port, 4789);
    CHECK_EQ_INT(file.tunnels.geneve_port, 6081);
    CHECK_EQ_INT(file.tunnels.max_depth, 4);
    CHECK_EQ_INT(def.tunnels.vxlan_port, 4789);
    CHECK_EQ_INT(def.tunnels.geneve_port, 6081);
    CHECK_EQ_INT(def.tunnels.max_depth, 4);
    CHECK_EQ_INT(file.capture.fanout_group, 0);
    CHECK_EQ_INT(file.flows.max, 200000);
    CHECK_EQ_INT(file.flows.idle_timeout, 600);
    CHECK_EQ_INT(file.flows.closed_timeout, 5);
    CHECK_EQ_INT(file.reassembly.flow_max_kb, 1024);
    CHECK_EQ_INT(file.reassembly.total_max_mb, 512);
    CHECK_EQ_INT(file.memory.budget_mb, 1024);
    CHECK_EQ_INT(file.memory.rules_mb, 128);
    CHECK(file.ndpi.enabled);
    CHECK_EQ_INT(file.ndpi.max_packets, 12);
    CHECK_EQ_INT(http_params_of(&file)->header_max, 16384);
    CHECK_EQ_INT(http_params_of(&file)->pending_max, 64);
    CHECK_EQ_INT(http_params_of(&file)->body_max, 256 * 1024 * 1024);
    CHECK(file.events.op);
    CHECK(file.events.flow);
    CHECK_EQ_INT(file.events.stats_interval, 60);
    CHECK_EQ_INT(file.events.string_max, 256);
    CHECK_EQ_INT(file.events.queue, 4096);
    CHECK_EQ_STR(file.output.json, "");
    const struct config_output_redis *r = &file.output.redis;
    CHECK(!r->enabled);
    CHECK_EQ_STR(r->host, "127.0.0.1");
    CHECK_EQ_INT(r->port, 6379);
    CHECK_EQ_STR(r->unix_socket, "");
    CHECK_EQ_INT(r->db, 0);
    CHECK_EQ_STR(r->password, "");
    CHECK_EQ_STR(r->stream, "{scrapewatch}:events");
    CHECK_EQ_STR(r->alerts_stream, "{scrapewatch}:alerts");
    CHECK_EQ_INT(r->alerts_maxlen, 100000);
    CHECK(r->metrics);
    CHECK_EQ_STR(r->metrics_key, "");
    CHECK_EQ_INT(r->metrics_maxlen, 43200);
    CHECK_EQ_STR(r->top_prefix, "{scrapewatch}:top:");
    CHECK_EQ_INT(r->maxlen, 100000);
    CHECK_EQ_STR(r->channel, "scrapewatch:alerts");
    CHECK_EQ_STR(r->publish, "alert");
    CHECK_EQ_STR(r->health_key, "");
    CHECK_EQ_STR(r->counters_prefix, "{scrapewatch}:counts:");
    CHECK_EQ_INT(r->counters_ttl, 604800);
    CHECK_EQ_INT(r->connect_timeout_ms, 1000);
    CHECK_EQ_INT(r->command_timeout_ms, 2000);
    CHECK_EQ_INT(r->batch_max, 256);
    CHECK_EQ_INT(r->flush_ms, 50);
    CHECK_EQ_INT(r->queue_bytes, 64 * 1024 * 1024);
    CHECK(r->spool);
    CHECK_EQ_STR(r->spool_path, "");
    CHECK_EQ_INT(r->spool_max_bytes, 1024LL * 1024 * 1024);
    CHECK_EQ_STR(r->spool_fsync, "batch");
    CHECK_EQ_INT(r->reconnect_min_ms, 100);
    CHECK_EQ_INT(r->reconnect_max_ms, 5000);
    CHECK_EQ_INT(r->shutdown_timeout_ms, 5000);

    CHECK_EQ_INT(file.decoder_count, 8);
    CHECK_EQ_STR(file.decoders[0].name, "http");
    CHECK(file.decoders[0].enabled);
    CHECK_EQ_INT(file.decoders[0].port_count, 3);
    CHECK_EQ_STR(file.decoders[1].name, "elasticsearch");
    CHECK_EQ_INT(file.decoders[1].port_count, 2);
    CHECK_EQ_STR(file.decoders[2].name, "mongodb");
    CHECK_EQ_INT(file.decoders[2].port_count, 1);
    CHECK_EQ_INT(file.decoders[2].ports[0], 27017);
    CHECK_EQ_INT(mongodb_params_of(&file)->message_max, 48 * 1024 * 1024);
    CHECK_EQ_INT(mongodb_params_of(&file)->compressed_max, 16 * 1024 * 1024);
    CHECK_EQ_INT(mongodb_params_of(&file)->decompressed_max, 48 * 1024 * 1024);
    CHECK_EQ_INT(mongodb_params_of(&file)->pending_max, 64);
    CHECK_EQ_STR(file.decoders[3].name, "couchdb");
    CHECK_EQ_INT(file.decoders[3].ports[0], 5984);
    CHECK_EQ_STR(file.decoders[4].name, "solr");
    CHECK_EQ_INT(file.decoders[4].ports[0], 8983);
    CHECK_EQ_STR(file.decoders[5].name, "cassandra");
    CHECK_EQ_INT(file.decoders[5].port_count, 1);
    CHECK_EQ_INT(file.decoders[5].ports[0], 9042);
    CHECK_EQ_INT(cassandra_params_of(&file)->frame_max, 256 * 1024 * 1024);
    CHECK_EQ_INT(cassandra_params_of(&file)->head_max, 64 * 1024);
    CHECK_EQ_INT(cassandra_params_of(&file)->compressed_max, 16 * 1024 * 1024);
    CHECK_EQ_INT(cassandra_params_of(&file)->decompressed_max, 64 * 1024 * 1024);
    CHECK_EQ_INT(cassandra_params_of(&file)->pending_max, 128);
    CHECK_EQ_INT(cassandra_params_of(&file)->prepared_max, 64);
    CHECK_EQ_STR(file.decoders[7].name, "memcached");
    CHECK_EQ_INT(file.decoders[7].port_count, 1);
    CHECK_EQ_INT(file.decoders[7].ports[0], 11211);
    CHECK_EQ_INT(file.decoders[7].udp_port_count, 1);
    CHECK_EQ_INT(file.decoders[7].udp_ports[0], 11211);

    /* The built-in rule file and lists of this source tree, found from
     * the binary's place, not the current directory (sensor/paths.h). */
    char tree_rules[PATH_MAX + 32], tree_lists[PATH_MAX + 32];
    CHECK(paths_source_tree() != NULL);
    snprintf(tree_rules, sizeof(tree_rules), "%s/rules/scrapewatch.rules", paths_source_tree());
    snprintf(tree_lists, sizeof(tree_lists), "%s/rules/lists", paths_source_tree());
    CHECK_EQ_STR(file.detect.rules, tree_rules);
    CHECK(!file.detect.rules_set);
    CHECK(!def.detect.rules_set);
    CHECK_EQ_STR(file.detect.lists, tree_lists);
    CHECK_EQ_INT(file.detect.home_net_count, 4);
    CHECK_EQ_STR(file.detect.home_nets[0], "10.0.0.0/8");
    CHECK_EQ_STR(file.detect.home_nets[3], "fc00::/7");
    CHECK_EQ_INT(file.detect.trusted_client_count, 0);
    CHECK_EQ_INT(file.detect.max_keys, 100000);
    CHECK_EQ_INT(file.detect.distinct_exact, 64);

    /* Everything but the source name, byte for byte (both were memset). */
    memcpy(file.source, def.source, sizeof(file.source));
    CHECK(memcmp(&file, &def, sizeof(def)) == 0);
}

static void test_default_ports(void)
{
    struct sw_config cfg;
    static const uint16_t ports[] = { 80, 8080, 5601 };

    config_defaults(&cfg);
    for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
        const struct config_decoder *d = config_decoder_for_port(&cfg, ports[i]);
        CHECK(d != NULL);
        if (d)
            CHECK_EQ_STR(d->name, "http");
    }
    for (uint16_t p = 9200; p <= 9201; p++) {
        const struct config_decoder *d = config_decoder_for_port(&cfg, p);
        CHECK(d != NULL);
        if (d)
            CHECK_EQ_STR(d->name, "elasticsearch");
    }
    const struct config_decoder *mongo = config_decoder_for_port(&cfg, 27017);
    CHECK(mongo != NULL);
    if (mongo)
        CHECK_EQ_STR(mongo->name, "mongodb");
    CHECK(config_decoder_for_port(&cfg, 27018) == NULL);
    CHECK(config_decoder_for_port(&cfg, 0) == NULL);
    CHECK(config_decoder_named(&cfg, "http") == &cfg.decoders[0]);
    CHECK(config_decoder_named(&cfg, "mongodb") == &cfg.decoders[2]);
    const struct config_decoder *couch = config_decoder_for_port(&cfg, 5984);
    CHECK(couch != NULL && strcmp(couch->name, "couchdb") == 0);
    const struct config_decoder *solr = config_decoder_for_port(&cfg, 8983);
    CHECK(solr != NULL && strcmp(solr->name, "solr") == 0);
    const struct config_decoder *redis = config_decoder_for_port(&cfg, 6379);
    CHECK(redis != NULL);
    if (redis)
        CHECK_EQ_STR(redis->name, "redis");
    CHECK(config_decoder_named(&cfg, "redis") == &cfg.decoders[6]);
    CHECK(config_decoder_named(&cfg, "memcached") == &cfg.decoders[7]);
}

/* Each bad fixture and the one line it must produce. */
static const struct {
    const char *file;
    const char *error;
} bad_configs[] = {
    { "tests/config/unknown_key.conf",
      "tests/config/unknown_key.conf:3: unknown key 'flows.maxx'" },
    { "tests/config/unknown_group.conf",
      "tests/config/unknown_group.conf:5: unknown group 'flow'" },
    { "tests/config/wrong_type.conf",
      "tests/config/wrong_type.conf:4: 'flows.max' must be an integer" },
    { "tests/config/wrong_type_float.conf",
      "tests/config/wrong_type_float.conf:3: 'capture.timeout_ms' must be an integer" },
    { "tests/config/wrong_type_bool.conf",
      "tests/config/wrong_type_bool.conf:3: 'events.op' must be true or false" },
    { "tests/config/out_of_range.conf",
      "tests/config/out_of_range.conf:4: 'sensor.workers' must be between 1 and 64" },
    { "tests/config/out_of_range_negative.conf",
      "tests/config/out_of_range_negative.conf:2: 'flows.closed_timeout' must be between 0 and 3600" },
    { "tests/config/out_of_range_int64.conf",
      "tests/config/out_of_range_int64.conf:3: 'flows.max' must be between 1 and 100000000" },
    { "tests/config/string_empty.conf",
      "tests/config/string_empty.conf:3: 'sensor.id' must not be empty" },
    { "tests/config/string_too_long.conf",
      "tests/config/string_too_long.conf:2: 'sensor.id' must be at most 63 bytes long" },
    { "tests/config/syntax_error.conf",
      "tests/config/syntax_error.conf:3: syntax error" },
    { "tests/config/unknown_decoder.conf",
      "tests/config/unknown_decoder.conf:6: unknown decoder 'nosuchdb' in 'decoders'" },
    { "tests/config/duplicate_port.conf",
      "tests/config/duplicate_port.conf:5: duplicate port 80 in 'decoders.http.ports'" },
    { "tests/config/udp_port_conflict.conf",
      "tests/config/udp_port_conflict.conf:6: port 11311 in 'decoders.mongodb.udp_ports' "
      "is already used by decoder 'http'" },
    { "tests/config/bad_group_type.conf",
      "tests/config/bad_group_type.conf:2: 'flows' must be a group" },
    { "tests/config/bad_decoder_type.conf",
      "tests/config/bad_decoder_type.conf:2: 'decoders.http' must be a group" },
    { "tests/config/bad_ports_type.conf",
      "tests/config/bad_ports_type.conf:3: 'decoders.http.ports' must be an array of port numbers" },
    { "tests/config/port_out_of_range.conf",
      "tests/config/port_out_of_range.conf:4: 'decoders.http.ports' ports must be between 1 and 65535" },
    { "tests/config/decoder_unknown_key.conf",
      "tests/config/decoder_unknown_key.conf:4: unknown key 'decoders.http.port'" },
    { "tests/config/include_missing.conf",
      "tests/config/include_missing.conf:4: cannot open include file" },
    { "tests/config/include_syntax.conf",
      "tests/config/include_syntax_part.conf:3: syntax error" },
    { "tests/config/include_bad.conf",
      "tests/config/include_bad_part.conf:2: 'events.queue' must be between 64 and 1048576" },
    { "tests/config/redis_unknown_key.conf",
      "tests/config/redis_unknown_key.conf:4: unknown key 'output.redis.prot'" },
    { "tests/config/redis_bad_choice.conf",
      "tests/config/redis_bad_choice.conf:3: 'output.redis.spool_fsync' must be "
      "\"always\", \"batch\" or \"never\"" },
    { "tests/config/redis_publish_type.conf",
      "tests/config/redis_publish_type.conf:3: 'output.redis.publish' must be "
      "\"alert\" or \"all\"" },
    { "tests/config/redis_backoff_order.conf",
      "tests/config/redis_backoff_order.conf:4: 'output.redis.reconnect_min_ms' (500) must "
      "not exceed 'output.redis.reconnect_max_ms' (100)" },
    { "tests/config/redis_not_group.conf",
      "tests/config/redis_not_group.conf:3: 'output.redis' must be a group" },
    { "tests/config/redis_hash_tags.conf",
      "tests/config/redis_hash_tags.conf:3: 'output.redis.alerts_stream' has the hash tag "
      "{scrapewatch} but 'output.redis.stream' has {fleet}: the keys of one batch must share "
      "one tag (one Redis Cluster slot)" },
    { "tests/config/redis_port_range.conf",
      "tests/config/redis_port_range.conf:3: 'output.redis.port' must be between 1 and 65535" },
    { "tests/config/memory_reasm_over_budget.conf",
      "tests/config/memory_reasm_over_budget.conf:6: 'reassembly.total_max_mb' (128) must "
      "not exceed 'memory.budget_mb' (64)" },
    { "tests/config/memory_rules_share.conf",
      "tests/config/memory_rules_share.conf:3: 'memory.rules_mb' (40) must be at most half "
      "of 'memory.budget_mb' (64)" },
    { "tests/config/memory_budget_range.conf",
      "tests/config/memory_budget_range.conf:2: 'memory.budget_mb' must be between 16 and "
      "1048576" },
    { "tests/config/detect_bad_net.conf",
      "tests/config/detect_bad_net.conf:4: 'detect.home_nets' element 2 is not a network "
      "(\"10.0.0.0/8\", \"fd00::/8\")" },
    { "tests/config/detect_unknown_key.conf",
      "tests/config/detect_unknown_key.conf:4: unknown key 'detect.distinct_exakt'" },
    { "tests/config/interfaces_duplicate.conf",
      "tests/config/interfaces_duplicate.conf:3: 'capture.interfaces': interface 'eth1' is "
      "named twice" },
    { "tests/config/interfaces_empty.conf",
      "tests/config/interfaces_empty.conf:3: 'capture.interfaces': interface 1: the name is "
      "empty" },
    { "tests/config/interfaces_type.conf",
      "tests/config/interfaces_type.conf:3: 'capture.interfaces' must be an interface name or "
      "an array of them ([\"eth1\", \"eth2\"])" },
    { "tests/config/interfaces_too_long.conf",
      "tests/config/interfaces_too_long.conf:3: 'capture.interfaces': interface "
      "'this-name-is-much-lo...': the name is longer than 63 bytes" },
};

static void test_bad_configs(void)
{
    for (size_t i = 0; i < sizeof(bad_configs) / sizeof(bad_configs[0]); i++) {
        struct sw_config cfg;
        char err[512] = "";

        config_defaults(&cfg);
        cfg.sensor.workers = 7; /* a failed load leaves cfg alone */
        CHECK_EQ_INT(config_load(bad_configs[i].file, &cfg, err, sizeof(err)), -1);
        CHECK_EQ_STR(err, bad_configs[i].error);
        CHECK(strchr(err, '\n') == NULL);
        CHECK_EQ_INT(cfg.sensor.workers, 7);
    }
}

static void test_missing_file(void)
{
    struct sw_config cfg;
    char err[512] = "";

    CHECK_EQ_INT(config_load("tests/config/no_such_file.conf", &cfg, err, sizeof(err)), -1);
    CHECK_EQ_STR(err, "tests/config/no_such_file.conf: cannot read configuration: "
                      "No such file or directory");
    CHECK_EQ_INT(config_load("tests/config", &cfg, err, sizeof(err)), -1);
    CHECK_EQ_STR(err, "tests/config: cannot read configuration: Is a directory");
}

static void test_small_error_buffer(void)
{
    struct sw_config cfg;
    char err[8];

    CHECK_EQ_INT(config_load("tests/config/unknown_key.conf", &cfg, err, sizeof(err)), -1);
    CHECK_EQ_STR(err, "tests/c");
    CHECK_EQ_INT(config_load("tests/config/unknown_key.conf", &cfg, NULL, 0), -1);
}

static void test_include_relative_to_file(void)
{
    struct sw_config cfg;
    char err[512] = "";

    CHECK_EQ_INT(config_load("tests/config/include_ok.conf", &cfg, err, sizeof(err)), 0);
    CHECK_EQ_STR(err, "");
    CHECK_EQ_INT(cfg.sensor.workers, 4);
    CHECK_EQ_INT(cfg.flows.max, 1000);
    CHECK_EQ_INT(cfg.flows.idle_timeout, 600); /* untouched keys keep defaults */
}

static void test_decoder_entry_replaces_defaults(void)
{
    struct sw_config cfg;
    char err[512] = "";

    CHECK_EQ_INT(config_load("tests/config/decoder_disabled.conf", &cfg, err, sizeof(err)), 0);
    CHECK_EQ_STR(err, "");
    CHECK_EQ_INT(cfg.decoder_count, 8);
    const struct config_decoder *http = config_decoder_named(&cfg, "http");
    CHECK(http != NULL);
    if (http) {
        CHECK(!http->enabled);
        CHECK_EQ_INT(http->port_count, 1);
        CHECK_EQ_INT(http->ports[0], 80);
    }
    /* A disabled decoder selects nothing; 8080 is no longer configured;
     * the other decoders keep their defaults. */
    CHECK(config_decoder_for_port(&cfg, 80) == NULL);
    CHECK(config_decoder_for_port(&cfg, 8080) == NULL);
    CHECK(config_decoder_for_port(&cfg, 9200) != NULL);
    CHECK_EQ_INT(http_params_of(&cfg)->header_max, 32 * 1024);
    CHECK_EQ_INT(http_params_of(&cfg)->pending_max, 64);
}

/* Writes text to a temporary file; returns its path in path. */
static int write_temp(char *path, size_t len, const char *text)
{
    snprintf(path, len, "/tmp/test_config_XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        return -1;
    }
    fputs(text, f);
    fclose(f);
    return 0;
}

/* The second decoder of the registry, whichever it is, to test ports moving
 * between decoders; NULL if http is the only one. */
static const char *other_decoder(void)
{
    for (const struct decoder *const *d = decoder_all(); *d; d++)
        if (strcmp((*d)->name, "http") != 0)
            return (*d)->name;
    return NULL;
}

static void test_port_conflict_between_decoders(void)
{
    const char *other = other_decoder();
    char text[512], path[64], expected[256], err[512] = "";
    struct sw_config cfg;

    if (!other)
        return;
    /* 80 still belongs to http's defaults: a conflict, on the later entry. */
    snprintf(text, sizeof(text), "decoders = {\n  %s = {\n    ports = [ 27019, 80 ];\n  };\n};\n",
             other);
    CHECK_EQ_INT(write_temp(path, sizeof(path), text), 0);
    CHECK_EQ_INT(config_load(path, &cfg, err, sizeof(err)), -1);
    snprintf(expected, sizeof(expected),
             "%s:3: port 80 in 'decoders.%s.ports' is already used by decoder 'http'",
             path, other);
    CHECK_EQ_STR(err, expected);
    unlink(path);

    /* Moving a port: the http entry comes later in the file, but replaces
     * the defaults before any port is checked. */
    snprintf(text, sizeof(text),
             "decoders = {\n  %s = { ports = [ 80 ]; };\n  http = { ports = [ 8080 ]; };\n};\n",
             other);
    CHECK_EQ_INT(write_temp(path, sizeof(path), text), 0);
    CHECK_EQ_INT(config_load(path, &cfg, err, sizeof(err)), 0);
    CHECK_EQ_STR(err, "");
    const struct config_decoder *d = config_decoder_for_port(&cfg, 80);
    CHECK(d != NULL);
    if (d)
        CHECK_EQ_STR(d->name, other);
    d = config_decoder_for_port(&cfg, 8080);
    CHECK(d != NULL);
    if (d)
        CHECK_EQ_STR(d->name, "http");
    CHECK(config_decoder_for_port(&cfg, 5601) == NULL);
    CHECK_EQ_INT(cfg.decoder_count, 8);
    unlink(path);
}

static void test_int64_and_all_types(void)
{
    char path[64], err[512] = "";
    struct sw_config cfg;

    CHECK_EQ_INT(write_temp(path, sizeof(path),
                            "sensor = { id = \"edge-7\"; user = \"nobody\"; };\n"
                            "capture = { snaplen = 1500L; promisc = false; bpf = \"tcp\"; };\n"
                            "ndpi = { enabled = false; };\n"
                            "events = { op = false; stats_interval = 0; };\n"
                            "output = { json = \"-\"; redis = { enabled = true;\n"
                            "  unix_socket = \"/run/r.sock\"; queue_mb = 2; spool_max_mb = 3;\n"
                            "  spool_fsync = \"never\"; publish = \"all\"; maxlen = 0; }; };\n"),
                 0);
    CHECK_EQ_INT(config_load(path, &cfg, err, sizeof(err)), 0);
    CHECK_EQ_STR(err, "");
    CHECK_EQ_STR(cfg.sensor.id, "edge-7");
    CHECK_EQ_STR(cfg.sensor.user, "nobody");
    CHECK_EQ_INT(cfg.capture.snaplen, 1500);
    CHECK(!cfg.capture.promisc);
    CHECK_EQ_STR(cfg.capture.bpf, "tcp");
    CHECK(!cfg.ndpi.enabled);
    CHECK(!cfg.events.op);
    CHECK(cfg.events.flow);
    CHECK_EQ_INT(cfg.events.stats_interval, 0);
    CHECK_EQ_STR(cfg.output.json, "-");
    CHECK(cfg.output.redis.enabled);
    CHECK_EQ_STR(cfg.output.redis.unix_socket, "/run/r.sock");
    CHECK_EQ_INT(cfg.output.redis.queue_bytes, 2 * 1024 * 1024);
    CHECK_EQ_INT(cfg.output.redis.spool_max_bytes, 3 * 1024 * 1024);
    CHECK_EQ_STR(cfg.output.redis.spool_fsync, "never");
    CHECK_EQ_STR(cfg.output.redis.publish, "all");
    CHECK_EQ_INT(cfg.output.redis.maxlen, 0);
    CHECK_EQ_STR(cfg.output.redis.host, "127.0.0.1"); /* untouched */
    unlink(path);
}

/* Relative paths in a file are taken from that file's directory (and an
 * @included file's from its own), wherever the sensor is started from;
 * absolute paths, "" and output.json "-" stay as written. */
static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void test_relative_paths(void)
{
    char dir[] = "/tmp/sw_paths_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char sub[48], conf[64], inc[64], want[128];
    snprintf(sub, sizeof(sub), "%s/sub", dir);
    CHECK_EQ_INT(mkdir(sub, 0700), 0);
    snprintf(conf, sizeof(conf), "%s/a.conf", dir);
    snprintf(inc, sizeof(inc), "%s/b.conf", sub);
    write_text(conf, "detect = { rules = \"r/x.rules\"; lists = \"l1:/abs/l2\"; };\n"
                     "output = { json = \"out.jsonl\";\n"
                     "@include \"sub/b.conf\"\n"
                     "};\n");
    write_text(inc, "extra = 1;\n");
    struct sw_config cfg;
    char err[512] = "";
    /* From another directory, through a relative name of the file. */
    char cwd[PATH_MAX];
    CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
    CHECK_EQ_INT(chdir("/tmp"), 0);
    CHECK_EQ_INT(config_load(conf + strlen("/tmp/"), &cfg, err, sizeof(err)), -1);
    CHECK(strstr(err, "unknown key 'output.extra'") != NULL);   /* the include was read */
    write_text(inc, "redis = { spool_path = \"sp/s.spool\"; unix_socket = \"\"; };\n");
    err[0] = '\0';
    CHECK_EQ_INT(config_load(conf + strlen("/tmp/"), &cfg, err, sizeof(err)), 0);
    CHECK_EQ_STR(err, "");
    snprintf(want, sizeof(want), "%s/r/x.rules", dir);
    CHECK_EQ_STR(cfg.detect.rules, want);
    CHECK(cfg.detect.rules_set);
    snprintf(want, sizeof(want), "%s/l1:/abs/l2", dir);
    CHECK_EQ_STR(cfg.detect.lists, want);
    snprintf(want, sizeof(want), "%s/out.jsonl", dir);
    CHECK_EQ_STR(cfg.output.json, want);
    snprintf(want, sizeof(want), "%s/sp/s.spool", sub);
    CHECK_EQ_STR(cfg.output.redis.spool_path, want);
    CHECK_EQ_STR(cfg.output.redis.unix_socket, "");
    write_text(conf, "output = { json = \"-\"; };\n");
    CHECK_EQ_INT(config_load(conf, &cfg, err, sizeof(err)), 0);
    CHECK_EQ_STR(cfg.output.json, "-");
    CHECK_EQ_INT(chdir(cwd), 0);
    unlink(inc);
    unlink(conf);
    rmdir(sub);
    rmdir(dir);
}

static void test_detect_group(void)
{
    struct sw_config cfg;
    char err[512] = "";
    CHECK_EQ_INT(config_load("tests/config/detect_ok.conf", &cfg, err, sizeof(err)), 0);
    CHECK_EQ_STR(err, "");
    CHECK_EQ_STR(cfg.detect.rules, "");
    CHECK(cfg.detect.rules_set);
    CHECK_EQ_INT(cfg.detect.home_net_count, 2);
    CHECK_EQ_STR(cfg.detect.home_nets[1], "fd00::/8");
    CHECK_EQ_INT(cfg.detect.trusted_client_count, 1);
    CHECK_EQ_STR(cfg.detect.trusted_clients[0], "192.0.2.7");
    CHECK_EQ_INT(cfg.detect.max_keys, 10);
    CHECK_EQ_INT(cfg.detect.distinct_exact, 8);
}

/* rdns (issue 14 point 9): off by default, the shipped file equals the
 * defaults, paths are relative to the file, ranges are checked. */
static void test_rdns_group(void)
{
    struct sw_config def, file;
    char err[512] = "";
    config_defaults(&def);
    CHECK_EQ_INT(config_load("config/scrapewatch.conf", &file, err, sizeof(err)), 0);
    CHECK(!def.rdns.enabled);
    CHECK(!file.rdns.enabled);
    CHECK_EQ_STR(file.rdns.domains, def.rdns.domains);
    CHECK_EQ_STR(file.rdns.cache_file, "");
    CHECK_EQ_STR(file.rdns.save_file, "");
    CHECK_EQ_INT(file.rdns.queue, def.rdns.queue);
    CHECK_EQ_INT(file.rdns.cache_max, def.rdns.cache_max);
    CHECK_EQ_INT(file.rdns.ttl, def.rdns.ttl);
    CHECK_EQ_INT(file.rdns.negative_ttl, def.rdns.negative_ttl);
    CHECK_EQ_INT(file.rdns.timeout, def.rdns.timeout);
    char dir[] = "/tmp/sw_rdns_conf_XXXXXX", conf[64], want[96];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(conf, sizeof(conf), "%s/r.conf", dir);
    write_text(conf, "rdns = { enabled = true; cache_file = \"c.txt\"; save_file = \"/abs/s\";\n"
                     "  timeout = 5; };\n");
    CHECK_EQ_INT(config_load(conf, &file, err, sizeof(err)), 0);
    CHECK(file.rdns.enabled);
    snprintf(want, sizeof(want), "%s/c.txt", dir);
    CHECK_EQ_STR(file.rdns.cache_file, want);
    CHECK_EQ_STR(file.rdns.save_file, "/abs/s");
    CHECK_EQ_INT(file.rdns.timeout, 5);
    write_text(conf, "rdns = {\n  timeout = 0; };\n");
    CHECK_EQ_INT(config_load(conf, &file, err, sizeof(err)), -1);
    CHECK(strstr(err, "r.conf:2:") != NULL && strstr(err, "rdns.timeout") != NULL);
    unlink(conf);
    rmdir(dir);
}

/* capture.interfaces: a list, or one name; none by default (the sensor
 * then needs -i). */
static void test_interfaces(void)
{
    struct sw_config cfg;
    char err[512] = "";
    config_defaults(&cfg);
    CHECK_EQ_INT(cfg.capture.interface_count, 0);
    CHECK_EQ_INT(config_load("config/scrapewatch.conf", &cfg, err, sizeof(err)), 0);
    CHECK_EQ_INT(cfg.capture.interface_count, 0);
    CHECK_EQ_INT(config_load("tests/config/interfaces_ok.conf", &cfg, err, sizeof(err)), 0);
    CHECK_EQ_STR(err, "");
    CHECK_EQ_INT(cfg.capture.interface_count, 2);
    CHECK_EQ_STR(cfg.capture.interfaces[0], "eth1");
    CHECK_EQ_STR(cfg.capture.interfaces[1], "eth2");
    CHECK_EQ_INT(config_load("tests/config/interfaces_one.conf", &cfg, err, sizeof(err)), 0);
    CHECK_EQ_INT(cfg.capture.interface_count, 1);
    CHECK_EQ_STR(cfg.capture.interfaces[0], "eth1");
}

/* UDP ports are a map of their own: a number may select one decoder on TCP
 * and another on UDP. */
static void test_udp_ports(void)
{
    struct sw_config cfg;
    char err[512] = "";
    CHECK_EQ_INT(config_load("tests/config/udp_ports_ok.conf", &cfg, err, sizeof(err)), 0);
    CHECK_EQ_STR(err, "");
    const struct config_decoder *tcp = config_decoder_for_port(&cfg, 80);
    const struct config_decoder *udp = config_decoder_for_udp_port(&cfg, 80);
    CHECK(tcp && udp && strcmp(tcp->name, "http") == 0 && strcmp(udp->name, "mongodb") == 0);
    udp = config_decoder_for_udp_port(&cfg, 11311);
    CHECK(udp && strcmp(udp->name, "http") == 0);
    CHECK(config_decoder_for_port(&cfg, 11311) == NULL);
    CHECK(config_decoder_for_udp_port(&cfg, 27017) == NULL);
}

int main(void)
{
    check_binary = "test_config";
    RUN(test_udp_ports);
    RUN(test_shipped_config_equals_defaults);
    RUN(test_default_ports);
    RUN(test_bad_configs);
    RUN(test_missing_file);
    RUN(test_small_error_buffer);
    RUN(test_include_relative_to_file);
    RUN(test_decoder_entry_replaces_defaults);
    RUN(test_port_conflict_between_decoders);
    RUN(test_int64_and_all_types);
    RUN(test_detect_group);
    RUN(test_interfaces);
    RUN(test_relative_paths);
    RUN(test_rdns_group);
    CHECK_EXIT();
}

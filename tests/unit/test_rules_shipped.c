/* test_rules_shipped.c - replays tests/rules/shipped/ into the default rule set.
 *
 * Every case file there is a list of op events in the sensor's JSON schema
 * (sensor/event_json.c). Each file is parsed here with the project's JSON
 * scanner back into rec_op records, replayed into a fresh engine loaded
 * with tests/rules/shipped/scrapewatch.conf, and judged as the README of
 * that directory says: a fires file must raise exactly the first alerts
 * (update 0) its .expect lists, a quiet file no alert of its own rule.
 *
 * One result line per case file, "ok rules_shipped/<file>" or "FAIL
 * rules_shipped/<file>", as RUN prints them, so tests/run.sh counts them;
 * a failure explains itself on stderr with the alerts that were seen.
 * Run from the repository root: the paths are relative to it. */
#include "../../decoders/json/json_scan.h"
#include "../../rules/engine.h"
#include "../../sensor/config.h"
#include "../../decoders/apps.h"
#include "check.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#define CASES_DIR "tests/rules/shipped"
#define CASES_CONFIG CASES_DIR "/scrapewatch.conf"
#define CASES_MAX 512
#define EXPECT_MAX 64

/* ---- one event line -> struct rec_op ------------------------------------ */

/* What a line's callback builds, and the first thing wrong with the line. */
struct event_parse {
    struct rec_op r;
    bool flow_record;       /* "record":"flow": a payload-less flow for the flow rules */
    bool have_src, have_dest, have_time;
    uint8_t src_family, dest_family;
    char err[160];
};

static void parse_fail(struct event_parse *p, const char *fmt, ...)
{
    if (p->err[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err, sizeof(p->err), fmt, ap);
    va_end(ap);
}

/* The value as a NUL-terminated string (the scanner's text is not). */
static void value_text(const struct json_scan_value *v, char *out, size_t cap)
{
    size_t n = v->len < cap - 1 ? v->len : cap - 1;
    memcpy(out, v->text, n);
    out[n] = '\0';
}

/* Copies a string field, cut to its size. The sensor already cut it when it
 * wrote the event (and flagged it then), so no flag is set here. */
static void copy_field(char *dst, size_t cap, const struct json_scan_value *v)
{
    value_text(v, dst, cap);
}

static bool value_int(struct event_parse *p, const struct json_scan_value *v,
                      const char *what, int64_t *out)
{
    char buf[40];
    if (v->type != JSON_NUMBER) {
        parse_fail(p, "%s is not a number", what);
        return false;
    }
    value_text(v, buf, sizeof(buf));
    char *end;
    errno = 0;
    long long n = strtoll(buf, &end, 10);
    if (errno || *end || end == buf) {
        parse_fail(p, "%s is not an integer: %s", what, buf);
        return false;
    }
    *out = n;
    return true;
}

static bool value_uint(struct event_parse *p, const struct json_scan_value *v,
                       const char *what, uint64_t *out)
{
    char buf[40];
    if (v->type != JSON_NUMBER || v->len == 0 || v->text[0] == '-') {
        parse_fail(p, "%s is not an unsigned number", what);
        return false;
    }
    value_text(v, buf, sizeof(buf));
    char *end;
    errno = 0;
    unsigned long long n = strtoull(buf, &end, 10);
    if (errno || *end || end == buf) {
        parse_fail(p, "%s is not an unsigned integer: %s", what, buf);
        return false;
    }
    *out = n;
    return true;
}

/* "YYYY-MM-DDTHH:MM:SS.ffffff+0000", as event_time_format() writes it. */
static bool parse_time(const char *text, uint64_t *ts_us)
{
    struct tm tm;
    unsigned micro;
    int consumed = -1;
    memset(&tm, 0, sizeof(tm));
    if (sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2d.%6u+0000%n", &tm.tm_year, &tm.tm_mon,
               &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &micro, &consumed) != 7 ||
        consumed < 0 || text[consumed] != '\0' || strlen(text) != 31)
        return false;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    time_t t = timegm(&tm);
    if (t < 0)
        return false;
    *ts_us = (uint64_t)t * 1000000u + micro;
    return true;
}

static bool parse_ip(const char *text, uint8_t *family, uint8_t out[16])
{
    memset(out, 0, 16);
    if (inet_pton(AF_INET, text, out) == 1) {
        *family = 4;
        return true;
    }
    if (inet_pton(AF_INET6, text, out) == 1) {
        *family = 6;
        return true;
    }
    return false;
}

/* Inverse lookups of the enum names in sensor/op.c; -1 when unknown. */
static int class_from_name(const char *name)
{
    for (int c = 0; c < OP_CLASS_COUNT; c++)
        if (strcmp(op_class_name((enum op_class)c), name) == 0)
            return c;
    return -1;
}

static int status_from_name(const char *name)
{
    static const enum op_status all[] = {OP_STATUS_UNKNOWN, OP_STATUS_OK, OP_STATUS_ERROR,
                                         OP_STATUS_DENIED};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        if (strcmp(op_status_name(all[i]), name) == 0)
            return (int)all[i];
    return -1;
}

static int auth_from_name(const char *name)
{
    static const enum op_auth all[] = {OP_AUTH_UNKNOWN, OP_AUTH_NO, OP_AUTH_YES};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        if (strcmp(op_auth_name(all[i]), name) == 0)
            return (int)all[i];
    return -1;
}

static int auth_result_from_name(const char *name)
{
    static const enum op_auth_result all[] = {OP_AUTH_RESULT_SUCCESS, OP_AUTH_RESULT_FAILURE};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        if (strcmp(op_auth_result_name(all[i]), name) == 0)
            return (int)all[i];
    return -1;
}

static int app_from_event_name(const char *name)
{
    if (strcmp(name, app_name(APP_UNKNOWN)) == 0)
        return APP_UNKNOWN;
    enum app_id a = app_from_name(name);
    return a == APP_UNKNOWN ? -1 : (int)a;
}

/* The flag names the events use (sensor/op.c). */
static uint32_t flag_from_name(const char *name)
{
    return op_flag_from_name(name);
}

/* A string member of the event: which field it is and where it goes. */
static void event_string(struct event_parse *p, const struct json_scan *s,
                         const struct json_scan_value *v)
{
    struct rec_op *r = &p->r;
    struct op_record *op = &r->op;
    char buf[JSON_SCAN_STRING_MAX + 1];
    value_text(v, buf, sizeof(buf));
    int n;

    if (json_scan_at(s, "record")) {
        if (strcmp(buf, "flow") != 0 && strcmp(buf, "op") != 0)
            parse_fail(p, "record must be \"op\" or \"flow\": %s", buf);
        p->flow_record = strcmp(buf, "flow") == 0;
    } else if (json_scan_at(s, "timestamp")) {
        if (!parse_time(buf, &r->ts_us))
            parse_fail(p, "bad timestamp: %s", buf);
        p->have_time = true;
    } else if (json_scan_at(s, "src_ip")) {
        if (!parse_ip(buf, &p->src_family, r->meta.client))
            parse_fail(p, "bad src_ip: %s", buf);
        p->have_src = true;
    } else if (json_scan_at(s, "dest_ip")) {
        if (!parse_ip(buf, &p->dest_family, r->meta.server))
            parse_fail(p, "bad dest_ip: %s", buf);
        p->have_dest = true;
    } else if (json_scan_at(s, "community_id")) {
        copy_field(r->meta.community_id, sizeof(r->meta.community_id), v);
    } else if (json_scan_at(s, "proto")) {
        if (strcmp(buf, "TCP") == 0)
            r->meta.proto = 6;
        else if (strcmp(buf, "UDP") == 0)
            r->meta.proto = 17;
        else
            parse_fail(p, "bad proto: %s", buf);
    } else if (json_scan_at(s, "app_proto")) {
        if ((n = app_from_event_name(buf)) < 0)
            parse_fail(p, "unknown app_proto: %s", buf);
        else
            r->meta.app = (uint8_t)n;
    } else if (json_scan_at(s, "op.app")) {
        if ((n = app_from_event_name(buf)) < 0)
            parse_fail(p, "unknown op.app: %s", buf);
        else
            op->app = (uint8_t)n;
    } else if (json_scan_at(s, "op.name")) {
        copy_field(op->op, sizeof(op->op), v);
    } else if (json_scan_at(s, "op.class")) {
        if ((n = class_from_name(buf)) < 0)
            parse_fail(p, "unknown op.class: %s", buf);
        else
            op->op_class = (uint8_t)n;
    } else if (json_scan_at(s, "op.target")) {
        copy_field(op->target, sizeof(op->target), v);
    } else if (json_scan_at(s, "op.status")) {
        if ((n = status_from_name(buf)) < 0)
            parse_fail(p, "unknown op.status: %s", buf);
        else
            op->status = (uint8_t)n;
    } else if (json_scan_at(s, "op.authenticated")) {
        if ((n = auth_from_name(buf)) < 0)
            parse_fail(p, "unknown op.authenticated: %s", buf);
        else
            op->authenticated = (uint8_t)n;
    } else if (json_scan_at(s, "op.auth_result")) {
        if ((n = auth_result_from_name(buf)) < 0)
            parse_fail(p, "unknown op.auth_result: %s", buf);
        else
            op->auth_result = (uint8_t)n;
    } else if (json_scan_at(s, "op.auth_scheme")) {
        copy_field(op->auth_scheme, sizeof(op->auth_scheme), v);
    } else if (json_scan_at(s, "op.client")) {
        copy_field(op->client_id, sizeof(op->client_id), v);
    } else if (json_scan_at(s, "op.continuation")) {
        copy_field(op->continuation, sizeof(op->continuation), v);
    } else if (json_scan_at(s, "op.cursor")) {
        copy_field(op->cursor_out, sizeof(op->cursor_out), v);
    } else if (json_scan_at(s, "op.error_type")) {
        copy_field(op->error_type, sizeof(op->error_type), v);
    } else if (json_scan_at(s, "op.request_time")) {
        if (!parse_time(buf, &op->ts_request_us))
            parse_fail(p, "bad op.request_time: %s", buf);
    } else if (json_scan_at(s, "op.response_time")) {
        if (!parse_time(buf, &op->ts_response_us))
            parse_fail(p, "bad op.response_time: %s", buf);
    } else if (json_scan_at(s, "op.flags.[]")) {
        uint32_t bit = flag_from_name(buf);
        if (!bit)
            parse_fail(p, "unknown flag: %s", buf);
        op->flags |= bit;
    } else if (json_scan_at(s, "op.http.method")) {
        copy_field(op->http.method, sizeof(op->http.method), v);
    } else if (json_scan_at(s, "op.http.uri")) {
        copy_field(op->http.uri, sizeof(op->http.uri), v);
    } else if (json_scan_at(s, "chain.id") || json_scan_at(s, "op.chain.id")) {
        copy_field(r->chain.id, sizeof(r->chain.id), v);
    } else if (json_scan_at(s, "chain.total_relation")) {
        r->chain.total_relation = strcmp(buf, "gte") == 0 ? OP_TOTAL_LOWER_BOUND : OP_TOTAL_EXACT;
    } else if (json_scan_at(s, "chain.target")) {
        copy_field(r->chain.target, sizeof(r->chain.target), v);
    }
    /* sensor, event_type: not part of the record */
}

/* A number member of the event. */
static void event_number(struct event_parse *p, const struct json_scan *s,
                         const struct json_scan_value *v)
{
    struct rec_op *r = &p->r;
    struct op_record *op = &r->op;
    int64_t i;
    uint64_t u;

    if (json_scan_at(s, "flow_id")) {
        value_uint(p, v, "flow_id", &r->meta.flow_id);
    } else if (json_scan_at(s, "src_port") || json_scan_at(s, "dest_port")) {
        bool src = json_scan_at(s, "src_port");
        if (value_uint(p, v, "port", &u)) {
            if (u > 65535)
                parse_fail(p, "port out of range: %" PRIu64, u);
            else if (src)
                r->meta.client_port = (uint16_t)u;
            else
                r->meta.server_port = (uint16_t)u;
        }
    } else if (json_scan_at(s, "op.status_code")) {
        if (value_int(p, v, "op.status_code", &i))
            op->status_code = (int32_t)i;
    } else if (json_scan_at(s, "op.request_bytes")) {
        value_uint(p, v, "op.request_bytes", &op->request_bytes);
    } else if (json_scan_at(s, "op.response_bytes")) {
        value_uint(p, v, "op.response_bytes", &op->response_bytes);
    } else if (json_scan_at(s, "op.items")) {
        value_int(p, v, "op.items", &op->items);
    } else if (json_scan_at(s, "op.total")) {
        value_int(p, v, "op.total", &op->total);
    } else if (json_scan_at(s, "op.page_size")) {
        value_int(p, v, "op.page_size", &op->page_size);
    } else if (json_scan_at(s, "op.offset")) {
        value_int(p, v, "op.offset", &op->offset);
    } else if (json_scan_at(s, "chain.ops") || json_scan_at(s, "op.chain.ops")) {
        value_uint(p, v, "chain.ops", &r->chain.ops);
    } else if (json_scan_at(s, "chain.items") || json_scan_at(s, "op.chain.items")) {
        value_int(p, v, "chain.items", &r->chain.items);
    } else if (json_scan_at(s, "chain.total")) {
        value_int(p, v, "chain.total", &r->chain.total);
    }
    /* op.http.status_code repeats op.status_code */
}

static void event_value(void *arg, const struct json_scan *s, const struct json_scan_value *v)
{
    struct event_parse *p = arg;
    if (json_scan_value_depth(s) == 0 && v->type != JSON_OBJECT_START &&
        v->type != JSON_OBJECT_END)
        parse_fail(p, "the line is not a JSON object");
    if (v->type == JSON_STRING) {
        if (v->truncated)
            parse_fail(p, "a string is longer than the scanner's %d bytes",
                       JSON_SCAN_STRING_MAX);
        event_string(p, s, v);
    } else if (v->type == JSON_NUMBER) {
        event_number(p, s, v);
    } else if (v->type == JSON_TRUE || v->type == JSON_FALSE) {
        /* what the detect thread's chain table knows of a chain (chain.c),
         * given in the case file: the op event does not print it */
        if (json_scan_at(s, "chain.exhausted"))
            p->r.chain.exhausted = v->type == JSON_TRUE;
        else if (json_scan_at(s, "chain.match_all"))
            p->r.chain.match_all = v->type == JSON_TRUE;
    }
}

/* One line of a case file into *r. 0, or -1 with the reason in err. */
static int event_parse_line(const char *line, size_t len, struct rec_op *r, bool *flow_record,
                            char *err, size_t errlen)
{
    static struct event_parse p; /* large; one line at a time */
    memset(&p, 0, sizeof(p));
    op_record_init(&p.r.op, APP_UNKNOWN);
    p.r.chain.total = -1;

    struct json_scan s;
    json_scan_init(&s, event_value, &p);
    if (json_scan_feed(&s, (const uint8_t *)line, len) != 0 || json_scan_finish(&s) != 0)
        parse_fail(&p, "malformed JSON");
    else if (s.values != 1)
        parse_fail(&p, "expected one JSON object, found %" PRIu64 " values", s.values);
    if (!p.have_time || !p.have_src || !p.have_dest)
        parse_fail(&p, "timestamp, src_ip or dest_ip missing");
    else if (p.src_family != p.dest_family)
        parse_fail(&p, "src_ip and dest_ip of different families");
    if (p.err[0]) {
        snprintf(err, errlen, "%s", p.err);
        return -1;
    }
    p.r.meta.family = p.src_family;
    *r = p.r;
    *flow_record = p.flow_record;
    return 0;
}

/* ---- one case file ------------------------------------------------------ */

struct seen_alert {
    uint32_t rule_id;
    uint32_t update;
    size_t line;            /* the case file line whose op raised it */
};

struct replay {
    struct seen_alert *a;
    size_t n, cap;
    size_t line;
    bool out_of_memory;
};

static void replay_collect(void *arg, const struct alert *a)
{
    struct replay *rp = arg;
    if (rp->n == rp->cap) {
        size_t cap = rp->cap ? rp->cap * 2 : 64;
        struct seen_alert *grown = realloc(rp->a, cap * sizeof(*grown));
        if (!grown) {
            rp->out_of_memory = true;
            return;
        }
        rp->a = grown;
        rp->cap = cap;
    }
    rp->a[rp->n++] = (struct seen_alert){a->rule_id, a->update, rp->line};
}

static size_t replay_count(const struct replay *rp, uint32_t rule_id, bool first_only)
{
    size_t n = 0;
    for (size_t i = 0; i < rp->n; i++)
        if (rp->a[i].rule_id == rule_id && (!first_only || rp->a[i].update == 0))
            n++;
    return n;
}

/* Every alert the file raised, for the explanation of a failure. */
static void replay_print(const struct replay *rp, const char *file)
{
    fprintf(stderr, "  %s raised %zu alert(s)%s\n", file, rp->n, rp->n ? ":" : "");
    for (size_t i = 0; i < rp->n; i++)
        fprintf(stderr, "    rule %" PRIu32 " update %" PRIu32 " (line %zu)\n",
                rp->a[i].rule_id, rp->a[i].update, rp->a[i].line);
}

/* Replays path into a fresh engine. 0, or -1 with a message on stderr. */
static int replay_file(const struct sw_config *cfg, const char *path, struct replay *rp)
{
    char err[512] = "";
    struct rule_engine *e = rule_engine_load(&cfg->detect, err, sizeof(err));
    if (!e) {
        fprintf(stderr, "%s: engine: %s\n", path, err);
        return -1;
    }
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        rule_engine_free(e);
        return -1;
    }
    struct stats st;
    stats_clear(&st);
    static struct rec_op r;
    char *line = NULL;
    size_t line_cap = 0;
    ssize_t len;
    int rc = 0;
    size_t ops = 0;
    rp->line = 0;
    while ((len = getline(&line, &line_cap, f)) >= 0) {
        rp->line++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            len--;
        if (len == 0)
            continue;
        bool flow_record = false;
        if (event_parse_line(line, (size_t)len, &r, &flow_record, err, sizeof(err)) != 0) {
            fprintf(stderr, "%s:%zu: %s\n", path, rp->line, err);
            rc = -1;
            break;
        }
        r.key.seq = rp->line; /* capture order */
        if (flow_record)
            rule_engine_flow(e, &st, &r, replay_collect, rp);
        else
            rule_engine_op(e, &st, &r, replay_collect, rp);
        ops++;
    }
    if (rc == 0 && ferror(f)) {
        fprintf(stderr, "%s: read error\n", path);
        rc = -1;
    }
    if (rc == 0 && ops == 0) {
        fprintf(stderr, "%s: no events\n", path);
        rc = -1;
    }
    if (rp->out_of_memory) {
        fprintf(stderr, "%s: out of memory collecting alerts\n", path);
        rc = -1;
    }
    free(line);
    fclose(f);
    rule_engine_free(e);
    return rc;
}

struct expectation {
    uint32_t rule_id;
    size_t count;
};

/* Reads an .expect file: "RULE COUNT" lines, '#' comments, blank lines. */
static int expect_load(const char *path, struct expectation *x, size_t cap, size_t *n)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return -1;
    }
    char buf[256];
    size_t lineno = 0;
    int rc = 0;
    *n = 0;
    while (fgets(buf, sizeof(buf), f)) {
        lineno++;
        char *p = buf;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '#' || *p == '\n' || *p == '\r' || *p == '\0')
            continue;
        unsigned long rule, count;
        char rest[8] = "";
        int got = sscanf(p, "%lu %lu %7s", &rule, &count, rest);
        if (got != 2 || rule == 0 || rule > UINT32_MAX) {
            fprintf(stderr, "%s:%zu: expected \"RULE COUNT\"\n", path, lineno);
            rc = -1;
            break;
        }
        if (*n == cap) {
            fprintf(stderr, "%s:%zu: more than %zu rules\n", path, lineno, cap);
            rc = -1;
            break;
        }
        x[(*n)++] = (struct expectation){(uint32_t)rule, count};
    }
    fclose(f);
    if (rc == 0 && *n == 0) {
        fprintf(stderr, "%s: no expectation\n", path);
        rc = -1;
    }
    return rc;
}

static bool has_suffix(const char *name, const char *suffix)
{
    size_t n = strlen(name), k = strlen(suffix);
    return n >= k && strcmp(name + n - k, suffix) == 0;
}

/* The rule id a case file is named for: "<id>-...". 0 if none. */
static uint32_t case_rule_id(const char *name)
{
    char *end;
    unsigned long id = strtoul(name, &end, 10);
    return end != name && *end == '-' && id <= UINT32_MAX ? (uint32_t)id : 0;
}

/* Runs one .jsonl case; true when it passed. */
static bool run_case(const struct sw_config *cfg, const char *name)
{
    char path[1024], expect_path[1024];
    snprintf(path, sizeof(path), "%s/%s", CASES_DIR, name);
    uint32_t id = case_rule_id(name);
    bool fires = has_suffix(name, "-fires.jsonl");
    bool quiet = has_suffix(name, "-quiet.jsonl");
    if (!id || (!fires && !quiet)) {
        fprintf(stderr, "%s: not named <id>-fires.jsonl or <id>-quiet.jsonl\n", path);
        return false;
    }

    struct expectation x[EXPECT_MAX];
    size_t nx = 0;
    if (fires) {
        snprintf(expect_path, sizeof(expect_path), "%s/%.*s.expect", CASES_DIR,
                 (int)(strlen(name) - strlen(".jsonl")), name);
        if (expect_load(expect_path, x, EXPECT_MAX, &nx) != 0)
            return false;
        if (x[0].rule_id != id)
            fprintf(stderr, "%s: note: first line is rule %" PRIu32 ", not the file's %" PRIu32
                    "\n", expect_path, x[0].rule_id, id);
    }

    struct replay rp = {0};
    bool ok = replay_file(cfg, path, &rp) == 0;
    if (ok && fires) {
        for (size_t i = 0; i < nx; i++) {
            size_t got = replay_count(&rp, x[i].rule_id, true);
            if (got != x[i].count) {
                fprintf(stderr, "%s: rule %" PRIu32 ": %zu first alert(s), expected %zu\n",
                        path, x[i].rule_id, got, x[i].count);
                ok = false;
            }
        }
    } else if (ok && quiet) {
        size_t got = replay_count(&rp, id, false);
        if (got) {
            fprintf(stderr, "%s: rule %" PRIu32 " raised %zu alert(s), expected none\n",
                    path, id, got);
            ok = false;
        }
    }
    if (!ok && rp.n)
        replay_print(&rp, name);
    else if (!ok)
        fprintf(stderr, "  %s raised no alert\n", name);
    free(rp.a);
    return ok;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
    check_binary = "rules_shipped";

    static struct sw_config cfg;
    char err[512] = "";
    if (config_load(CASES_CONFIG, &cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s\n", err);
        printf("FAIL %s/%s\n", check_binary, "scrapewatch.conf");
        return 1;
    }

    DIR *d = opendir(CASES_DIR);
    if (!d) {
        fprintf(stderr, "%s: %s (run from the repository root)\n", CASES_DIR, strerror(errno));
        printf("FAIL %s/%s\n", check_binary, CASES_DIR);
        return 1;
    }
    static char *names[CASES_MAX];
    size_t n = 0;
    bool too_many = false;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!has_suffix(de->d_name, ".jsonl") && !has_suffix(de->d_name, ".expect"))
            continue;
        if (n == CASES_MAX) {
            too_many = true;
            break;
        }
        names[n] = strdup(de->d_name);
        if (!names[n]) {
            too_many = true;
            break;
        }
        n++;
    }
    closedir(d);
    qsort(names, n, sizeof(names[0]), name_cmp);
    if (too_many) {
        fprintf(stderr, "%s: more than %d case files (or out of memory)\n", CASES_DIR, CASES_MAX);
        check_cases_failed++;
    }

    size_t cases = 0;
    for (size_t i = 0; i < n; i++) {
        if (has_suffix(names[i], ".expect")) {
            /* an .expect needs its .jsonl, or it checks nothing */
            char jsonl[512];
            snprintf(jsonl, sizeof(jsonl), "%.*s.jsonl",
                     (int)(strlen(names[i]) - strlen(".expect")), names[i]);
            if (!bsearch(&(const char *){jsonl}, names, n, sizeof(names[0]), name_cmp)) {
                fprintf(stderr, "%s/%s: no %s next to it\n", CASES_DIR, names[i], jsonl);
                printf("FAIL %s/%s\n", check_binary, names[i]);
                check_cases_failed++;
            }
            continue;
        }
        check_case_failed = !run_case(&cfg, names[i]);
        printf("%s %s/%s\n", check_case_failed ? "FAIL" : "ok", check_binary, names[i]);
        check_cases_failed += check_case_failed;
        cases++;
    }
    if (cases == 0) {
        fprintf(stderr, "%s: no case files\n", CASES_DIR);
        printf("FAIL %s/%s\n", check_binary, CASES_DIR);
        check_cases_failed++;
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    CHECK_EXIT();
}

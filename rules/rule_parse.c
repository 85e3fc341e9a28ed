/* rule_parse.c - the rule file (libconfig) and its lists into a rule_set.
 *
 * Every setting is checked against what FORMAT.md allows; the first problem,
 * in file order, is reported as one line "FILE:LINE: rule ID: message"
 * naming the field, so a typo never silently widens or narrows a rule.
 * Lists are read when a rule first names them (NAME.cidr for src_list,
 * NAME.patterns for client_list/target_list, under detect.lists). */
#include "rule.h"

#include <errno.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../decoders/apps.h"

struct rule_loader {
    const struct detect_settings *ds;
    struct rule_set *rs;
    const char *path;      /* the rule file as configured */
    char dir[512];         /* its directory: @include looks there */
    char *err;
    size_t errlen;
    uint32_t rule_id;      /* rule being read, 0 before its id is known */
    size_t rule_cap;
    const config_setting_t **stage_settings;   /* per rule: its sequence.stages */
};

static const char *const severity_names[] = {"info", "low", "medium", "high", "critical"};
static const char *const confidence_names[] = {"low", "medium", "high"};
static const char *const key_names[] = {"src", "dest", "pair", "chain"};   /* enum alert_key */

const char *severity_name(enum alert_severity s)
{
    return (unsigned)s < 5 ? severity_names[s] : "unknown";
}

const char *alert_key_name(enum alert_key k)
{
    return (unsigned)k < 4 ? key_names[k] : "unknown";
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int rule_fail(struct rule_loader *ld, const config_setting_t *s, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    const char *file = s ? config_setting_source_file(s) : NULL;
    int line = s ? (int)config_setting_source_line(s) : 0;
    if (!file)
        file = ld->path;
    /* libconfig names an included file as written in @include. */
    const char *dir = "", *sep = "";
    if (strcmp(file, ld->path) != 0 && file[0] != '/' && ld->dir[0] && strcmp(ld->dir, ".") != 0) {
        dir = ld->dir;
        sep = dir[strlen(dir) - 1] == '/' ? "" : "/";
    }
    char who[32] = "";
    if (ld->rule_id)
        snprintf(who, sizeof(who), "rule %u: ", ld->rule_id);
    if (line > 0)
        snprintf(ld->err, ld->errlen, "%s%s%s:%d: %s%s", dir, sep, file, line, who, msg);
    else
        snprintf(ld->err, ld->errlen, "%s%s%s: %s%s", dir, sep, file, who, msg);
    return -1;
}

/* Elements of arrays carry no line of their own in libconfig 1.5. */
static const config_setting_t *where(const config_setting_t *e, const config_setting_t *parent)
{
    return config_setting_source_line(e) ? e : parent;
}

static bool is_int(const config_setting_t *s)
{
    int t = config_setting_type(s);
    return t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64;
}

static int get_int(struct rule_loader *ld, const config_setting_t *s, const char *field,
                   long long lo, long long hi, long long *out)
{
    if (!is_int(s))
        return rule_fail(ld, s, "'%s' must be an integer", field);
    long long v = config_setting_get_int64(s);
    if (v < lo || v > hi)
        return rule_fail(ld, s, "'%s' must be between %lld and %lld", field, lo, hi);
    *out = v;
    return 0;
}

static int get_string(struct rule_loader *ld, const config_setting_t *s, const char *field,
                      char *out, size_t cap)
{
    if (config_setting_type(s) != CONFIG_TYPE_STRING)
        return rule_fail(ld, s, "'%s' must be a string", field);
    const char *v = config_setting_get_string(s);
    if (!*v)
        return rule_fail(ld, s, "'%s' must not be empty", field);
    if (strlen(v) >= cap)
        return rule_fail(ld, s, "'%s' must be at most %zu bytes long", field, cap - 1);
    memcpy(out, v, strlen(v) + 1);
    return 0;
}

/* Index of v in names[0..n), or a failure listing them. */
static int get_choice(struct rule_loader *ld, const config_setting_t *s, const config_setting_t *at,
                      const char *field, const char *const *names, int n, int *out)
{
    const char *v = config_setting_type(s) == CONFIG_TYPE_STRING ? config_setting_get_string(s)
                                                                 : NULL;
    char list[256] = "";
    for (int i = 0; i < n; i++) {
        if (v && strcmp(v, names[i]) == 0) {
            *out = i;
            return 0;
        }
        snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
                 i == 0 ? "" : i + 1 < n ? ", " : " or ", names[i]);
    }
    if (v)
        return rule_fail(ld, at, "'%s' is '%s', must be %s", field, v, list);
    return rule_fail(ld, at, "'%s' must be a string: %s", field, list);
}

/* A string list setting (array or list; a single string is a list of one):
 * calls each(value) for every element. */
typedef int (*string_fn)(struct rule_loader *ld, const config_setting_t *at, const char *field,
                         const char *v, void *arg);

static int each_string(struct rule_loader *ld, const config_setting_t *s, const char *field,
                       string_fn each, void *arg)
{
    if (config_setting_type(s) == CONFIG_TYPE_STRING)
        return each(ld, s, field, config_setting_get_string(s), arg);
    int t = config_setting_type(s);
    if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST)
        return rule_fail(ld, s, "'%s' must be a list of strings", field);
    int n = config_setting_length(s);
    if (n == 0)
        return rule_fail(ld, s, "'%s' must not be empty", field);
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        if (config_setting_type(e) != CONFIG_TYPE_STRING)
            return rule_fail(ld, where(e, s), "'%s' must be a list of strings", field);
        if (each(ld, where(e, s), field, config_setting_get_string(e), arg) != 0)
            return -1;
    }
    return 0;
}

/* Name tables for mask conditions. */
struct name_table {
    const char *(*name_of)(int v);
    int count;
    const char *what;
};

static const char *app_name_i(int v) { return app_name((enum app_id)v); }
static const char *class_name_i(int v) { return op_class_name((enum op_class)v); }
static const char *status_name_i(int v) { return op_status_name((enum op_status)v); }

static const struct name_table app_table = {app_name_i, APP_COUNT, "app"};
static const struct name_table class_table = {class_name_i, OP_CLASS_COUNT, "class"};
static const struct name_table status_table = {status_name_i, OP_STATUS_DENIED + 1, "status"};

/* auth_result (issue 14): "none" names the ops that attempted no login. */
static const char *auth_result_name_i(int v)
{
    const char *n = op_auth_result_name((enum op_auth_result)v);
    return n ? n : "none";
}
static const struct name_table auth_result_table = {auth_result_name_i,
                                                    OP_AUTH_RESULT_FAILURE + 1, "auth_result"};

struct mask_arg {
    const struct name_table *table;
    uint32_t *mask;
};

static int add_mask_name(struct rule_loader *ld, const config_setting_t *at, const char *field,
                         const char *v, void *arg)
{
    struct mask_arg *m = arg;
    for (int i = 0; i < m->table->count; i++)
        if (strcmp(m->table->name_of(i), v) == 0) {
            *m->mask |= 1u << i;
            return 0;
        }
    char list[400] = "";
    for (int i = 0; i < m->table->count; i++)
        snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "",
                 m->table->name_of(i));
    return rule_fail(ld, at, "'%s': unknown %s '%s' (one of: %s)", field, m->table->what, v, list);
}

static int add_flag_name(struct rule_loader *ld, const config_setting_t *at, const char *field,
                         const char *v, void *arg)
{
    uint32_t *mask = arg;
    uint32_t bit = op_flag_from_name(v);
    if (!bit)
        return rule_fail(ld, at, "'%s': unknown flag '%s'", field, v);
    *mask |= bit;
    return 0;
}

static int add_op_name(struct rule_loader *ld, const config_setting_t *at, const char *field,
                       const char *v, void *arg)
{
    struct rule_match *m = arg;
    if (strlen(v) >= OP_NAME_MAX)
        return rule_fail(ld, at, "'%s': '%s' is longer than any op name", field, v);
    void *p = realloc(m->ops, (m->op_count + 1) * sizeof(*m->ops));
    if (!p)
        return rule_fail(ld, at, "out of memory");
    m->ops = p;
    memcpy(m->ops[m->op_count++], v, strlen(v) + 1);
    return 0;
}

static int add_mitre(struct rule_loader *ld, const config_setting_t *at, const char *field,
                     const char *v, void *arg)
{
    struct rule *r = arg;
    if (r->mitre_count >= ALERT_MITRE_MAX)
        return rule_fail(ld, at, "'%s' has more than %d techniques", field, ALERT_MITRE_MAX);
    if (!*v || strlen(v) >= sizeof(r->mitre[0]))
        return rule_fail(ld, at, "'%s': '%s' is not an ATT&CK technique id", field, v);
    memcpy(r->mitre[r->mitre_count++], v, strlen(v) + 1);
    return 0;
}

static int compile_regex(struct rule_loader *ld, const config_setting_t *s, const char *field,
                         regex_t **out)
{
    if (config_setting_type(s) != CONFIG_TYPE_STRING)
        return rule_fail(ld, s, "'%s' must be a string", field);
    regex_t *re = malloc(sizeof(*re));
    if (!re)
        return rule_fail(ld, s, "out of memory");
    int rc = regcomp(re, config_setting_get_string(s), REG_EXTENDED | REG_ICASE | REG_NOSUB);
    if (rc != 0) {
        char msg[128];
        regerror(rc, re, msg, sizeof(msg));
        free(re);
        return rule_fail(ld, s, "'%s': bad regex '%s': %s", field, config_setting_get_string(s),
                         msg);
    }
    *out = re;
    return 0;
}

int rule_list_path(const char *dirs, const char *name, const char *ext, char *path,
                     size_t cap)
{
    int found = -1;
    for (const char *d = dirs; found != 0;) {
        size_t n = strcspn(d, ":");
        char candidate[1200];
        snprintf(candidate, sizeof(candidate), "%.*s/%s.%s", (int)n, d, name, ext);
        struct stat st;
        if (stat(candidate, &st) == 0 && S_ISREG(st.st_mode))
            found = 0;
        if (found == 0 || d == dirs)
            snprintf(path, cap, "%s", candidate);
        if (!d[n])
            break;
        d += n + 1;
    }
    return found;
}

/* The list called name of this kind, read from detect.lists on first use. */
static int find_list(struct rule_loader *ld, const config_setting_t *s, const char *name,
                     const char *field, enum rule_list_kind kind, struct rule_list **out)
{
    size_t len = strlen(name);
    if (len == 0 || len >= sizeof(ld->rs->lists[0].name) || strspn(name,
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") != len
        || name[0] == '.')
        return rule_fail(ld, s, "'%s': '%s' is not a list name (letters, digits, _ - .)",
                         field, name);
    struct rule_set *rs = ld->rs;
    for (size_t i = 0; i < rs->list_count; i++)
        if (rs->lists[i].kind == kind && strcmp(rs->lists[i].name, name) == 0) {
            *out = &rs->lists[i];
            return 0;
        }
    const char *ext = kind == RULE_LIST_NETWORK ? "cidr" : "patterns";
    char path[1200];
    if (rule_list_path(ld->ds->lists, name, ext, path, sizeof(path)) != 0) {
        if (strchr(ld->ds->lists, ':'))
            return rule_fail(ld, s, "'%s': unknown %s list '%s' (no file %s.%s in %s)", field,
                             kind == RULE_LIST_NETWORK ? "network" : "pattern", name, name,
                             ext, ld->ds->lists);
        return rule_fail(ld, s, "'%s': unknown %s list '%s' (no file %s)", field,
                         kind == RULE_LIST_NETWORK ? "network" : "pattern", name, path);
    }
    void *p = realloc(rs->lists, (rs->list_count + 1) * sizeof(*rs->lists));
    if (!p)
        return rule_fail(ld, s, "out of memory");
    rs->lists = p;
    /* Pointers into lists are taken after loading (see resolve_lists). */
    struct rule_list *l = &rs->lists[rs->list_count];
    memset(l, 0, sizeof(*l));
    memcpy(l->name, name, len + 1);
    l->kind = kind;
    int rc;
    if (kind == RULE_LIST_NETWORK) {
        l->net = netlist_new();
        rc = l->net ? netlist_load_file(l->net, path, ld->err, ld->errlen) : -1;
    } else {
        l->pat = patlist_new();
        rc = l->pat ? patlist_load_file(l->pat, path, ld->err, ld->errlen) : -1;
    }
    if (rc != 0 && !l->net && !l->pat)
        snprintf(ld->err, ld->errlen, "out of memory");
    rs->list_count++;          /* even on error: rule_set_free frees it */
    if (rc != 0)
        return -1;
    *out = l;
    return 0;
}

static int parse_match(struct rule_loader *ld, const config_setting_t *g, const char *prefix,
                       struct rule_match *m, int depth);

/* List references are stored as indices while the list array may still
 * move (realloc), and turned into pointers at the end (resolve_match). */
#define LIST_REF(i) ((const void *)(uintptr_t)((i) + 1))

struct list_arg {
    struct rule_match *m;
    char which;         /* 's'rc, 'c'lient, 't'arget */
};

static int add_list_name(struct rule_loader *ld, const config_setting_t *at, const char *field,
                         const char *name, void *arg)
{
    struct list_arg *a = arg;
    struct rule_match *m = a->m;
    size_t *count = a->which == 's' ? &m->src_list_count
                    : a->which == 'c' ? &m->client_list_count : &m->target_list_count;
    if (*count >= RULE_LISTS_MAX)
        return rule_fail(ld, at, "'%s' names more than %d lists", field, RULE_LISTS_MAX);
    struct rule_list *l;
    if (find_list(ld, at, name, field, a->which == 's' ? RULE_LIST_NETWORK : RULE_LIST_PATTERN,
                  &l) != 0)
        return -1;
    const void *ref = LIST_REF(l - ld->rs->lists);
    if (a->which == 's') {
        l->actor_org = true;
        m->src_lists[(*count)++] = ref;
    } else if (a->which == 'c') {
        l->actor_tool = true;
        m->client_lists[(*count)++] = ref;
    } else {
        m->target_lists[(*count)++] = ref;
    }
    return 0;
}

static int parse_match_key(struct rule_loader *ld, const config_setting_t *s, const char *key,
                           const char *field, struct rule_match *m, int depth)
{
    long long v;
    if (strcmp(key, "from") == 0) {
        static const char *const names[] = {"outside", "inside", "any"};
        int c;
        if (get_choice(ld, s, s, field, names, 3, &c) != 0)
            return -1;
        m->from = (uint8_t)c;
    } else if (strcmp(key, "record") == 0) {
        static const char *const names[] = {"op", "flow"};   /* enum rule_record */
        int c;
        if (depth > 0)
            return rule_fail(ld, s, "'%s' belongs in the rule's match, not in 'not'", field);
        if (get_choice(ld, s, s, field, names, 2, &c) != 0)
            return -1;
        m->record = (uint8_t)c;
    } else if (strcmp(key, "app") == 0) {
        struct mask_arg a = {&app_table, &m->apps};
        return each_string(ld, s, field, add_mask_name, &a);
    } else if (strcmp(key, "class") == 0) {
        struct mask_arg a = {&class_table, &m->classes};
        return each_string(ld, s, field, add_mask_name, &a);
    } else if (strcmp(key, "status") == 0) {
        struct mask_arg a = {&status_table, &m->statuses};
        return each_string(ld, s, field, add_mask_name, &a);
    } else if (strcmp(key, "auth_result") == 0) {
        struct mask_arg a = {&auth_result_table, &m->auth_results};
        return each_string(ld, s, field, add_mask_name, &a);
    } else if (strcmp(key, "op") == 0) {
        return each_string(ld, s, field, add_op_name, m);
    } else if (strcmp(key, "authenticated") == 0) {
        static const char *const names[] = {"unknown", "no", "yes"};   /* enum op_auth */
        return get_choice(ld, s, s, field, names, 3, &m->authenticated);
    } else if (strcmp(key, "flags_all") == 0) {
        return each_string(ld, s, field, add_flag_name, &m->flags_all);
    } else if (strcmp(key, "flags_any") == 0) {
        return each_string(ld, s, field, add_flag_name, &m->flags_any);
    } else if (strcmp(key, "page_size_min") == 0) {
        if (get_int(ld, s, field, 0, INT64_MAX, &v) != 0)
            return -1;
        m->has_page_size_min = true;
        m->page_size_min = v;
    } else if (strcmp(key, "items_min") == 0) {
        if (get_int(ld, s, field, 0, INT64_MAX, &v) != 0)
            return -1;
        m->has_items_min = true;
        m->items_min = v;
    } else if (strcmp(key, "chain_items_min") == 0) {
        if (get_int(ld, s, field, 0, INT64_MAX, &v) != 0)
            return -1;
        m->has_chain_items_min = true;
        m->chain_items_min = v;
    } else if (strcmp(key, "chain_read_pct_min") == 0) {
        if (get_int(ld, s, field, 1, 100, &v) != 0)
            return -1;
        m->chain_read_pct_min = (uint8_t)v;
    } else if (strcmp(key, "chain_match_all") == 0) {
        if (config_setting_type(s) != CONFIG_TYPE_BOOL)
            return rule_fail(ld, s, "'%s' must be true or false", field);
        m->chain_match_all = config_setting_get_bool(s) ? 1 : 2;
    } else if (strcmp(key, "op_regex") == 0) {
        return compile_regex(ld, s, field, &m->op_regex);
    } else if (strcmp(key, "target_regex") == 0) {
        return compile_regex(ld, s, field, &m->target_regex);
    } else if (strcmp(key, "client_regex") == 0) {
        return compile_regex(ld, s, field, &m->client_regex);
    } else if (strcmp(key, "src_list") == 0 || strcmp(key, "client_list") == 0
               || strcmp(key, "target_list") == 0) {
        struct list_arg a = {m, key[0]};
        return each_string(ld, s, field, add_list_name, &a);
    } else if (strcmp(key, "not") == 0) {
        if (!config_setting_is_group(s))
            return rule_fail(ld, s, "'%s' must be a group", field);
        if (depth >= 4)
            return rule_fail(ld, s, "'%s' is nested too deeply", field);
        m->not_match = calloc(1, sizeof(*m->not_match));
        if (!m->not_match)
            return rule_fail(ld, s, "out of memory");
        m->not_match->from = RULE_FROM_ANY;
        return parse_match(ld, s, field, m->not_match, depth + 1);
    } else {
        return rule_fail(ld, s, "unknown key '%s'", field);
    }
    return 0;
}

static int parse_match(struct rule_loader *ld, const config_setting_t *g, const char *prefix,
                       struct rule_match *m, int depth)
{
    m->authenticated = -1;
    int n = config_setting_length(g);
    for (int i = 0; i < n; i++) {
        const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        char field[128];
        snprintf(field, sizeof(field), "%s.%s", prefix, config_setting_name(s));
        if (parse_match_key(ld, s, config_setting_name(s), field, m, depth) != 0)
            return -1;
    }
    return 0;
}

/* A key: src, dest, pair, and where `with_chain`, chain (one cursor chain
 * on one server: only aggregates and suppression can key by it). */
static int parse_key_choice(struct rule_loader *ld, const config_setting_t *s, const char *field,
                            uint8_t *out, bool with_chain)
{
    int c;
    if (get_choice(ld, s, s, field, key_names, with_chain ? 4 : 3, &c) != 0)
        return -1;
    *out = (uint8_t)c;
    return 0;
}

static int parse_aggregate(struct rule_loader *ld, const config_setting_t *g, struct rule *r)
{
    static const char *const sum_names[] = {"items", "request_bytes", "response_bytes"};
    static const char *const distinct_names[] = {"target", "dest", "op"};
    const config_setting_t *sum_at = NULL, *sum_min_at = NULL, *dist_at = NULL,
                           *dist_min_at = NULL, *window_at = NULL;
    int n = config_setting_length(g);
    r->has_aggregate = true;
    r->agg_key = ALERT_KEY_SRC;
    for (int i = 0; i < n; i++) {
        const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        const char *key = config_setting_name(s);
        char field[64];
        snprintf(field, sizeof(field), "aggregate.%s", key);
        long long v;
        int c;
        if (strcmp(key, "key") == 0) {
            if (parse_key_choice(ld, s, field, &r->agg_key, true) != 0)
                return -1;
        } else if (strcmp(key, "window") == 0) {
            if (get_int(ld, s, field, 1, 30 * 86400, &v) != 0)
                return -1;
            r->window_s = (uint64_t)v;
            window_at = s;
        } else if (strcmp(key, "count_min") == 0) {
            if (get_int(ld, s, field, 1, INT64_MAX, &v) != 0)
                return -1;
            r->count_min = (uint64_t)v;
        } else if (strcmp(key, "sum") == 0) {
            if (get_choice(ld, s, s, field, sum_names, 3, &c) != 0)
                return -1;
            r->sum_field = (uint8_t)(RULE_FIELD_ITEMS + c);
            sum_at = s;
        } else if (strcmp(key, "sum_min") == 0) {
            if (get_int(ld, s, field, 1, INT64_MAX, &v) != 0)
                return -1;
            r->sum_min = (uint64_t)v;
            sum_min_at = s;
        } else if (strcmp(key, "distinct") == 0) {
            if (get_choice(ld, s, s, field, distinct_names, 3, &c) != 0)
                return -1;
            r->distinct_field = (uint8_t)(RULE_FIELD_TARGET + c);
            dist_at = s;
        } else if (strcmp(key, "distinct_min") == 0) {
            if (get_int(ld, s, field, 1, INT64_MAX, &v) != 0)
                return -1;
            r->distinct_min = (uint64_t)v;
            dist_min_at = s;
        } else {
            return rule_fail(ld, s, "unknown key '%s'", field);
        }
    }
    if (!window_at)
        return rule_fail(ld, g, "'aggregate.window' is required");
    if (sum_at && !sum_min_at)
        return rule_fail(ld, sum_at, "'aggregate.sum' needs 'aggregate.sum_min'");
    if (sum_min_at && !sum_at)
        return rule_fail(ld, sum_min_at, "'aggregate.sum_min' needs 'aggregate.sum'");
    if (dist_at && !dist_min_at)
        return rule_fail(ld, dist_at, "'aggregate.distinct' needs 'aggregate.distinct_min'");
    if (dist_min_at && !dist_at)
        return rule_fail(ld, dist_min_at, "'aggregate.distinct_min' needs 'aggregate.distinct'");
    if (!r->count_min && !r->sum_min && !r->distinct_min)
        return rule_fail(ld, g, "'aggregate' needs a threshold: count_min, sum_min or "
                         "distinct_min");
    return 0;
}

static int parse_sequence(struct rule_loader *ld, const config_setting_t *g, struct rule *r,
                          const config_setting_t **stages_at)
{
    int n = config_setting_length(g);
    bool have_within = false;
    r->is_sequence = true;
    r->seq_key = ALERT_KEY_PAIR;
    for (int i = 0; i < n; i++) {
        const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        const char *key = config_setting_name(s);
        char field[64];
        snprintf(field, sizeof(field), "sequence.%s", key);
        long long v;
        if (strcmp(key, "key") == 0) {
            if (parse_key_choice(ld, s, field, &r->seq_key, false) != 0)
                return -1;
        } else if (strcmp(key, "within") == 0) {
            if (get_int(ld, s, field, 1, 30 * 86400, &v) != 0)
                return -1;
            r->within_s = (uint64_t)v;
            have_within = true;
        } else if (strcmp(key, "stages") == 0) {
            int t = config_setting_type(s);
            int count = config_setting_length(s);
            if ((t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST) || count < 2
                || count > RULE_STAGES_MAX)
                return rule_fail(ld, s, "'%s' must be a list of 2 to %d rule ids", field,
                                 RULE_STAGES_MAX);
            for (int k = 0; k < count; k++) {
                const config_setting_t *e = config_setting_get_elem(s, (unsigned)k);
                if (get_int(ld, where(e, s), field, 1, RULE_ID_MAX, &v) != 0)
                    return -1;
                r->stages[k] = (uint32_t)v;
            }
            r->stage_count = (size_t)count;
            *stages_at = s;
        } else {
            return rule_fail(ld, s, "unknown key '%s'", field);
        }
    }
    if (!have_within)
        return rule_fail(ld, g, "'sequence.within' is required");
    if (!r->stage_count)
        return rule_fail(ld, g, "'sequence.stages' is required");
    return 0;
}

static int parse_suppress(struct rule_loader *ld, const config_setting_t *g, struct rule *r,
                          bool *key_set)
{
    int n = config_setting_length(g);
    for (int i = 0; i < n; i++) {
        const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        const char *key = config_setting_name(s);
        char field[64];
        snprintf(field, sizeof(field), "suppress.%s", key);
        long long v;
        if (strcmp(key, "key") == 0) {
            if (parse_key_choice(ld, s, field, &r->sup_key, true) != 0)
                return -1;
            *key_set = true;
        } else if (strcmp(key, "period") == 0) {
            if (get_int(ld, s, field, 0, 30 * 86400, &v) != 0)
                return -1;
            r->period_s = (uint64_t)v;
        } else if (strcmp(key, "updates") == 0) {
            if (config_setting_type(s) != CONFIG_TYPE_BOOL)
                return rule_fail(ld, s, "'%s' must be true or false", field);
            r->updates_set = true;
            r->updates = config_setting_get_bool(s) != 0;
        } else {
            return rule_fail(ld, s, "unknown key '%s'", field);
        }
    }
    return 0;
}

static int parse_rule(struct rule_loader *ld, const config_setting_t *g, struct rule *r,
                      const config_setting_t **stages_at)
{
    const config_setting_t *s;
    const config_setting_t *match_at = NULL, *agg_at = NULL, *seq_at = NULL, *sup_at = NULL;
    long long v;
    bool have_name = false, have_severity = false, sup_key_set = false;

    memset(r, 0, sizeof(*r));
    r->rev = 1;
    r->confidence = CONFIDENCE_MEDIUM;
    r->period_s = 3600;
    r->match.authenticated = -1;
    ld->rule_id = 0;
    if (!config_setting_is_group(g))
        return rule_fail(ld, g, "each rule must be a group { id = ...; ... }");
    if (!(s = config_setting_get_member(g, "id")))
        return rule_fail(ld, g, "rule without 'id'");
    if (get_int(ld, s, "id", 1, RULE_ID_MAX, &v) != 0)
        return -1;
    r->id = (uint32_t)v;
    for (size_t i = 0; i < ld->rs->count; i++)
        if (ld->rs->rules[i].id == r->id)
            return rule_fail(ld, s, "duplicate rule id %u", r->id);
    ld->rule_id = r->id;

    int n = config_setting_length(g);
    for (int i = 0; i < n; i++) {
        s = config_setting_get_elem(g, (unsigned)i);
        const char *key = config_setting_name(s);
        int c;
        if (strcmp(key, "id") == 0) {
            continue;
        } else if (strcmp(key, "name") == 0) {
            if (get_string(ld, s, "name", r->name, sizeof(r->name)) != 0)
                return -1;
            have_name = true;
        } else if (strcmp(key, "severity") == 0) {
            if (get_choice(ld, s, s, "severity", severity_names, 5, &c) != 0)
                return -1;
            r->severity = (uint8_t)c;
            have_severity = true;
        } else if (strcmp(key, "rev") == 0) {
            if (get_int(ld, s, "rev", 1, UINT32_MAX, &v) != 0)
                return -1;
            r->rev = (uint32_t)v;
        } else if (strcmp(key, "confidence") == 0) {
            if (get_choice(ld, s, s, "confidence", confidence_names, 3, &c) != 0)
                return -1;
            r->confidence = (uint8_t)c;
        } else if (strcmp(key, "category") == 0) {
            if (get_string(ld, s, "category", r->category, sizeof(r->category)) != 0)
                return -1;
        } else if (strcmp(key, "mitre") == 0) {
            if (each_string(ld, s, "mitre", add_mitre, r) != 0)
                return -1;
        } else if (strcmp(key, "match") == 0) {
            if (!config_setting_is_group(s))
                return rule_fail(ld, s, "'match' must be a group");
            if (parse_match(ld, s, "match", &r->match, 0) != 0)
                return -1;
            match_at = s;
        } else if (strcmp(key, "aggregate") == 0) {
            if (!config_setting_is_group(s))
                return rule_fail(ld, s, "'aggregate' must be a group");
            if (parse_aggregate(ld, s, r) != 0)
                return -1;
            agg_at = s;
        } else if (strcmp(key, "sequence") == 0) {
            if (!config_setting_is_group(s))
                return rule_fail(ld, s, "'sequence' must be a group");
            if (parse_sequence(ld, s, r, stages_at) != 0)
                return -1;
            seq_at = s;
        } else if (strcmp(key, "suppress") == 0) {
            if (!config_setting_is_group(s))
                return rule_fail(ld, s, "'suppress' must be a group");
            if (parse_suppress(ld, s, r, &sup_key_set) != 0)
                return -1;
            sup_at = s;
        } else {
            return rule_fail(ld, s, "unknown key '%s'", key);
        }
    }
    if (!have_name)
        return rule_fail(ld, g, "'name' is required");
    if (!have_severity)
        return rule_fail(ld, g, "'severity' is required");
    if (seq_at && (match_at || agg_at))
        return rule_fail(ld, match_at ? match_at : agg_at,
                         "a sequence rule has no '%s': its stages are other rules",
                         match_at ? "match" : "aggregate");
    if (!sup_key_set)
        r->sup_key = seq_at ? r->seq_key : agg_at ? r->agg_key : ALERT_KEY_PAIR;
    else if (seq_at && r->sup_key != r->seq_key)
        return rule_fail(ld, sup_at, "'suppress.key' must be the sequence's key ('%s')",
                         key_names[r->seq_key]);
    return 0;
}

static void match_free(struct rule_match *m)
{
    free(m->ops);
    regex_t **res[] = {&m->op_regex, &m->target_regex, &m->client_regex};
    for (size_t i = 0; i < 3; i++)
        if (*res[i]) {
            regfree(*res[i]);
            free(*res[i]);
        }
    if (m->not_match) {
        match_free(m->not_match);
        free(m->not_match);
    }
    memset(m, 0, sizeof(*m));
}

void rule_set_free(struct rule_set *rs)
{
    for (size_t i = 0; i < rs->count; i++)
        match_free(&rs->rules[i].match);
    free(rs->rules);
    for (size_t i = 0; i < rs->list_count; i++) {
        netlist_free(rs->lists[i].net);
        patlist_free(rs->lists[i].pat);
    }
    free(rs->lists);
    netlist_free(rs->home_nets);
    netlist_free(rs->trusted_clients);
    memset(rs, 0, sizeof(*rs));
}

static void resolve_match(struct rule_set *rs, struct rule_match *m)
{
    for (size_t i = 0; i < m->src_list_count; i++)
        m->src_lists[i] = rs->lists[(uintptr_t)(const void *)m->src_lists[i] - 1].net;
    for (size_t i = 0; i < m->client_list_count; i++)
        m->client_lists[i] = rs->lists[(uintptr_t)(const void *)m->client_lists[i] - 1].pat;
    for (size_t i = 0; i < m->target_list_count; i++)
        m->target_lists[i] = rs->lists[(uintptr_t)(const void *)m->target_lists[i] - 1].pat;
    if (m->not_match)
        resolve_match(rs, m->not_match);
}

static int cmp_rule(const void *a, const void *b)
{
    uint32_t x = ((const struct rule *)a)->id, y = ((const struct rule *)b)->id;
    return x < y ? -1 : x > y;
}

static int cmp_list(const void *a, const void *b)
{
    const struct rule_list *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : (int)x->kind - (int)y->kind;
}

const struct rule *rule_set_find(const struct rule_set *rs, uint32_t id)
{
    struct rule key;
    key.id = id;
    return rs->count ? bsearch(&key, rs->rules, rs->count, sizeof(key), cmp_rule) : NULL;
}

static int load_nets(struct netlist **out, char (*nets)[DETECT_NET_LEN], size_t count,
                     char *err, size_t errlen, const char *what)
{
    char name[32];
    snprintf(name, sizeof(name), "detect.%s", what);
    *out = netlist_from_texts(nets[0], count, DETECT_NET_LEN, name, err, errlen);
    return *out ? 0 : -1;
}

/* Checks that each sequence stage names a non-sequence rule. */
static int check_sequences(struct rule_loader *ld)
{
    struct rule_set *rs = ld->rs;
    for (size_t i = 0; i < rs->count; i++) {
        const struct rule *r = &rs->rules[i];
        ld->rule_id = r->id;
        for (size_t k = 0; k < r->stage_count; k++) {
            const struct rule *st = NULL;
            for (size_t j = 0; j < rs->count; j++)
                if (rs->rules[j].id == r->stages[k])
                    st = &rs->rules[j];
            if (!st)
                return rule_fail(ld, ld->stage_settings[i],
                                 "'sequence.stages' names unknown rule %u", r->stages[k]);
            if (st->is_sequence)
                return rule_fail(ld, ld->stage_settings[i],
                                 "'sequence.stages': rule %u is itself a sequence", st->id);
        }
    }
    ld->rule_id = 0;
    return 0;
}

static int parse_root(struct rule_loader *ld, config_t *lc)
{
    const config_setting_t *root = config_root_setting(lc);
    const config_setting_t *rules = NULL;
    int n = config_setting_length(root);
    for (int i = 0; i < n; i++) {
        const config_setting_t *s = config_setting_get_elem(root, (unsigned)i);
        if (strcmp(config_setting_name(s), "rules") != 0)
            return rule_fail(ld, s, "unknown key '%s' (a rule file holds 'rules = ( ... );')",
                             config_setting_name(s));
        rules = s;
    }
    if (!rules)
        return 0;
    int t = config_setting_type(rules);
    if (t != CONFIG_TYPE_LIST && !(t == CONFIG_TYPE_ARRAY && config_setting_length(rules) == 0))
        return rule_fail(ld, rules, "'rules' must be a list of groups: rules = ( { ... } );");
    int count = config_setting_length(rules);
    ld->rs->rules = calloc((size_t)count + 1, sizeof(struct rule));
    ld->stage_settings = calloc((size_t)count + 1, sizeof(*ld->stage_settings));
    if (!ld->rs->rules || !ld->stage_settings)
        return rule_fail(ld, rules, "out of memory");
    for (int i = 0; i < count; i++) {
        const config_setting_t *g = config_setting_get_elem(rules, (unsigned)i);
        struct rule *r = &ld->rs->rules[ld->rs->count];
        int rc = parse_rule(ld, g, r, &ld->stage_settings[ld->rs->count]);
        ld->rs->count++;   /* even on error: its parts are freed with the set */
        if (rc != 0)
            return -1;
    }
    ld->rule_id = 0;
    return check_sequences(ld);
}

int rule_set_load(const struct detect_settings *ds, struct rule_set *rs, char *err, size_t errlen)
{
    struct rule_loader ld;
    memset(rs, 0, sizeof(*rs));
    memset(&ld, 0, sizeof(ld));
    ld.ds = ds;
    ld.rs = rs;
    ld.path = ds->rules;
    ld.err = err;
    ld.errlen = errlen;
    if (errlen)
        err[0] = '\0';

    if (load_nets(&rs->home_nets, (void *)ds->home_nets, ds->home_net_count,
                  err, errlen, "home_nets") != 0
        || load_nets(&rs->trusted_clients, (void *)ds->trusted_clients,
                     ds->trusted_client_count, err, errlen, "trusted_clients") != 0) {
        rule_set_free(rs);
        return -1;
    }
    if (!ld.path[0])
        return 0;

    /* libconfig says only "file I/O error": find out why ourselves. */
    struct stat st;
    if (stat(ld.path, &st) != 0) {
        snprintf(err, errlen, "%s: cannot read rules: %s", ld.path, strerror(errno));
        rule_set_free(rs);
        return -1;
    }
    if (S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: cannot read rules: %s", ld.path, strerror(EISDIR));
        rule_set_free(rs);
        return -1;
    }
    snprintf(ld.dir, sizeof(ld.dir), "%s", ld.path);
    char *slash = strrchr(ld.dir, '/');
    if (slash)
        *(slash == ld.dir ? slash + 1 : slash) = '\0';
    else
        snprintf(ld.dir, sizeof(ld.dir), "%s", ".");

    config_t lc;
    config_init(&lc);
    config_set_include_dir(&lc, ld.dir);
    int rc;
    if (config_read_file(&lc, ld.path) != CONFIG_TRUE) {
        const char *file = config_error_file(&lc);
        const char *text = config_error_text(&lc);
        const char *dir = "", *sep = "";
        if (file && strcmp(file, ld.path) != 0 && file[0] != '/' && strcmp(ld.dir, ".") != 0) {
            dir = ld.dir;
            sep = dir[strlen(dir) - 1] == '/' ? "" : "/";
        }
        snprintf(err, errlen, "%s%s%s:%d: %s", dir, sep, file ? file : ld.path,
                 config_error_line(&lc), text ? text : "cannot read rules");
        rc = -1;
    } else {
        rc = parse_root(&ld, &lc);
    }
    config_destroy(&lc);
    free(ld.stage_settings);
    if (rc != 0) {
        rule_set_free(rs);   /* list references are not owned: nothing to resolve */
        return -1;
    }
    for (size_t i = 0; i < rs->count; i++)
        resolve_match(rs, &rs->rules[i].match);
    /* Sorted by id: the order of evaluation and of one op's alerts.
     * Lists by name: the order in which attribution looks them up. */
    qsort(rs->rules, rs->count, sizeof(*rs->rules), cmp_rule);
    if (rs->list_count)
        qsort(rs->lists, rs->list_count, sizeof(*rs->lists), cmp_list);
    return 0;
}

/* redis_commands.h - what the decoder knows of each Redis command: its op
 * class, where its target is, how its reply counts items, and the commands
 * that change the connection's state. One static table, sorted by name, so
 * a lookup is a binary search. Container commands (CONFIG, CLIENT, ...) have
 * an entry of their own, whose class serves unknown subcommands, and one per
 * known "COMMAND SUBCOMMAND". */
#ifndef SW_REDIS_COMMANDS_H
#define SW_REDIS_COMMANDS_H

#include <stddef.h>
#include <stdint.h>

/* Where an op's target comes from. */
enum redis_target {
    REDIS_TARGET_NONE = 0,
    REDIS_TARGET_ARG,       /* argument `arg` as sent (a key, pattern, channel) */
    REDIS_TARGET_PARAM,     /* argument `arg`, lower-cased (CONFIG GET/SET) */
    REDIS_TARGET_SCAN,      /* SCAN: its MATCH pattern, "*" when none */
    REDIS_TARGET_AUTH,      /* AUTH: the user of the 2-argument form */
    REDIS_TARGET_HELLO,     /* HELLO: the user after AUTH */
    REDIS_TARGET_STREAMS,   /* XREAD: the first key after STREAMS */
    REDIS_TARGET_REPLICAOF, /* "host port", or "no one" */
};

/* How the reply gives op.items (and op.total). */
enum redis_items {
    REDIS_ITEMS_NONE = 0,   /* -1 */
    REDIS_ITEMS_AGG,        /* the reply aggregate's length */
    REDIS_ITEMS_PAIRS,      /* RESP2 array length / 2, RESP3 map entries */
    REDIS_ITEMS_HITS,       /* non-nil elements */
    REDIS_ITEMS_ONE,        /* 1, or 0 for nil */
    REDIS_ITEMS_SCAN,       /* length of the reply's 2nd element (/2 for H/ZSCAN) */
    REDIS_ITEMS_TOTAL_INT,  /* total = the integer reply (DBSIZE) */
    REDIS_ITEMS_INFO,       /* total = sum of keys=N of the dbN lines */
    REDIS_ITEMS_LINES,      /* lines of the bulk (CLIENT LIST) */
    REDIS_ITEMS_SCORED,     /* WITHSCORES: member-score pairs, a RESP2 flat array / 2
                               or a RESP3 array of pairs (set by the request) */
};

enum redis_special {
    REDIS_SPECIAL_NONE = 0,
    REDIS_SPECIAL_CONTAINER,    /* op = command + subcommand */
    REDIS_SPECIAL_AUTH,
    REDIS_SPECIAL_HELLO,
    REDIS_SPECIAL_INFO,
    REDIS_SPECIAL_SCAN,
    REDIS_SPECIAL_SUBSCRIBE,
    REDIS_SPECIAL_UNSUBSCRIBE,
    REDIS_SPECIAL_MONITOR,
    REDIS_SPECIAL_SYNC,
    REDIS_SPECIAL_REPLCONF,
    REDIS_SPECIAL_CLIENT_REPLY,
    REDIS_SPECIAL_SETNAME,
    REDIS_SPECIAL_SETINFO,
    REDIS_SPECIAL_CONFIG_SET,
    REDIS_SPECIAL_REPLICAOF,
};

struct redis_command {
    const char *name;       /* upper case; "CONFIG GET" for a subcommand */
    uint8_t op_class;       /* enum op_class */
    uint8_t target;         /* enum redis_target */
    uint8_t arg;            /* the argument REDIS_TARGET_ARG/PARAM take (0: the command) */
    uint8_t items;          /* enum redis_items */
    uint8_t special;        /* enum redis_special */
};

/* The entry named exactly `name` (upper case, len bytes), or NULL. */
const struct redis_command *redis_command_find(const char *name, size_t len);
/* The whole table, for tests. */
const struct redis_command *redis_command_table(size_t *count);

#endif

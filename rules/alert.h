/* alert.h - an alert, as the rule engine (engine.h) makes it and as it
 * travels to output: the rule, the actor, the server and the evidence. The
 * engine owns this type; the pipeline only carries it. */
#ifndef SW_ALERT_H
#define SW_ALERT_H

#include <stdbool.h>
#include <stdint.h>

#include "../sensor/base/record.h"

#define ALERT_TARGETS_MAX 8
#define ALERT_NAME_MAX 96
#define ALERT_LABEL_MAX 64
#define ALERT_MITRE_MAX 4

enum alert_severity {
    SEVERITY_INFO = 0, SEVERITY_LOW, SEVERITY_MEDIUM, SEVERITY_HIGH, SEVERITY_CRITICAL
};

/* ALERT_KEY_CHAIN: one cursor chain (chain.h) on one server, so that each
 * dump is its own alert. */
enum alert_key { ALERT_KEY_SRC = 0, ALERT_KEY_DEST, ALERT_KEY_PAIR, ALERT_KEY_CHAIN };

/* How sure a rule is that a match is what it says (EVE metadata.confidence). */
enum alert_confidence { CONFIDENCE_LOW = 0, CONFIDENCE_MEDIUM, CONFIDENCE_HIGH };

/* The op that fired an alert, as metadata (never contents): embedded so an
 * analyst need not join on flow_id and time. */
struct alert_op {
    uint8_t op_class;               /* enum op_class */
    uint8_t status;                 /* enum op_status */
    int64_t items;                  /* -1 unknown */
    char name[OP_NAME_MAX];
    char target[OP_TARGET_MAX];
};

struct alert {
    uint64_t ts_us;                 /* packet time of the op that fired it */
    struct flow_meta meta;          /* that op's flow (client = actor) */
    uint8_t op_app;                 /* that op's app (enum app_id) */
    uint8_t severity;               /* enum alert_severity */
    uint8_t key;                    /* enum alert_key */
    uint8_t target_count;
    uint32_t rule_id;
    uint32_t update;                /* 0 first alert, then 1, 2, ... */
    uint32_t rev;                   /* the rule's revision */
    uint8_t confidence;             /* enum alert_confidence */
    struct alert_op op;             /* the op that fired it */
    struct pcap_position pcap;      /* the packet that completed that op */
    char name[ALERT_NAME_MAX];
    char category[32];
    char mitre[ALERT_MITRE_MAX][16];
    char organisation[ALERT_LABEL_MAX];  /* actor's organisation (network list) */
    char tool[ALERT_LABEL_MAX];          /* actor's tool fingerprint (pattern list) */
    char stage[32];                      /* sequence stage reached, or "" */
    uint64_t ops, documents, bytes;      /* evidence over the window/period */
    uint64_t distinct;                   /* distinct targets (or servers) */
    uint64_t servers;                    /* distinct servers touched */
    uint64_t first_us, last_us;          /* first and last op of the evidence */
    uint64_t window_s;                   /* aggregation window, 0 if none */
    char targets[ALERT_TARGETS_MAX][64]; /* names touched, capped */
    /* Attribution by reverse DNS (sensor/rdns.h), filled by the detect
     * thread after the engine: the actor's forward-confirmed PTR name when
     * it is under a listed crawler domain, and whether that name gave the
     * organisation (no network list did). */
    char rdns[256];
    bool organisation_by_rdns;
    /* issue 14 (whole-dataset reads): the cursor chain of the op that fired a
     * rule with chain conditions or key, as it stood then (has_chain). */
    uint8_t has_chain;
    struct chain_info chain;
    /* issue 14 point 7: a closing update, the final totals of a burst */
    uint8_t final;
};

#endif

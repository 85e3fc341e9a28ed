/* config_key.h - a configuration key, described as data.
 *
 * The configuration loader (sensor/config.c) walks tables of these: every
 * setting in the file must name a key, have its type and lie in its range.
 * A decoder declares its own table over its own parameter struct (see
 * decoders/decoder.h); the generic loader fills that struct, so a protocol's
 * keys, ranges, defaults and one-line docs are written once, in its folder. */
#ifndef SW_CONFIG_KEY_H
#define SW_CONFIG_KEY_H

#include <stdbool.h>
#include <stddef.h>

/* What a key holds in the struct its table describes. */
enum key_kind {
    KEY_UNSIGNED,   /* unsigned; file integer stored as is */
    KEY_SIZE,       /* size_t; file integer times `scale` */
    KEY_BOOL,       /* bool */
    KEY_STRING,     /* char[size]; min/max bound the length */
    KEY_PORTS,      /* a decoder's server ports: uint16_t[] at offset, count at `size` */
    KEY_CHOICE,     /* char[size]; one of `choices` */
    KEY_GROUP,      /* a nested group: its keys are `sub` */
    KEY_NETS,       /* array of CIDR strings at offset, their count at `size` */
    KEY_IFACES,     /* interface names, one string or an array of them:
                       char[INPUTS_MAX][INPUT_NAME_MAX] at offset, count at `size` */
};

struct config_key {
    const char *name;
    enum key_kind kind;
    size_t offset;      /* into the struct the table describes */
    size_t size;        /* KEY_STRING, KEY_CHOICE: array size */
    long long min, max; /* integer range, or string length range */
    size_t scale;       /* KEY_SIZE: bytes per unit in the file */
    const char *const *choices;     /* KEY_CHOICE: NULL-terminated */
    const struct config_key *sub;   /* KEY_GROUP: its keys */
    size_t sub_count;
    long long def;      /* default in the file's unit (integer and bool keys
                           of tables that carry their defaults) */
    const char *doc;    /* one line for the reader of the configuration */
};

/* Keys of a parameter struct that carry their defaults (decoder tables). */
#define CONFIG_KEY_UNSIGNED(type, field, name, lo, hi, def, doc) \
    { name, KEY_UNSIGNED, offsetof(type, field), sizeof(((type *)0)->field), \
      lo, hi, 1, NULL, NULL, 0, def, doc }
#define CONFIG_KEY_SIZE(type, field, name, lo, hi, scale, def, doc) \
    { name, KEY_SIZE, offsetof(type, field), sizeof(((type *)0)->field), \
      lo, hi, scale, NULL, NULL, 0, def, doc }
#define CONFIG_KEY_BOOL(type, field, name, def, doc) \
    { name, KEY_BOOL, offsetof(type, field), sizeof(((type *)0)->field), \
      0, 1, 1, NULL, NULL, 0, def, doc }

#define CONFIG_KIB ((size_t)1024)
#define CONFIG_MIB ((size_t)1024 * 1024)

/* Writes every key's default into the struct at base (integer and bool
 * keys; others are left as they are). */
void config_key_defaults(const struct config_key *keys, size_t count, void *base);
/* The key called name, or NULL. */
const struct config_key *config_key_find(const struct config_key *keys, size_t count,
                                         const char *name);

#endif

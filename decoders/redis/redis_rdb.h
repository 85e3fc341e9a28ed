/* redis_rdb.h - reads the header of an RDB file as it streams by.
 *
 * A SYNC/PSYNC reply carries a whole RDB snapshot. The decoder counts its
 * bytes and needs only the number of keys it holds, which Redis writes
 * before the first key: "REDIS" + 4 version digits, AUX fields (0xFA, two
 * strings), FUNCTION2 (0xF5, a string), SLOT_INFO (0xF4, three lengths),
 * then per database SELECTDB (0xFE, a length) and RESIZEDB (0xFB: db_size,
 * expires_size). The reader sums db_size over RESIZEDB and stops at the
 * first other opcode (a key, an expiry, module aux data, or EOF 0xFF): the
 * rest is only counted by the caller. Bytes may arrive cut anywhere; the
 * state is this struct. No allocation. */
#ifndef SW_REDIS_RDB_H
#define SW_REDIS_RDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct redis_rdb {
    uint8_t state;
    uint8_t hdr[9];         /* the magic, or one length field being read */
    uint8_t hdr_len;
    uint8_t fields[3];      /* what the current opcode still carries */
    uint8_t field_count;
    uint8_t field_at;
    uint8_t opcode;
    uint8_t lzf_stage;      /* in an LZF string: 1 reading clen, 2 reading ulen */
    uint64_t lzf_clen;
    uint64_t skip;          /* string bytes still to skip */
    int64_t keys;           /* sum of RESIZEDB db_size; -1 none seen */
    unsigned version;       /* the 4 digits of the magic */
    bool stopped;           /* reached the first key (or EOF): reading is over */
    bool malformed;         /* not an RDB, or a length it cannot read */
};

void redis_rdb_init(struct redis_rdb *r);
/* Reads the next bytes of the file (any cut). */
void redis_rdb_feed(struct redis_rdb *r, const uint8_t *buf, size_t len);

#endif

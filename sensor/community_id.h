/* community_id.h - Community ID v1 flow hash (as emitted by Zeek and Suricata). */
#ifndef SW_COMMUNITY_ID_H
#define SW_COMMUNITY_ID_H

#include <stddef.h>
#include <stdint.h>

#define COMMUNITY_ID_LEN 31 /* "1:" + 28 base64 chars + NUL = 31 */

/* family 4 or 6; addresses in network order (4 or 16 bytes); ports in host
 * order. Writes "1:<base64 sha1>" into out (at least COMMUNITY_ID_LEN bytes). */
void community_id_v1(uint16_t seed, int family, uint8_t proto,
                     const uint8_t *src, const uint8_t *dst,
                     uint16_t sport, uint16_t dport, char *out);

#endif

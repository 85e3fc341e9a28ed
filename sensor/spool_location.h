/* spool_location.h - where the Redis sink's spool file lives.
 *
 * output.redis.spool_path as written, a relative path taken from the
 * configuration file's directory (like every path in it); or, when it is
 * "", a default that works wherever the sensor is started from:
 *
 *   $STATE_DIRECTORY (systemd's StateDirectory=, its first entry)
 *   /var/lib/scrapewatch               when running as root
 *   $XDG_STATE_HOME/scrapewatch        otherwise (~/.local/state/scrapewatch)
 *
 * with the file name "<sensor.id>.spool" (characters other than letters,
 * digits, '.', '-' and '_' become '_'), so sensors with different ids never
 * contend for one file. Missing directories are created (mode 0700 for the
 * last one): a location that cannot be made is an error, never a silent
 * "no spool". */
#ifndef SW_SPOOL_LOCATION_H
#define SW_SPOOL_LOCATION_H

#include <stddef.h>

#include "config.h"

/* Fills out with the spool file's path and creates its directory. 0, or -1
 * with err holding one line that names the path and the reason. */
int spool_location(const struct sw_config *cfg, char *out, size_t outlen, char *err,
                   size_t errlen);

#endif

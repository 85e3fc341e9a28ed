/* limits.h - limits that more than one part of the sensor must agree on,
 * each defined once here. A limit that belongs to one module stays in that
 * module's header.
 *
 * Part of the floor (sensor/base/): includes libc headers only. */
#ifndef SW_BASE_LIMITS_H
#define SW_BASE_LIMITS_H

/* Worker threads: config key sensor.workers, --workers, and the detect
 * thread's merge (one head per worker). */
#define WORKERS_MAX 64

/* Largest packet kept (bytes): config key capture.snaplen, the live
 * capture's default, and the smallest ring (ring.h) must hold one. */
#define SNAPLEN_MAX 262144

/* Live interfaces captured together: -i given several times or the config
 * key capture.interfaces (sensor/inputs.h), their counters in stats, and
 * the interface index a flow remembers (one byte, 1..INPUTS_MAX). */
#define INPUTS_MAX 16

/* Longest interface name kept (with its NUL); Linux allows 15 bytes, but
 * libpcap also names devices such as "nflog:5" or "usbmon1". */
#define INPUT_NAME_MAX 64

#endif

/* tribes.h: the Tomcat Tribes membership beacon (McastService datagram), read-only view.
 *
 * Two wire formats exist: the current one (Tomcat 7 .. 11, 10-byte markers
 * "TRIBES-B\1\0", with a UDP-port field) and Tomcat 6's (8-byte markers, no
 * UDP-port field). See docs/membership.md for the layout. Parsing never copies
 * variable-length fields: the beacon points into the caller's buffer. */
#ifndef XJK_TRIBES_H
#define XJK_TRIBES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define XJK_TRIBES_UID_LEN  16
#define XJK_TRIBES_HOST_MAX 16 /* IPv6 address bytes */
/* Tomcat's McastServiceImpl.MAX_PACKET_SIZE: nothing larger is a beacon. */
#define XJK_TRIBES_MAX_DATAGRAM 65535
/* Big enough for "ffff:...:255.255.255.255" and "[]:65535". */
#define XJK_TRIBES_ADDR_STRLEN 56

enum xjk_tribes_format {
	XJK_TRIBES_CURRENT, /* Tomcat 7 and later */
	XJK_TRIBES_TC6,	    /* Tomcat 6.0 */
};

enum xjk_tribes_status {
	XJK_TRIBES_OK,
	/* Does not start with "TRIBES-B": a Tribes channel broadcast or foreign
	 * traffic on the group, which a listener skips without complaint. */
	XJK_TRIBES_OTHER,
	/* Starts like a beacon but a marker or length field is wrong. */
	XJK_TRIBES_MALFORMED,
};

struct xjk_tribes_beacon {
	enum xjk_tribes_format format;
	int64_t alive_ms;		   /* since the sender's membership service started */
	int32_t port;			   /* replication Receiver TCP port */
	int32_t secure_port;		   /* -1 when unset */
	int32_t udp_port;		   /* -1 when unset, always -1 in the Tomcat 6 format */
	uint8_t host_len;		   /* 4 or 16 */
	uint8_t host[XJK_TRIBES_HOST_MAX]; /* Receiver address, network order */
	const uint8_t *command;		   /* points into the datagram */
	uint32_t command_len;
	const uint8_t *domain; /* points into the datagram, not NUL-terminated */
	uint32_t domain_len;
	uint8_t uid[XJK_TRIBES_UID_LEN];
	const uint8_t *payload; /* points into the datagram */
	uint32_t payload_len;
};

/* Parses one datagram of LEN bytes. On XJK_TRIBES_OK fills B, whose pointers
 * stay valid as long as BUF does. Stricter than Tomcat where Tomcat would
 * accept nonsense: the fields must end exactly at the end marker, the host
 * must be an IPv4 or IPv6 address and the port must be 1..65535. */
enum xjk_tribes_status xjk_tribes_parse(const void *buf, size_t len, struct xjk_tribes_beacon *b);

/* True when the beacon carries the shutdown command ("BABY-ALEX"): the
 * member left the group on purpose and is gone now. */
bool xjk_tribes_is_shutdown(const struct xjk_tribes_beacon *b);

/* Writes "a.b.c.d:port" or "[v6]:port" for a host of HOST_LEN (4 or 16) bytes. */
void xjk_tribes_addr_str(const uint8_t *host, uint8_t host_len, int32_t port, char *out,
			 size_t outlen);

/* Writes the uniqueId as 32 lowercase hex digits; OUT needs 33 bytes. */
void xjk_tribes_uid_str(const uint8_t uid[XJK_TRIBES_UID_LEN], char out[33]);

const char *xjk_tribes_format_name(enum xjk_tribes_format format);

#endif

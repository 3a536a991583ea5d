/* ajp.h: the AJP13 codec (modjk-ajp13.md §1): encodes what the web server
 * sends (FORWARD_REQUEST, body packets, CPING) and decodes what the container
 * answers, incrementally, straight from the receive buffer.
 *
 * Nothing here allocates or copies payload: the encoder writes into the
 * caller's output buffer and the decoder returns slices into the input. */
#ifndef XJK_AJP_H
#define XJK_AJP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http.h"
#include "worker.h"

#define XJK_AJP_HEADER_LEN	4 /* magic + payload length */
#define XJK_AJP_BODY_HEADER_LEN 6 /* + the chunk length of a request body packet */
#define XJK_AJP_DEF_PACKET_SIZE 8192
#define XJK_AJP_MAX_PACKET_SIZE 65536

/* Largest request body chunk in one packet of max_packet bytes. */
#define XJK_AJP_BODY_MAX(max_packet) ((max_packet)-XJK_AJP_BODY_HEADER_LEN)

/* What a FORWARD_REQUEST carries. A slice with p == NULL is absent: sent as
 * AJP's null string where a string is required, left out where optional. */
struct xjk_ajp_request {
	int method_code;	 /* 1..27, or XJK_HTTP_METHOD_OTHER to send method by name */
	struct xjk_str method;	 /* the name; used only with XJK_HTTP_METHOD_OTHER */
	struct xjk_str protocol; /* "HTTP/1.1" */
	struct xjk_str uri;	 /* path only */
	struct xjk_str query;	 /* without '?'; optional */
	struct xjk_str remote_addr;
	struct xjk_str remote_host;
	uint16_t remote_port;
	struct xjk_str server_name; /* Tomcat's localName */
	uint16_t server_port;	    /* Tomcat's localPort */
	struct xjk_str local_addr;
	bool is_ssl;
	struct xjk_str secret;		/* optional */
	struct xjk_str route;		/* lb member route or domain; optional */
	enum xjk_activation activation; /* XJK_ACTIVE for plain ajp13 workers */
	const struct xjk_http_header *headers;
	uint32_t n_headers;
	bool chunked; /* body length unknown: no Content-Length goes out */
};

/* Encodes a FORWARD_REQUEST into buf, which has room for max_packet bytes.
 * Adds "content-length: 0" when the request is not chunked and has no
 * Content-Length header (AJP reads a missing one as "unknown length"), and
 * drops Content-Length headers from a chunked one. Returns the packet length,
 * or -1 when the request does not fit max_packet (answer 413, as mod_jk). */
int xjk_ajp_encode_request(uint8_t *buf, size_t max_packet, const struct xjk_ajp_request *req);

/* Writes the header of a request body packet in front of len (1..max_packet
 * - 6) data bytes that the caller has already placed at hdr + 6, so body bytes
 * can be read from the client straight into the packet. Returns the packet
 * length. The end of the body is xjk_ajp_end_packet, not an empty chunk. */
size_t xjk_ajp_body_header(uint8_t *hdr, size_t len);

extern const uint8_t xjk_ajp_end_packet[4]; /* 12 34 00 00 */
extern const uint8_t xjk_ajp_cping[5];	    /* 12 34 00 01 0A */

/* Message types the container sends. */
enum xjk_ajp_type {
	XJK_AJP_SEND_BODY_CHUNK = 3,
	XJK_AJP_SEND_HEADERS = 4,
	XJK_AJP_END_RESPONSE = 5,
	XJK_AJP_GET_BODY_CHUNK = 6,
	XJK_AJP_CPONG = 9,
};

/* One decoded container message; which fields are set depends on type. */
struct xjk_ajp_msg {
	enum xjk_ajp_type type;
	int status;			 /* SEND_HEADERS: 100..999 */
	struct xjk_str reason;		 /* SEND_HEADERS: p == NULL when a null string */
	struct xjk_http_header *headers; /* SEND_HEADERS: the caller's hdrs array */
	uint32_t n_headers;
	struct xjk_str body; /* SEND_BODY_CHUNK; an empty chunk asks for a flush */
	bool reuse;	     /* END_RESPONSE: the connection may serve another request */
	uint16_t requested;  /* GET_BODY_CHUNK: bytes the container wants */
};

/* Decodes the container message at the start of buf. Header names and values
 * are slices into buf (coded names point to static canonical names such as
 * "Content-Type"), stored in hdrs, which holds max_hdrs entries. Returns the
 * bytes the message takes (consume them when done with the slices), 0 when
 * more bytes are needed, or -1 when the stream is malformed and the
 * connection must be dropped: wrong magic, a length over max_packet - 4, an
 * unknown type, fields running past the message, a chunk longer than the
 * message, more than max_hdrs headers, an unknown header code, a status out
 * of range, CR, LF or NUL in a header (they would split the response), or a
 * header name that is empty or holds ':' or blanks. Bytes after the last
 * field of a message are ignored, as mod_jk does. */
int xjk_ajp_parse(const uint8_t *buf, size_t len, size_t max_packet, struct xjk_ajp_msg *out,
		  struct xjk_http_header *hdrs, unsigned max_hdrs);

#endif

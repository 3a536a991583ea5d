#!/usr/bin/env python3
"""ajp_hostile.py: an AJP13 container that lies, for tests/integ/81-hostile.sh.

    ajp_hostile.py [--host H] [--default MODE] PORT

Reads FORWARD_REQUEST packets and answers according to the request URI's last
path segment (e.g. GET /h/bogus-length); any other segment gets the --default
mode (by default "ok": a correct 200 "hostile-ok", so the server also serves
as a well-behaved member).
Every request is logged to stdout as "MODE", so a test can count what reached
it. Only for the lab: it listens where it is told and trusts nobody.
"""
import socket
import struct
import time

import hostile_server


def pkt(payload):
    return b"AB" + struct.pack(">H", len(payload)) + payload


def s(text):
    b = text.encode()
    return struct.pack(">H", len(b)) + b + b"\0"


def headers(status=200, hdrs=(("Content-Type", "text/plain"),), reason="OK"):
    body = b"\x04" + struct.pack(">H", status) + s(reason) + struct.pack(">H", len(hdrs))
    for name, value in hdrs:
        body += s(name) + s(value)
    return pkt(body)


def chunk(data):
    return pkt(b"\x03" + struct.pack(">H", len(data)) + data + b"\0")


END = pkt(b"\x05\x01")
OK_BODY = b"hostile-ok\n"


def ok_answer():
    return headers(hdrs=(("Content-Type", "text/plain"),
                         ("Content-Length", str(len(OK_BODY))))) + chunk(OK_BODY) + END


# mode -> what to send; None in the sequence means "stall here", "close" means
# close the connection at that point.
def plan(mode):
    cl = (("Content-Type", "text/plain"), ("Content-Length", "1000"))
    return {
        # a length over any max_packet_size (0xFFFF > 8192)
        "bogus-length": [b"AB\xff\xff\x04\x00\xc8"],
        "bad-magic": [b"XY\x00\x03\x05\x01\x00"],
        # a well-formed SEND_HEADERS of 9000 bytes, over the 8192 default
        "oversized": [headers(hdrs=(("X-Big", "a" * 8900),))],
        # the count says 10000 headers; far more than any header array
        "too-many-headers": [pkt(b"\x04\x00\xc8" + s("OK") + struct.pack(">H", 10000) +
                                 b"".join(s("X-H%d" % i) + s("v") for i in range(300)))],
        # a header value that would split the response
        "header-crlf": [headers(hdrs=(("X-A", "a\r\nSet-Cookie: evil=1"),))],
        "status-42": [headers(status=42)],
        "unknown-type": [pkt(b"\x42\x00")],
        # a chunk that claims more than its packet holds
        "chunk-lie": [headers(hdrs=cl), pkt(b"\x03\x10\x00abc\0")],
        "end-first": [END],
        "close-first": ["close"],
        "stall-headers": [None],
        "stall-mid-body": [headers(hdrs=cl), chunk(b"x" * 100), None],
        "close-mid-body": [headers(hdrs=cl), chunk(b"x" * 100), "close"],
        "second-headers": [headers(hdrs=cl), chunk(b"x" * 10), headers(), END],
        "second-headers-first": [headers(), headers(), chunk(OK_BODY), END],
    }.get(mode)


def read_packet(conn, buf):
    while len(buf) < 4 or len(buf) < 4 + struct.unpack(">H", buf[2:4])[0]:
        data = conn.recv(65536)
        if not data:
            return None, buf
        buf += data
    n = 4 + struct.unpack(">H", buf[2:4])[0]
    return buf[:n], buf[n:]


def take_str(p, off):
    n = struct.unpack(">H", p[off:off + 2])[0]
    if n == 0xFFFF:
        return None, off + 2
    return p[off + 2:off + 2 + n].decode("latin-1"), off + 3 + n


def parse_request(p):
    """(req_uri, content_length or None) of a FORWARD_REQUEST packet."""
    # 0x12 0x34 len, 0x02, method, protocol, req_uri, remote_addr, remote_host,
    # server_name, server_port, is_ssl, num_headers, headers
    off = 6
    _, off = take_str(p, off)
    uri, off = take_str(p, off)
    for _ in range(3):
        _, off = take_str(p, off)
    off += 3
    count = struct.unpack(">H", p[off:off + 2])[0]
    off += 2
    length = None
    for _ in range(count):
        code = struct.unpack(">H", p[off:off + 2])[0]
        if code >= 0xA000:
            name, off = code, off + 2
        else:
            name, off = take_str(p, off)
        value, off = take_str(p, off)
        if name in (0xA008, "content-length", "Content-Length"):
            length = int(value)
    return uri, length


def read_body(conn, buf, length):
    """Consumes the request body packets, as a container does before it
    answers: up to length bytes, or up to the empty packet when unknown,
    asking for each packet after the first with GET_BODY_CHUNK."""
    got = 0
    conn.settimeout(0.5)
    while length is None or got < length:
        try:
            p, buf = read_packet(conn, buf)
        except socket.timeout:
            # nothing sent unasked (an empty chunked body): ask for it
            conn.sendall(pkt(b"\x06" + struct.pack(">H", 8186)))
            continue
        if p is None or len(p) <= 4:
            break
        got += struct.unpack(">H", p[4:6])[0]
        if length is None or got < length:
            conn.sendall(pkt(b"\x06" + struct.pack(">H", 8186)))  # GET_BODY_CHUNK
    conn.settimeout(None)
    return buf


def serve(conn, default_mode):
    buf = b""
    with conn:
        while True:
            p, buf = read_packet(conn, buf)
            if p is None:
                return
            if p[4] == 10:  # CPING
                conn.sendall(pkt(b"\x09"))
                continue
            if p[4] != 2:  # request body packets: the answer already went
                continue
            uri, length = parse_request(p)
            segment = uri.rsplit("/", 1)[-1]
            mode = segment if plan(segment) else default_mode
            print(mode, flush=True)
            steps = plan(mode)
            if steps is None:
                if length != 0:
                    buf = read_body(conn, buf, length)
                conn.sendall(ok_answer())
                continue
            for step in steps:
                if step is None:
                    hostile_server.stall(conn)
                    return
                if step == "close":
                    return
                conn.sendall(step)
                time.sleep(0.05)  # separate reads, as a slow container
            return


if __name__ == "__main__":
    hostile_server.run(serve)

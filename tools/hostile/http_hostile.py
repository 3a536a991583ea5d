#!/usr/bin/env python3
"""http_hostile.py: an HTTP/1.1 origin server that lies, for
tests/integ/81-hostile.sh (http workers).

    http_hostile.py [--host H] [--default MODE] PORT

Reads a request head and answers according to the target's last path segment;
any other segment gets the --default mode (by default "ok": a correct 200
"hostile-ok"). Each request is logged to stdout as "MODE". Lab use only.
"""
import hostile_server

OK = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nhostile-ok\n"

PLANS = {
    "bogus-length": [b"HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\nbody"],
    "two-lengths": [b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\nContent-Length: 40\r\n\r\nbody"],
    "too-many-headers": [b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(5000)) +
                         b"Content-Length: 2\r\n\r\nok"],
    "oversized": [b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 200000 + b"\r\nContent-Length: 2\r\n\r\nok"],
    "bad-status": [b"HTTP/1.1 2000 Nope\r\nContent-Length: 2\r\n\r\nok"],
    "close-first": ["close"],
    "stall-headers": [None],
    "stall-mid-body": [b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"x" * 100, None],
    "close-mid-body": [b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"x" * 100, "close"],
}


def serve(conn, default_mode):
    with conn:
        buf = b""
        while True:
            while b"\r\n\r\n" not in buf:
                data = conn.recv(65536)
                if not data:
                    return
                buf += data
            head, buf = buf.split(b"\r\n\r\n", 1)
            target = head.split(b" ", 2)[1].decode("latin-1").split("?")[0]
            segment = target.rsplit("/", 1)[-1]
            mode = segment if PLANS.get(segment) else default_mode
            print(mode, flush=True)
            steps = PLANS.get(mode)
            if steps is None:
                conn.sendall(OK)
                continue
            for step in steps:
                if step == "close":
                    return
                if step is None:
                    hostile_server.stall(conn)
                    return
                conn.sendall(step)
            return


if __name__ == "__main__":
    hostile_server.run(serve)

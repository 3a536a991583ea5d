"""splice_backend.py PORT MODE: the fake HTTP/1.1 members of the splice
scripts. Each connection is served by a thread that reads requests (the
head, then a Content-Length body) and prints "request: LINE"; MODE says how
it answers:

  gaps    (71-splice-gaps) / (the health check) at once; a path with "slow":
          30000 bytes in ten pieces 100 ms apart; "echo": the body's length
          and SHA-256; any other request gets no answer: the connection is
          closed (FIN), or reset (RST) when the path says "rst"
  window  (72-splice-window) GET /N: N bytes of pattern(N) at once; a request
          with a body: the body's length and SHA-256
"""
import hashlib
import socket
import struct
import sys
import threading
import time


def pattern(n):
    return (bytes(range(251)) * (n // 251 + 1))[:n]


def requests(c):
    """Yields (request line, body) until the peer closes."""
    buf = b""
    while True:
        while b"\r\n\r\n" not in buf:
            d = c.recv(65536)
            if not d:
                return
            buf += d
        head, buf = buf.split(b"\r\n\r\n", 1)
        lines = head.split(b"\r\n")
        n = [int(l.split(b":")[1]) for l in lines[1:] if l.lower().startswith(b"content-length:")]
        while n and len(buf) < n[0]:
            d = c.recv(65536)
            if not d:
                return
            buf += d
        body, buf = (buf[: n[0]], buf[n[0]:]) if n else (b"", buf)
        yield lines[0].decode(errors="replace"), body


def answer(c, body):
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)


def digest(body):
    return b"len=%d sha=%s" % (len(body), hashlib.sha256(body).hexdigest().encode())


def gaps(c, line, body):
    """False when the connection was closed."""
    if line.startswith("GET / "):
        answer(c, b"ok\n")
        return True
    if "echo" in line:
        answer(c, digest(body))
        return True
    if "slow" in line:
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 30000\r\n\r\n")
        for _ in range(10):
            time.sleep(0.1)
            c.sendall(b"s" * 3000)
        return True
    if "rst" in line:
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()
    return False


def window(c, line, body):
    if line.startswith("GET "):
        path = line.split(" ")[1][1:]
        answer(c, pattern(int(path) if path.isdigit() else 3))
    else:
        answer(c, digest(body))
    return True


def serve(c, mode):
    for line, body in requests(c):
        print("request:", line, flush=True)
        if not mode(c, line, body):
            return
    c.close()


def main():
    mode = {"gaps": gaps, "window": window}[sys.argv[2]]
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("0.0.0.0", int(sys.argv[1])))
    srv.listen(16)
    while True:
        threading.Thread(target=serve, args=(srv.accept()[0], mode), daemon=True).start()


main()

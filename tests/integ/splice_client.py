"""splice_client.py: reading HTTP/1.1 answers on a keep-alive connection, for
the clients the splice scripts run (their inline Python imports it)."""


def answer(s, buf):
    """Reads one answer framed by Content-Length from socket S, BUF holding
    bytes read before. Returns (status line, body, bytes after the body); the
    body is short when the connection closed in it, and (None, None, BUF)
    when it closed before the end of the head."""
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        if not d:
            return None, None, buf
        buf += d
    head, buf = buf.split(b"\r\n\r\n", 1)
    lines = head.split(b"\r\n")
    n = [int(l.split(b":")[1]) for l in lines[1:] if l.lower().startswith(b"content-length:")][0]
    while len(buf) < n:
        d = s.recv(65536)
        if not d:
            break
        buf += d
    return lines[0], buf[:n], buf[n:]

#!/usr/bin/env python3
"""conns.py: clients that hold many connections at once, for the load test
(tests/integ/82-load.sh) and the soak (tools/soak/run.sh). One thread, non-
blocking sockets on epoll (selectors), so ten thousand connections cost one
process; the caller raises `ulimit -n`.

  conns.py hold --host H --port P --conns N [--path P] [--hold S] [--inflight K]
      Opens N connections (at most --connecting connects under way at once)
      and keeps every one of them open. Once all are open it sends a GET on
      each (at most K unanswered at a time; 0 = all at once) and reads every
      answer, holds them all idle for S seconds (a close by the server is
      counted), sends a second GET on each (keep-alive reuse), and closes.
  conns.py slowloris --host H --port P --conns N [--interval S] [--duration S]
      N connections that send a request head one byte every S seconds and
      never finish it. For each: did a 408 come, and when did the server close.

Prints "# ..." progress lines and one summary line "S key=value ...".
"""
import argparse
import selectors
import socket
import sys
import time

READ, WRITE = selectors.EVENT_READ, selectors.EVENT_WRITE


def log(msg):
    print("# " + msg, flush=True)


def ms(seconds):
    return int(seconds * 1000)


def percentile(values, p):
    if not values:
        return 0
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p / 100))]


def open_all(sel, host, port, n, connecting, timeout):
    """Connects N sockets, at most CONNECTING under way. Returns the open
    sockets and the number that failed."""
    opened, failed, pending = [], 0, 0
    started = 0
    deadline = time.monotonic() + timeout
    while (started < n or pending) and time.monotonic() < deadline:
        while started < n and pending < connecting:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            s.connect_ex((host, port))
            sel.register(s, WRITE)
            started += 1
            pending += 1
        for key, _ in sel.select(0.5):
            s = key.fileobj
            sel.unregister(s)
            pending -= 1
            if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                s.close()
                failed += 1
            else:
                opened.append(s)
    for key in list(sel.get_map().values()):
        sel.unregister(key.fileobj)
        key.fileobj.close()
        failed += 1
    failed += n - started
    return opened, failed


def response_complete(buf):
    """The status of a complete response in BUF, 0 while incomplete."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return 0
    head = buf[:end].decode("latin-1").split("\r\n")
    status = int(head[0].split(" ")[1])
    body = buf[end + 4:]
    for line in head[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            return status if len(body) >= int(value) else 0
        if name == "transfer-encoding" and "chunked" in value.lower():
            return status if body.endswith(b"0\r\n\r\n") else 0
    return status


def request_round(sel, socks, request, inflight, timeout):
    """One GET on every socket of SOCKS; returns {status: count} (0 = closed
    or timed out before a complete answer), the latencies in ms and the
    sockets still usable."""
    statuses, latencies, alive = {}, [], []
    queue = list(socks)
    bufs, t_sent = {}, {}
    limit = inflight or len(queue)
    deadline = time.monotonic() + timeout

    def done(s, status):
        sel.unregister(s)
        statuses[status] = statuses.get(status, 0) + 1
        latencies.append(ms(time.monotonic() - t_sent[s]))
        if status:
            alive.append(s)
        else:
            s.close()

    while (queue or bufs) and time.monotonic() < deadline:
        while queue and len(bufs) < limit:
            s = queue.pop()
            t_sent[s] = time.monotonic()
            bufs[s] = b""
            sel.register(s, READ)
            try:
                s.send(request)
            except OSError:
                del bufs[s]
                done(s, 0)
        for key, _ in sel.select(0.5):
            s = key.fileobj
            try:
                data = s.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if not data:
                del bufs[s]
                done(s, 0)
                continue
            bufs[s] += data
            status = response_complete(bufs[s])
            if status:
                del bufs[s]
                done(s, status)
    for s in list(bufs) + queue:
        if s in bufs:
            sel.unregister(s)
        s.close()
        statuses[0] = statuses.get(0, 0) + 1
    return statuses, latencies, alive


def hold_idle(sel, socks, seconds):
    """Watches SOCKS for SECONDS; returns the ones the server did not close."""
    for s in socks:
        sel.register(s, READ)
    closed = set()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for key, _ in sel.select(max(0.0, min(0.5, deadline - time.monotonic()))):
            s = key.fileobj
            sel.unregister(s)
            closed.add(s)
            s.close()
    kept = [s for s in socks if s not in closed]
    for s in kept:
        sel.unregister(s)
    return kept


def fmt_statuses(statuses):
    return ",".join("%d:%d" % kv for kv in sorted(statuses.items())) or "-"


def cmd_hold(args):
    sel = selectors.DefaultSelector()
    request = ("GET %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (args.path, args.host)).encode()
    t0 = time.monotonic()
    socks, failed = open_all(sel, args.host, args.port, args.conns, args.connecting, args.timeout)
    t_open = time.monotonic() - t0
    log("%d connections open in %d ms (%d failed)" % (len(socks), ms(t_open), failed))
    rounds = []
    for r in (1, 2):
        t = time.monotonic()
        statuses, lat, socks = request_round(sel, socks, request, args.inflight, args.timeout)
        rounds.append((statuses, lat, time.monotonic() - t))
        log("round %d: statuses %s in %d ms, latency p50 %d p99 %d max %d ms" %
            (r, fmt_statuses(statuses), ms(rounds[-1][2]), percentile(lat, 50),
             percentile(lat, 99), max(lat or [0])))
        if r == 1:
            n = len(socks)
            socks = hold_idle(sel, socks, args.hold)
            held_closed = n - len(socks)
            log("held %d connections idle for %.1f s, %d closed by the server" %
                (n, args.hold, held_closed))
    for s in socks:
        s.close()
    (st1, lat1, _), (st2, lat2, _) = rounds
    print("S conns=%d open=%d connect_failed=%d open_ms=%d r1_ok=%d r1=%s r1_max_ms=%d "
          "held_closed=%d r2_ok=%d r2=%s r2_max_ms=%d" %
          (args.conns, args.conns - failed, failed, ms(t_open), st1.get(200, 0),
           fmt_statuses(st1), max(lat1 or [0]), held_closed, st2.get(200, 0),
           fmt_statuses(st2), max(lat2 or [0])), flush=True)


class Slow:
    __slots__ = ("sock", "t_open", "sent", "answer", "t_closed", "reset")

    def __init__(self, sock, now):
        self.sock, self.t_open = sock, now
        self.sent, self.answer, self.t_closed, self.reset = 0, b"", None, False


def cmd_slowloris(args):
    sel = selectors.DefaultSelector()
    head = ("GET %s HTTP/1.1\r\nHost: %s\r\nX-Slow: " % (args.path, args.host)).encode()
    head += b"a" * int(args.duration / args.interval + 2)
    socks, failed = open_all(sel, args.host, args.port, args.conns, args.connecting, args.timeout)
    now = time.monotonic()
    # The request line and Host go at once; after that one byte per tick.
    first = head.index(b"X-Slow")
    conns = {}
    for s in socks:
        c = Slow(s, now)
        conns[s] = c
        sel.register(s, READ)
        try:
            c.sent = s.send(head[:first])
        except OSError:
            pass
    deadline = now + args.duration
    next_tick = now + args.interval
    open_left = len(conns)
    while open_left and time.monotonic() < deadline:
        for key, _ in sel.select(max(0.0, min(0.2, next_tick - time.monotonic()))):
            c = conns[key.fileobj]
            try:
                data = c.sock.recv(4096)
            except BlockingIOError:
                continue
            except ConnectionResetError:
                data, c.reset = b"", True
            c.answer += data
            if not data:
                c.t_closed = time.monotonic()
                sel.unregister(c.sock)
                c.sock.close()
                open_left -= 1
        if time.monotonic() >= next_tick:
            next_tick += args.interval
            for c in conns.values():
                if c.t_closed is None and not c.answer:
                    try:
                        c.sent += c.sock.send(head[c.sent:c.sent + 1])
                    except OSError:
                        pass  # the reset shows on the next read
    got_408 = sum(1 for c in conns.values() if c.answer.startswith(b"HTTP/1.1 408"))
    closed = [ms(c.t_closed - c.t_open) for c in conns.values() if c.t_closed is not None]
    resets = sum(1 for c in conns.values() if c.reset and not c.answer)
    for c in conns.values():
        if c.t_closed is None:
            c.sock.close()
    print("S conns=%d open=%d got_408=%d closed=%d still_open=%d reset_silent=%d "
          "close_min_ms=%d close_p50_ms=%d close_max_ms=%d bytes_max=%d" %
          (args.conns, len(conns), got_408, len(closed), len(conns) - len(closed), resets,
           min(closed or [0]), percentile(closed, 50), max(closed or [0]),
           max([c.sent for c in conns.values()] or [0])), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("hold", "slowloris"):
        p = sub.add_parser(name)
        p.add_argument("--host", required=True)
        p.add_argument("--port", type=int, default=80)
        p.add_argument("--conns", type=int, required=True)
        p.add_argument("--path", default="/node.txt")
        p.add_argument("--connecting", type=int, default=256,
                       help="connects under way at once (the listener's backlog is finite)")
        p.add_argument("--timeout", type=float, default=60.0,
                       help="cap of each phase, seconds")
        if name == "hold":
            p.add_argument("--hold", type=float, default=3.0)
            p.add_argument("--inflight", type=int, default=0)
        else:
            p.add_argument("--interval", type=float, default=1.0)
            p.add_argument("--duration", type=float, default=10.0)
    args = ap.parse_args()
    {"hold": cmd_hold, "slowloris": cmd_slowloris}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())

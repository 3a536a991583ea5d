#!/usr/bin/env python3
"""load.py: the failover harness's clients (tools/failover/run.sh, tests/integ/5x).

Two shapes, as in issue 3:
  --clients 1 --interval 100 --session   one sticky client: a request every
        100 ms, keeping its cookies, checking /counter.do's count
  --clients 8                             clients without a session, each
        sending its next request as soon as the last one ended
Every request is capped at --timeout seconds and counts as failed when it does
not end in a 200. Clients stop starting requests after --duration seconds; a
request under way then still runs to its end or its cap.

Prints one line per request as it ends ("R client t_start_ms latency_ms status
node count") and, at the end, a summary line:
  S requests=N failed=N slowest_ms=N resets=N nodes=a,b
resets counts answers of the sticky client whose count was not the previous
one plus one (a lost session)."""
import argparse
import http.client
import re
import sys
import threading
import time
import urllib.parse

COUNT = re.compile(r"count=(\d+)")
NODE = re.compile(r"node=(\S+)")


def one_request(conn, path, cookies):
    headers = {"Cookie": "; ".join("%s=%s" % kv for kv in cookies.items())} if cookies else {}
    conn.request("GET", path, headers=headers)
    resp = conn.getresponse()
    body = resp.read().decode("utf-8", "replace")
    return resp.status, body, resp.msg.get_all("Set-Cookie") or [], resp.will_close


def client(idx, args, url, t0, out, lock):
    cookies = {}  # a browser's jar, enough for JSESSIONID and HAProxy's SERVERID
    conn = None
    deadline = t0 + args.duration
    next_start = t0
    while True:
        now = time.monotonic()
        if now >= deadline:
            break
        if args.interval and now < next_start:
            time.sleep(next_start - now)
        start = time.monotonic()
        next_start = start + args.interval / 1000.0
        status, node, count = 0, "-", "-"
        try:
            if conn is None:
                conn = http.client.HTTPConnection(url.hostname, url.port or 80,
                                                  timeout=args.timeout)
            # The cap covers the whole request, connect included.
            conn.timeout = args.timeout
            status, body, set_cookies, will_close = one_request(conn, args.path, cookies)
            for sc in set_cookies if args.session else []:
                name, _, value = sc.split(";", 1)[0].strip().partition("=")
                cookies[name] = value
            m = NODE.search(body)
            node = m.group(1) if m else "-"
            m = COUNT.search(body)
            count = m.group(1) if m else "-"
            if will_close:
                conn.close()
                conn = None
        except Exception:  # timeout, reset, refused: a failed request
            if conn is not None:
                conn.close()
            conn = None
        latency = (time.monotonic() - start) * 1000.0
        row = (idx, (start - t0) * 1000.0, latency, status, node, count)
        with lock:
            out.append(row)
            print("R %d %.0f %.0f %d %s %s" % row, flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--clients", type=int, default=1)
    ap.add_argument("--duration", type=float, default=6.0)
    ap.add_argument("--interval", type=float, default=0.0, help="ms between request starts")
    ap.add_argument("--timeout", type=float, default=30.0)
    ap.add_argument("--session", action="store_true")
    args = ap.parse_args()
    url = urllib.parse.urlsplit(args.url)
    args.path = url.path + ("?" + url.query if url.query else "")

    out, lock = [], threading.Lock()
    t0 = time.monotonic()
    threads = [threading.Thread(target=client, args=(i, args, url, t0, out, lock))
               for i in range(args.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    out.sort(key=lambda r: r[1])
    failed = resets = 0
    slowest = 0.0
    last = {}
    nodes = set()
    for idx, start, latency, status, node, count in out:
        slowest = max(slowest, latency)
        if status != 200:
            failed += 1
            continue
        nodes.add(node)
        if args.session and count != "-":
            prev = last.get(idx)
            if prev is not None and int(count) != prev + 1:
                resets += 1
            last[idx] = int(count)
    print("S requests=%d failed=%d slowest_ms=%.0f resets=%d nodes=%s" %
          (len(out), failed, slowest, resets, ",".join(sorted(nodes)) or "-"))
    sys.stdout.flush()


if __name__ == "__main__":
    main()

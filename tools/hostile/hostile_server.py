"""hostile_server.py: what the lying test servers share: the command line
([--host H] [--default MODE] PORT), a thread per connection, and holding a
connection open without answering."""
import socket
import sys
import threading


def stall(conn):
    """Sends nothing more and waits until the peer goes (at most 120 s)."""
    conn.settimeout(120)
    try:
        while conn.recv(65536):
            pass
    except OSError:
        pass


def run(serve):
    """Parses the command line and calls serve(conn, default_mode) for every
    connection, each in its own thread."""
    args = sys.argv[1:]
    host, default = "0.0.0.0", "ok"
    while args[:1] in (["--host"], ["--default"]):
        if args[0] == "--host":
            host = args[1]
        else:
            default = args[1]
        args = args[2:]
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((host, int(args[0])))
    srv.listen(128)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve, args=(conn, default), daemon=True).start()

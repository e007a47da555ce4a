#!/usr/bin/env python3
"""The cluster example end to end, over real HTTP on a loopback port.

usage: cluster_test.py TROUPE PLUGIN CLUSTER_YAML

Runs examples/cluster/cluster.yaml with `troupe run` -- with the plugin as
built here, any free port, and 3 members whatever the machine -- and
checks that:
  - answers are right: "Hello from worker <n>", keep-alive, pipelining,
    HTTP/1.0, HEAD, 400 for garbage and for HTTP/1.1 without Host;
  - several members answer;
  - a member killed with SIGKILL is replaced by its supervisor (restarts
    1, a new pid) while requests keep succeeding;
  - `troupe restart http` replaces every member, one at a time, while two
    clients send requests without pause, and none of them fails;
  - SIGTERM stops the tree (exit 0), no member process is left, and
    nothing listens on the port any more.

The tree is another process: the script waits for it by polling (its log,
`troupe status`, the port) with deadlines, never by sleeping a fixed time.
Only the standard library: no curl, no wrk.
"""
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

MEMBERS = 3
HELLO = re.compile(r"^Hello from worker ([0-9]+)\n$")


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


def poll(what, fn, timeout=15.0):
    """fn() until it returns a true value, every 20 ms, for timeout s."""
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > deadline:
            raise Failure("timed out waiting for " + what)
        time.sleep(0.02)


class Tree:
    def __init__(self, troupe, plugin, yaml_src, tmp):
        self.troupe = troupe
        self.tmp = tmp
        self.env = dict(os.environ, TROUPE_RUNDIR=os.path.join(tmp, "run"))
        os.mkdir(self.env["TROUPE_RUNDIR"], 0o700)
        with open(yaml_src) as f:
            text = f.read()
        # The shipped file with the plugin as built here, any free port,
        # and MEMBERS members (several, even on one core).
        subs = [
            (r"(?m)^plugins:.*$", "plugins: [%s]" % os.path.abspath(plugin)),
            (r"(?m)^(  http: )127\.0\.0\.1:8080", r"\g<1>127.0.0.1:0"),
            (r"(?m)^(\s+instances: )auto", r"\g<1>%d" % MEMBERS),
        ]
        for pat, rep in subs:
            text, n = re.subn(pat, rep, text)
            check(n == 1, "cluster.yaml has no %r to replace" % pat)
        self.yaml = os.path.join(tmp, "cluster.yaml")
        with open(self.yaml, "w") as f:
            f.write(text)
        self.log_path = os.path.join(tmp, "log")
        self.proc = None
        self.port = None
        self.pids = set()  # every member seen, for the end

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def start(self):
        self.proc = subprocess.Popen(
            [self.troupe, "run", self.yaml], env=self.env,
            stdout=subprocess.DEVNULL, stderr=open(self.log_path, "w"))

        def port():
            check(self.proc.poll() is None, "troupe run exited early")
            m = re.search(r"^troupe: socket 'http' listening on "
                          r"127\.0\.0\.1:([0-9]+) ", self.log(), re.M)
            return m and int(m.group(1))
        self.port = poll("the socket line in the log", port)
        # Its control socket answers once the tree runs.
        poll("the tree running", lambda: port() and
             "troupe: tree 'cluster' running" in self.log())
        poll("%d members running" % MEMBERS,
             lambda: len(self.running()) == MEMBERS)

    def ctl(self, *args):
        r = subprocess.run([self.troupe] + list(args), env=self.env,
                           capture_output=True, text=True, timeout=60)
        return r.returncode, r.stdout + r.stderr

    def status(self):
        rc, out = self.ctl("status", "--json", "cluster")
        check(rc == 0, "troupe status failed: " + out)
        return {c["path"]: c for c in json.loads(out)["children"]}

    def running(self):
        r = {p: c for p, c in self.status().items()
             if c["state"] == "running" and c["pid"] > 0}
        self.pids |= {c["pid"] for c in r.values()}
        return r


def get(port, conn=None, method="GET"):
    """One request; returns (status, headers, body). A new connection
    unless conn (an http.client.HTTPConnection) is given."""
    c = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        c.request(method, "/")
        r = c.getresponse()
        return r.status, dict(r.getheaders()), r.read().decode()
    finally:
        if conn is None:
            c.close()


def hello(port, conn=None):
    """A request that must succeed; returns the worker number."""
    status, headers, body = get(port, conn)
    check(status == 200, "status %d" % status)
    m = HELLO.match(body)
    check(m is not None, "body %r" % body)
    check(headers.get("Content-Length") == str(len(body)),
          "Content-Length %r for %r" % (headers.get("Content-Length"), body))
    return int(m.group(1))


def raw(port, data):
    """Sends data as is, reads until the server closes (5 s at most)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(data)
        out = b""
        while True:
            d = s.recv(65536)
            if not d:
                return out
            out += d


def test_protocol(port):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    workers = {hello(port, conn) for _ in range(20)}
    check(len(workers) == 1, "one keep-alive connection, several members "
          "answered: %s" % workers)
    check(conn.sock is not None, "the connection was not kept alive")
    conn.close()

    req = b"GET / HTTP/1.1\r\nHost: t\r\n\r\n"
    out = raw(port, req * 5 + b"GET / HTTP/1.1\r\nHost: t\r\n"
              b"Connection: close\r\n\r\n")
    check(out.count(b"HTTP/1.1 200 OK\r\n") == 6 and
          out.count(b"Connection: keep-alive\r\n") == 5 and
          out.endswith(b"Connection: close\r\n\r\n" +
                       out[out.rindex(b"Hello"):]),
          "6 pipelined requests, the last with close: %r" % out)

    out = raw(port, b"GET / HTTP/1.0\r\n\r\n")
    check(out.startswith(b"HTTP/1.1 200 OK\r\n") and
          b"Connection: close\r\n" in out and b"Hello from worker" in out,
          "HTTP/1.0 request: %r" % out)
    status, headers, body = get(port, method="HEAD")
    check(status == 200 and body == "" and
          headers.get("Content-Length") == "20",
          "HEAD: %d %r %r" % (status, headers, body))
    for bad in (b"GARBAGE\r\n\r\n", b"GET / HTTP/1.1\r\n\r\n",
                b"GET / HTTP/1.1\r\nHost: t\r\nContent-Length: x\r\n\r\n"):
        out = raw(port, bad)
        check(out.startswith(b"HTTP/1.1 400 Bad Request\r\n") and
              b"Connection: close\r\n" in out,
              "%r answered %r" % (bad, out))


def test_several_workers(port):
    seen = set()
    poll("2 workers answering",
         lambda: seen.add(hello(port)) or len(seen) >= 2)
    print("cluster_test: workers %s answered" % sorted(seen))


def test_kill(tree):
    before = tree.running()
    victim = before["http.2"]
    os.kill(victim["pid"], signal.SIGKILL)
    # Requests keep succeeding while the supervisor replaces it.
    for _ in range(50):
        hello(tree.port)

    def replaced():
        c = tree.running().get("http.2")
        return c if c and c["restarts"] == 1 and \
            c["pid"] != victim["pid"] else None
    new = poll("http.2 restarted", replaced)
    for path in ("http.1", "http.3"):
        now = tree.running()[path]
        check(now["pid"] == before[path]["pid"] and now["restarts"] == 0,
              "%s was touched: %s" % (path, now))
    check(re.search(r"'http\.2' exited: signal\(9\)", tree.log()),
          "no exit line for http.2 in the log")
    seen = set()
    poll("the new worker 2 answering",
         lambda: seen.add(hello(tree.port)) or 2 in seen)
    print("cluster_test: http.2 killed (pid %d), replaced (pid %d), "
          "requests kept succeeding" % (victim["pid"], new["pid"]))


class Client(threading.Thread):
    """Requests without pause until told to stop; counts the outcomes.
    keep_alive: one connection, reopened when the server closes it (as
    Connection: close asks); else a new connection per request."""

    def __init__(self, port, keep_alive):
        super().__init__(daemon=True)
        self.port = port
        self.keep_alive = keep_alive
        self.ok = 0
        self.failed = []
        self.stop = threading.Event()

    def run(self):
        conn = None
        while not self.stop.is_set():
            if self.keep_alive and conn is None:
                conn = http.client.HTTPConnection(
                    "127.0.0.1", self.port, timeout=10)
            try:
                hello(self.port, conn)
                self.ok += 1
            except Exception as e:  # noqa: BLE001 -- every failure counts
                self.failed.append(repr(e))
                if conn is not None:
                    conn.close()
                    conn = None
        if conn is not None:
            conn.close()


def test_rolling_restart(tree):
    before = tree.running()
    clients = [Client(tree.port, True), Client(tree.port, False)]
    for c in clients:
        c.start()
    poll("the clients under way", lambda: all(c.ok > 20 for c in clients))
    rc, out = tree.ctl("restart", "http", "--tree", "cluster")
    check(rc == 0 and "restarted %d instances of 'http', one at a time"
          % MEMBERS in out, "troupe restart http: %d %s" % (rc, out))
    counts = [c.ok for c in clients]
    poll("requests after the restart",
         lambda: all(c.ok > n + 20 for c, n in zip(clients, counts)))
    for c in clients:
        c.stop.set()
    for c in clients:
        c.join(30)
    failed = sum(len(c.failed) for c in clients)
    total = sum(c.ok for c in clients)
    check(failed == 0, "%d of %d requests failed during the rolling "
          "restart: %s" % (failed, total + failed,
                           [c.failed[:3] for c in clients]))
    after = tree.running()
    for path, c in before.items():
        check(after[path]["pid"] != c["pid"], path + " was not replaced")
    # One at a time: each member stopped after the previous one started.
    # (A member restarted before, http.2, says "restarted".)
    order = [(p, "started" if e == "restarted" else e) for p, e in
             re.findall(r"'(http\.[0-9]+)' (stopping|started|restarted)",
                        tree.log())]
    check(order[-2 * MEMBERS:] ==
          [(p, e) for i in range(1, MEMBERS + 1)
           for p, e in (("http.%d" % i, "stopping"),
                        ("http.%d" % i, "started"))],
          "not one at a time: %s" % order[-2 * MEMBERS:])
    # Each member reports its drain; the keep-alive client's connection
    # was open on one of them, which answered its next request with
    # Connection: close.
    drained = [int(n) for n in re.findall(
        r"^cluster: worker [0-9]+ \(pid [0-9]+\) stopped: [0-9]+ requests? "
        r"answered, ([0-9]+) connections? drained$", tree.log(), re.M)]
    check(len(drained) >= MEMBERS and sum(drained[-MEMBERS:]) >= 1,
          "members did not drain the client's connection: %s" % drained)
    print("cluster_test: rolling restart under load: %d requests, "
          "0 failed" % total)


def test_stop(tree):
    pids = set(tree.pids)
    tree.proc.send_signal(signal.SIGTERM)
    try:
        rc = tree.proc.wait(30)
    except subprocess.TimeoutExpired:
        raise Failure("troupe run did not end within 30 s of SIGTERM")
    check(rc == 0, "troupe run exited %d after SIGTERM" % rc)
    check("troupe: tree 'cluster' stopped" in tree.log(), "no stop line")

    def gone(pid):
        try:
            with open("/proc/%d/stat" % pid) as f:
                # A zombie waiting for init is gone for our purpose.
                return f.read().rsplit(")", 1)[1].split()[0] == "Z"
        except FileNotFoundError:
            return True
    poll("every member to exit", lambda: all(gone(p) for p in pids), 10)

    try:
        socket.create_connection(("127.0.0.1", tree.port), timeout=5).close()
        raise Failure("port %d still accepts after the tree stopped"
                      % tree.port)
    except ConnectionRefusedError:
        pass
    print("cluster_test: SIGTERM: exit 0, %d member processes gone, "
          "port closed" % len(pids))


def main():
    if len(sys.argv) != 4:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    tmp = tempfile.mkdtemp(prefix="troupe-cluster-test.")
    tree = None
    try:
        tree = Tree(sys.argv[1], sys.argv[2], sys.argv[3], tmp)
        tree.start()
        print("cluster_test: %d members on 127.0.0.1:%d"
              % (MEMBERS, tree.port))
        test_protocol(tree.port)
        test_several_workers(tree.port)
        test_kill(tree)
        test_rolling_restart(tree)
        test_stop(tree)
        print("cluster_test: all checks passed")
        return 0
    except Failure as e:
        print("cluster_test: FAIL: %s" % e, file=sys.stderr)
        if tree is not None and tree.proc is not None:
            print("--- troupe run's log:\n" + tree.log(), file=sys.stderr)
        return 1
    finally:
        if tree is not None and tree.proc is not None and \
                tree.proc.poll() is None:
            tree.proc.kill()
            tree.proc.wait()
            for pid in tree.pids:  # members of a tree that failed
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

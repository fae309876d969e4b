#!/usr/bin/env python3
"""fjord-kernel-echo, the benchmark's kernel-socket baseline, serves what
fjord-echo serves, byte for byte, in each of its modes.

Each test makes its own network namespace and runs the server there with
two threads (SO_REUSEPORT, one per CPU); the kernel's sockets in the
namespace are the clients: several concurrent TCP echo connections checked
by SHA-256, the discard port, UDP datagrams of mixed sizes checked byte for
byte, and a client that resets its connection mid-echo (counted, not an
error). The server stops on SIGINT and its counters must add up.
"""
import os
import re
import subprocess

import harness as h
from harness import Proc, check, log
from test_stack import TCP_CLIENT, UDP_CLIENT

KECHO = os.environ.get("FJ_KERNEL_ECHO", os.path.join(h.BUILD, "bench", "fjord-kernel-echo"))

DISCARD_CLIENT = r"""
import socket, sys
s = socket.create_connection(("127.0.0.1", 9), timeout=10)
for _ in range(int(sys.argv[1])):
    s.sendall(b"\x5a" * 65536)
s.shutdown(socket.SHUT_WR)
print("OK" if s.recv(10) == b"" else "FAIL data from discard")
"""


def ns_python(ns, script, *args, timeout=60):
    r = subprocess.run(["ip", "netns", "exec", ns, "python3", "-c", script] +
                       [str(a) for a in args], capture_output=True, text=True, timeout=timeout)
    out = (r.stdout + r.stderr).strip()
    check(r.returncode == 0 and out.startswith("OK"), f"client {args}: {out}")
    return out


def serve_and_check(mode, extra=()):
    ns = f"fjke{mode[:6]}{os.getpid() % 100000}"
    subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)
    subprocess.run(["ip", "netns", "add", ns], check=True)
    srv = None
    try:
        subprocess.run(["ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up"], check=True)
        srv = Proc(["ip", "netns", "exec", ns, KECHO, "--mode", mode, "--threads", "2",
                    "--cpus", "0,1"] + list(extra), f"kernel-echo-{mode}")
        srv.wait_for(r"serving UDP port 7", 20)
        tcp = 8 * (1 << 20)
        log(ns_python(ns, TCP_CLIENT, "127.0.0.1", 7, "echo", 1 << 20, 8))
        log(ns_python(ns, TCP_CLIENT, "127.0.0.1", 7, "cycles", 200))
        log(ns_python(ns, DISCARD_CLIENT, 32))
        log(ns_python(ns, TCP_CLIENT, "127.0.0.1", 7, "kill"))  # RST mid-echo
        out = ns_python(ns, UDP_CLIENT, "127.0.0.1", 7, 4000, 32)
        log(out)
        srv.kill(2)
        srv.wait_for(r"(?m)^resets \d+$", 15)
        c = {k: int(v) for k, v in re.findall(r"(?m)^(\w+) (\d+)$", srv.output())}
        per = [int(x) for x in re.findall(r"(?m)^thread \d+ requests (\d+)$", srv.output())]
        log(f"{mode}: " + " ".join(f"{k} {v}" for k, v in c.items()) + f"; per thread {per}")
        want = tcp + 200 * len("cycle 0") + 32 * 65536
        check(c["bytes"] >= want, f"bytes {c['bytes']} < {want}")
        check(c["accepts"] == 8 + 200 + 1 + 1, f"accepts {c['accepts']}")
        check(c["errors"] == 0 and c["enobufs"] == 0, f"errors: {c}")
        check(c["resets"] >= 1, f"the reset connection was not counted: {c}")
        check(c["cpu_ns"] > 0 and c["requests"] >= 4000 + 200, f"cpu/requests: {c}")
        check(len(per) == 2, f"two threads' counters: {per}")
        check(srv.wait(10) == 0, f"exit code {srv.p.returncode}")
    finally:
        if srv:
            srv.close()
        subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)


def test_epoll():
    """epoll, level-triggered: TCP (8 connections, 200 cycles), discard, UDP."""
    serve_and_check("epoll")


def test_epoll_busy():
    """epoll_wait spinning with timeout 0, SO_BUSY_POLL on the sockets."""
    serve_and_check("epoll-busy", ["--sock-busy-poll", "50"])


def test_uring():
    """io_uring multishot accept/recv/recvmsg on provided buffer rings."""
    serve_and_check("uring")


def test_uring_busy():
    """io_uring spinning on the completion queue."""
    serve_and_check("uring", ["--uring-busy"])


def test_uring_udp_single():
    """io_uring receiving datagrams one recvmsg at a time (its fallback)."""
    serve_and_check("uring", ["--uring-udp-single"])


def test_bad_arguments():
    """Bad arguments: one clear line and exit code 2, not a crash."""
    cases = [(["--mode", "select"], "bad or unknown argument '--mode' 'select'"),
             (["--threads", "0"], "'--threads' '0'"),
             (["--threads", "2", "--cpus", "0"], "names 1 CPUs for 2 threads"),
             (["--cpus", "1-0"], "'--cpus' '1-0'"),
             (["--port", "9"], "must differ"),
             (["--frobnicate"], "'--frobnicate'")]
    for args, want in cases:
        r = subprocess.run([KECHO] + args, capture_output=True, text=True, timeout=10)
        check(r.returncode == 2 and want in r.stderr,
              f"{args}: rc {r.returncode}, stderr {r.stderr.strip()!r}")
    r = subprocess.run([KECHO, "--help"], capture_output=True, text=True, timeout=10)
    check(r.returncode == 0 and "--mode epoll|epoll-busy|uring" in r.stdout, "--help")


if __name__ == "__main__":
    h.run({n[5:]: f for n, f in globals().items() if n.startswith("test_")})

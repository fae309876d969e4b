"""Drive real DPDK peers (Debian's dpdk-testpmd) and fjord from tests.

Every process a test starts is tracked by PID and stopped by PID; every
hugepage file and runtime directory of its --file-prefix is removed after.
All waits are bounded.
"""
import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

BUILD = os.environ.get("FJ_BUILD", os.path.join(os.path.dirname(__file__), "..", "..", "build"))
PMD = os.path.abspath(os.environ.get("FJ_PMD", os.path.join(BUILD, "pmd", "librte_net_fjord.so")))
TESTPMD = shutil.which("dpdk-testpmd") or "/usr/bin/dpdk-testpmd"
HUGE_DIR = "/dev/hugepages"


class Failure(Exception):
    pass


def log(*a):
    print(*a, flush=True)


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def workdir():
    """A private directory for sockets (not world-writable ancestors matter
    only for plugins; sockets may live anywhere)."""
    d = tempfile.mkdtemp(prefix="fjord-it-")
    return d


def cleanup_prefix(prefix):
    for f in glob.glob(os.path.join(HUGE_DIR, prefix + "map_*")):
        try:
            os.unlink(f)
        except OSError:
            pass
    shutil.rmtree(os.path.join("/var/run/dpdk", prefix), ignore_errors=True)


class Proc:
    """A child process whose output is collected by a reader thread."""

    def __init__(self, argv, name, prefix=None, env=None):
        self.name = name
        self.prefix = prefix
        self.argv = argv
        self.buf = ""
        self.lock = threading.Lock()
        log(f"[{name}] $ {' '.join(argv)}")
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, env=env, bufsize=0,
                                  start_new_session=True)
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()

    def _read(self):
        while True:
            try:
                chunk = self.p.stdout.read1(65536) if hasattr(self.p.stdout, "read1") \
                    else os.read(self.p.stdout.fileno(), 65536)
            except (OSError, ValueError):
                break
            if not chunk:
                break
            with self.lock:
                self.buf += chunk.decode("utf-8", "replace")

    def output(self):
        with self.lock:
            return self.buf

    def wait_for(self, pattern, timeout, start=0):
        """Wait until regex @pattern appears in output after offset @start."""
        rx = re.compile(pattern)
        deadline = time.time() + timeout
        while time.time() < deadline:
            m = self._settled(rx, start)
            if m:
                return m
            if self.p.poll() is not None:
                time.sleep(0.2)
                m = rx.search(self.output(), start)
                if m:
                    return m
                raise Failure(f"[{self.name}] exited with {self.p.returncode} before "
                              f"printing /{pattern}/:\n{self.tail()}")
            time.sleep(0.05)
        raise Failure(f"[{self.name}] no /{pattern}/ within {timeout}s:\n{self.tail()}")

    def _settled(self, rx, start):
        """A match that reaches the end of what has been read may be a line
        still being written (a console delivers it in pieces: a greedy .* or
        \\d+ would take a prefix). Such a match stands once the line ends or
        the output stops growing for 0.5 s (a prompt)."""
        text = self.output()
        m = rx.search(text, start)
        quiet = time.time() + 0.5
        while m and m.end() == len(text) and not text.endswith("\n") \
                and self.p.poll() is None and time.time() < quiet:
            time.sleep(0.02)
            more = self.output()
            if len(more) != len(text):
                text = more
                m = rx.search(text, start)
                quiet = time.time() + 0.5
        return m

    def tail(self, n=40):
        return "\n".join(self.output().splitlines()[-n:])

    def send(self, line):
        try:
            self.p.stdin.write((line + "\n").encode())
            self.p.stdin.flush()
        except (BrokenPipeError, OSError) as e:
            raise Failure(f"[{self.name}] cannot send {line!r}: {e}\n{self.tail()}")

    def alive(self):
        return self.p.poll() is None

    def kill(self, sig=signal.SIGKILL):
        if self.alive():
            os.kill(self.p.pid, sig)

    def wait(self, timeout):
        try:
            return self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def close(self, timeout=15):
        """Stop the process we started (by PID), then clean its files."""
        if self.alive():
            self.kill(signal.SIGTERM)
            if self.wait(timeout) is None:
                self.kill(signal.SIGKILL)
                self.wait(5)
        if self.prefix:
            cleanup_prefix(self.prefix)


class TestpmdCommands:
    """An interactive testpmd's commands, wherever it runs: the class that
    mixes this in provides send(), output(), tail(), alive() and PROMPT."""
    PROMPT = "testpmd> "

    def wait_prompt(self, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            n = self.output().count(self.PROMPT)
            if n > self.prompts:
                self.prompts = n
                return
            if self.ended():
                raise Failure(f"[{self.name}] testpmd ended:\n{self.tail(60)}")
            time.sleep(0.05)
        raise Failure(f"[{self.name}] no prompt within {timeout}s:\n{self.tail()}")

    def ended(self):
        return not self.alive()

    def cmd(self, line, timeout=30):
        """Run one testpmd command; return what it printed."""
        start = len(self.output())
        self.send(line)
        self.wait_prompt(timeout)
        return self.output()[start:]

    def port_stats(self, port=0):
        out = self.cmd(f"show port stats {port}")
        rx = re.search(r"RX-packets:\s+(\d+)\s+RX-missed:\s+(\d+)\s+RX-bytes:\s+(\d+)", out)
        tx = re.search(r"TX-packets:\s+(\d+)\s+TX-errors:\s+(\d+)\s+TX-bytes:\s+(\d+)", out)
        check(rx and tx, f"[{self.name}] unreadable port stats:\n{out}")
        return {"rx": int(rx.group(1)), "rx_bytes": int(rx.group(3)),
                "tx": int(tx.group(1)), "tx_errors": int(tx.group(2)),
                "tx_bytes": int(tx.group(3))}

    def xstats(self, port=0):
        out = self.cmd(f"show port xstats {port}")
        return {m.group(1): int(m.group(2))
                for m in re.finditer(r"^\s*([A-Za-z0-9_\[\]]+):\s+(\d+)\s*$", out, re.M)}

    def link_up(self, port=0):
        out = self.cmd(f"show port info {port}")
        m = re.search(r"Link status:\s+(\w+)", out)
        check(m, f"[{self.name}] no link status in:\n{out}")
        return m.group(1) == "up"

    def wait_link(self, up, timeout=20, port=0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.link_up(port) == up:
                return
            time.sleep(0.3)
        raise Failure(f"[{self.name}] link not {'up' if up else 'down'} within {timeout}s")


class Testpmd(TestpmdCommands, Proc):

    def __init__(self, name, lcores, main_lcore, vdevs, fwd_args=(), plugin=False,
                 mem=512, eal_extra=(), prefix=None, netns=None):
        prefix = prefix or f"fjit_{name}_{os.getpid()}"
        cleanup_prefix(prefix)
        # testpmd prints with stdio; unbuffer it so output precedes the prompt.
        argv = (["ip", "netns", "exec", netns] if netns else []) + [
                "stdbuf", "-o0", "-e0", TESTPMD, "-l", lcores, "--main-lcore", str(main_lcore),
                "--file-prefix", prefix, "--single-file-segments", "-m", str(mem),
                "--no-pci", "--log-level=pmd.net.fjord:info"]
        if plugin:
            argv += ["-d", PMD]
        for v in vdevs:
            argv += ["--vdev", v]
        argv += list(eal_extra)
        argv += ["--", "-i", "--total-num-mbufs=16384"] + list(fwd_args)
        super().__init__(argv, name, prefix)
        self.prompts = 0
        self.wait_prompt(60)

    def quit(self, timeout=30):
        """Leave testpmd the normal way; return its exit code."""
        if self.alive():
            self.send("quit")
            rc = self.wait(timeout)
        else:
            rc = self.p.returncode
        return rc


def backend(sock, name="backend", queues=1, fwd_args=(), lcores="0,1", main=0, **kw):
    """DPDK's own vhost-user back-end: net_vhost in server mode."""
    if os.path.exists(sock):
        os.unlink(sock)
    tp = Testpmd(name, lcores, main, [f"net_vhost0,iface={sock},queues={queues}"],
                 fwd_args=fwd_args, **kw)
    deadline = time.time() + 10
    while not os.path.exists(sock) and time.time() < deadline:
        time.sleep(0.05)
    check(os.path.exists(sock), f"back-end socket {sock} never appeared")
    return tp


def fjord(sock, name="fjord", devargs="", fwd_args=(), lcores="0,1", main=1, **kw):
    """testpmd with fjord's plugin on the back-end's socket."""
    vdev = f"net_fjord_vhost0,path={sock}" + (("," + devargs) if devargs else "")
    return Testpmd(name, lcores, main, [vdev], fwd_args=fwd_args, plugin=True, **kw)


def run(tests):
    """Run named test functions; exit non-zero if any failed."""
    names = sys.argv[1:] or list(tests)
    failed = []
    for n in names:
        log(f"=== {n}")
        t0 = time.time()
        try:
            tests[n]()
            log(f"--- ok {n} ({time.time() - t0:.1f}s)")
        except Failure as e:
            log(f"--- FAIL {n}: {e}")
            failed.append(n)
    if failed:
        log("failed: " + " ".join(failed))
        sys.exit(1)

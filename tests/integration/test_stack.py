#!/usr/bin/env python3
"""fjord's stack and fjord-echo against the Linux kernel as the peer.

Every test makes its own network namespace; fjord-echo gets a DPDK port in
it (net_tap directly, or fjord's PMD bridged to a tap by testpmd), the
kernel's ping and UDP sockets in the namespace are the clients. With
`--net socket` fjord-echo runs on kernel sockets inside the namespace.
"""
import hashlib
import os
import random
import re
import shutil
import socket
import subprocess
import time

import harness as h
from harness import Proc, check, log

ECHO = os.environ.get("FJ_ECHO", os.path.join(h.BUILD, "apps", "fjord-echo"))
XFER = os.environ.get("FJ_XFER", os.path.join(h.BUILD, "tests", "integration", "fj-xfer"))
LINKQ = os.environ.get("FJ_LINKQ", os.path.join(h.BUILD, "tests", "integration", "fj-linkq"))
FJ_IP = "10.77.0.2"
KERNEL_IP = "10.77.0.1"


def ns_run(ns, *argv, check_rc=True, timeout=60):
    r = subprocess.run(["ip", "netns", "exec", ns] + list(argv), capture_output=True, text=True,
                       timeout=timeout)
    if check_rc:
        check(r.returncode == 0, f"{' '.join(argv)} failed ({r.returncode}):\n{r.stdout}{r.stderr}")
    return r


class Env:
    """A namespace with fjord-echo on a tap interface fj0 (10.77.0.2), the
    kernel on the other side (10.77.0.1). Torn down by PID and name."""

    def __init__(self, name, mode="tap", echo_args=(), app=ECHO, shards=1, huge=False):
        self.ns = f"fjs{name[:6]}{os.getpid() % 100000}"
        self.shards = shards
        self.huge = huge  # tap mode on hugepages (shared with secondary processes)
        self.prefix = f"fjs_{name}_{os.getpid()}"
        self.app = app
        self.dir = h.workdir()
        self.procs = []
        try:
            self._start(name, mode, echo_args)
        except BaseException:
            self.close()
            raise

    def _start(self, name, mode, echo_args):
        subprocess.run(["ip", "netns", "del", self.ns], stderr=subprocess.DEVNULL)
        subprocess.run(["ip", "netns", "add", self.ns], check=True)
        ns_run(self.ns, "ip", "link", "set", "lo", "up")
        prefix = f"fjs_{name}_{os.getpid()}"
        h.cleanup_prefix(prefix)
        # One shard per lcore, each on its own queue pair of the port.
        lcores = ",".join(str(i) for i in range(self.shards))
        nq = self.shards
        common = ["-l", lcores, "--file-prefix", prefix, "--no-pci"]
        if mode == "tap":
            mem = ["--single-file-segments"] if self.huge else ["--no-huge"]
            eal = common + mem + ["-m", "256", "--vdev", "net_tap0,iface=fj0"]
        elif mode in ("pmd", "pmd_server"):
            # kernel <-> tap fj0 <-> testpmd (io) <-> vhost-user <-> fjord's PMD
            # (pmd_server: fjord's PMD listens, server=1; net_vhost connects)
            sock = os.path.join(self.dir, "vu.sock")
            self.bridge_prefix = prefix + "_br"
            self.sock = sock
            self.server = mode == "pmd_server"
            self.start_bridge()
            eal = common + ["--single-file-segments", "-m", "512", "-d", h.PMD,
                            "--vdev", f"net_fjord_vhost0,path={sock},queues={nq}" +
                            (",server=1" if self.server else "")]
        elif mode == "pmd_fwd":
            # kernel <-> tap fj0 <-> testpmd (io, fjord's PMD) <-> vhost-user
            # <-> net_vhost <-> fjord-echo, which offloads its TCP and UDP
            # checksums: they reach fjord's PMD partial (NEEDS_CSUM), and a
            # forwarding application that takes no checksum flags must get
            # them completed.
            sock = os.path.join(self.dir, "vu.sock")
            eal = common + ["--single-file-segments", "-m", "512",
                            "--vdev", f"net_vhost0,iface={sock}"]
        else:
            eal = common
        stack = ["--ip", f"{FJ_IP}/24"] if mode != "socket" else ["--net", "socket"]
        if "--config" in echo_args:
            stack = []  # the file has it all
        self.echo = self.add(Proc(["ip", "netns", "exec", self.ns, "stdbuf", "-o0", self.app] +
                                  eal + ["--"] + stack + list(echo_args),
                                  os.path.basename(self.app), prefix))
        self.echo.wait_for(r"serving (UDP|TCP) port", 60)
        if mode == "pmd_fwd":
            self.fwd = self.add(h.Testpmd("fwd", "0,1", 0, ["net_tap0,iface=fj0",
                                                            f"net_fjord_vhost0,path={sock}"],
                                          fwd_args=["--forward-mode=io"], plugin=True,
                                          prefix=prefix + "_fwd", netns=self.ns))
            self.fwd.cmd("start")
        if mode == "socket":
            ns_run(self.ns, "ip", "addr", "add", f"{FJ_IP}/32", "dev", "lo")
        else:
            self.kernel_side()
        self.mac = None
        m = re.search(r"MAC ([0-9a-f:]{17})", self.echo.output(), re.I)
        if m:
            self.mac = m.group(1).lower()

    def add(self, p):
        self.procs.append(p)
        return p

    def start_bridge(self):
        """The bridge of the pmd modes: testpmd forwarding between net_tap
        (the kernel's fj0) and net_vhost, the vhost-user back-end of
        fjord's PMD."""
        nq = self.shards
        h.cleanup_prefix(self.bridge_prefix)
        if not self.server and os.path.exists(self.sock):
            os.unlink(self.sock)  # (a killed back-end's)
        vhost = f"net_vhost0,iface={self.sock},queues={nq}" + (",client=1" if self.server else "")
        self.bridge = self.add(Proc(
            ["ip", "netns", "exec", self.ns, "stdbuf", "-o0", h.TESTPMD, "-l", "0,1",
             "--main-lcore", "0", "--file-prefix", self.bridge_prefix,
             "--single-file-segments", "-m", "512", "--no-pci",
             "--vdev", "net_tap0,iface=fj0", "--vdev", vhost,
             "--", "--forward-mode=io", "--auto-start", "--stats-period", "3600",
             f"--rxq={nq}", f"--txq={nq}", "--total-num-mbufs=16384"],
            "bridge", self.bridge_prefix))
        deadline = time.time() + 30
        # (net_vhost as the server makes the socket; as a client it waits
        # for fjord's)
        while not (self.server or os.path.exists(self.sock)):
            check(time.time() < deadline and self.bridge.alive(),
                  f"bridge did not start:\n{self.bridge.tail()}")
            time.sleep(0.05)

    def kernel_side(self):
        """The tap's kernel end, once it is there: its address, a MAC of
        its own (net_tap gives it its port's MAC, which in tap mode is
        fjord's, and so fjord's link-local address: fjord's duplicate
        address detection would find that in use), up."""
        deadline = time.time() + 20
        while ns_run(self.ns, "ip", "link", "show", "fj0", check_rc=False).returncode:
            check(time.time() < deadline, "tap fj0 did not appear")
            time.sleep(0.05)
        ns_run(self.ns, "ip", "addr", "add", f"{KERNEL_IP}/24", "dev", "fj0")
        ns_run(self.ns, "ip", "link", "set", "fj0", "address", KERNEL_MAC)
        ns_run(self.ns, "ip", "link", "set", "fj0", "up")

    def counters(self):
        """Stop fjord-echo (SIGINT) and return its final counters."""
        self.echo.kill(2)
        self.echo.wait_for(r"drop_oversize \d+", 20)
        return {m.group(1): int(m.group(2))
                for m in re.finditer(r"^(\w+) (\d+)\s*$", self.echo.output(), re.M)}

    def close(self):
        for p in reversed(self.procs):
            p.close()
        subprocess.run(["ip", "netns", "del", self.ns], stderr=subprocess.DEVNULL)
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# The kernel-side client, run inside the namespace: sends N datagrams of
# mixed sizes with at most W in flight and checks every reply byte for byte.
UDP_CLIENT = r"""
import random, socket, struct, sys, time, select
host, port, n, window = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rnd = random.Random(5)
sizes = [rnd.choice([1, 8, 18, 64, 100, 512, 1000, 1400, 1472]) if i % 2 else rnd.randint(8, 1472)
         for i in range(n)]
def payload(i):
    sz = max(sizes[i], 8)
    return struct.pack("!II", i, sz) + bytes((i * 13 + k) & 0xff for k in range(sz - 8))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
if len(sys.argv) > 5:  # a given source port
    s.bind(("", int(sys.argv[5])))
s.connect((host, port))
pending = {}
nxt = got = 0
last = time.time()
resent = 0
while got < n:
    while nxt < n and len(pending) < window:
        p = payload(nxt); pending[nxt] = [p, time.time()]; s.send(p); nxt += 1
    r, _, _ = select.select([s], [], [], 0.2)
    if r:
        d = s.recv(2000)
        i = struct.unpack("!I", d[:4])[0]
        if i in pending:
            if d != pending[i][0]:
                print("CORRUPT", i, len(d), len(pending[i][0])); sys.exit(2)
            del pending[i]; got += 1; last = time.time()
    elif time.time() - last > 10:
        print("STALL", got, "of", n, "missing", sorted(pending)[:5]); sys.exit(3)
    # UDP may lose a datagram in a kernel queue; a late one is resent
    # (at most a few) and must still come back intact.
    for i, (p, t) in list(pending.items()):
        if time.time() - t > 1.0:
            s.send(p); pending[i][1] = time.time(); resent += 1
print("OK", got, "resent", resent)
"""


def udp_echo(env, n=10000, window=32, host=FJ_IP, sport=None):
    t0 = time.time()
    r = ns_run(env.ns, "python3", "-c", UDP_CLIENT, host, "7", str(n), str(window),
               *([str(sport)] if sport else []), check_rc=False, timeout=300)
    out = (r.stdout + r.stderr).strip()
    check(r.returncode == 0 and out.startswith("OK"), f"UDP echo failed: {out}")
    resent = int(out.split()[-1])
    log(f"{n} datagrams echoed intact in {time.time() - t0:.1f}s ({resent} resent)")
    check(resent <= n // 1000, f"{resent} datagrams had to be resent")
    return resent


def test_tap_ping():
    """The kernel's ping gets replies, up to 1472-byte payloads (MTU 1500)."""
    with Env("ping") as env:
        for size in ("56", "1", "1000", "1472"):
            r = ns_run(env.ns, "ping", "-c", "3", "-i", "0.2", "-W", "2", "-M", "do", "-s", size,
                       FJ_IP, check_rc=False)
            check(" 0% packet loss" in r.stdout, f"ping -s {size}:\n{r.stdout}{r.stderr}")
        c = env.counters()
        check(c["icmp_echo_replies"] == 12, f"icmp_echo_replies {c['icmp_echo_replies']} != 12")


def test_tap_udp_echo():
    """10,000 UDP datagrams of mixed sizes from a kernel socket all come
    back intact."""
    with Env("udp") as env:
        udp_echo(env)
        c = env.counters()
        check(c["udp_rx"] >= 10000 and c["udp_tx"] == c["udp_rx"], f"udp counters: {c}")


# The kernel-side client for datagrams beyond the MTU: each size a few
# times, every reply compared byte for byte (the kernel fragments what it
# sends and reassembles what fjord sends back in fragments).
BIG_UDP_CLIENT = r"""
import socket, struct, sys, select
host, sizes = sys.argv[1], [int(x) for x in sys.argv[2].split(",")]
s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
s.connect((host, 7))
for i, sz in enumerate(sizes):
    p = struct.pack("!II", i, sz) + bytes((i * 31 + k * 7) & 0xff for k in range(sz - 8))
    for attempt in range(3):
        s.send(p)
        r, _, _ = select.select([s], [], [], 2.0)
        if r:
            break
    else:
        print("LOST", sz); sys.exit(3)
    d = s.recv(70000)
    if d != p:
        print("CORRUPT", sz, len(d)); sys.exit(2)
print("OK", len(sizes))
"""


def fragments_both_ways(env):
    """ping -s 4000 and 65000 (the largest ICMP payload the kernel sends
    in 45 fragments: 65,507 bytes), then UDP datagrams of 3,000, 60,000
    and 65,507 bytes echoed intact: the kernel fragments towards fjord,
    which reassembles and sends its replies in fragments the kernel
    reassembles."""
    for size in ("4000", "65000", "65507"):
        r = ns_run(env.ns, "ping", "-c", "3", "-i", "0.2", "-W", "3", "-s", size, FJ_IP,
                   check_rc=False)
        check(" 0% packet loss" in r.stdout, f"ping -s {size}:\n{r.stdout}{r.stderr}")
    sizes = ",".join(str(x) for x in [3000, 60000, 65507, 1473, 20000, 8000] * 3)
    r = ns_run(env.ns, "python3", "-c", BIG_UDP_CLIENT, FJ_IP, sizes, check_rc=False,
               timeout=120)
    out = (r.stdout + r.stderr).strip()
    check(r.returncode == 0 and out.startswith("OK"), f"large UDP datagrams: {out}")
    c = env.counters()
    log(f"fragments: {c['ip_frags_rx']} received into {c['ip_reassembled']} datagrams, "
        f"{c['ip_fragmented']} sent in {c['ip_frags_tx']} fragments; drops: overlap "
        f"{c['drop_ip_frag_overlap']}, duplicate {c['drop_ip_frag_duplicate']}, bounds "
        f"{c['drop_ip_reasm_full']}, timeout {c['drop_ip_reasm_timeout']}")
    # 9 pings and 18 datagrams at least, a resend or a lost reply aside.
    check(c["ip_reassembled"] >= 27 and c["ip_fragmented"] >= 27, f"counters: {c}")
    check(c["drop_ip_frag_overlap"] == 0 and c["drop_ip_reasm_full"] == 0, f"counters: {c}")
    return c


def test_tap_fragments_both_ways():
    with Env("frag") as env:
        fragments_both_ways(env)


def test_pmd_fragments_both_ways():
    """The same through fjord's PMD (vhost-user, bridged to the tap): the
    fragments it sends are a header and a reference to the datagram's
    data, two segments each."""
    with Env("fragp", mode="pmd") as env:
        fragments_both_ways(env)


def test_socket_large_udp_datagrams():
    """The same application on kernel sockets takes and echoes datagrams
    beyond a buffer too (they arrive as a chain, as on the direct
    backend)."""
    with Env("bigsock", mode="socket") as env:
        sizes = ",".join(str(x) for x in [3000, 60000, 65507, 1473, 20000, 8000])
        r = ns_run(env.ns, "python3", "-c", BIG_UDP_CLIENT, FJ_IP, sizes, check_rc=False,
                   timeout=60)
        out = (r.stdout + r.stderr).strip()
        check(r.returncode == 0 and out.startswith("OK"), f"large UDP datagrams: {out}")
        c = env.counters()
        check(c["udp_rx"] >= 6 and c["drop_oversize"] == 0, f"counters: {c}")


def test_tap_fragments_two_shards():
    """The same on two shards: every fragment of a datagram goes to the
    shard of its addresses, which reassembles it and passes it on to its
    flow's shard when that is the other."""
    with Env("frag2", shards=2) as env:
        c = fragments_both_ways(env)
        check(c["steered_out"] > 0, f"nothing steered: {c}")


# A packet socket on the kernel's side sends fragments that never complete:
# FLOOD_SOURCES spoofed addresses, each many datagrams' first fragments,
# then datagrams of 40 fragments missing their last.
FRAG_FLOOD = r"""
import socket, struct, sys
mac, first_only, pieces = bytes.fromhex(sys.argv[1].replace(':', '')), int(sys.argv[2]), int(sys.argv[3])
def csum(b):
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b)); s = (s & 0xffff) + (s >> 16); s += s >> 16
    return ~s & 0xffff
def frag(src, ident, off, mf, payload):
    h = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(payload), ident, (0x2000 if mf else 0) | off // 8,
                    64, 17, 0, socket.inet_aton(src), socket.inet_aton('10.77.0.2'))
    return h[:10] + struct.pack('!H', csum(h)) + h[12:] + payload
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(('fj0', 0))
eth = mac + bytes.fromhex('020000000077') + b'\x08\x00'
body = bytes(1480)
n = 0
for i in range(first_only):  # two sources, distinct IDs: only 16 each are kept
    s.send(eth + frag('10.77.0.%d' % (100 + i % 2), i, 0, True, body)); n += 1
for src in range(8):          # 8 sources x 16 datagrams x `pieces` fragments
    for ident in range(16):
        for k in range(pieces):
            s.send(eth + frag('10.77.0.%d' % (110 + src), 40000 + ident, 1480 * (k + 1), True, body)); n += 1
print('sent', n)
"""


def test_tap_fragment_flood_is_bounded():
    """Fragments that never complete, from spoofed addresses: the table
    keeps 16 datagrams a source and 1,024 buffers in all (the rest is
    counted, drop_ip_reasm_full), a source's flood does not stop another
    source's datagrams, and the buffers come back at the timeout."""
    with Env("fflood") as env:
        ns_run(env.ns, "ping", "-c", "1", "-W", "2", FJ_IP)
        base = telemetry(env.echo.prefix, "/fjord/stack,0")["/fjord/stack"]["mbufs_in_use"]
        r = ns_run(env.ns, "python3", "-c", FRAG_FLOOD, env.mac, "3000", "0", timeout=120)
        log(f"flood of first fragments: {r.stdout.strip()}")
        # The kernel's own datagrams still get through.
        r = ns_run(env.ns, "python3", "-c", BIG_UDP_CLIENT, FJ_IP, "3000,60000", check_rc=False,
                   timeout=60)
        check(r.stdout.startswith("OK"), f"datagrams beside the flood: {r.stdout}{r.stderr}")
        r = ns_run(env.ns, "python3", "-c", FRAG_FLOOD, env.mac, "0", "40", timeout=120)
        log(f"flood of incomplete datagrams: {r.stdout.strip()}")
        time.sleep(0.5)
        held = telemetry(env.echo.prefix, "/fjord/stack,0")["/fjord/stack"]["mbufs_in_use"] - base
        log(f"buffers held after the floods: {held}")
        check(held <= 1024 + 64, f"{held} buffers held")
        # At the timeout (30 s) everything held goes.
        deadline = time.time() + 40
        while True:
            now = telemetry(env.echo.prefix, "/fjord/stack,0")["/fjord/stack"]["mbufs_in_use"]
            if now - base <= 16 or time.time() > deadline:
                break
            time.sleep(1)
        check(now - base <= 16, f"{now - base} buffers still held after the timeout")
        c = env.counters()
        log(f"drop_ip_reasm_full {c['drop_ip_reasm_full']}, drop_ip_reasm_timeout "
            f"{c['drop_ip_reasm_timeout']}, ip_reasm_timeouts {c['ip_reasm_timeouts']}")
        check(c["drop_ip_reasm_full"] >= 3000 - 32, f"counters: {c}")
        check(c["ip_reasm_timeouts"] >= 32, f"counters: {c}")


FJ_IP6 = "2001:db8::2"
KERNEL_IP6 = "2001:db8::1"
KERNEL_MAC = "02:00:00:77:00:01"


def ipv6_link(env, addr=f"{KERNEL_IP6}/64", dad_wait=True):
    """The kernel's side of the tap for IPv6: net_tap gives the kernel's
    interface fjord's own MAC (and so its link-local address), so it gets
    a MAC of its own first; no DAD, so that addresses are usable at once."""
    ns = env.ns
    ns_run(ns, "sysctl", "-qw", "net.ipv6.conf.fj0.accept_dad=0")
    ns_run(ns, "ip", "link", "set", "fj0", "down")
    ns_run(ns, "ip", "-6", "addr", "flush", "dev", "fj0")
    ns_run(ns, "ip", "link", "set", "fj0", "address", KERNEL_MAC)
    if addr:
        ns_run(ns, "ip", "addr", "add", addr, "dev", "fj0", "nodad")
    ns_run(ns, "ip", "link", "set", "fj0", "up")
    if dad_wait:
        wait_dad(env)


def wait_dad(env, want=None):
    """Until fjord's own duplicate address detection has found @want of
    its addresses unique (default: its link-local one and every --ip6
    one; RFC 4862 §5.4: a tentative address is not answered for)."""
    args = env.echo.argv
    if "--dad-transmits" in args and args[args.index("--dad-transmits") + 1] == "0":
        return
    if want is None:
        want = 1 + sum(1 for a in args if a == "--ip6")
    deadline = time.time() + 10
    rx = re.compile(r"IPv6 address \S+: no duplicate on the link, in use")
    while len(rx.findall(env.echo.output())) < want:
        check(time.time() < deadline and env.echo.alive(),
              f"fjord's IPv6 addresses not in use:\n{env.echo.tail()}")
        time.sleep(0.05)


def fjord_link_local(mac):
    """RFC 4291 appendix A: fe80:: and the modified EUI-64 of @mac."""
    import ipaddress
    m = bytes.fromhex(mac.replace(":", ""))
    iid = bytes([m[0] ^ 2]) + m[1:3] + b"\xff\xfe" + m[3:]
    return str(ipaddress.IPv6Address(b"\xfe\x80" + bytes(6) + iid))


# An unknown next header (253, RFC 3692's experiment value) to fjord's
# address: the kernel's raw ICMPv6 socket must get a parameter problem,
# code 1, pointing at the next-header field (byte 6).
PARAM_PROBLEM = r"""
import socket, struct, sys, select
dst = sys.argv[1]
r = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, 253)
s.sendto(b"unknown next header", (dst, 0))
while True:
    rr, _, _ = select.select([r], [], [], 3)
    if not rr:
        print("NOTHING"); sys.exit(3)
    d, a = r.recvfrom(2000)
    if d[0] == 4:
        print("PARAM", d[1], struct.unpack("!I", d[4:8])[0], a[0]); sys.exit(0)
"""


def test_tap_ipv6_ping_and_neighbours():
    """IPv6 (RFC 8200) against the kernel over the tap: ping -6 to fjord's
    global and link-local addresses up to the MTU, and of 4,000 and 65,000
    bytes in fragments both ways; UDP datagrams of up to 65,487 bytes
    echoed; each side learns the
    other's MAC by Neighbor Discovery (RFC 4861); an unknown next header
    gets a parameter problem (RFC 8200 §4, RFC 4443 §3.4)."""
    with Env("ping6", echo_args=["--ip6", f"{FJ_IP6}/64"]) as env:
        ipv6_link(env)
        ll = fjord_link_local(env.mac)
        time.sleep(0.5)
        for dst in (FJ_IP6, f"{ll}%fj0"):
            for size in ("56", "1", "1452"):
                r = ns_run(env.ns, "ping", "-6", "-c", "3", "-i", "0.2", "-W", "2", "-M", "do",
                           "-s", size, dst, check_rc=False)
                check(" 0% packet loss" in r.stdout, f"ping -6 -s {size} {dst}:\n{r.stdout}{r.stderr}")
        # Beyond the MTU: fragments both ways (RFC 8200 §4.5).
        for size in ("4000", "65000"):
            r = ns_run(env.ns, "ping", "-6", "-c", "3", "-i", "0.2", "-W", "3", "-s", size, FJ_IP6,
                       check_rc=False)
            check(" 0% packet loss" in r.stdout, f"ping -6 -s {size}:\n{r.stdout}{r.stderr}")
        out = ns_run(env.ns, "ip", "-6", "neigh", "show", "dev", "fj0").stdout.lower()
        log(f"the kernel's neighbours: {' / '.join(out.strip().splitlines())}")
        for a in (FJ_IP6, ll):
            check(any(l.startswith(a + " ") and env.mac in l for l in out.splitlines()),
                  f"no entry {a} -> {env.mac} in:\n{out}")
        # UDP over IPv6 (RFC 8200 §8.1), within the MTU and in fragments.
        sizes = ",".join(str(x) for x in [8, 1000, 1452, 3000, 60000, 65487] * 2)
        r = ns_run(env.ns, "python3", "-c", BIG_UDP_CLIENT, FJ_IP6, sizes, check_rc=False,
                   timeout=120)
        out = (r.stdout + r.stderr).strip()
        check(r.returncode == 0 and out.startswith("OK"), f"UDP over IPv6: {out}")
        r = ns_run(env.ns, "python3", "-c", PARAM_PROBLEM, FJ_IP6, check_rc=False)
        check(r.stdout.split()[:3] == ["PARAM", "1", "6"], f"parameter problem: {r.stdout}{r.stderr}")
        c = env.counters()
        log(f"ip6_rx {c['ip6_rx']}, icmp6_echo_replies {c['icmp6_echo_replies']}, nd_ns_rx "
            f"{c['nd_ns_rx']}, nd_na_tx {c['nd_na_tx']}, nd_ns_tx {c['nd_ns_tx']}")
        check(c["icmp6_echo_replies"] == 24, f"echo replies: {c['icmp6_echo_replies']}")
        check(c["ip_reassembled"] >= 6 + 6 and c["ip_fragmented"] >= 6 + 6, f"counters: {c}")
        check(c["udp_rx"] >= 12 and c["drop_udp_checksum"] == 0, f"counters: {c}")
        check(c["nd_ns_rx"] >= 2 and c["nd_na_tx"] >= 2, f"counters: {c}")
        check(c["drop_ip_protocol"] == 1, f"drop_ip_protocol {c['drop_ip_protocol']}")


def pcapng_frames(path):
    """The frames of a pcapng file: (direction, captured bytes) for each
    enhanced packet block; direction 1 in, 2 out, 0 unknown (the
    epb_flags option, pcapng §4.3.1)."""
    import struct
    frames = []
    with open(path, "rb") as f:
        data = f.read()
    check(data[:4] == b"\x0a\x0d\x0d\x0a", f"{path} is not pcapng")
    check(struct.unpack_from("<I", data, 8)[0] == 0x1A2B3C4D, f"{path}: not little-endian")
    off = 0
    while off + 12 <= len(data):
        btype, blen = struct.unpack_from("<II", data, off)
        check(blen >= 12 and off + blen <= len(data), f"{path}: block at {off} truncated")
        if btype == 6:
            caplen = struct.unpack_from("<I", data, off + 20)[0]
            pkt = data[off + 28:off + 28 + caplen]
            direction = 0
            o = off + 28 + (caplen + 3) // 4 * 4
            while o + 4 <= off + blen - 4:
                code, olen = struct.unpack_from("<HH", data, o)
                if code == 0:
                    break
                if code == 2 and olen == 4:
                    direction = struct.unpack_from("<I", data, o + 4)[0] & 3
                o += 4 + (olen + 3) // 4 * 4
            frames.append((direction, pkt))
        off += blen
    return frames


def icmp_echo_types(frames):
    """The ICMP types (8 request, 0 reply) of the IPv4 echo frames."""
    return [p[34] for _, p in frames
            if len(p) > 34 and p[12:14] == b"\x08\x00" and p[23] == 1]


def test_tap_dumpcap_captures_a_ping():
    """dpdk-dumpcap, a secondary process on fjord-echo's --file-prefix,
    captures through the pdump library the stack initialised: at least
    ten frames of the kernel's ping, requests and fjord's replies."""
    with Env("dcap", huge=True) as env:
        out = os.path.join(env.dir, "dump.pcapng")
        ping = subprocess.Popen(["ip", "netns", "exec", env.ns, "ping", "-c", "40", "-i",
                                 "0.1", FJ_IP], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        try:
            r = subprocess.run(["dpdk-dumpcap", f"--file-prefix={env.prefix}", "-i", "0",
                                "-w", out, "-c", "12", "-q"], capture_output=True,
                               text=True, timeout=60)
        finally:
            ping.wait(20)
        check(r.returncode == 0, f"dpdk-dumpcap failed ({r.returncode}):\n{r.stdout}{r.stderr}")
        types = icmp_echo_types(pcapng_frames(out))
        check(len(types) >= 10 and 8 in types and 0 in types,
              f"{len(types)} echo frames captured, types {types}")
        log(f"dpdk-dumpcap: {len(types)} echo frames ({types.count(0)} replies)")


def test_tap_pcap_file():
    """--pcap FILE: what the port received and sent, in pcapng with the
    direction of each frame: the kernel's echo requests inbound, fjord's
    replies outbound, and a 3,000-byte ping whole in the file up to the
    snap length (9,000 here)."""
    d = h.workdir()
    cap = os.path.join(d, "fjord.pcapng")
    try:
        with Env("pcap", echo_args=["--pcap", cap, "--pcap-snaplen", "9000"]) as env:
            ns_run(env.ns, "ping", "-c", "5", "-i", "0.2", "-W", "2", FJ_IP)
            ns_run(env.ns, "ping", "-c", "1", "-W", "2", "-s", "3000", "-M", "dont", FJ_IP)
            env.echo.kill(2)
            env.echo.wait_for(r"--pcap \S+: (\d+) frames written, 0 not captured", 20)
        frames = pcapng_frames(cap)
        requests = [f for f in frames if f[0] == 1 and len(f[1]) > 34 and f[1][23] == 1
                    and f[1][34] == 8]
        replies = [f for f in frames if f[0] == 2 and len(f[1]) > 34 and f[1][23] == 1
                   and f[1][34] == 0]
        check(len(requests) >= 6 and len(replies) >= 6,
              f"{len(requests)} requests in, {len(replies)} replies out of {len(frames)}")
        # The 3,000-byte ping comes in fragments and leaves in fragments:
        # frames of the link's MTU, whole.
        check(any(len(p) == 1514 for _, p in frames), "no full-sized fragment captured whole")
        log(f"--pcap: {len(frames)} frames, {len(requests)} echo requests in, "
            f"{len(replies)} replies out")
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_tap_kernel_exception():
    """--kernel-exception fjx: fjord-echo serves TCP port 7 while the
    kernel behind fjx (its own namespace, fjord's address and MAC) serves
    a TCP echo on port 2222 and pings out: the peer reaches both through
    fjord's one port; fjord sends no RST for the kernel's connection."""
    hostns = None
    with Env("kexc", echo_args=["--kernel-exception", "fjx"]) as env:
        try:
            deadline = time.time() + 10
            while ns_run(env.ns, "ip", "link", "show", "fjx", check_rc=False).returncode:
                check(time.time() < deadline, f"no fjx:\n{env.echo.tail()}")
                time.sleep(0.05)
            # The kernel's side in a namespace of its own (in the peer's,
            # 10.77.0.2 would be a local address to the peer).
            hostns = env.ns + "h"
            subprocess.run(["ip", "netns", "del", hostns], stderr=subprocess.DEVNULL)
            subprocess.run(["ip", "netns", "add", hostns], check=True)
            ns_run(env.ns, "ip", "link", "set", "fjx", "netns", hostns)
            ns_run(hostns, "ip", "link", "set", "lo", "up")
            ns_run(hostns, "sysctl", "-qw", "net.ipv6.conf.fjx.disable_ipv6=1")
            ns_run(hostns, "ip", "addr", "add", f"{FJ_IP}/24", "dev", "fjx")
            ns_run(hostns, "ip", "link", "set", "fjx", "up")
            link = ns_run(hostns, "ip", "link", "show", "fjx").stdout.lower()
            check(env.mac and env.mac in link, f"fjx has not fjord's MAC {env.mac}:\n{link}")
            srv = env.add(Proc(["ip", "netns", "exec", hostns, "socat",
                                f"TCP-LISTEN:2222,bind={FJ_IP},reuseaddr,fork", "PIPE"],
                               "kernel-sshd"))
            deadline = time.time() + 10
            while "2222" not in ns_run(hostns, "ss", "-ltn").stdout:
                check(time.time() < deadline and srv.alive(), f"socat:\n{srv.tail()}")
                time.sleep(0.05)
            for port, who in ((2222, "the kernel"), (7, "fjord")):
                r = subprocess.run(["ip", "netns", "exec", env.ns, "socat", "-t2", "-",
                                    f"tcp:{FJ_IP}:{port}"], input=f"hello {who}\n",
                                   capture_output=True, text=True, timeout=20)
                check(r.stdout == f"hello {who}\n", f"port {port}: {r.stdout!r} {r.stderr}")
            # The kernel's own traffic out: its ARP (the reply copied back to
            # it) and its ping, the replies handed over by fjord.
            r = ns_run(hostns, "ping", "-c", "3", "-i", "0.2", "-W", "2", KERNEL_IP,
                       check_rc=False)
            check(" 0% packet loss" in r.stdout, f"the kernel's ping out:\n{r.stdout}{r.stderr}")
            c = env.counters()
            check(c["exception_to_kernel"] > 0 and c["exception_from_kernel"] > 0,
                  f"counters: {c}")
            check(c["tcp_rst_tx"] == 0, f"fjord reset the kernel's connection: {c}")
            check(c["tcp_passive_opens"] == 1, f"fjord's own echo: {c}")
            log(f"to the kernel {c['exception_to_kernel']} frames, from it "
                f"{c['exception_from_kernel']}")
        finally:
            if hostns:
                for p in env.procs:
                    if p.name == "kernel-sshd":
                        p.close()
                subprocess.run(["ip", "netns", "del", hostns], stderr=subprocess.DEVNULL)


def test_tap_ipv6_duplicate_address():
    """RFC 4862 §5.4: the kernel already has 2001:db8::2 when fjord is
    given it: fjord's duplicate address detection (three probes a second
    apart here) hears the kernel's advertisement, says so and counts it;
    its link-local address, unique, is used (the kernel's ping -6 to it is
    answered)."""
    with Env("dad", echo_args=["--ip6", f"{FJ_IP6}/64", "--dad-transmits", "3"]) as env:
        ipv6_link(env, f"{FJ_IP6}/64", dad_wait=False)
        env.echo.wait_for(r"IPv6 address 2001:db8::2 is in use on the link", 10)
        wait_dad(env, want=1)
        ll = fjord_link_local(env.mac)
        r = ns_run(env.ns, "ping", "-6", "-c", "2", "-i", "0.3", "-W", "3", f"{ll}%fj0",
                   check_rc=False)
        check(" 0% packet loss" in r.stdout, f"ping -6 {ll}:\n{r.stdout}{r.stderr}")
        c = env.counters()
        check(c["ip6_dad_duplicates"] == 1 and c["ip6_dad_probes"] >= 3, f"counters: {c}")
        log(f"duplicate found after {c['ip6_dad_probes']} probes")


def test_tap_ipv6_two_shards():
    """IPv6 on two shards: every fragment of a datagram goes to the shard
    its addresses choose (RFC 8200 §4.5 reassembly there), neighbours
    learnt on one shard serve the other; ping -6 and UDP over IPv6 in
    fragments both ways come back intact."""
    with Env("ip6sh", shards=2, echo_args=["--ip6", f"{FJ_IP6}/64"]) as env:
        ipv6_link(env)
        time.sleep(0.5)
        for size in ("56", "4000", "65000"):
            r = ns_run(env.ns, "ping", "-6", "-c", "3", "-i", "0.2", "-W", "3", "-s", size, FJ_IP6,
                       check_rc=False)
            check(" 0% packet loss" in r.stdout, f"ping -6 -s {size}:\n{r.stdout}{r.stderr}")
        # TCP over IPv6 is steered by its folded addresses and ports: 20
        # connections spread over both shards.
        tcp_client(env, "echo", 65536, 20, host=FJ_IP6)
        opens = [telemetry(env.echo.prefix, f"/fjord/stack,{i}")["/fjord/stack"]
                 ["tcp_passive_opens"] for i in range(2)]
        check(sum(opens) == 20 and min(opens) > 0, f"passive opens per shard: {opens}")
        log(f"TCP over IPv6: passive opens per shard {opens}")
        sizes = ",".join(str(x) for x in [1000, 3000, 60000] * 3)
        r = ns_run(env.ns, "python3", "-c", BIG_UDP_CLIENT, FJ_IP6, sizes, check_rc=False,
                   timeout=120)
        out = (r.stdout + r.stderr).strip()
        check(r.returncode == 0 and out.startswith("OK"), f"UDP over IPv6: {out}")
        c = env.counters()
        log(f"two shards: {c['ip_reassembled']} datagrams reassembled, steered_out "
            f"{c['steered_out']}, drops: overlap {c['drop_ip_frag_overlap']}, bounds "
            f"{c['drop_ip_reasm_full']}")
        check(c["ip_reassembled"] >= 6 + 6 and c["drop_ip_reasm_full"] == 0, f"counters: {c}")


def test_tap_ipv6_router_advertisement():
    """radvd on the kernel's side advertises 2001:db8:5::/64 (on-link,
    autonomous): fjord makes itself 2001:db8:5:: and its interface
    identifier (RFC 4862 §5.5.3), takes the router as its default, and
    the kernel pings that address."""
    with Env("ra6") as env:
        ipv6_link(env, "2001:db8:5::1/64")
        ns_run(env.ns, "sysctl", "-qw", "net.ipv6.conf.all.forwarding=1")
        conf = os.path.join(env.dir, "radvd.conf")
        with open(conf, "w") as f:
            f.write("interface fj0 {\n AdvSendAdvert on;\n MinRtrAdvInterval 3;\n"
                    " MaxRtrAdvInterval 4;\n prefix 2001:db8:5::/64 {\n  AdvOnLink on;\n"
                    "  AdvAutonomous on;\n };\n};\n")
        env.add(Proc(["ip", "netns", "exec", env.ns, "radvd", "-n", "-C", conf, "-p",
                      os.path.join(env.dir, "radvd.pid"), "-m", "stderr"], "radvd"))
        slaac = "2001:db8:5::" + fjord_link_local(env.mac)[len("fe80::"):]
        deadline = time.time() + 20
        while True:
            r = ns_run(env.ns, "ping", "-6", "-c", "1", "-W", "1", slaac, check_rc=False)
            if " 0% packet loss" in r.stdout or time.time() > deadline:
                break
        check(" 0% packet loss" in r.stdout, f"ping -6 {slaac}:\n{r.stdout}{r.stderr}")
        log(f"fjord took {slaac} from the advertisement")
        c = env.counters()
        check(c["nd_ra_rx"] >= 1 and c["ip6_slaac_addrs"] == 1, f"counters: {c}")


def test_tap_neighbour_learns_mac():
    """The kernel's neighbour table learns fjord's MAC; fjord answers ARP
    and announces itself."""
    with Env("neigh") as env:
        check(env.mac, f"fjord-echo did not print its MAC:\n{env.echo.tail()}")
        ns_run(env.ns, "ping", "-c", "1", "-W", "2", FJ_IP)
        out = ns_run(env.ns, "ip", "neigh", "show", FJ_IP).stdout
        check(env.mac in out.lower(), f"kernel neighbour entry {out!r} lacks {env.mac}")
        c = env.counters()
        check(c["arp_replies_tx"] >= 1 and c["arp_rx"] >= 1, f"arp counters: {c}")


def test_tap_port_unreachable():
    """A datagram to a closed port yields ICMP port unreachable: the
    kernel's connected socket reports ECONNREFUSED."""
    with Env("unreach") as env:
        code = ("import socket\n"
                "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.settimeout(3)\n"
                f"s.connect(('{FJ_IP}', 9)); s.send(b'anyone?')\n"
                "try:\n s.recv(100); print('ANSWER')\n"
                "except ConnectionRefusedError: print('REFUSED')\n"
                "except socket.timeout: print('TIMEOUT')\n")
        r = ns_run(env.ns, "python3", "-c", code, check_rc=False)
        check(r.stdout.strip() == "REFUSED", f"closed port: {r.stdout}{r.stderr}")
        c = env.counters()
        check(c["icmp_unreach_tx"] == 1 and c["drop_udp_port_closed"] == 1, f"counters: {c}")


def test_tap_bad_frames_are_counted():
    """Malformed IPv4/UDP frames (a packet socket on the kernel's side) are
    dropped with a named counter each, and the echo service keeps working."""
    with Env("bad") as env:
        ns_run(env.ns, "ping", "-c", "1", "-W", "2", FJ_IP)
        code = r"""
import socket, struct, sys
mac = bytes.fromhex(sys.argv[1].replace(':', ''))
def csum(b):
    if len(b) % 2: b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b)); s = (s & 0xffff) + (s >> 16); s += s >> 16
    return ~s & 0xffff
def ip(proto, payload, bad_csum=False, frag=0):
    h = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(payload), 1, frag, 64, proto, 0,
                    socket.inet_aton('10.77.0.1'), socket.inet_aton('10.77.0.2'))
    c = csum(h) ^ (1 if bad_csum else 0)
    return h[:10] + struct.pack('!H', c) + h[12:] + payload
good_udp = struct.pack('!HHHH', 5555, 7, 12, 0) + b'abcd'
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(('fj0', 0))
eth = mac + bytes.fromhex('020000000001') + b'\x08\x00'
for pkt in (ip(17, struct.pack('!HHHH', 5555, 7, 12, 0x1234) + b'abcd'),  # UDP checksum
            ip(17, b'abcd'),                                             # UDP truncated
            ip(17, good_udp, bad_csum=True),                             # IP checksum
            ip(17, good_udp, frag=0x2000),                               # a fragment
            b'\x65' + ip(17, good_udp)[1:]):                              # IP version 6
    s.send((eth + pkt).ljust(60, b'\0'))
print('sent')
"""
        ns_run(env.ns, "python3", "-c", code, env.mac)
        time.sleep(0.5)
        udp_echo(env, n=200)
        c = env.counters()
        for k in ("drop_udp_checksum", "drop_truncated", "drop_ip_checksum", "drop_ip_fragment",
                  "drop_ip_version"):
            check(c.get(k) == 1, f"{k} is {c.get(k)}, not 1: {c}")


def telemetry(prefix, cmd):
    """One command on the DPDK telemetry socket of the process using @prefix."""
    import json
    path = f"/var/run/dpdk/{prefix}/dpdk_telemetry.v2"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(5)
    try:
        s.connect(path)
        s.recv(1024)  # the greeting
        s.send(cmd.encode())
        return json.loads(s.recv(65536).decode())
    finally:
        s.close()


def test_tap_telemetry_and_config():
    """Settings from a config file; the stack's counters through DPDK
    telemetry (/fjord/stack) agree with the traffic."""
    conf = os.path.join(os.path.dirname(__file__), "..", "..", "config", "echo.conf")
    with Env("telem", echo_args=["--config", conf]) as env:
        udp_echo(env, n=500)
        t = telemetry(env.echo.prefix, "/fjord/stack")["/fjord/stack"]
        check(t["udp_rx"] == 500 and t["udp_tx"] == 500, f"telemetry: {t}")
        check("drop_ip_checksum" in t, f"telemetry lacks drop counters: {t}")


def test_pmd_udp_echo():
    """The same UDP echo through fjord's own PMD: kernel socket -> tap ->
    testpmd (net_tap <-> net_vhost, io) -> vhost-user -> net_fjord_vhost ->
    stack -> fjord-echo."""
    with Env("pmd", mode="pmd") as env:
        r = ns_run(env.ns, "ping", "-c", "3", "-i", "0.2", "-W", "2", "-s", "1472", FJ_IP,
                   check_rc=False)
        check(" 0% packet loss" in r.stdout, f"ping through fjord's PMD:\n{r.stdout}")
        udp_echo(env)


def test_pmd_completes_partial_checksums():
    """fjord's PMD in a forwarding testpmd (no checksum offload asked) gets
    packets whose TCP/UDP checksums the sender left partial (virtio
    NEEDS_CSUM): it completes them, so the kernel behind the tap accepts
    every one: 10,000 UDP datagrams and 2 x 1 MiB of TCP echoed intact."""
    with Env("fwd", mode="pmd_fwd") as env:
        udp_echo(env)
        tcp_client(env, "echo", 1 << 20, 2)
        x = {}
        for port in (0, 1):
            x.update(env.fwd.xstats(port))
        done = x.get("rx_q0_checksums_completed", 0)
        check(done >= 10000, f"fjord's PMD completed {done} checksums; xstats: {x}")
        check(x.get("rx_q0_bad_checksum_header_errors", -1) == 0, f"xstats: {x}")


def test_socket_udp_echo():
    """fjord-echo --net socket: the same application on kernel sockets
    passes the same UDP echo test."""
    with Env("sock", mode="socket") as env:
        udp_echo(env)
        c = env.counters()
        check(c["udp_rx"] >= 10000 and c["udp_tx"] == c["udp_rx"], f"udp counters: {c}")


def test_vm_udp_echo():
    """fjord-echo inside a QEMU guest on fjord's PCI driver (vfio-pci behind
    a vIOMMU); kernel clients on the host reach it through QEMU's hostfwd:
    the 10,000-datagram UDP echo, and TCP echo of 2 x 1 MiB (SHA-256)."""
    from vmguest import GuestTestpmd, free_udp_port
    d = h.workdir()
    port = free_udp_port()
    tport = free_udp_port()
    # QEMU's user network: the guest is 10.0.2.15, the host appears as 10.0.2.2.
    echo = os.path.abspath(ECHO)  # the guest holds fjord's build at the host's paths
    cmd = (f'{echo} -l 0 -d "$FJ_PMD" -a "$FJ_BDF" -- --ip 10.0.2.15/24 --gw 10.0.2.2 '
           '--stats 0 & pid=$!; read -r line; kill -INT $pid; wait $pid')
    g = None
    try:
        g = GuestTestpmd("vm_echo", d, cmd=cmd, user=f"udp:127.0.0.1:{port}-10.0.2.15:7,"
                                                      f"tcp:127.0.0.1:{tport}-10.0.2.15:7")
        g.wait_for(r"serving UDP port 7 and TCP port 7 over direct", 120)
        check("net_fjord" in g.output(), f"not on fjord's PCI driver:\n{g.tail()}")
        r = subprocess.run(["python3", "-c", UDP_CLIENT, "127.0.0.1", str(port), "10000", "16"],
                           capture_output=True, text=True, timeout=300)
        out = (r.stdout + r.stderr).strip()
        check(r.returncode == 0 and out.startswith("OK"), f"UDP echo via hostfwd: {out}")
        log(f"10000 datagrams echoed through the guest: {out}")
        r = subprocess.run(["python3", "-c", TCP_CLIENT, "127.0.0.1", str(tport), "echo",
                            str(1 << 20), "2"], capture_output=True, text=True, timeout=300)
        out = (r.stdout + r.stderr).strip()
        check(r.returncode == 0 and out.startswith("OK"), f"TCP echo via hostfwd: {out}")
        log(f"2 x 1 MiB echoed over TCP through the guest: {out}")
        g.send("stop")
        g.wait_for(r"FJVM-EXIT (\d+)", 60)
        m = re.search(r"^udp_rx (\d+)", g.output(), re.M)
        check(m and int(m.group(1)) >= 10000, f"guest counters:\n{g.tail(50)}")
        check(re.search(r"FJVM-EXIT 0", g.output()), f"fjord-echo failed:\n{g.tail(50)}")
    finally:
        if g:
            g.close()
        shutil.rmtree(d, ignore_errors=True)


def test_vm_tcp_tso():
    """fj-xfer inside a QEMU guest on fjord's PCI driver, the NIC
    (virtio-net-pci, host_tso4=on, guest_tso4=on) on a tap in a test-made
    namespace whose kernel is the peer: the kernel reads 64 MiB that fjord
    sends in large segments for QEMU to cut (HOST_TSO4), then writes 64 MiB
    that reach fjord coalesced (GUEST_TSO4, the host kernel's GSO); SHA-256
    both ways, and fjord's counters show both offloads at work."""
    from vmguest import GuestTestpmd, Netns
    d = h.workdir()
    ns = g = None
    size = 64 << 20
    guest_ip, host_ip, tap = "10.79.0.2", "10.79.0.1", "fjtso0"
    xfer = os.path.abspath(XFER)  # the guest holds fjord's build at the host's paths
    run = (f'{xfer} -l 0 -d "$FJ_PMD" -a "$FJ_BDF" --log-level=pmd.net.fjord:info -- '
           f'--ip {guest_ip}/24 --msl 1')
    cmd = (f'{run} --source & pid=$!; read -r line; kill -INT $pid; wait $pid; '
           f'mkdir -p /tmp/sink; {run} --sink /tmp/sink & pid=$!; read -r line; '
           f'kill -INT $pid; wait $pid; rc=$?; sha256sum /tmp/sink/*; exit $rc')
    try:
        ns = Netns(f"fjtso{os.getpid() % 100000}")
        g = GuestTestpmd("vm_tso", d, cmd=cmd, tap=(ns.name, tap, 1),
                         nic="host_tso4=on,guest_tso4=on,csum=on,guest_csum=on,mrg_rxbuf=on")
        deadline = time.time() + 60
        while ns.run("ip", "link", "show", tap).returncode != 0:
            check(time.time() < deadline, f"tap {tap} did not appear")
            time.sleep(0.2)
        for argv in (["ip", "addr", "add", f"{host_ip}/24", "dev", tap],
                     ["ip", "link", "set", tap, "up"], ["ip", "link", "set", "lo", "up"]):
            r = ns.run(*argv)
            check(r.returncode == 0, f"{argv}: {r.stderr}")
        g.wait_for(r"fj-xfer: serving TCP port 9", 120)
        m = re.search(r"virtio-pci features: (.*)", g.output())
        check(m and {"HOST_TSO4", "GUEST_TSO4"} <= set(m.group(1).split()),
              f"QEMU did not offer TSO:\n{g.tail(30)}")
        r = ns_run(ns.name, "python3", "-c", XFER_CLIENT, guest_ip, "9", "read", str(size), "1",
                   check_rc=False, timeout=600)
        out = (r.stdout + r.stderr).strip()
        check(r.returncode == 0 and out.startswith("OK"), f"kernel reading from fjord: {out}")
        log(f"{size >> 20} MiB from fjord (TSO) to the kernel: {out.split()[1]}")
        g.send("next")
        g.wait_for(r"(fj-xfer: serving TCP port 9[\s\S]*){2}", 60)
        sent = g.output()
        r = ns_run(ns.name, "python3", "-c", XFER_CLIENT, guest_ip, "9", "write", str(size), "1",
                   check_rc=False, timeout=600)
        out = (r.stdout + r.stderr).strip()
        check(r.returncode == 0 and out.startswith("OK"), f"kernel writing to fjord: {out}")
        log(f"{size >> 20} MiB from the kernel (GSO) to fjord: {out.split()[1]}")
        digest = out.split()[-1]
        g.wait_for(r"sink \d+ bytes", 60)
        g.send("stop")
        g.wait_for(r"FJVM-EXIT (\d+)", 60)
        text = g.output()
        check(re.search(r"FJVM-EXIT 0", text), f"fj-xfer failed:\n{g.tail(50)}")
        check(re.search(rf"^{digest}\s+/tmp/sink/", text, re.M),
              f"the sink's SHA-256 differs from the kernel's {digest}:\n{g.tail(20)}")
        counts = [dict((k, int(v)) for k, v in re.findall(r"^(\w+) (\d+)\s*$", part, re.M))
                  for part in (sent, text[len(sent):])]
        tx, rx = counts
        log(f"fjord sent {tx.get('tcp_tso_segs')} TSO segments; received "
            f"{rx.get('tcp_rx_large_segs')} coalesced segments")
        check(tx.get("tcp_tso_segs", 0) > 0, f"no TSO segments sent: {tx}")
        check(rx.get("tcp_rx_large_segs", 0) > 0, f"nothing arrived coalesced: {rx}")
    finally:
        if g:
            g.close()
        if ns:
            ns.close()
        shutil.rmtree(d, ignore_errors=True)


def test_pmd_tso_to_vhost():
    """fjord's PMD sending large segments (HOST_TSO4) to DPDK's vhost
    library (net_vhost with tso=1, which hands them up as LRO mbufs):
    fj-xfer --source on fjord's PMD, fj-xfer --get on net_vhost reading
    256 MiB with every byte checked; the sender's counters show large
    segments and no retransmission (a TSO request the PMD dropped would
    have been resent)."""
    tso_to_vhost(False)


def test_pmd_tso6_to_vhost():
    """The same over IPv6 (HOST_TSO6, gso_type TCPV6): the receiver takes
    the coalesced IPv6 segments as chains."""
    tso_to_vhost(True)


def tso_to_vhost(v6):
    d = h.workdir()
    sock = os.path.join(d, "vu.sock")
    prefix = f"fjs_tsovu_{os.getpid()}"
    procs = []
    try:
        for p in (prefix + "g", prefix + "s"):
            h.cleanup_prefix(p)
        mem = ["--single-file-segments", "-m", "512", "--no-pci"]
        size = 256 << 20
        six = (["--ip6", "2001:db8:9::1/64"], ["--ip6", "2001:db8:9::2/64"]) if v6 else ([], [])
        getter = Proc([XFER, "-l", "1", "--file-prefix", prefix + "g"] + mem +
                      ["--vdev", f"net_vhost0,iface={sock},tso=1", "--", "--ip", "10.78.0.1/24"] +
                      six[0] + ["--get", "2001:db8:9::2" if v6 else "10.78.0.2", str(size)],
                      "get", prefix + "g")
        procs.append(getter)
        deadline = time.time() + 30
        while not os.path.exists(sock):
            check(time.time() < deadline and getter.alive(), f"no socket:\n{getter.tail()}")
            time.sleep(0.05)
        source = Proc([XFER, "-l", "0", "--file-prefix", prefix + "s"] + mem +
                      ["-d", h.PMD, "--vdev", f"net_fjord_vhost0,path={sock}", "--",
                       "--ip", "10.78.0.2/24"] + six[1] + ["--source", "--msl", "1"],
                      "source", prefix + "s")
        procs.append(source)
        m = getter.wait_for(r"get (\d+) bytes (\w+)", 120)
        check(m.group(2) == "OK" and int(m.group(1)) == size, f"getter: {m.group(0)}\n{getter.tail()}")
        check(getter.wait(30) == 0, f"getter exit:\n{getter.tail()}")
        source.wait_for(r"source \d+ bytes\n", 30)
        source.kill(2)
        source.wait_for(r"drop_oversize \d+", 20)
        c = {k: int(v) for k, v in re.findall(r"^(\w+) (\d+)\s*$", source.output(), re.M)}
        g = {k: int(v) for k, v in re.findall(r"^(\w+) (\d+)\s*$", getter.output(), re.M)}
        log(f"{size >> 20} MiB: sender TSO segments {c.get('tcp_tso_segs')}, referenced "
            f"{c.get('tcp_tx_ref_segs')}, retransmits {c.get('tcp_retransmits')}; receiver's "
            f"large segments {g.get('tcp_rx_large_segs')}")
        check(c.get("tcp_tso_segs", 0) > 0, f"no TSO segments: {c}")
        check(c.get("tcp_retransmits", 1) == 0 and c.get("tcp_fast_retransmits", 1) == 0,
              f"retransmissions on a lossless path: {c}")
        check(g.get("tcp_rx_large_segs", 0) > 0, f"the back-end handed up no large segment: {g}")
    finally:
        for p in reversed(procs):
            p.close()
        for p in (prefix + "g", prefix + "s"):
            h.cleanup_prefix(p)
        shutil.rmtree(d, ignore_errors=True)


def test_readme_main_job():
    """The README's first command: tools/demo starts fjord-echo on its
    embedded default, and the kernel's ping, a UDP datagram and a TCP
    exchange (socat) get answers."""
    demo = os.path.join(os.path.dirname(__file__), "..", "..", "tools", "demo")
    p = Proc([demo, "2"], "demo")
    try:
        p.wait_for(r"udp_tx \d+", 120)
        rc = p.wait(30)
        out = p.output()
        check(rc == 0, f"tools/demo exited with {rc}:\n{p.tail(40)}")
        check("3 packets transmitted, 3 received" in out, f"ping failed:\n{p.tail(60)}")
        check("hello, fjord" in out.split("the kernel pings fjord")[-1],
              f"no UDP echo:\n{p.tail(60)}")
        check("hello over tcp, fjord" in out.split("the kernel pings fjord")[-1],
              f"no TCP echo:\n{p.tail(60)}")
        check(re.search(r"^udp_rx 1$", out, re.M) and re.search(r"^icmp_echo_replies 3$", out, re.M)
              and re.search(r"^tcp_passive_opens 1$", out, re.M)
              and re.search(r"^tcp_rx_bytes 22$", out, re.M), f"counters:\n{p.tail(60)}")
    finally:
        p.close()


# Kernel TCP clients, run inside the namespace.
TCP_CLIENT = r"""
import hashlib, os, socket, sys, threading, time
host, port, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
args = [int(a) for a in sys.argv[4:]]

def echo_one(size, chunk=65536):
    data = os.urandom(size)
    s = socket.create_connection((host, port), timeout=30)
    got = bytearray()
    def rd():
        while len(got) < size:
            b = s.recv(1 << 20)
            if not b:
                break
            got.extend(b)
    t = threading.Thread(target=rd)
    t.start()
    for i in range(0, size, chunk):
        s.sendall(data[i:i + chunk])
    t.join(120)
    s.shutdown(socket.SHUT_WR)
    rest = s.recv(10)  # the server closes after our FIN
    s.close()
    if hashlib.sha256(data).digest() != hashlib.sha256(bytes(got)).digest() or rest:
        return "MISMATCH %d of %d" % (len(got), size)
    return None

t0 = time.time()
if mode == "echo":          # size, connections (concurrent)
    size, conns = args
    errs = []
    def run():
        try:
            e = echo_one(size)
        except Exception as x:  # a timeout is a failure, not a quiet thread
            e = repr(x)
        if e:
            errs.append(e)
    ths = [threading.Thread(target=run) for _ in range(conns)]
    for t in ths: t.start()
    for t in ths: t.join(300)
    if errs or any(t.is_alive() for t in ths):
        print("FAIL", errs[:3]); sys.exit(2)
elif mode == "cycles":      # count
    for i in range(args[0]):
        s = socket.create_connection((host, port), timeout=10)
        msg = b"cycle %d" % i
        s.sendall(msg)
        got = b""
        while len(got) < len(msg):
            b = s.recv(100)
            if not b: break
            got += b
        if got != msg:
            print("FAIL at", i, got); sys.exit(2)
        s.close()
elif mode == "kill":        # a client that dies mid-transfer: RST
    s = socket.create_connection((host, port), timeout=10)
    s.sendall(os.urandom(200000))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
    s.close()
elif mode == "refused":     # nobody listens there
    try:
        socket.create_connection((host, port), timeout=5)
        print("FAIL connected"); sys.exit(2)
    except ConnectionRefusedError:
        pass
print("OK %.2fs" % (time.time() - t0))
"""


def tcp_client(env, mode, *args, host=FJ_IP, port=7, timeout=600):
    r = ns_run(env.ns, "python3", "-c", TCP_CLIENT, host, str(port), mode,
               *[str(a) for a in args], check_rc=False, timeout=timeout)
    out = (r.stdout + r.stderr).strip()
    check(r.returncode == 0 and out.startswith("OK"), f"TCP {mode} {args}: {out}")
    log(f"TCP {mode} {args}: {out}")


def tcp_gauges(env):
    t = telemetry(env.echo.prefix, "/fjord/stack")["/fjord/stack"]
    return t["tcp_flows"], t["mbufs_in_use"]


def wait_gauges(env, want, timeout=10):
    deadline = time.time() + timeout
    while True:
        g = tcp_gauges(env)
        if g == want or time.time() > deadline:
            return g
        time.sleep(0.2)


def test_tcp_echo_transfers():
    """fjord-echo over TCP against kernel clients: 1 MiB and 64 MiB echoed
    (both directions at once) and verified by SHA-256; the flows and mbufs
    go back to where they were, and the stats line says so."""
    with Env("tcpx") as env:
        base = tcp_gauges(env)
        r = subprocess.run(["ip", "netns", "exec", env.ns, "socat", "-t2", "-",
                            f"tcp:{FJ_IP}:7"], input="hello over tcp\n", capture_output=True,
                           text=True, timeout=20)
        check(r.stdout == "hello over tcp\n", f"socat: {r.stdout!r} {r.stderr}")
        tcp_client(env, "echo", 1 << 20, 1)
        tcp_client(env, "echo", 64 << 20, 1)
        after = wait_gauges(env, base)
        check(after == base, f"flows/mbufs {after} after, {base} before")
        # fjord-echo's stats line (every second) counts the three
        # connections, none left open.
        env.echo.wait_for(r"\| tcp accepted 3 opened 0 active 0 retransmits \d+ \|", 5)


# A kernel TCP client that keeps one connection to fjord-echo open and,
# for each line on stdin, sends a 1,000-byte message and waits for its
# echo: "echo OK <ms>" (or "echo FAILED ...").
HELD_CLIENT = r"""
import socket, sys, time
s = socket.create_connection((sys.argv[1], 7), timeout=30)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
print("connected", flush=True)
n = 0
for line in sys.stdin:
    n += 1
    msg = (b"%06d" % n) * 166 + b"....\n"
    t0 = time.time()
    try:
        s.sendall(msg)
        got = b""
        while len(got) < len(msg):
            d = s.recv(65536)
            if not d:
                break
            got += d
        ok = got == msg
    except OSError as e:
        print(f"echo FAILED {e}", flush=True)
        continue
    print(f"echo {'OK' if ok else 'FAILED'} {(time.time() - t0) * 1000:.0f}", flush=True)
"""


def backend_restarts(name, mode, cycles):
    """The vhost-user back-end under fjord-echo (the bridge testpmd, whose
    net_vhost serves fjord's PMD) is killed and started again @cycles
    times, fjord-echo untouched: after each, the kernel's ping is answered
    again and a TCP connection held open across all of them still echoes;
    then no flow or mbuf is left over and fjord-echo holds no more file
    descriptors than before."""
    with Env(name, mode=mode) as env:
        pid = env.echo.p.pid

        def restart(quiet=False):
            """The back-end killed and started again; with @quiet, the
            gauges read as soon as fjord's rings are restarted, before the
            kernel's side is up: the tx ring is all but empty then (a ring
            frees what it sent only when it needs the room), the rx ring
            all but full."""
            mark = len(env.echo.output())
            env.bridge.kill()
            env.bridge.wait(10)
            env.bridge.close()
            env.start_bridge()
            back = time.time()  # (as a client's, fjord's retries reach it from here)
            g = None
            if quiet:
                env.echo.wait_for(r"is back, rings restarted", 15, mark)
                g = tcp_gauges(env)
            env.kernel_side()
            return back, g

        _, base = restart(quiet=True)
        fds = len(os.listdir(f"/proc/{pid}/fd"))
        cl = env.add(Proc(["ip", "netns", "exec", env.ns, "python3", "-u", "-c", HELD_CLIENT,
                           FJ_IP], "held"))
        cl.wait_for(r"connected", 10)
        pos, resumed, echoed = 0, [], []
        for i in range(cycles):
            back, _ = restart()
            while ns_run(env.ns, "ping", "-c", "1", "-W", "0.2", FJ_IP,
                         check_rc=False).returncode:
                check(time.time() - back < 10 and env.echo.alive(),
                      f"cycle {i}: no ping reply 10 s after the back-end came back:\n"
                      f"{env.echo.tail()}")
            resumed.append(time.time() - back)
            cl.send("x")
            m = cl.wait_for(r"echo (\w+) (\S+)\n", 30, pos)
            pos = m.end()
            check(m.group(1) == "OK", f"cycle {i}: the held connection: {m.group(0)}")
            echoed.append(float(m.group(2)))
        cl.p.stdin.close()
        check(cl.wait(10) == 0, f"the held client: {cl.tail()}")
        deadline = time.time() + 15
        while tcp_gauges(env)[0] != base[0] and time.time() < deadline:
            time.sleep(0.2)
        _, after = restart(quiet=True)
        # (give or take a refill batch of the rx ring and what the tx ring
        # has not yet reclaimed: a buffer lost a restart would show as 100)
        check(after[0] == base[0] and abs(after[1] - base[1]) <= 32,
              f"flows/mbufs {after} after {cycles} restarts, {base} before")
        now = len(os.listdir(f"/proc/{pid}/fd"))
        check(now == fds, f"fjord-echo holds {now} file descriptors, {fds} before")
        # The stack saw the link go and come back and announced itself
        # (sampled four times a second: the moments up between two of
        # these back-to-back restarts are often shorter than that, and a
        # down then up again unseen is one change to it).
        st = telemetry(env.echo.prefix, "/fjord/stack")["/fjord/stack"]
        check(1 <= st["port_link_ups"] <= st["port_link_downs"] <= cycles + 2,
              f"link downs {st['port_link_downs']}, ups {st['port_link_ups']}")
        resumed.sort()
        log(f"{cycles} back-end restarts: ping answered {resumed[0]:.2f}-{resumed[-1]:.2f} s "
            f"(median {resumed[len(resumed) // 2]:.2f}) after the new back-end started; the held "
            f"TCP connection echoed each time (at most {max(echoed):.0f} ms); the stack saw "
            f"{st['port_link_downs']} link downs")


def test_pmd_backend_restarts():
    """fjord's PMD as vhost-user client (the default): 100 restarts."""
    backend_restarts("brc", "pmd", 100)


def test_pmd_server_backend_restarts():
    """fjord's PMD as vhost-user server (server=1), net_vhost connecting
    as a client (client=1, which retries once a second): 100 restarts."""
    backend_restarts("brs", "pmd_server", 100)


def test_tcp_concurrent_connections():
    """1,000 concurrent echo connections of 16 KiB each."""
    with Env("tcpc") as env:
        base = tcp_gauges(env)
        tcp_client(env, "echo", 16384, 1000)
        after = wait_gauges(env, base)
        check(after == base, f"flows/mbufs {after} after, {base} before")


def test_tcp_connect_close_cycles():
    """10,000 sequential connect/echo/close cycles; no flow or mbuf leaks."""
    with Env("tcpy") as env:
        base = tcp_gauges(env)
        tcp_client(env, "cycles", 10000)
        after = wait_gauges(env, base)
        check(after == base, f"flows/mbufs {after} after, {base} before")
        c = env.counters()
        check(c["tcp_passive_opens"] == 10000 and c["tcp_flows_closed"] == 10000,
              f"opens {c['tcp_passive_opens']} closed {c['tcp_flows_closed']}")


def test_tcp_reset_and_refused():
    """A kernel client killed mid-transfer (RST) leaves nothing behind; a
    closed port answers SYN with RST (ECONNREFUSED)."""
    with Env("tcpr") as env:
        base = tcp_gauges(env)
        tcp_client(env, "kill")
        after = wait_gauges(env, base)
        check(after == base, f"flows/mbufs {after} after the reset, {base} before")
        tcp_client(env, "refused", port=19)
        c = env.counters()
        check(c["tcp_rst_rx"] >= 1 and c["tcp_rst_tx"] >= 1, f"rst counters: {c}")


def test_tcp_pmd_echo():
    """TCP echo through fjord's own PMD (tap -> testpmd -> vhost-user),
    over IPv4 and IPv6."""
    with Env("tcpp", mode="pmd", echo_args=["--ip6", f"{FJ_IP6}/64"]) as env:
        tcp_client(env, "echo", 4 << 20, 4)
        ipv6_link(env)
        tcp_client(env, "echo", 4 << 20, 4, host=FJ_IP6)


def test_tcp_socket_echo():
    """fjord-echo --net socket: the same TCP echo on kernel sockets."""
    with Env("tcps", mode="socket") as env:
        tcp_client(env, "echo", 4 << 20, 4)
        tcp_client(env, "cycles", 200)


def impair(env, loss_in=0, loss_out=0, dup_out=0, dup_in=0, delay_us=0, jitter_us=0,
           reorder=0):
    """A link profile on the tap, both directions ("in": what fjord sends,
    "out": what it receives). Loss and the kernel's duplicates are nftables
    netdev hooks on fj0 (in the kernel); delay with jitter, reordering (that
    percentage held 2 ms longer) and duplicates of fjord's segments go
    through fj-linkq, fed by iptables' NFQUEUE target on fj0."""
    if delay_us or jitter_us or reorder or dup_in:
        for chain, flag, q in (("POSTROUTING", "-o", "1"), ("PREROUTING", "-i", "2")):
            ns_run(env.ns, "iptables", "-t", "mangle", "-A", chain, flag, "fj0", "-m", "mark",
                   "!", "--mark", "0x4c51", "-j", "NFQUEUE", "--queue-num", q,
                   "--queue-bypass")
        # Out-queue (1) gets the kernel's segments; in-queue (2) fjord's,
        # which alone are duplicated by the tool (--dup applies to both
        # queues, so two tools when asked for).
        common = ["--delay-us", str(delay_us), "--jitter-us", str(jitter_us),
                  "--reorder", str(reorder), "--seed", "7"]
        if dup_in:
            tools = [(["--queue", "1"] + common, "linkq-out"),
                     (["--queue", "2", "--dup", str(dup_in)] + common, "linkq-in")]
        else:
            tools = [(["--queue", "1", "--queue", "2"] + common, "linkq")]
        for args, name in tools:
            q = env.add(Proc(["ip", "netns", "exec", env.ns, "taskset", "-c", "1", "stdbuf",
                              "-o0", LINKQ] + args, name))
            q.wait_for(r"fj-linkq: ready", 10)
    if not (loss_in or loss_out or dup_out):
        return
    rules = ["add table netdev fjimp"]
    if loss_in:
        rules += ["add chain netdev fjimp in { type filter hook ingress device fj0 priority 0; }",
                  f"add rule netdev fjimp in numgen random mod 100 < {loss_in} drop"]
    if loss_out or dup_out:
        rules += ["add chain netdev fjimp out { type filter hook egress device fj0 priority 0; }"]
    if dup_out:
        rules += [f"add rule netdev fjimp out numgen random mod 100 < {dup_out} dup to fj0"]
    if loss_out:
        rules += [f"add rule netdev fjimp out numgen random mod 100 < {loss_out} drop"]
    r = subprocess.run(["ip", "netns", "exec", env.ns, "nft", "-f", "-"], input="\n".join(rules),
                       capture_output=True, text=True)
    check(r.returncode == 0, f"nft: {r.stderr}")


def test_tcp_lossy_link():
    """5 % random loss in both directions: 4 x 1 MiB echoed byte-exact,
    recovered by fast retransmit and timeouts, within the time bound; then
    16 MiB each way by fj-xfer. fjord sends large segments (TSO on net_tap)
    whose payload refers to the send queue: what is lost of one is resent
    in MSS pieces from the queue's buffers."""
    with Env("tcpl") as env:
        impair(env, loss_in=5, loss_out=5)
        tcp_client(env, "echo", 1 << 20, 4, timeout=300)
        c = env.counters()
        check(c["tcp_retransmits"] + c["tcp_fast_retransmits"] > 0, f"no retransmissions: {c}")
        check(c["tcp_tx_ref_segs"] > 0, f"no referenced segments: {c}")
        log(f"TSO segments {c['tcp_tso_segs']}, retransmits {c['tcp_retransmits']}, "
            f"fast {c['tcp_fast_retransmits']}, out-of-order dropped {c['tcp_ooo_dropped']}")
    one_way("lsy", sizes=(16 << 20,), link={"loss_in": 5, "loss_out": 5})


def test_tcp_lossy_link_no_tso():
    """The echo on the lossy link with --no-tso: payload copied, one MSS
    per segment."""
    with Env("tcpln", echo_args=("--no-tso",)) as env:
        impair(env, loss_in=5, loss_out=5)
        tcp_client(env, "echo", 1 << 20, 4, timeout=300)
        c = env.counters()
        check(c["tcp_retransmits"] + c["tcp_fast_retransmits"] > 0, f"no retransmissions: {c}")
        check(c["tcp_tx_ref_segs"] == 0 and c["tcp_tso_segs"] == 0, f"--no-tso ignored: {c}")


def test_tcp_lossy_duplicating_link():
    """1 % loss both ways and 1 % of the kernel's segments duplicated:
    4 x 1 MiB echoed byte-exact."""
    with Env("tcpd") as env:
        impair(env, loss_in=1, loss_out=1, dup_out=1)
        tcp_client(env, "echo", 1 << 20, 4, timeout=300)
        c = env.counters()
        log(f"retransmits {c['tcp_retransmits']}, fast {c['tcp_fast_retransmits']}, "
            f"out of window {c['tcp_out_of_window']}")


# Kernel clients for fj-xfer: read a source's stream to its end (the
# server closes first), or send a sink a stream and close first.
XFER_CLIENT = r"""
import array, hashlib, os, socket, struct, sys, time
host, port, mode, size, seed = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
t0 = time.time()
if mode == "read":
    want = array.array("Q", range(seed, seed + size // 8))
    if sys.byteorder != "little": want.byteswap()
    s = socket.create_connection((host, port), timeout=60)
    s.sendall(struct.pack("<Q", size))
    h = hashlib.sha256(); n = 0
    while True:
        b = s.recv(1 << 20)
        if not b: break
        h.update(b); n += len(b)
    s.close()
    if n != size or h.digest() != hashlib.sha256(want.tobytes()).digest():
        print("FAIL got %d of %d bytes, sha256 %s" % (n, size, "differs" if n == size else "-")); sys.exit(2)
    print("OK %.2fs" % (time.time() - t0))
else:
    data = os.urandom(size)
    s = socket.create_connection((host, port), timeout=60)
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    rest = s.recv(10)   # the sink closes after our FIN
    s.close()
    if rest:
        print("FAIL sink sent data"); sys.exit(2)
    print("OK %.2fs %s" % (time.time() - t0, hashlib.sha256(data).hexdigest()))
"""


def xfer_client(env, mode, size, seed=1, timeout=300, ns=None, host=FJ_IP):
    r = ns_run(ns or env.ns, "python3", "-c", XFER_CLIENT, host, "9", mode, str(size), str(seed),
               check_rc=False, timeout=timeout)
    out = (r.stdout + r.stderr).strip()
    check(r.returncode == 0 and out.startswith("OK"), f"xfer {mode} {size}: {out}")
    log(f"xfer {mode} {size}: {out.split()[1]}")
    return out.split()[-1]


def steady_gauges(env, timeout=5):
    """The gauges once two readings 0.5 s apart agree: a baseline taken
    while a frame waits for ARP or in the transmit batch is one too high."""
    deadline = time.time() + timeout
    g = tcp_gauges(env)
    while time.time() < deadline:
        time.sleep(0.5)
        n = tcp_gauges(env)
        if n == g:
            break
        g = n
    return g


def one_way(name, mode="tap", msl="1", sizes=(1 << 20, 64 << 20), link=None, stack_args=(),
            v6=False):
    """fj-xfer against kernel clients: each size sent by fjord (it closes
    first) and received by fjord (the client closes first), verified by
    SHA-256; then the flows and mbufs are back at their baseline (TIME_WAIT
    is 2 s with --msl 1). With @v6 the clients connect over IPv6."""
    pos = 0
    host = FJ_IP6 if v6 else FJ_IP
    if v6:
        stack_args = ("--ip6", f"{FJ_IP6}/64") + tuple(stack_args)
    with Env(name + "o", mode=mode, app=XFER,
             echo_args=("--msl", msl, "--source") + tuple(stack_args)) as env:
        if v6:
            ipv6_link(env)
        if link:
            impair(env, **link)
        base = steady_gauges(env) if mode != "socket" else None
        for size in sizes:
            xfer_client(env, "read", size, seed=1, host=host)
        # (other lines, the stack's notices, may come between them)
        deadline = time.time() + 30
        while len(re.findall(r"^source \d+ bytes", env.echo.output(), re.M)) < len(sizes):
            check(time.time() < deadline and env.echo.alive(),
                  f"not every source finished:\n{env.echo.tail()}")
            time.sleep(0.1)
        check(" FAILED" not in env.echo.output(), env.echo.tail())
        if base:
            after = wait_gauges(env, base, timeout=15)
            check(after == base, f"flows/mbufs {after} after, {base} before")
        if mode == "tap":
            # net_tap takes chains and offers TSO (cut in software, rte_gso).
            c = env.counters()
            if "--no-tso" in stack_args:
                check(c["tcp_tso_segs"] == 0 and c["tcp_tx_ref_segs"] == 0,
                      f"--no-tso sent large or referenced segments: {c}")
            elif v6:
                # Its rte_gso cuts TCP over IPv4 only: one MSS a segment,
                # the payload still referenced.
                check(c["tcp_tso_segs"] == 0 and c["tcp_tx_ref_segs"] > 0,
                      f"TSO over IPv6 on net_tap, or no referenced segments: {c}")
            else:
                check(c["tcp_tso_segs"] > 0 and c["tcp_tx_ref_segs"] > 0,
                      f"no large segments sent: {c}")
            log(f"TSO segments {c['tcp_tso_segs']}, referenced {c['tcp_tx_ref_segs']}, "
                f"retransmits {c['tcp_retransmits'] + c['tcp_fast_retransmits']}")
    with Env(name + "i", mode=mode, app=XFER,
             echo_args=("--msl", msl, "--sink", h.workdir()) + tuple(stack_args)) as env:
        if v6:
            ipv6_link(env)
        if link:
            impair(env, **link)
        base = steady_gauges(env) if mode != "socket" else None
        for size in sizes:
            digest = xfer_client(env, "write", size, host=host)
            m = env.echo.wait_for(r"sink (\d+) bytes (\S+)(.*)\n", 60, start=pos)
            pos = m.end()
            check(m.group(3) == "" and int(m.group(1)) == size, f"sink: {m.group(0)}")
            with open(m.group(2), "rb") as fh:
                got = hashlib.sha256(fh.read()).hexdigest()
            os.unlink(m.group(2))
            check(got == digest, f"sink of {size}: sha256 differs")
        if base:
            after = wait_gauges(env, base, timeout=15)
            check(after == base, f"flows/mbufs {after} after, {base} before")


def test_tap_tcp_ipv6():
    """TCP over IPv6 against the kernel's: fjord-echo's one port-7
    listener takes kernel clients over its global IPv6 address (1 MiB and
    64 MiB echoed, both directions at once, and 50 concurrent connections
    of 16 KiB), over its link-local address, and over IPv4 beside them,
    all SHA-256 checked; a port nobody listens on answers with a RST. The
    flows and buffers go back to their baseline; no checksum drops."""
    with Env("tcp6", echo_args=["--ip6", f"{FJ_IP6}/64", "--msl", "1"]) as env:
        ipv6_link(env)
        base = steady_gauges(env)
        tcp_client(env, "echo", 1 << 20, 1, host=FJ_IP6)
        tcp_client(env, "echo", 64 << 20, 1, host=FJ_IP6)
        tcp_client(env, "echo", 16384, 50, host=FJ_IP6)
        tcp_client(env, "echo", 1 << 20, 1, host=fjord_link_local(env.mac) + "%fj0")
        tcp_client(env, "echo", 1 << 20, 1)
        tcp_client(env, "refused", host=FJ_IP6, port=8)
        after = wait_gauges(env, base, timeout=15)
        check(after == base, f"flows/mbufs {after} after, {base} before")
        c = env.counters()
        check(c["tcp_passive_opens"] == 54, f"passive opens: {c['tcp_passive_opens']}")
        check(c["drop_tcp_checksum"] == 0 and c["tcp_rst_tx"] >= 1, f"counters: {c}")
        log(f"tcp_rx {c['tcp_rx']}, ip6_rx {c['ip6_rx']}, retransmits "
            f"{c['tcp_retransmits'] + c['tcp_fast_retransmits']}, referenced segments "
            f"{c['tcp_tx_ref_segs']}")


def test_tcp_ipv6_one_way_transfers():
    """fj-xfer over IPv6: 1 MiB and 64 MiB each way, SHA-256 checked (the
    kernel's side, as a client, opens every connection)."""
    one_way("x6", sizes=(1 << 20, 64 << 20), v6=True)


def test_tcp_ipv6_lossy_link():
    """64 MiB each way over IPv6 on a link that loses 3 % each way and
    duplicates 1 % of the kernel's segments (nftables' netdev hooks, which
    see either family): byte-exact."""
    one_way("x6l", sizes=(64 << 20,), v6=True,
            link={"loss_in": 3, "loss_out": 3, "dup_out": 1})


def test_tcp_ipv6_active_open_and_icmp6():
    """fjord opens over IPv6 (fj-xfer --get, a second fjord on a second
    tap of the namespace) through the kernel as its router: 8 MiB from a
    fjord source over a path whose route MTU is 1,280, which the router's
    packet too big brings down (RFC 8201); then a connect to a prohibited
    network fails at once on the router's ICMPv6 "administratively
    prohibited" (a hard error), not after a minute of SYN retries."""
    with Env("tcp6a", app=XFER, echo_args=("--ip6", f"{FJ_IP6}/64", "--gw6", KERNEL_IP6,
                                            "--msl", "1", "--source")) as env:
        ipv6_link(env)
        ns = env.ns
        ns_run(ns, "sysctl", "-qw", "net.ipv6.conf.all.forwarding=1")
        ns_run(ns, "ip", "-6", "route", "add", "prohibit", "2001:db8:99::/64")

        def getter(tag, net, target, size):
            prefix = f"fjs_{tag}_{os.getpid()}"
            h.cleanup_prefix(prefix)
            g = env.add(Proc(["ip", "netns", "exec", ns, "stdbuf", "-o0", XFER, "-l", "1",
                              "--file-prefix", prefix, "--no-pci", "--no-huge", "-m", "256",
                              "--vdev", f"net_tap1,iface=fj{tag}", "--", "--ip", "10.78.0.2/24",
                              "--ip6", f"{net}::2/64", "--gw6", f"{net}::1",
                              "--get", target, str(size)], "get" + tag, prefix))
            deadline = time.time() + 20
            while ns_run(ns, "ip", "link", "show", f"fj{tag}", check_rc=False).returncode:
                check(time.time() < deadline and g.alive(), f"tap did not appear:\n{g.tail()}")
                time.sleep(0.1)
            ns_run(ns, "sysctl", "-qw", f"net.ipv6.conf.fj{tag}.accept_dad=0")
            ns_run(ns, "ip", "addr", "add", f"{net}::1/64", "dev", f"fj{tag}", "nodad")
            # (a MAC of its own: net_tap gives it the second fjord's)
            ns_run(ns, "ip", "link", "set", f"fj{tag}", "address", "02:00:00:78:00:01")
            ns_run(ns, "ip", "link", "set", f"fj{tag}", "up")
            # The route's MTU, not the link's (the tap's own is fjord's to
            # set as its port starts): the router is the one to say 1,280.
            ns_run(ns, "ip", "-6", "route", "replace", f"{net}::/64", "dev", f"fj{tag}",
                   "metric", "256", "mtu", "1280")
            return g

        g = getter("g", "2001:db8:7", FJ_IP6, 8 << 20)
        m = g.wait_for(r"get (\d+) bytes (\w+)\n|get: the connection failed: (.*)\n", 120)
        check(m.group(1) == str(8 << 20) and m.group(2) == "OK", m.group(0))
        g.kill(2)
        g.wait_for(r"drop_oversize \d+", 20)
        gc = {k: int(v) for k, v in re.findall(r"^(\w+) (\d+)\s*$", g.output(), re.M)}
        check(gc["tcp_active_opens"] == 1, f"client counters: {gc}")
        g2 = getter("p", "2001:db8:8", "2001:db8:99::1", 1000)
        t0 = time.time()
        m = g2.wait_for(r"get: the connection failed: (.*)\n", 20)
        took = time.time() - t0
        check("Permission denied" in m.group(1), f"the connect failed with {m.group(1)!r}")
        check(took < 8, f"the connect failed only after {took:.1f}s")
        c = env.counters()
        check(c["tcp_pmtu_updates"] >= 1 and c["ip6_pmtu_updates"] >= 1,
              f"no path MTU update at the source: {c}")
        log(f"8 MiB over IPv6 through an MTU of 1,280: path MTU updates "
            f"{c['tcp_pmtu_updates']}; prohibited connect failed in {took:.1f}s")


def test_tcp_icmp_prohibited_fails_a_connect_at_once():
    """The kernel, routing for fjord, answers its SYN to a prohibited
    network with ICMP "administratively prohibited" (a hard error, RFC 1122
    §4.2.3.9): fj-xfer's connect fails with EACCES at once, not after a
    minute of SYN retries."""
    with Env("icmpp", app=XFER, echo_args=("--gw", KERNEL_IP, "--source")) as env:
        ns_run(env.ns, "sysctl", "-qw", "net.ipv4.ip_forward=1")
        ns_run(env.ns, "ip", "route", "add", "prohibit", "10.201.0.0/24")
        prefix = f"fjs_icmpg_{os.getpid()}"
        h.cleanup_prefix(prefix)
        # A second fjord on a second tap of the same namespace, the client.
        g = env.add(Proc(["ip", "netns", "exec", env.ns, "stdbuf", "-o0", XFER, "-l", "1",
                          "--file-prefix", prefix, "--no-pci", "--no-huge", "-m", "256",
                          "--vdev", "net_tap1,iface=fj1", "--", "--ip", "10.78.0.2/24",
                          "--gw", "10.78.0.1", "--get", "10.201.0.1", "1000"], "get", prefix))
        deadline = time.time() + 20
        while ns_run(env.ns, "ip", "link", "show", "fj1", check_rc=False).returncode:
            check(time.time() < deadline and g.alive(), f"tap fj1 did not appear:\n{g.tail()}")
            time.sleep(0.1)
        ns_run(env.ns, "ip", "addr", "add", "10.78.0.1/24", "dev", "fj1")
        ns_run(env.ns, "ip", "link", "set", "fj1", "up")
        t0 = time.time()
        m = g.wait_for(r"get: the connection failed: (.*)\n", 20)
        took = time.time() - t0
        check("Permission denied" in m.group(1), f"the connect failed with {m.group(1)!r}")
        # The link comes up, ARP, then the SYN: within a few seconds (the
        # SYN retries alone would take 63 s).
        check(took < 8, f"the connect failed only after {took:.1f}s")
        g.wait_for(r"tcp_icmp_aborts (\d+)", 20)
        c = {k: int(v) for k, v in re.findall(r"^(\w+) (\d+)\s*$", g.output(), re.M)}
        check(c["tcp_icmp_aborts"] == 1 and c["icmp_errors_rx"] >= 1, f"counters: {c}")
        log(f"connect refused by ICMP in {took:.1f}s")


def test_tcp_path_mtu_discovery_through_a_kernel_router():
    """fjord sends 1460-byte segments with DF to a kernel client whose
    path, through the kernel of fjord's namespace as a router, has a
    route MTU of 1000: the router's "fragmentation needed" lowers fjord's
    segment size (RFC 1191) and 8 MiB arrive intact (without PMTU discovery
    the flow black-holes)."""
    client = f"fjc{os.getpid() % 100000}"
    with Env("pmtu", app=XFER, echo_args=("--gw", KERNEL_IP, "--msl", "1", "--source")) as env:
        try:
            subprocess.run(["ip", "netns", "del", client], stderr=subprocess.DEVNULL)
            subprocess.run(["ip", "netns", "add", client], check=True)
            ns_run(env.ns, "ip", "link", "add", "fjr0", "type", "veth", "peer", "name", "fjc0",
                   "netns", client)
            ns_run(env.ns, "ip", "addr", "add", "10.79.0.1/24", "dev", "fjr0")
            ns_run(env.ns, "ip", "link", "set", "fjr0", "up")
            ns_run(client, "ip", "addr", "add", "10.79.0.2/24", "dev", "fjc0")
            ns_run(client, "ip", "link", "set", "fjc0", "up")
            ns_run(client, "ip", "link", "set", "lo", "up")
            ns_run(client, "ip", "route", "add", "default", "via", "10.79.0.1")
            ns_run(env.ns, "sysctl", "-qw", "net.ipv4.ip_forward=1")
            ns_run(env.ns, "ip", "route", "change", "10.79.0.0/24", "dev", "fjr0", "src",
                   "10.79.0.1", "mtu", "1000")
            xfer_client(env, "read", 8 << 20, timeout=120, ns=client)
            c = env.counters()
            check(c["tcp_pmtu_updates"] >= 1, f"no path MTU update: {c}")
            log(f"path MTU updates {c['tcp_pmtu_updates']}, ICMP errors {c['icmp_errors_rx']}, "
                f"retransmits {c['tcp_retransmits']}")
        finally:
            subprocess.run(["ip", "netns", "del", client], stderr=subprocess.DEVNULL)


def test_tcp_one_way_transfers():
    """1 MiB, 64 MiB and 1 GiB each way, alone: fjord sends (and closes
    first), fjord receives (the kernel closes first); SHA-256 checked. fjord
    sends by default as it can over net_tap, which offers TSO (cut in
    software, rte_gso) and checksums: segments up to 64 KiB whose payload
    refers to the send queue's buffers."""
    one_way("xfer", sizes=(1 << 20, 64 << 20, 1 << 30))


def test_tcp_one_way_transfers_no_tso():
    """The same with --no-tso (every payload copied into one-MSS segments):
    1 MiB and 1 GiB each way, SHA-256 checked."""
    one_way("xfn", sizes=(1 << 20, 1 << 30), stack_args=("--no-tso",))


def test_tcp_socket_one_way_transfers():
    """The same through fjord's kernel-sockets backend."""
    one_way("xfs", mode="socket", sizes=(1 << 20, 16 << 20))


def test_tcp_reordering_link():
    """10 % of the segments each way held back 2 ms so that later ones
    overtake them: echo (both directions at once) and one-way transfers
    each way complete byte-exact."""
    with Env("tcpo") as env:
        impair(env, reorder=10)
        tcp_client(env, "echo", 1 << 20, 4, timeout=300)
        c = env.counters()
        log(f"retransmits {c['tcp_retransmits']}, fast {c['tcp_fast_retransmits']}, "
            f"sack recoveries {c['tcp_sack_recoveries']}")
    one_way("reo", sizes=(1 << 20, 64 << 20), link={"reorder": 10})


def test_tcp_delayed_jittery_link():
    """1 ms delay with 0.5 ms jitter each way, 1 % of fjord's segments
    duplicated: echo and one-way transfers complete byte-exact."""
    with Env("tcpj") as env:
        impair(env, delay_us=1000, jitter_us=500, dup_in=1)
        tcp_client(env, "echo", 1 << 20, 4, timeout=300)
    one_way("jit", sizes=(4 << 20,), link={"delay_us": 1000, "jitter_us": 500})


SYN_FLOOD = r"""
import random, socket, struct, sys
dst, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
r = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
rnd = random.Random(3)
d = socket.inet_aton(dst)
for i in range(n):
    src = socket.inet_aton("10.77.0.%d" % rnd.randint(100, 250))
    sport = rnd.randint(1024, 65535)
    tcp = struct.pack("!HHIIBBHHH", sport, port, rnd.getrandbits(32), 0, 5 << 4, 0x02, 65535, 0, 0)
    c = csum(src + d + struct.pack("!BBH", 0, 6, len(tcp)) + tcp)
    tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), i & 0xffff, 0, 64, 6, 0, src, d)
    r.sendto(ip + tcp, (dst, 0))
print("OK flood", n)
"""


def test_tcp_syn_flood():
    """20,000 SYNs from spoofed addresses fill the half-open queue; kernel
    clients still connect and echo (SYN cookies, with the options Linux
    asked for carried in the timestamps), and memory stays bounded."""
    with Env("tcpf") as env:
        r = ns_run(env.ns, "python3", "-c", SYN_FLOOD, FJ_IP, "7", "20000", timeout=120)
        log(r.stdout.strip())
        flows, mbufs = tcp_gauges(env)
        check(flows <= 1024, f"{flows} flows after the flood")
        tcp_client(env, "echo", 256 << 10, 20, timeout=120)
        tcp_client(env, "cycles", 100)
        c = env.counters()
        check(c["tcp_syncookies_sent"] > 0 and c["tcp_syncookies_ok"] >= 120,
              f"cookies sent {c['tcp_syncookies_sent']} ok {c['tcp_syncookies_ok']}")
        log(f"flows {flows}, mbufs {mbufs} after the flood; cookies sent "
            f"{c['tcp_syncookies_sent']}, ok {c['tcp_syncookies_ok']}, "
            f"failed {c['tcp_syncookies_failed']}")


def test_bad_arguments():
    """Bad stack arguments fail with one clear line, not a crash."""
    cases = [(["--", "--ip", "10.1.1.1/33"], "prefix length"),
             (["--", "--ip", "300.1.1.1/24"], "bad address"),
             (["--", "--net", "carrier-pigeon"], "bad value"),
             (["--"], "needs --ip"),
             (["--", "--ip", "10.0.0.2/24", "--gw", "10.9.9.9"], "not on the link"),
             (["--", "--net", "socket", "--frobnicate"], "unknown or incomplete"),
             (["--", "--config", "/nonexistent"], "cannot read")]
    for args, want in cases:
        r = subprocess.run([ECHO, "--no-huge", "--no-pci", "-m", "64"] + args,
                           capture_output=True, text=True, timeout=60)
        check(r.returncode != 0 and want in r.stderr,
              f"{args}: rc {r.returncode}, stderr {r.stderr.strip()!r}")
    r = subprocess.run([ECHO, "--help"], capture_output=True, text=True, timeout=10)
    check(r.returncode == 0 and "--net direct|socket" in r.stdout, "--help")


if __name__ == "__main__":
    h.run({n[5:]: f for n, f in globals().items() if n.startswith("test_")})

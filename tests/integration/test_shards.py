#!/usr/bin/env python3
"""fjord's stack on two shards (two lcores, two queue pairs) against the
Linux kernel in a test-made namespace.

On a 2-queue net_tap port and on fjord's PMD over a 2-queue vhost-user port
(neither has RSS: frames are steered in software), kernel clients echo over
TCP and UDP; both shards must serve flows and both tx queues carry traffic
(DPDK's ethdev xstats through telemetry), and after 10,000 connect/close
cycles every shard's flows and buffers are back where they were. fjord-bench
on two shards is then the client of a kernel server: its active opens pick
source ports whose replies come back to the opening shard.
"""
import os
import re
import subprocess
import time

import harness as h
from harness import Proc, check, log
import test_stack as ts

BENCH = os.path.join(h.BUILD, "apps", "fjord-bench")


def shard_values(env, i):
    return ts.telemetry(env.echo.prefix, f"/fjord/stack,{i}")["/fjord/stack"]


def shard_gauges(env):
    return [(v["tcp_flows"], v["mbufs_in_use"]) for v in
            (shard_values(env, i) for i in range(env.shards))]


def wait_shard_gauges(env, want, timeout=15):
    deadline = time.time() + timeout
    while True:
        g = shard_gauges(env)
        if g == want or time.time() > deadline:
            return g
        time.sleep(0.2)


def tx_queue_packets(env):
    x = ts.telemetry(env.echo.prefix, "/ethdev/xstats,0")["/ethdev/xstats"]
    return [x.get(f"tx_q{q}_packets", 0) for q in range(env.shards)]


def ip4(a):
    return int.from_bytes(bytes(int(x) for x in a.split(".")), "big")


def flow_owner(ip_a, ip_b, port_a, port_b, n):
    """stack/flow_hash.h's fj_flow_owner, to pick flows for each shard."""
    m = 0xffffffff
    x = ((ip4(ip_a) ^ ip4(ip_b)) + (port_a ^ port_b) * 0x9e3779b1) & m
    x ^= x >> 16
    x = (x * 0x85ebca6b) & m
    x ^= x >> 13
    x = (x * 0xc2b2ae35) & m
    x ^= x >> 16
    return x % n


def port_for(shard, n, src=ts.KERNEL_IP, lo=40000):
    return next(p for p in range(lo, lo + 1000)
                if flow_owner(src, ts.FJ_IP, p, 7, n) == shard)


def two_shards(name, mode):
    # Over vhost-user the bridge's polling thread shares a core with a
    # shard: the shards give the core away when idle.
    args = ["--idle-yield"] if mode == "pmd" else []
    with ts.Env(name, mode=mode, shards=2, echo_args=args) as env:
        check(re.search(r"2 shards on 2 queue pairs, flows steered by software",
                        env.echo.output()), f"no 2-shard line:\n{env.echo.tail(20)}")
        # Warm up first: a vhost-user port's tx ring keeps sent buffers
        # until its next reclaim, up to the ring's size (1024).
        ts.tcp_client(env, "echo", 16384, 100)
        # (once no flow of the warm-up is still closing: a baseline with
        # one in LAST-ACK would be a flow too many)
        deadline = time.time() + 10
        base = shard_gauges(env)
        while any(g[0] for g in base) and time.time() < deadline:
            time.sleep(0.2)
            base = shard_gauges(env)
        slack = 0 if mode == "tap" else 1024
        ts.tcp_client(env, "echo", 16384, 1000)
        # One UDP flow to each shard (source ports chosen by the steering
        # hash): each shard must receive exactly its flow's datagrams.
        for i in range(2):
            ts.udp_echo(env, n=5000, sport=port_for(i, 2))
        ts.tcp_client(env, "cycles", 10000)
        after = wait_shard_gauges(env, base)
        check(all(a[0] == b[0] and abs(a[1] - b[1]) <= slack for a, b in zip(after, base)),
              f"per shard (flows, mbufs): {after} after, {base} before")
        per = [shard_values(env, i) for i in range(2)]
        for i, v in enumerate(per):
            check(v["tcp_passive_opens"] > 500 and 5000 <= v["udp_rx"] <= 5010,
                  f"shard {i} served too little: passive opens {v['tcp_passive_opens']}, "
                  f"udp_rx {v['udp_rx']}")
        opens = sum(v["tcp_passive_opens"] for v in per)
        udp = sum(v["udp_rx"] for v in per)
        check(opens == 11100 and udp >= 10000, f"opens {opens}, udp_rx {udp}")
        txq = tx_queue_packets(env)
        check(all(n > 1000 for n in txq), f"tx queue packets {txq}")
        steered = sum(v["steered_in"] for v in per)
        drops = sum(v["drop_steer_ring_full"] for v in per)
        log(f"{mode}: (flows, mbufs) per shard {base} before, {after} after; opens {[v['tcp_passive_opens'] for v in per]}, "
            f"datagrams {[v['udp_rx'] for v in per]}; tx queues {txq}; {steered} frames "
            f"steered, {drops} steering drops")
        check(drops == 0, f"{drops} frames dropped at a full steering ring")


def test_tap_two_shards():
    two_shards("sh2tap", "tap")


def test_pmd_two_shards():
    two_shards("sh2pmd", "pmd")


def test_socket_two_shards():
    """fjord-echo --net socket on two lcores: two threads, an epoll each,
    the ports shared by SO_REUSEPORT. The group's BPF program gives each
    flow to the shard the steering hash names (what fj_stack_shard_of
    tells an application): one UDP flow meant for each shard arrives
    exactly there, and TCP connections land on both."""
    with ts.Env("sh2sock", mode="socket", shards=2) as env:
        for i in range(2):
            # Over loopback the kernel sends from the destination address.
            ts.udp_echo(env, n=2000, sport=port_for(i, 2, src=ts.FJ_IP))
        ts.tcp_client(env, "echo", 16384, 200)
        # (no telemetry on kernel sockets: the final dump has each shard's)
        env.counters()
        per = [{}, {}]
        for m in re.finditer(r"^shard(\d)\.(\w+) (\d+)$", env.echo.output(), re.M):
            per[int(m.group(1))][m.group(2)] = int(m.group(3))
        log(f"socket: datagrams per shard {[v.get('udp_rx') for v in per]}, TCP connections "
            f"{[v.get('tcp_established') for v in per]}")
        for i, v in enumerate(per):
            check(2000 <= v.get("udp_rx", 0) <= 2002 and v.get("tcp_established", 0) > 40,
                  f"shard {i}: {v}")


def test_vm_rss_two_shards():
    """fjord-echo on two lcores inside a QEMU guest, on fjord's PCI driver
    with RSS (virtio-net-pci mq=on,rss=on, vhost off, a 2-queue tap in a
    test-made namespace whose kernel is the client). Flows reach their
    shard by the device's RSS, no frame is steered in software; one UDP
    flow picked for each queue by its Toeplitz hash lands on that shard,
    TCP connections land on both, everything echoes intact."""
    import shutil
    import struct
    from vmguest import GuestTestpmd, Netns
    from test_pci import MS_KEY, RETA_SIZE, udp4_hash
    d = h.workdir()
    g = ns = None
    vm_ip, host_ip = "10.78.0.2", "10.78.0.1"
    echo = os.path.abspath(ts.ECHO)  # the guest holds fjord's build at the host's paths
    cmd = (f'{echo} -l 0,1 -d "$FJ_PMD" -a "$FJ_BDF" -- --ip {vm_ip}/24 --stats 0 & pid=$!; '
           'read -r line; kill -INT $pid; wait $pid')
    try:
        ns = Netns(f"fjvmrss{os.getpid() % 100000}")
        g = GuestTestpmd("vm_rss", d, cmd=cmd, nic="mq=on,rss=on,vectors=6",
                         tap=(ns.name, "fjvm0", 2))
        ns.packet_socket("fjvm0").close()  # waits for the tap, brings it up
        r = ns.run("ip", "addr", "add", f"{host_ip}/24", "dev", "fjvm0")
        check(r.returncode == 0, f"address on the tap: {r.stderr}")
        g.wait_for(r"serving UDP port 7 and TCP port 7 over direct", 180)
        check(re.search(r"2 shards on 2 queue pairs, flows steered by the port's RSS",
                        g.output()), f"not on RSS:\n{g.tail(30)}")

        def queue_of(sport):
            h4 = udp4_hash(MS_KEY, bytes(int(x) for x in host_ip.split(".")),
                           bytes(int(x) for x in vm_ip.split(".")), sport, 7)
            return h4 % RETA_SIZE % 2
        env = ts.Env.__new__(ts.Env)
        env.ns = ns.name
        for q in range(2):
            sport = next(p for p in range(41000, 42000) if queue_of(p) == q)
            ts.udp_echo(env, n=500, window=8, host=vm_ip, sport=sport)
        ts.tcp_client(env, "echo", 16384, 32, host=vm_ip)
        g.send("stop")
        g.wait_for(r"FJVM-EXIT (\d+)", 60)
        out = g.output()
        per = [{}, {}]
        for m in re.finditer(r"^shard(\d)\.(\w+) (\d+)\s*$", out, re.M):
            per[int(m.group(1))][m.group(2)] = int(m.group(3))
        log(f"guest on RSS: datagrams per shard {[v.get('udp_rx') for v in per]}, passive "
            f"opens {[v.get('tcp_passive_opens') for v in per]}, steered "
            f"{[v.get('steered_in', 0) for v in per]}")
        for i, v in enumerate(per):
            check(500 <= v.get("udp_rx", 0) <= 505 and v.get("tcp_passive_opens", 0) > 0
                  and v.get("steered_in", 0) == 0, f"shard {i}: {v}")
        check(re.search(r"FJVM-EXIT 0", out), f"fjord-echo failed:\n{g.tail(50)}")
    finally:
        if g:
            g.close()
        if ns:
            ns.close()
        shutil.rmtree(d, ignore_errors=True)


# The kernel echo server for many connections at once: fjord-kernel-echo
# (epoll, kernel sockets only), which takes a thousand connections at once.
KECHO = os.environ.get("FJ_KERNEL_ECHO", os.path.join(h.BUILD, "bench", "fjord-kernel-echo"))


def test_bench_two_shards_as_client():
    """fjord-bench on two shards opens 1,000 connections to a kernel echo
    server: every one must be established and echo without error (a source
    port whose replies went to the other shard would meet no flow there and
    be reset), and both shards open connections."""
    env = ts.Env.__new__(ts.Env)
    env.ns = f"fjshb{os.getpid() % 100000}"
    env.dir = h.workdir()
    env.procs = []
    prefix = f"fjshb_{os.getpid()}"
    try:
        subprocess.run(["ip", "netns", "del", env.ns], stderr=subprocess.DEVNULL)
        subprocess.run(["ip", "netns", "add", env.ns], check=True)
        ts.ns_run(env.ns, "ip", "link", "set", "lo", "up")
        h.cleanup_prefix(prefix)
        bench = env.add(Proc(["ip", "netns", "exec", env.ns, "stdbuf", "-o0", BENCH, "-l", "0,1",
                              "--file-prefix", prefix, "--no-pci", "--no-huge", "-m", "512",
                              "--vdev", "net_tap0,iface=fj0", "--", "--ip", f"{ts.FJ_IP}/24",
                              "--server", f"{ts.KERNEL_IP}:7007", "--conns", "1000",
                              "--duration", "4", "--warmup", "6"], "bench", prefix))
        deadline = time.time() + 20
        while ts.ns_run(env.ns, "ip", "link", "show", "fj0", check_rc=False).returncode:
            check(time.time() < deadline and bench.alive(), f"no tap:\n{bench.tail()}")
            time.sleep(0.1)
        # The server listens (on any address) before the kernel takes its
        # address: net_tap brings the link up itself when the port starts,
        # so the first SYN follows the first ARP reply, and a SYN that came
        # before the listener would be refused (a reset), not a steering
        # fault.
        srv = env.add(Proc(["ip", "netns", "exec", env.ns, KECHO, "--mode", "epoll", "--port",
                            "7007", "--discard-port", "7009"], "kernel-echo"))
        srv.wait_for(r"serving UDP port 7007", 10)
        ts.ns_run(env.ns, "ip", "addr", "add", f"{ts.KERNEL_IP}/24", "dev", "fj0")
        ts.ns_run(env.ns, "ip", "link", "set", "fj0", "up")
        m = bench.wait_for(r"RESULT (.*)\n", 90)
        kv = dict(x.split("=", 1) for x in m.group(1).split())
        bench.wait(20)
        out = bench.output()
        opens = [int(x) for x in re.findall(r"^shard\d\.tcp_active_opens (\d+)$", out, re.M)]
        resets = int(re.search(r"^tcp_rst_rx (\d+)$", out, re.M).group(1))
        log(f"fjord-bench on 2 shards: {kv['rate']} req/s, errors {kv['errors']}, active opens "
            f"per shard {opens}, resets received {resets}")
        check(kv["shards"] == "2" and float(kv["rate"]) > 0 and kv["errors"] == "0",
              f"RESULT {m.group(1)}")
        check(len(opens) == 2 and min(opens) >= 400 and sum(opens) == 1000 and resets == 0,
              f"active opens per shard {opens}, resets {resets}")
    finally:
        ts.Env.close(env)


if __name__ == "__main__":
    h.run({n[5:]: f for n, f in globals().items() if n.startswith("test_")})

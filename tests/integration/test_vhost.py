#!/usr/bin/env python3
"""fjord's PMD over vhost-user against DPDK's own net_vhost back-end.

The back-end is Debian's dpdk-testpmd with --vdev net_vhost0; fjord runs in a
second dpdk-testpmd loading librte_net_fjord.so with -d (or in fj-pktcheck).
Each process gets its own core for forwarding (2 cores on this machine).
"""
import os
import re
import shutil
import time

import harness as h
from harness import check, log

PKTCHECK = os.environ.get("FJ_PKTCHECK", os.path.join(h.BUILD, "tests", "integration",
                                                      "fj-pktcheck"))


class Pair:
    """A back-end and a fjord testpmd; always torn down, by PID."""

    def __init__(self):
        self.dir = h.workdir()
        self.sock = os.path.join(self.dir, "vu.sock")
        self.procs = []

    def add(self, p):
        self.procs.append(p)
        return p

    def close(self):
        for p in reversed(self.procs):
            p.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def traffic(sender, receiver, seconds=3):
    """Receiver first, sender for @seconds, sender stops first so the
    receiver drains what is in flight."""
    receiver.cmd("start")
    sender.cmd("start")
    time.sleep(seconds)
    sender.cmd("stop")
    time.sleep(1)
    receiver.cmd("stop")


def test_tx_counts():
    """fjord txonly -> back-end rxonly: every packet fjord sent arrives."""
    with Pair() as p:
        be = p.add(h.backend(p.sock, fwd_args=["--forward-mode=rxonly"]))
        fj = p.add(h.fjord(p.sock, fwd_args=["--forward-mode=txonly", "--txpkts=64"]))
        fj.wait_link(True)
        traffic(fj, be)
        sent = fj.port_stats()["tx"]
        got = be.port_stats()["rx"]
        log(f"fjord sent {sent}, back-end received {got}")
        check(sent > 100000, f"fjord sent only {sent} packets in 3 s")
        check(sent == got, f"fjord sent {sent} but the back-end received {got}")
        xs = fj.xstats()
        check(xs.get("tx_q0_packets") == sent, f"xstats tx_q0_packets {xs.get('tx_q0_packets')}")
        check(fj.quit() == 0, "fjord testpmd did not exit cleanly")


def test_rx_counts():
    """back-end txonly -> fjord rxonly: every packet the back-end sent arrives."""
    with Pair() as p:
        be = p.add(h.backend(p.sock, fwd_args=["--forward-mode=txonly", "--txpkts=64"]))
        fj = p.add(h.fjord(p.sock, fwd_args=["--forward-mode=rxonly"]))
        fj.wait_link(True)
        traffic(be, fj)
        sent = be.port_stats()["tx"]
        st = fj.port_stats()
        log(f"back-end sent {sent}, fjord received {st['rx']}")
        check(sent > 100000, f"back-end sent only {sent} packets in 3 s")
        check(st["rx"] == sent, f"back-end sent {sent} but fjord received {st['rx']}")
        check(st["rx_bytes"] == 64 * sent, f"fjord rx bytes {st['rx_bytes']} != 64 * {sent}")
        check(fj.quit() == 0, "fjord testpmd did not exit cleanly")


def pktcheck(p, args, name="pktcheck", timeout=240, devargs=""):
    prefix = f"fjit_{name}_{os.getpid()}"
    h.cleanup_prefix(prefix)
    argv = [PKTCHECK, "-l", "0", "--file-prefix", prefix, "--single-file-segments", "-m",
            "512", "--no-pci", "-d", h.PMD, "--vdev", f"net_fjord_vhost0,path={p.sock}" + ("," + devargs if devargs else ""),
            "--log-level=pmd.net.fjord:info", "--"] + args
    pc = p.add(h.Proc(argv, name, prefix))
    rc = pc.wait(timeout)
    log(pc.tail(30))
    check(rc == 0, f"fj-pktcheck exited with {rc}")
    check("pktcheck: PASS" in pc.output(), "fj-pktcheck did not pass")
    return pc.output()


def test_macswap_payload(devargs="", sizes=None):
    """Numbered frames of 60 B to 9000 B (chained mbufs, mergeable rx
    buffers) go through the back-end's macswap and come back byte-exact."""
    extra = ["--sizes", sizes] if sizes else []
    with Pair() as p:
        be = p.add(h.backend(p.sock, fwd_args=["--forward-mode=macswap",
                                                "--max-pkt-len=9018"],
                             lcores="0,1", main=0))
        be.cmd("start")
        out = pktcheck(p, ["--count", "20000"] + extra, devargs=devargs)
        m = re.search(r"q0: (\d+) frames", out)
        check(m and int(m.group(1)) == 20000, "not all 20000 frames came back")
        xs_out = be.cmd("show port stats 0")
        log(xs_out)


def test_restart_cycles(devargs=""):
    """Stop, reconfigure (1 <-> 2 queue pairs) and restart the port 6 times,
    exchanging checked frames on every queue after each restart; a stopped
    port holds no mbufs."""
    with Pair() as p:
        be = p.add(h.backend(p.sock, queues=2,
                             fwd_args=["--forward-mode=macswap", "--rxq=2", "--txq=2",
                                       "--max-pkt-len=9018"]))
        be.cmd("start")
        out = pktcheck(p, ["--count", "4000", "--cycles", "6", "--max-queues", "2"],
                       devargs="queues=2" + ("," + devargs if devargs else ""))
        check(out.count("queue pair(s) ok") == 6, "not every restart cycle passed")


def test_restart_under_traffic():
    """The back-end keeps sending on two queues while fjord's testpmd stops,
    reconfigures (2 <-> 1 queue pairs) and restarts the port 6 times."""
    with Pair() as p:
        be = p.add(h.backend(p.sock, queues=2,
                             fwd_args=["--forward-mode=txonly", "--rxq=2", "--txq=2"]))
        fj = p.add(h.fjord(p.sock, devargs="queues=2",
                           fwd_args=["--forward-mode=rxonly", "--rxq=2", "--txq=2"]))
        fj.wait_link(True)
        fj.cmd("start")
        be.cmd("start")
        for i in range(6):
            before = fj.port_stats()["rx"]
            time.sleep(0.7)
            after = fj.port_stats()["rx"]
            check(after > before, f"cycle {i}: nothing received ({before} -> {after})")
            n = 1 + i % 2
            fj.cmd("stop")
            fj.cmd("port stop 0")
            fj.cmd(f"port config all rxq {n}")
            fj.cmd(f"port config all txq {n}")
            fj.cmd("port start 0")
            fj.wait_link(True)
            fj.cmd("start")
            log(f"cycle {i}: received {after - before} in 0.7 s; restarted with {n} pair(s)")
        be.cmd("stop")
        fj.cmd("stop")
        check(fj.alive() and be.alive(), "a testpmd died")
        check(fj.quit() == 0, "fjord testpmd did not exit cleanly")


def test_multiqueue():
    """Two queue pairs: back-end txonly on both, fjord receives on both."""
    with Pair() as p:
        be = p.add(h.backend(p.sock, queues=2,
                             fwd_args=["--forward-mode=txonly", "--rxq=2", "--txq=2"]))
        fj = p.add(h.fjord(p.sock, devargs="queues=2",
                           fwd_args=["--forward-mode=rxonly", "--rxq=2", "--txq=2"]))
        fj.wait_link(True)
        traffic(be, fj)
        sent = be.port_stats()["tx"]
        xs = fj.xstats()
        q0, q1 = xs.get("rx_q0_packets", 0), xs.get("rx_q1_packets", 0)
        log(f"back-end sent {sent}; fjord rx_q0 {q0}, rx_q1 {q1}")
        check(q0 > 0 and q1 > 0, "a queue received nothing")
        check(q0 + q1 == sent, f"{q0}+{q1} received, {sent} sent")
        # vhost-user has no control queue, hence no RSS: none is claimed.
        info = fj.cmd("show port info 0")
        check("No RSS offload flow type is supported" in info and
              "Redirection table size" not in info, f"vhost-user port claims RSS:\n{info}")
        check(fj.quit() == 0, "fjord testpmd did not exit cleanly")


def test_uneven_queues():
    """Two rx queues and one tx queue (as an l3fwd-style application asks):
    the port starts, the rx queue without a tx partner is live, and fjord's
    single tx queue sends. (testpmd polls only min(rxq, txq) streams, so rx
    queue 1 is not drained: the back-end fills exactly its ring.)"""
    with Pair() as p:
        be = p.add(h.backend(p.sock, queues=2,
                             fwd_args=["--forward-mode=txonly", "--rxq=2", "--txq=2"]))
        fj = p.add(h.fjord(p.sock, devargs="queues=2",
                           fwd_args=["--forward-mode=rxonly", "--rxq=2", "--txq=1",
                                     "--rxd=512"]))
        fj.wait_link(True)
        traffic(be, fj)
        sent = be.port_stats()["tx"]
        xs = fj.xstats()
        q0 = xs.get("rx_q0_packets", 0)
        log(f"back-end sent {sent}; fjord rx_q0 {q0}; rx queue 1 holds {sent - q0}")
        check(q0 > 0, "rx queue 0 received nothing")
        check(sent - q0 == 512, f"rx queue 1 took {sent - q0} frames, its ring has 512")
        check("rx_q1_packets" in xs and "tx_q1_packets" not in xs,
              "xstats do not follow the configured queues")
        be.cmd("set fwd rxonly")
        fj.cmd("set fwd txonly")
        traffic(fj, be, 1)
        check(fj.port_stats()["tx"] == be.port_stats()["rx"] > 0, "fjord's one tx queue")
        check(fj.quit() == 0, "fjord testpmd did not exit cleanly")


def test_backend_killed(devargs=""):
    """Kill the back-end mid-traffic: fjord reports link down, keeps running,
    closes cleanly; a restarted back-end is reached again on port restart."""
    with Pair() as p:
        be = p.add(h.backend(p.sock, fwd_args=["--forward-mode=io"]))
        be.cmd("start")
        fj = p.add(h.fjord(p.sock, devargs=devargs, fwd_args=["--forward-mode=txonly"]))
        fj.wait_link(True)
        fj.cmd("start")
        time.sleep(1.5)
        mark = len(fj.output())
        be.kill()
        be.wait(10)
        fj.wait_for(r"Port 0: link state change event", 15, mark)
        time.sleep(1)
        check(fj.alive(), "fjord's testpmd died with the back-end")
        fj.cmd("stop")
        check(not fj.link_up(), "link still up after the back-end died")
        xs = fj.xstats()
        check(xs.get("link_down_events") == 1, f"link_down_events = {xs.get('link_down_events')}")
        # A new back-end on the same socket: restarting the port reconnects.
        be.close()
        be2 = p.add(h.backend(p.sock, name="backend2", fwd_args=["--forward-mode=rxonly"]))
        be2.cmd("start")
        fj.cmd("port stop 0")
        fj.cmd("port start 0")
        fj.wait_link(True)
        fj.cmd("start")
        time.sleep(2)
        fj.cmd("stop")
        time.sleep(0.5)
        be2.cmd("stop")
        got = be2.port_stats()["rx"]
        check(got > 1000, f"reconnected back-end received only {got}")
        check(fj.quit() == 0, "fjord testpmd did not exit cleanly after the back-end died")


def rx_of(be):
    return be.port_stats()["rx"]


def replace_backends(fj, be, cycles, new_backend):
    """@cycles times: the receiving back-end @be is killed and
    new_backend(i) started (rxonly) while fjord's testpmd sends, untouched;
    each time the PMD logs the rings restarted and the new back-end
    receives. The last back-end, and how long after each was up fjord
    was back."""
    took = []
    for i in range(cycles):
        time.sleep(0.5)
        check(rx_of(be) > 1000, f"cycle {i}: the back-end received only {rx_of(be)}")
        be.kill()
        be.wait(10)
        be.close()
        mark = len(fj.output())
        be = new_backend(i)
        t0 = time.time()
        be.cmd("start")
        fj.wait_for(r"net_fjord_vhost0: vhost-user back-end at \S+ is back, rings restarted",
                    15, mark)
        took.append(time.time() - t0)
    time.sleep(1)
    check(rx_of(be) > 1000, f"the last back-end received only {rx_of(be)}")
    return be, took


def test_backend_restart_resumes(devargs="", cycles=5):
    """The back-end is killed and another starts on the socket, @cycles
    times, while fjord's testpmd sends (txonly) and is never touched: the
    PMD reconnects by itself (bounded back-off), gives the new back-end
    fresh rings and reports the link up; the new back-end receives.
    Counted: link_down_events and restarts, one each a cycle."""
    with Pair() as p:
        be = p.add(h.backend(p.sock, fwd_args=["--forward-mode=rxonly"]))
        be.cmd("start")
        fj = p.add(h.fjord(p.sock, devargs=devargs, fwd_args=["--forward-mode=txonly"]))
        fj.wait_link(True)
        fj.cmd("start")
        be, took = replace_backends(fj, be, cycles, lambda i: p.add(h.backend(
            p.sock, name=f"backend{i + 2}", fwd_args=["--forward-mode=rxonly"])))
        fj.cmd("stop")
        xs = fj.xstats()
        check(xs.get("link_down_events") == cycles and xs.get("restarts") == cycles,
              f"link_down_events {xs.get('link_down_events')}, restarts {xs.get('restarts')}")
        log(f"{cycles} back-end restarts: reconnected {min(took):.2f}-{max(took):.2f}s after "
            f"each new back-end was up; {xs.get('tx_q0_restart_drops')} packets were in the "
            f"ring when it restarted")
        check(fj.quit() == 0, "fjord's testpmd did not exit cleanly")


def test_server_mode_back_end_reconnects(cycles=3):
    """server=1: fjord listens on the socket and DPDK's net_vhost connects
    as a client (client=1); each time that back-end is killed and a new
    one connects, fjord takes it and its rings restart by themselves."""
    with Pair() as p:
        def client_backend(name):
            return p.add(h.Testpmd(name, "0,1", 0, [f"net_vhost0,iface={p.sock},client=1"],
                                   fwd_args=["--forward-mode=rxonly"]))
        be = client_backend("backend")
        fj = p.add(h.fjord(p.sock, devargs="server=1", fwd_args=["--forward-mode=txonly"]))
        fj.wait_link(True)
        be.cmd("start")
        fj.cmd("start")
        be, _ = replace_backends(fj, be, cycles, lambda i: client_backend(f"backend{i + 2}"))
        fj.cmd("stop")
        check(fj.xstats().get("restarts") == cycles, f"xstats {fj.xstats()}")
        check(fj.quit() == 0, "fjord's testpmd did not exit cleanly")
        check(not os.path.exists(p.sock), "fjord left its server socket behind")


BAD_DEVARGS = [
    ("", "path=<unix socket> is required"),
    ("queues=0", "queues=0"),
    ("queues=99", "queues=99"),
    ("queue_size=1000", "power of two"),
    ("mac=01:02:03:04:05:06", "unicast"),
    ("colour=blue", "unknown key"),
    ("in_order=maybe", "0 or 1"),
]


def test_bad_devargs():
    """Bad devargs fail the probe with a clear message, never a crash; a
    socket nobody listens on is an error too."""
    d = h.workdir()
    try:
        cases = [(f"path={d}/none.sock," + a if a else "", msg) for a, msg in BAD_DEVARGS]
        cases[0] = ("", "path=<unix socket> is required")
        cases.append((f"path={d}/none.sock", "cannot connect to vhost-user socket"))
        for i, (args, msg) in enumerate(cases):
            vdev = "net_fjord_vhost0" + ("," + args if args else "")
            prefix = f"fjit_bad{i}_{os.getpid()}"
            argv = [h.TESTPMD, "-l", "0,1", "--file-prefix", prefix, "--single-file-segments",
                    "-m", "256", "--no-pci", "-d", h.PMD, "--vdev", vdev, "--", "-i"]
            pr = h.Proc(argv, f"bad{i}", prefix)
            pr.p.stdin.close()  # testpmd leaves at end of input
            rc = pr.wait(60)
            pr.close()
            out = pr.output()
            log(f"{vdev!r}: exit {rc}; " + " | ".join(l for l in out.splitlines()
                                                     if "fjord" in l))
            check(rc is not None and 0 <= rc < 128, f"{vdev}: exit status {rc} (crash or hang?)")
            check(msg in out, f"{vdev}: no message containing {msg!r}:\n{out}")
            check("failed to initialize net_fjord_vhost0" in out, f"{vdev}: probe did not fail")
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_macswap_payload_split():
    """The payload check over split virtqueues (VIRTIO 1.2 §2.7); the
    default, packed when the back-end offers it, is test_macswap_payload."""
    test_macswap_payload("packed_vq=0")


def test_macswap_payload_out_of_order():
    """The payload check without VIRTIO_F_IN_ORDER, split and packed."""
    test_macswap_payload("in_order=0,packed_vq=0")
    test_macswap_payload("in_order=0,packed_vq=1")


def test_macswap_payload_no_mrg():
    """Without mergeable buffers every frame fits one mbuf (up to 1514 B)."""
    test_macswap_payload("mrg_rxbuf=0,packed_vq=0", "60,64,65,128,511,1024,1500,1514")
    test_macswap_payload("mrg_rxbuf=0,packed_vq=1", "60,64,65,128,511,1024,1500,1514")


def test_backend_killed_split():
    test_backend_killed("packed_vq=0")


def test_backend_restart_resumes_split():
    test_backend_restart_resumes("packed_vq=0")


def test_restart_cycles_split():
    test_restart_cycles("packed_vq=0")


if __name__ == "__main__":
    h.run({n[5:]: f for n, f in globals().items() if n.startswith("test_")})

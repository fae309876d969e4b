#!/usr/bin/env python3
"""fjord's PCI driver (net_fjord) against QEMU's emulated virtio-net-pci.

Each test boots a throw-away guest with tools/vm-run, runs Debian's
dpdk-testpmd there with fjord's plugin on the NIC (bound to vfio-pci behind
a vIOMMU, or to uio_pci_generic), and injects frames from the host through
QEMU's `-netdev socket,udp=` back-end. Every run is bounded in time; the
guest and QEMU are stopped by PID.
"""
import os
import re
import shutil
import struct
import time

import harness as h
from harness import check, log
from vmguest import GuestTestpmd, Injector, Netns, make_frame

FRAMES = 10000
# The ring layout fjord negotiates follows the device's offer: QEMU's
# virtio-net-pci offers VIRTIO_F_RING_PACKED with packed=on.
RINGS = {"split": "", "packed": "packed=on"}


def release(*things, workdir=None):
    """Close what a test opened (injector, guest, namespace; None skipped),
    then remove its work directory."""
    for t in things:
        if t is not None:
            t.close()
    if workdir:
        shutil.rmtree(workdir, ignore_errors=True)


def props(ring, *extra):
    """virtio-net-pci properties for ring layout @ring plus @extra."""
    return ",".join(p for p in (RINGS[ring],) + extra if p)


def check_ring(g, ring):
    """fjord's feature log line names RING_PACKED exactly on packed rings."""
    m = re.search(r"fjord: .*virtio-pci features: (.*)", g.output())
    check(m, f"no feature line from fjord:\n{g.tail(40)}")
    packed = "RING_PACKED" in m.group(1).split()
    check(packed == (ring == "packed"), f"{ring} rings wanted, negotiated: {m.group(1)}")


def macswap(name, ring, bind="vfio", nic="", frames=FRAMES, testpmd_args="", flows=1,
            queues=1):
    d = h.workdir()
    g = inj = ns = None
    try:
        tap = None
        if queues > 1:
            # QEMU's UDP back-end has one queue; a multi-queue tap gives the
            # NIC one back-end queue per queue pair.
            ns = Netns(f"fjpci{os.getpid()}")
            tap = (ns.name, "fjmq0", queues)
        g = GuestTestpmd(name, d, bind=bind, nic=props(ring, nic), tap=tap,
                         testpmd_args="--forward-mode=macswap --auto-start " + testpmd_args)
        psock = ns.packet_socket("fjmq0") if ns else None
        g.wait_prompt(120)
        check_ring(g, ring)
        info = g.cmd("show port info 0")
        check("Driver name: net_fjord" in info, f"the NIC is not driven by fjord:\n{info}")
        check(re.search(r"Link status:\s+up", info), f"link not up:\n{info}")
        inj = Injector(g, packet_sock=psock)
        try:
            inj.macswap_run(frames, flows=flows)
        except h.Failure as e:
            g.cmd("stop")
            raise h.Failure(f"{e}\nguest xstats: {g.xstats()}")
        g.cmd("stop")
        xs = g.xstats()
        rxq = sum(v for k, v in xs.items() if re.fullmatch(r"rx_q\d+_packets", k))
        txq = sum(v for k, v in xs.items() if re.fullmatch(r"tx_q\d+_packets", k))
        per_q = " ".join(f"q{q}:{xs.get(f'rx_q{q}_packets')}/{xs.get(f'tx_q{q}_packets')}"
                         for q in range(queues))
        log(f"xstats: rx_good_packets={xs.get('rx_good_packets')} "
            f"tx_good_packets={xs.get('tx_good_packets')} per queue rx/tx {per_q}")
        # The guest's kernel may not send anything on a NIC it does not own,
        # so fjord's counters must show exactly the injected frames.
        check(xs.get("rx_good_packets") == frames and xs.get("tx_good_packets") == frames,
              f"port counters disagree with the {frames} frames injected: {xs}")
        check(rxq == frames and txq == frames, f"per-queue counters disagree: {xs}")
        for q in range(queues):
            check(xs.get(f"rx_q{q}_packets", 0) > 0 and xs.get(f"tx_q{q}_packets", 0) > 0,
                  f"queue pair {q} carried nothing: {xs}")
        errs = {k: v for k, v in xs.items() if re.search(r"errors$", k) and v}
        check(not errs, f"error counters set: {errs}")
        rc = g.quit()
        check(rc == 0, f"guest testpmd exited with {rc}")
        out = g.output()
        check("Port 0 is closed" in out, "port 0 was not closed cleanly")
        return xs
    finally:
        release(inj, g, ns, workdir=d)


def test_modern_vfio(ring="split"):
    """Modern-only device behind a vIOMMU (ACCESS_PLATFORM, IOVA as VA)."""
    macswap("modern_vfio", ring)


def test_modern_uio(ring="split"):
    """uio_pci_generic: no IOMMU, descriptors carry physical addresses."""
    macswap("modern_uio", ring, bind="uio")


def test_transitional(ring="split"):
    """A transitional device (1af4:1000) driven through its modern interface."""
    # QEMU offers ACCESS_PLATFORM on modern-only devices alone, so no vIOMMU.
    macswap("transitional", ring, bind="uio", nic="disable-legacy=off")


def test_multiqueue(ring="split"):
    """Two queue pairs (MQ, max_virtqueue_pairs = 2): the tap spreads flows
    over both receive queues; every frame comes back on its own queue pair.
    The control queue that enables the second pair has the data queues'
    layout."""
    macswap("multiqueue", ring, nic="mq=on,vectors=6", flows=16, queues=2,
            testpmd_args="--rxq=2 --txq=2")


def test_split_on_request():
    """packed_vq=0 after the PCI address: split rings on a device that
    offers packed ones."""
    d = h.workdir()
    g = inj = None
    try:
        g = GuestTestpmd("split_on_request", d, nic="packed=on", bdf_args=",packed_vq=0",
                         testpmd_args="--forward-mode=macswap --auto-start")
        g.wait_prompt(120)
        check_ring(g, "split")
        inj = Injector(g)
        inj.macswap_run(1000)
        rc = g.quit()
        check(rc == 0, f"guest testpmd exited with {rc}")
    finally:
        release(inj, g, workdir=d)



# Microsoft's RSS key, fjord's default (pmd/rss.c), and a vector from
# Microsoft's RSS verification suite to check the Toeplitz hash below.
MS_KEY = bytes.fromhex("6d5a56da255b0ec24167253d43a38fb0d0ca2bcbae7b30b477cb2da38030f20c"
                       "6a42b73bbeac01fa")
MS_VECTOR = (bytes([66, 9, 149, 187]), bytes([161, 142, 100, 80]), 2794, 1766, 0x51ccc178)
RSS_FLOWS = 16
RETA_SIZE = 128  # QEMU: rss_max_indirection_table_length
PKT_LINE = re.compile(r"port 0/queue (\d+): received \d+ packets|"
                      r"length=(\d+) - nb_segs=\d+( - RSS hash=0x([0-9a-f]+) - RSS queue=0x([0-9a-f]+))?")


def toeplitz(key, data):
    """The Toeplitz hash of @data under @key, as rte_softrss computes it."""
    k, klen, h = int.from_bytes(key, "big"), len(key) * 8, 0
    for i in range(len(data) * 8):
        if data[i // 8] & (0x80 >> (i % 8)):
            h ^= (k >> (klen - 32 - i)) & 0xffffffff
    return h


def udp4_hash(key, src, dst, sport, dport):
    """§5.1.6.4.3: an IPv4 UDP packet hashes its addresses then its ports."""
    return toeplitz(key, src + dst + struct.pack("!HH", sport, dport))


def flow_hash(key, flow):
    """The hash of flow @flow of make_frame (UDP 10.99.0.1:40000+flow -> 10.99.0.2:9)."""
    return udp4_hash(key, bytes([10, 99, 0, 1]), bytes([10, 99, 0, 2]), 40000 + flow, 9)


def rss_key(g):
    """The key fjord reports (rss_hash_conf_get, as testpmd shows it)."""
    out = g.cmd("show port 0 rss-hash key")
    m = re.search(r"RSS key:\s*([0-9A-Fa-f]+)", out)
    check(m, f"no RSS key shown:\n{out}")
    return bytes.fromhex(m.group(1))


def rss_rx(g, inj, per_flow):
    """testpmd (rxonly, verbose) receives @per_flow frames of each flow,
    frame length 64 + flow naming the flow; returns [(flow, queue, hash)],
    hash None when the mbuf carried none."""
    start = len(g.output())
    g.cmd("start")
    for seq in range(RSS_FLOWS * per_flow):
        inj._send(make_frame(seq, 64 + seq % RSS_FLOWS, RSS_FLOWS))
    deadline = time.time() + 30
    while True:
        got = [m for m in PKT_LINE.finditer(g.output(), start) if m.group(2)]
        if len(got) >= RSS_FLOWS * per_flow or time.time() > deadline:
            break
        time.sleep(0.5)
    g.cmd("stop")
    seen, queue = [], None
    for m in PKT_LINE.finditer(g.output(), start):
        if m.group(1) is not None:
            queue = int(m.group(1))
        elif m.group(3):
            check(int(m.group(5), 16) == queue, f"RSS queue line disagrees: {m.group(0)}")
            seen.append((int(m.group(2)) - 64, queue, int(m.group(4), 16)))
        else:
            seen.append((int(m.group(2)) - 64, queue, None))
    check(len(seen) == RSS_FLOWS * per_flow,
          f"{len(seen)} of {RSS_FLOWS * per_flow} frames received:\n{g.tail(30)}")
    return seen


def rss_guest(name, d, ns, hash_report):
    nic = "mq=on,rss=on,vectors=6" + (",hash=on" if hash_report else "")
    g = GuestTestpmd(name, d, nic=nic, tap=(ns.name, "fjrss0", 2),
                     testpmd_args="--rxq=2 --txq=2 --rss-udp --forward-mode=macswap")
    psock = ns.packet_socket("fjrss0")
    g.wait_prompt(120)
    m = re.search(r"fjord: .*virtio-pci features: (.*)", g.output())
    check(m, f"no feature line from fjord:\n{g.tail(40)}")
    check("RSS" in m.group(1).split(), f"RSS not negotiated: {m.group(1)}")
    check(("HASH_REPORT" in m.group(1).split()) == hash_report,
          f"HASH_REPORT {'not ' if hash_report else ''}negotiated: {m.group(1)}")
    info = g.cmd("show port info 0")
    check(f"Redirection table size: {RETA_SIZE}" in info and "Hash key size in bytes: 40" in info
          and "ipv4-udp" in info, f"port info without QEMU's RSS limits:\n{info}")
    return g, Injector(g, packet_sock=psock)


def rss_spread(g, inj):
    """macswap: every frame of 16 flows back intact (the tx header is the
    longer one with HASH_REPORT), and both rx queues carried some."""
    g.cmd("start")
    inj.macswap_run(2000, flows=RSS_FLOWS)
    g.cmd("stop")
    xs = g.xstats()
    log(f"RSS spread: rx_q0 {xs.get('rx_q0_packets')} rx_q1 {xs.get('rx_q1_packets')}")
    check(xs.get("rx_q0_packets", 0) > 0 and xs.get("rx_q1_packets", 0) > 0,
          f"RSS did not spread over both rx queues: {xs}")
    g.cmd("clear port xstats 0")
    g.cmd("set fwd rxonly")
    g.cmd("set verbose 1")


def test_rss():
    """virtio-net-pci with rss=on (no hash reports): testpmd --rss-udp on
    two queues gets the default RETA; each flow lands on the queue its
    Toeplitz hash under fjord's key picks (RETA entry hash % 128, the
    default table spreading round-robin); mbufs carry no hash. A RETA
    update pointing every entry at queue 0 then moves all flows there."""
    d = h.workdir()
    g = inj = ns = None
    try:
        ns = Netns(f"fjrss{os.getpid()}")
        g, inj = rss_guest("rss", d, ns, False)
        check(rss_key(g) == MS_KEY, "fjord's default key is not the Microsoft key")
        rss_spread(g, inj)
        for flow, q, hsh in rss_rx(g, inj, 2):
            check(hsh is None, f"flow {flow}: a hash without HASH_REPORT")
            want = flow_hash(MS_KEY, flow) % RETA_SIZE % 2
            check(q == want, f"flow {flow} on rx queue {q}, its hash picks {want}")
        # 16 entries a command: testpmd's cmdline takes strings of up to 128 bytes.
        for lo in range(0, RETA_SIZE, 16):
            out = g.cmd("port config 0 rss reta " +
                        "".join(f"({i},0)" for i in range(lo, lo + 16)))
            check(not re.search(r"(?i)bad|error|fail", out), f"RETA update refused:\n{out}")
        # (testpmd refuses it before fjord sees it; fjord's own check is a unit test's)
        out = g.cmd("port config 0 rss reta (0,2)")
        check(re.search(r"(?i)bad redirection|exceeds|error|fail", out),
              f"RETA entry beyond the queues taken:\n{out}")
        masks = ",".join(["0xffffffffffffffff"] * (RETA_SIZE // 64))
        out = g.cmd(f"show port 0 rss reta {RETA_SIZE} ({masks})")
        reta = [int(q) for q in re.findall(r"RSS RETA configuration: hash index=\d+, queue=(\d+)", out)]
        check(reta == [0] * RETA_SIZE, f"RETA read back: {out}")
        seen = rss_rx(g, inj, 2)
        check(all(q == 0 for _, q, _ in seen), f"traffic off queue 0 after the RETA update: {seen}")
        log(f"after the RETA update all {len(seen)} frames on rx queue 0")
        rc = g.quit()
        check(rc == 0, f"guest testpmd exited with {rc}")
    finally:
        release(inj, g, ns, workdir=d)


def test_rss_hash_report():
    """rss=on,hash=on: HASH_REPORT too, so every rx and tx header is 20
    bytes; frames still come back intact, and each mbuf's hash is the
    Toeplitz hash rte_softrss computes with the key fjord reports."""
    check(udp4_hash(MS_KEY, *MS_VECTOR[:4]) == MS_VECTOR[4], "the test's Toeplitz hash is wrong")
    d = h.workdir()
    g = inj = ns = None
    try:
        ns = Netns(f"fjrsh{os.getpid()}")
        g, inj = rss_guest("rss_hash_report", d, ns, True)
        key = rss_key(g)
        rss_spread(g, inj)
        seen = rss_rx(g, inj, 2)
        for flow, q, hsh in seen:
            want = flow_hash(key, flow)
            check(hsh == want, f"flow {flow}: hash {hsh and hex(hsh)}, rte_softrss {want:#x}")
            check(q == want % RETA_SIZE % 2, f"flow {flow} on rx queue {q}, hash {want:#x}")
        log(f"{len(seen)} frames of {RSS_FLOWS} flows: each hash is the Toeplitz hash under "
            f"the reported key, each queue the one RETA entry hash % {RETA_SIZE} names")
        rc = g.quit()
        check(rc == 0, f"guest testpmd exited with {rc}")
    finally:
        release(inj, g, ns, workdir=d)


LSC_EVENT = "Port 0: link state change event"  # testpmd's event callback


def link_changes(name, ring, bind="vfio", nic="", how="MSI-X vector 0", lsc=True):
    """Link state follows the device's status field: QEMU's `set_link off`
    clears VIRTIO_NET_S_LINK_UP, `set_link on` sets it again. The device's
    configuration-change interrupt (@how) brings each change to testpmd as
    an LSC event; with LSC on, ethdev reports the link fjord last stored,
    so the link waits below pass only through those interrupts. Without
    @lsc, the port has no LSC flag and every link query reads the device.
    Traffic flows again afterwards."""
    d = h.workdir()
    g = inj = None
    try:
        g = GuestTestpmd(name, d, bind=bind, nic=props(ring, nic),
                         testpmd_args="--forward-mode=macswap --auto-start")
        g.wait_prompt(120)
        check_ring(g, ring)
        if lsc:
            check(re.search(rf"fjord: .*link changes by interrupt \({how}\)", g.output()),
                  f"fjord did not set up the {how} config interrupt:\n{g.tail(40)}")
        else:
            check(re.search(r"fjord: .*no interrupt for config changes", g.output()),
                  f"fjord did not say why there are no LSC events:\n{g.tail(40)}")
        g.wait_link(True)
        check(LSC_EVENT not in g.output(), "an LSC event before any link change")
        g.monitor("set_link fjnic off")
        g.wait_link(False)
        if lsc:
            g.wait_for(LSC_EVENT, 10)
        n = g.output().count(LSC_EVENT)
        g.monitor("set_link fjnic on")
        g.wait_link(True)
        deadline = time.time() + 10
        while lsc and g.output().count(LSC_EVENT) == n and time.time() < deadline:
            time.sleep(0.1)
        want = 2 if lsc else 0
        check(g.output().count(LSC_EVENT) == want,
              f"{g.output().count(LSC_EVENT)} LSC events for two changes:\n{g.tail(30)}")
        inj = Injector(g)
        inj.macswap_run(1000)
        xs = g.xstats()
        check(xs.get("link_down_events") == 1, f"link_down_events is not 1: {xs}")
        rc = g.quit()
        check(rc == 0, f"guest testpmd exited with {rc}")
    finally:
        release(inj, g, workdir=d)


def test_link_status(ring="split"):
    """Link changes through MSI-X vector 0 (vfio-pci)."""
    link_changes("link_status", ring)


def test_link_status_intx():
    """uio_pci_generic gives INTx only: the config change comes as INTx,
    the ISR status read deasserts it."""
    link_changes("link_status_intx", "split", bind="uio", how="INTx")


def test_link_status_no_msix():
    """A device without MSI-X (vectors=0) under vfio-pci, where DPDK sets
    up MSI-X only: no LSC flag, said in a log line; link queries read the
    device and still follow it."""
    link_changes("link_status_no_msix", "packed", nic="vectors=0", lsc=False)


RXINTR_ROUNDS = 3
RXINTR_FRAMES = 8
IDLE_S = 2.0  # how long the host waits, sending nothing, before each round's frames


def rxintr_guest(name, d, ring, bind="vfio", nic="", queues=1, tap=None,
                 frames=RXINTR_FRAMES):
    """fj-rxintr (tests/integration/rxintr.c) on the guest's port."""
    cmd = (f'exec {os.environ["FJ_RXINTR"]} -l 0 -d "$FJ_PMD" -a "$FJ_BDF" '
           f"--log-level=pmd.net.fjord:info -- --queues {queues} --rounds {RXINTR_ROUNDS} "
           f"--frames {frames} --timeout-ms 30000 --pause-ms 3000")
    return GuestTestpmd(name, d, bind=bind, nic=props(ring, nic), cmd=cmd, tap=tap)


ROUND = (r"FJRX round={} woke=(\d) rx=(\d+) slept_ms=(\d+) spurious=(\d+) queues=([\d,]*) "
         r"per_queue=([\d,]+)")


def rx_round(g, r, per_queue, queues):
    """One round's result line; at most one spurious wake per queue (an
    interrupt that fired after the last wake before it was turned off)."""
    m = g.wait_for(ROUND.format(r) + r"|FJRX error.*|FJVM-EXIT", 40)
    check(m.group(0).startswith("FJRX round"), f"round {r} did not end:\n{g.tail(30)}")
    log(m.group(0))
    check(int(m.group(4)) <= queues, f"round {r}: too many wakes without frames: {m.group(0)}")
    for q, n in enumerate(m.group(6).split(",")):
        per_queue[q] = per_queue.get(q, 0) + int(n)
    return int(m.group(1)), int(m.group(2)), int(m.group(3))


def rx_interrupts(name, ring, queues=1):
    """An idle port sleeps in rte_epoll_wait on its rx queue's interrupt
    (MSI-X vector 1) and wakes on the first frame. Each round: the guest
    says it sleeps, the host waits IDLE_S without sending and checks the
    guest is still asleep, then sends a few frames; the guest must wake,
    having slept about IDLE_S, and poll them all. A last round sends while
    the guest has the interrupt off and is not polling: enabling it must
    find the frames already used and wake the guest at once (§2.7.14).
    Finally a sleep with nothing sent must time out. With @queues > 1 a
    multi-queue tap spreads the frames (16 flows) over the rx queues, each
    on its own vector and event fd, and every queue must have carried some."""
    d = h.workdir()
    g = inj = ns = None
    per_queue = {}
    flows = 1
    frames = RXINTR_FRAMES
    try:
        if queues > 1:
            flows = frames = 16 * queues
            ns = Netns(f"fjrxi{os.getpid()}")
            g = rxintr_guest(name, d, ring, nic=f"mq=on,vectors={2 * queues + 2}",
                             queues=queues, tap=(ns.name, "fjrxi0", queues), frames=frames)
            inj = Injector(g, packet_sock=ns.packet_socket("fjrxi0"))
        else:
            g = rxintr_guest(name, d, ring)
            inj = Injector(g)
        for r in range(1, RXINTR_ROUNDS + 1):
            m = g.wait_for(rf"FJRX sleeping round={r}\b|FJRX error.*|FJVM-EXIT", 120)
            check(m.group(0).startswith("FJRX sleeping"), f"no sleep:\n{g.tail(40)}")
            if r == 1:
                check_ring(g, ring)
                check("FJRX port lsc=1" in g.output(),
                      f"LSC interrupts not on beside the rx ones:\n{g.tail(40)}")
            time.sleep(IDLE_S)
            check(not re.search(rf"FJRX round={r} ", g.output()),
                  f"round {r}: ended with nothing sent:\n{g.tail(10)}")
            inj.inject(frames, flows=flows)
            woke, rx, slept = rx_round(g, r, per_queue, queues)
            check(woke == 1 and rx == frames, f"round {r}: woke={woke}, {rx} of {frames} frames")
            check(slept >= IDLE_S * 1000 * 0.75, f"round {r}: slept only {slept} ms")
        late = RXINTR_ROUNDS + 1
        m = g.wait_for(rf"FJRX paused round={late}\b|FJRX error.*|FJVM-EXIT", 40)
        check(m.group(0).startswith("FJRX paused"), f"no pause:\n{g.tail(40)}")
        inj.inject(frames, flows=flows)
        woke, rx, slept = rx_round(g, late, per_queue, queues)
        check(woke == 1 and rx == frames,
              f"frames used before the interrupt was enabled: woke={woke}, rx={rx}")
        check(slept < 1000, f"frames waiting at enable, yet it slept {slept} ms")
        m = g.wait_for(r"FJRX idle woke=(\d) rx=(\d+) slept_ms=\d+ spurious=(\d+) queues=[\d,]* "
                       r"lsc_events=(\d+)|FJRX error.*|FJVM-EXIT", 40)
        check(m.group(0).startswith("FJRX idle"), f"no idle check:\n{g.tail(40)}")
        log(m.group(0))
        check(m.group(1) == "0" and m.group(2) == "0", f"frames with nothing sent: {m.group(0)}")
        check(int(m.group(3)) <= queues, f"woke again and again with nothing sent: {m.group(0)}")
        check(m.group(4) == "0", f"LSC events with the link never changed: {m.group(0)}")
        rc = int(g.wait_for(r"FJVM-EXIT (\d+)", 60).group(1))
        check(rc == 0, f"fj-rxintr exited with {rc}:\n{g.tail(20)}")
        check(all(per_queue.get(q, 0) > 0 for q in range(queues)),
              f"frames per rx queue over all rounds: {per_queue}")
    finally:
        release(inj, g, ns, workdir=d)


def test_rx_interrupts(ring="split"):
    rx_interrupts("rx_interrupts", ring)


def test_rx_interrupts_multiqueue(ring="packed"):
    """Two rx queues: vectors 1 and 2, two event fds in one epoll set."""
    rx_interrupts("rx_interrupts_multiqueue", ring, queues=2)


def rx_interrupts_refused(name, want, bind="vfio", nic=""):
    """fj-rxintr's configure must fail with fjord's reason, nothing worse."""
    d = h.workdir()
    g = None
    try:
        g = rxintr_guest(name, d, "split", bind=bind, nic=nic)
        m = g.wait_for(r"FJRX error: .*|FJRX sleeping|FJVM-EXIT", 120)
        check(m.group(0).startswith("FJRX error: rte_eth_dev_configure"),
              f"configure did not fail:\n{g.tail(40)}")
        check(re.search(r"fjord: .*" + want, g.output()), f"no clear reason:\n{g.tail(40)}")
        rc = int(g.wait_for(r"FJVM-EXIT (\d+)", 60).group(1))
        check(rc == 2, f"fj-rxintr exited with {rc}, not its error status 2")
    finally:
        release(g, workdir=d)


def test_rx_interrupts_too_few_vectors():
    """One MSI-X vector (QEMU vectors=1) serves config changes only."""
    rx_interrupts_refused("rx_interrupts_too_few_vectors",
                          r"need 2 MSI-X vectors .*the device has 1", nic="vectors=1")


def test_rx_interrupts_intx_refused():
    """uio_pci_generic gives one INTx line: no rx queue interrupts."""
    rx_interrupts_refused("rx_interrupts_intx_refused", r"need MSI-X through vfio-pci",
                          bind="uio")


def test_legacy_refused():
    """A legacy-only device has no VIRTIO 1.x interface: refused, no crash."""
    d = h.workdir()
    g = None
    try:
        g = GuestTestpmd("legacy", d, bind="uio", nic="disable-legacy=off,disable-modern=on")
        m = g.wait_for(r"testpmd> |FJVM-EXIT", 120)
        out = g.output()
        check(re.search(r"fjord: .*(legacy|modern|VERSION_1)", out),
              f"no clear refusal from fjord:\n{g.tail(40)}")
        check("No probed ethernet devices" in out, f"the device was probed anyway:\n{g.tail(40)}")
        if m.group(0) == "testpmd> ":
            rc = g.quit()
            check(rc == 0, f"guest testpmd exited with {rc}")
    finally:
        release(g, workdir=d)


def test_no_access_platform_refused():
    """Behind a vIOMMU (IOVA as VA) a device without ACCESS_PLATFORM would DMA
    to the wrong memory: refused with a clear message instead of a hang."""
    d = h.workdir()
    g = None
    try:
        g = GuestTestpmd("no_access_platform", d, bind="vfio", nic="iommu_platform=off")
        g.wait_for(r"testpmd> |FJVM-EXIT", 120)
        out = g.output()
        check(re.search(r"fjord: .*ACCESS_PLATFORM", out),
              f"no clear refusal from fjord:\n{g.tail(40)}")
        check("No probed ethernet devices" in out, f"the device was probed anyway:\n{g.tail(40)}")
        rc = g.quit()
        check(rc == 0, f"guest testpmd exited with {rc}")
    finally:
        release(g, workdir=d)


def test_bad_devargs():
    """A key the PCI port does not take: refused with the keys it does."""
    d = h.workdir()
    g = None
    try:
        g = GuestTestpmd("bad_devargs", d, bdf_args=",queues=2")
        m = g.wait_for(r"testpmd> |FJVM-EXIT", 120)
        out = g.output()
        check(re.search(r"fjord: .*bad device arguments.*packed_vq", out),
              f"no clear refusal from fjord:\n{g.tail(40)}")
        check("No probed ethernet devices" in out, f"the device was probed anyway:\n{g.tail(40)}")
        if m.group(0) == "testpmd> ":
            rc = g.quit()
            check(rc == 0, f"guest testpmd exited with {rc}")
    finally:
        release(g, workdir=d)


# Tests that run on both ring layouts: NAME on split rings, NAME_packed on
# packed ones.
BOTH_RINGS = {"modern_vfio", "modern_uio", "transitional", "multiqueue", "link_status",
              "rx_interrupts"}


def all_tests():
    tests = {}
    for n, f in globals().items():
        if not n.startswith("test_"):
            continue
        tests[n[5:]] = f
        if n[5:] in BOTH_RINGS:
            tests[n[5:] + "_packed"] = (lambda f: lambda: f("packed"))(f)
    return tests


if __name__ == "__main__":
    h.run(all_tests())

"""A QEMU guest (tools/vm-run) running dpdk-testpmd on fjord's PCI driver,
and a host-side frame injector for its `-netdev socket,udp=` back-end.

The guest's NIC is QEMU's own virtio-net-pci model; the host sends raw
Ethernet frames to QEMU in UDP datagrams and reads back what the guest sends.
"""
import os
import random
import re
import ctypes
import select
import socket
import struct
import subprocess
import threading
import time

from harness import Proc, Failure, TestpmdCommands, check, log

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
VM_RUN = os.path.join(ROOT, "tools", "vm-run")
GUEST_MAC = bytes.fromhex("525400123456")
HOST_MAC = bytes.fromhex("020000f10001")
ETH_P_IP = 0x0800


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class GuestTestpmd(TestpmdCommands, Proc):
    """dpdk-testpmd, interactive, inside the guest; commands go through the
    guest's second serial port, output comes back on its console."""

    def __init__(self, name, workdir, bind="vfio", nic="", testpmd_args="", eal_args="",
                 timeout=240, boot_timeout=120, tap=None, user=None, cmd=None, bdf_args=""):
        """@tap: (netns, ifname, queues) for a tap back-end; @user: hostfwd
        rules for QEMU's user networking; else the UDP back-end. @cmd: a
        guest command instead of testpmd (its stdin is the control port).
        @bdf_args: device arguments after the NIC's PCI address (",k=v")."""
        self.ctl_path = os.path.join(workdir, "ctl.sock")
        self.mon_path = os.path.join(workdir, "mon.sock")
        self.host_port = free_udp_port()
        self.guest_port = free_udp_port()
        self.tap = tap
        if cmd is None:
            cmd = (f"exec dpdk-testpmd -l 0,1 -d \"$FJ_PMD\" -a \"$FJ_BDF{bdf_args}\" "
                   f"--log-level=pmd.net.fjord:info {eal_args} -- -i --total-num-mbufs=8192 "
                   f"{testpmd_args}")
        argv = [VM_RUN, "--bind", bind, "--ctl", self.ctl_path, "--monitor", self.mon_path,
                "--timeout", str(timeout)]
        if tap:
            argv += ["--netns", tap[0], "--tap", f"{tap[1]}:{tap[2]}"]
        elif user:
            argv += ["--user", user]
        else:
            argv += ["--udp", f"{self.host_port}:{self.guest_port}"]
        if nic:
            argv += ["--nic", nic]
        argv += ["--", "sh", "-c", cmd]
        self.ctl = None
        self.prompts = 0
        # The guest's kernel boots quietly under TCG in seconds; on a
        # loaded host it has been seen to stall before reaching its init
        # with no console output at all. That stage runs nothing of
        # fjord's (the driver is loaded only after FJVM-READY): such a
        # boot is tried once more, and says so in the log.
        init_timeout = boot_timeout // 2
        for attempt in (1, 2):
            super().__init__(argv, name)
            try:
                self.wait_for(r"FJVM-INIT|FJVM-EXIT", init_timeout)
                break
            except Failure:
                if attempt == 2 or self.output().strip():
                    raise
                log(f"[{name}] the guest did not reach its init in {init_timeout}s, "
                    "nothing on its console: booting it again")
                self.close()
        self.wait_for(r"FJVM-READY|FJVM-EXIT", boot_timeout)
        deadline = time.time() + 20
        while self.ctl is None:
            try:
                c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                c.connect(self.ctl_path)
                self.ctl = c
            except OSError:
                c.close()
                check(time.time() < deadline and self.alive(),
                      f"[{name}] no control socket:\n{self.tail()}")
                time.sleep(0.1)

    def ended(self):
        return not self.alive() or "FJVM-EXIT" in self.output()

    def send(self, line):
        self.ctl.sendall((line + "\n").encode())

    def monitor(self, line, timeout=10):
        """One command to QEMU's human monitor; returns what it answered."""
        m = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        m.settimeout(timeout)
        try:
            m.connect(self.mon_path)
            buf = b""
            while b"(qemu)" not in buf:
                buf += m.recv(4096)
            m.sendall((line + "\n").encode())
            buf = b""
            while buf.count(b"(qemu)") < 1:
                chunk = m.recv(4096)
                if not chunk:
                    break
                buf += chunk
            return buf.decode("utf-8", "replace")
        finally:
            m.close()

    def quit(self, timeout=60):
        """End testpmd; return the guest command's exit status."""
        if self.ctl:
            try:
                self.send("quit")
            except OSError:
                pass
        m = self.wait_for(r"FJVM-EXIT (\d+)", timeout)
        self.wait(30)
        return int(m.group(1))

    def close(self, timeout=15):
        if self.ctl:
            self.ctl.close()
            self.ctl = None
        super().close(timeout)


def make_frame(seq, size, flows=1):
    """Ethernet/IPv4/UDP frame of @size bytes (no FCS) carrying @seq and a
    pattern derived from it; the UDP source port names its flow."""
    flow = seq % flows
    plen = size - 14 - 20 - 8
    payload = struct.pack("!II", seq, size) + bytes((seq * 7 + i) & 0xff for i in range(plen - 8))
    udp = struct.pack("!HHHH", 40000 + flow, 9, 8 + plen, 0)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + 8 + plen, seq & 0xffff, 0, 64, 17, 0,
                     bytes([10, 99, 0, 1]), bytes([10, 99, 0, 2]))
    csum = sum(struct.unpack("!10H", ip))
    csum = (csum & 0xffff) + (csum >> 16)
    csum = (csum & 0xffff) + (csum >> 16)
    ip = ip[:10] + struct.pack("!H", ~csum & 0xffff) + ip[12:]
    return GUEST_MAC + HOST_MAC + struct.pack("!H", ETH_P_IP) + ip + udp + payload


SIZES = [60, 64, 65, 128, 255, 256, 511, 512, 1000, 1023, 1024, 1400, 1513, 1514]


def frame_sizes(n, seed=7):
    rnd = random.Random(seed)
    return [SIZES[i % len(SIZES)] if i % 3 else rnd.randint(60, 1514) for i in range(n)]


class Netns:
    """A network namespace this test creates (and deletes), IPv6 off so that
    its kernel stays silent on the tap."""

    def __init__(self, name):
        self.name = name
        subprocess.run(["ip", "netns", "del", name], stderr=subprocess.DEVNULL)
        subprocess.run(["ip", "netns", "add", name], check=True)
        for k in ("all", "default"):
            subprocess.run(["ip", "netns", "exec", name, "sysctl", "-qw",
                            f"net.ipv6.conf.{k}.disable_ipv6=1"], check=True)

    def run(self, *argv):
        return subprocess.run(["ip", "netns", "exec", self.name] + list(argv),
                              capture_output=True, text=True)

    def packet_socket(self, ifname, timeout=60):
        """An AF_PACKET socket on @ifname inside the namespace, once QEMU has
        created the tap; the interface is brought up first."""
        deadline = time.time() + timeout
        while self.run("ip", "link", "show", ifname).returncode != 0:
            check(time.time() < deadline, f"tap {ifname} did not appear in {self.name}")
            time.sleep(0.2)
        r = self.run("ip", "link", "set", ifname, "up")
        check(r.returncode == 0, f"cannot bring {ifname} up: {r.stderr}")
        box = {}

        def in_ns():
            # setns() moves only this thread; the socket keeps the namespace.
            libc = ctypes.CDLL(None, use_errno=True)
            fd = os.open(f"/run/netns/{self.name}", os.O_RDONLY)
            try:
                if libc.setns(fd, CLONE_NEWNET) != 0:
                    box["err"] = os.strerror(ctypes.get_errno())
                    return
                s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
                s.bind((ifname, 0))
                box["sock"] = s
            finally:
                os.close(fd)

        t = threading.Thread(target=in_ns)
        t.start()
        t.join()
        check("sock" in box, f"no packet socket on {ifname}: {box.get('err')}")
        return box["sock"]

    def close(self):
        subprocess.run(["ip", "netns", "del", self.name], stderr=subprocess.DEVNULL)


CLONE_NEWNET = 0x40000000
ETH_P_ALL = 3
PACKET_OUTGOING = 4


class Injector:
    """Host end of the guest's NIC: QEMU's `-netdev socket,udp=` (@guest) or
    a tap (@packet_sock). At most @window frames in flight (QEMU's socket
    buffer drops beyond that), every reply checked."""

    def __init__(self, guest=None, packet_sock=None):
        if packet_sock is not None:
            self.sock = packet_sock
            self.peer = None
        else:
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.sock.bind(("127.0.0.1", guest.host_port))
            self.peer = ("127.0.0.1", guest.guest_port)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)

    def close(self):
        self.sock.close()

    def _send(self, frame):
        if self.peer:
            self.sock.sendto(frame, self.peer)
        else:
            self.sock.send(frame)

    def _recv(self):
        """The next frame from the guest, or None when none is waiting."""
        while True:
            try:
                data, addr = self.sock.recvfrom(65536, socket.MSG_DONTWAIT)
            except BlockingIOError:
                return None
            # On a tap the packet socket also sees what we send.
            if self.peer is None and addr[2] == PACKET_OUTGOING:
                continue
            return data

    def inject(self, n, size=60, flows=1):
        """Send @n frames for the guest; nothing is expected back."""
        for seq in range(n):
            self._send(make_frame(seq, size, flows))

    def macswap_run(self, n, flows=1, window=64, stall=10.0):
        """Send @n numbered frames; expect each back with its MAC addresses
        swapped and every other byte intact, in order within each flow.
        Returns the number that came back; raises on corruption/reordering."""
        sizes = frame_sizes(n)
        sent = {}
        next_seq = 0
        got = 0
        last_in_flow = {}
        other = 0
        last_progress = time.time()
        t0 = time.time()
        while got < n:
            while next_seq < n and next_seq - got < window:
                f = make_frame(next_seq, sizes[next_seq], flows)
                sent[next_seq] = f
                self._send(f)
                next_seq += 1
            r, _, _ = select.select([self.sock], [], [], 0.5)
            if not r:
                if time.time() - last_progress > stall:
                    missing = sorted(sent)[:10]
                    raise Failure(f"{n - got} of {n} frames did not come back "
                                  f"(first missing seq {missing}); {other} foreign frames")
                continue
            while True:
                data = self._recv()
                if data is None:
                    break
                if len(data) < 14 + 28 + 8 or data[12:14] != b"\x08\x00" or \
                        data[:6] != HOST_MAC:
                    other += 1
                    continue
                seq = struct.unpack_from("!I", data, 42)[0]
                orig = sent.pop(seq, None)
                check(orig is not None, f"frame seq {seq} came back twice or was never sent")
                want = orig[6:12] + orig[0:6] + orig[12:]
                if data != want:
                    diff = next((i for i in range(min(len(data), len(want)))
                                 if data[i] != want[i]), min(len(data), len(want)))
                    raise Failure(f"frame seq {seq} ({len(orig)} B) came back as {len(data)} B, "
                                  f"first difference at byte {diff}")
                flow = seq % flows
                check(last_in_flow.get(flow, -1) < seq,
                      f"flow {flow}: seq {seq} after {last_in_flow.get(flow)}: reordered")
                last_in_flow[flow] = seq
                got += 1
                last_progress = time.time()
        dt = time.time() - t0
        log(f"{got}/{n} frames back intact and in order in {dt:.1f}s "
            f"({got / dt / 1000:.1f} kpps), {other} foreign frames")
        check(got == n, f"only {got} of {n} frames came back")
        return got

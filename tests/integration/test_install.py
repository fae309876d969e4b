#!/usr/bin/env python3
"""fjord as others use it: `meson install` into a staging tree, then a
program outside this tree built with `pkg-config --cflags --libs fjord`
against what was installed (shared and static), run over the socket
backend in a test-made namespace; libfjord.so exports the public
interface and nothing else; the PMD lands in DPDK's driver directory and
loads into Debian's dpdk-testpmd from there."""
import glob
import os
import re
import shutil
import signal
import subprocess
import time

import harness as h
from harness import Proc, check, log

# A user's program: the README's echo, over whichever backend the
# arguments choose.
PROGRAM = r"""
#include <fjord.h>
#include <signal.h>
#include <stdio.h>

static void
echo(struct fj_flow *flow, void *arg)
{
	struct fj_buf *buf;
	(void)arg;
	for (;;) {
		switch (fj_flow_read(flow, &buf)) {
		case FJ_DATA:
			if (fj_flow_write(flow, buf) < 0) {
				fj_flow_close(flow);
				return;
			}
			break;
		case FJ_AGAIN:
			return;
		default:
			fj_flow_close(flow);
			return;
		}
	}
}

static struct fj_stack *stack;

static void
on_signal(int sig)
{
	(void)sig;
	fj_stack_stop(stack);
}

int
main(int argc, char **argv)
{
	stack = fj_stack_from_args(&argc, &argv);
	if (stack == NULL)
		return 1;
	if (fj_listen_tcp(stack, 7007, echo, NULL) == NULL)
		return 1;
	signal(SIGINT, on_signal);
	printf("out-of-tree echo listening\n");
	fflush(stdout);
	int rc = fj_stack_run(stack);
	signal(SIGINT, SIG_IGN);
	fj_stack_free(stack);
	return rc < 0 ? 1 : 0;
}
"""

CLIENT = r"""
import socket, sys
s = socket.create_connection(("127.0.0.1", 7007), timeout=10)
msg = b"installed fjord " * 1000
s.sendall(msg)
s.shutdown(socket.SHUT_WR)
got = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    got += d
print("OK" if got == msg else f"MISMATCH {len(got)}")
"""


def sh(argv, env=None, timeout=300):
    r = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=timeout)
    check(r.returncode == 0, f"{' '.join(argv)} failed ({r.returncode}):\n{r.stdout}{r.stderr}")
    return r.stdout


def public_functions():
    src = os.path.join(os.path.dirname(__file__), "..", "..", "include")
    names = set()
    for hdr in ("fjord.h", "fjord_testport.h"):
        with open(os.path.join(src, hdr)) as f:
            names |= set(re.findall(r"\b(fj_[a-z0-9_]+)\s*\(", f.read()))
    return names


def test_out_of_tree_program():
    # Not under /tmp: EAL refuses a driver whose path has a world-writable
    # ancestor, and the PMD is loaded from here below.
    stage = os.path.abspath(os.path.join(h.BUILD, "install-test"))
    shutil.rmtree(stage, ignore_errors=True)
    os.makedirs(stage)
    ns = f"fjinst{os.getpid()}"
    procs = []
    try:
        dest = os.path.join(stage, "root")
        sh(["meson", "install", "-C", h.BUILD, "--no-rebuild", "--quiet", "--destdir", dest])
        pcs = glob.glob(os.path.join(dest, "**", "pkgconfig", "fjord.pc"), recursive=True)
        check(len(pcs) == 1, f"fjord.pc installed {len(pcs)} times: {pcs}")
        # The staging tree in place of the prefix: the installed fjord.pc
        # with its prefix line pointed there, nothing else changed.
        with open(pcs[0]) as f:
            text = f.read()
        m = re.search(r"^prefix=(.*)$", text, re.M)
        check(m is not None, f"fjord.pc has no prefix:\n{text}")
        pcdir = os.path.join(stage, "pkgconfig")
        os.makedirs(pcdir)
        with open(os.path.join(pcdir, "fjord.pc"), "w") as f:
            f.write(text.replace(m.group(0), "prefix=" + dest + m.group(1), 1))
        env = dict(os.environ, PKG_CONFIG_PATH=pcdir)
        pc = ["pkg-config"]
        cflags = sh(pc + ["--cflags", "fjord"], env=env).split()
        libs = sh(pc + ["--libs", "fjord"], env=env).split()
        libdir = sh(pc + ["--variable=libdir", "fjord"], env=env).strip()
        check(libdir.startswith(dest), f"libdir {libdir} is not in the staging tree")
        for f in ("libfjord.so", "libfjord.a"):
            check(os.path.exists(os.path.join(libdir, f)), f"{f} not installed in {libdir}")
        check(any(os.path.exists(os.path.join(d[2:], "fjord.h")) for d in cflags
                  if d.startswith("-I")), f"fjord.h not under {cflags}")

        # The shared library's interface is fjord.h's and fjord_testport.h's.
        nm = sh(["nm", "-D", "--defined-only", os.path.join(libdir, "libfjord.so")])
        exported = {m.group(1) for m in re.finditer(r" T (\w+)@@FJORD_0$", nm, re.M)}
        want = public_functions()
        check(exported == want, f"exported but not public: {sorted(exported - want)}; "
              f"public but not exported: {sorted(want - exported)}")

        prog = os.path.join(stage, "echo.c")
        with open(prog, "w") as f:
            f.write(PROGRAM)
        shared_bin = os.path.join(stage, "echo-shared")
        static_bin = os.path.join(stage, "echo-static")
        sh(["cc", "-Wall", "-Wextra", "-Werror", "-o", shared_bin, prog] + cflags + libs, env=env)
        # Static: libfjord.a in the program, DPDK (its Requires.private)
        # shared. (All of DPDK static, pkg-config --static, needs every
        # library DPDK's drivers use, libsystemd-dev and more.)
        dpdk_libs = sh(pc + ["--libs", "libdpdk"], env=env).split()
        slibs = [a for a in libs if a != "-lfjord"] + ["-Wl,-Bstatic", "-lfjord",
                                                       "-Wl,-Bdynamic"] + dpdk_libs
        sh(["cc", "-Wall", "-Wextra", "-Werror", "-o", static_bin, prog] + cflags + slibs,
           env=env)
        out = sh(["ldd", static_bin])
        check("libfjord" not in out, f"the static build needs libfjord.so:\n{out}")

        subprocess.run(["ip", "netns", "add", ns], check=True)
        subprocess.run(["ip", "-n", ns, "link", "set", "lo", "up"], check=True)
        for name, binary in (("shared", shared_bin), ("static", static_bin)):
            p = Proc(["ip", "netns", "exec", ns, "env", f"LD_LIBRARY_PATH={libdir}", binary,
                      "--no-huge", "--no-pci", "-m", "64", "--file-prefix",
                      f"fjinst_{name}_{os.getpid()}", "--", "--net", "socket"], name)
            procs.append(p)
            p.wait_for(r"out-of-tree echo listening", 20)
            r = subprocess.run(["ip", "netns", "exec", ns, "python3", "-c", CLIENT],
                               capture_output=True, text=True, timeout=30)
            check(r.stdout.strip() == "OK", f"{name}: {r.stdout}{r.stderr}")
            p.kill(signal.SIGINT)
            check(p.wait(15) == 0, f"{name} did not stop cleanly:\n{p.tail()}")
            log(f"{name} build: 16,000 bytes echoed")
            if name == "shared":
                out = sh(["ldd", binary], env=dict(os.environ, LD_LIBRARY_PATH=libdir))
                check(os.path.join(libdir, "libfjord.so.0") in out, f"ldd:\n{out}")

        # The PMD in DPDK's driver directory (RTE_EAL_PMD_PATH's name),
        # loaded with -d from there: its probe runs.
        pmds = glob.glob(os.path.join(dest, "**", "dpdk", "pmds-*", "librte_net_fjord.so"),
                         recursive=True)
        check(len(pmds) == 1, f"the PMD installed as {pmds}")
        sock = os.path.join(stage, "none.sock")
        prefix = f"fjinst_pmd_{os.getpid()}"
        r = subprocess.run([h.TESTPMD, "--no-huge", "--no-pci", "-m", "256", "--file-prefix",
                            prefix, "-d", pmds[0], "--vdev", f"net_fjord_vhost0,path={sock}",
                            "--", "--help"], capture_output=True, text=True, timeout=60)
        h.cleanup_prefix(prefix)
        out = r.stdout + r.stderr
        # (no back-end on that socket: the driver's own probe says so)
        check("net_fjord_vhost0: cannot connect to vhost-user socket" in out,
              f"the installed PMD did not probe:\n{out[-3000:]}")
        log(f"installed PMD {os.path.relpath(pmds[0], dest)} loads")
    finally:
        for p in procs:
            p.close()
        subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)
        for name in ("shared", "static"):
            h.cleanup_prefix(f"fjinst_{name}_{os.getpid()}")
        shutil.rmtree(stage, ignore_errors=True)


def test_build_without_setup_says_so():
    """tools/build on a clone where tools/setup never ran (no driver SDK
    headers fetched): meson's own error, then what to do."""
    if os.path.exists("/usr/include/dpdk/ethdev_driver.h"):
        log("this DPDK ships its driver SDK headers: nothing is missing")
        return
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    clone = os.path.abspath(os.path.join(h.BUILD, "no-setup-clone"))
    shutil.rmtree(clone, ignore_errors=True)
    try:
        sh(["git", "clone", "-q", "--no-hardlinks", root, clone])
        # (the change under test, whether committed or not)
        shutil.copy(os.path.join(root, "tools", "build"), os.path.join(clone, "tools", "build"))
        r = subprocess.run([os.path.join(clone, "tools", "build")], capture_output=True,
                           text=True, timeout=120)
        check(r.returncode != 0, f"tools/build passed without the SDK headers:\n{r.stdout}")
        check("DPDK driver SDK headers not found" in r.stderr and
              "run tools/setup first" in r.stderr,
              f"tools/build said:\n{r.stdout}{r.stderr}")
        log(r.stderr.strip().splitlines()[-1])
    finally:
        shutil.rmtree(clone, ignore_errors=True)


if __name__ == "__main__":
    h.run({n[5:]: f for n, f in globals().items() if n.startswith("test_")})

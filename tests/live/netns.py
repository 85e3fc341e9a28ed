"""live/netns.py - a network namespace with a veth pair, for live tests and
the live bench: the sensor captures on one end (CAPTURE_IF) inside the
namespace, packets are sent or replayed on the other (SEND_IF).

    with Netns() as ns:          # raises Unavailable(why) when it cannot be made
        p = ns.popen([BIN, "-i", ns.capture_if, "-j"], ...)

Netns(pairs=2) makes a second pair, swcap2 / swsend2 (ns.capture_ifs and
ns.send_ifs list them all), for two-port TAPs. The names need not be unique
across processes: each namespace has its own.

IPv6 is off on both ends so that the kernel sends nothing of its own
(router solicitations, MLD) that the sensor would see; the MTU is the
largest, for captures recorded on loopback."""
import os
import subprocess
import time

CAPTURE_IF = "swcap"
SEND_IF = "swsend"


class Unavailable(Exception):
    pass


def _run(*args):
    return subprocess.run(list(args), capture_output=True, text=True)


class Netns:
    def __init__(self, pairs=1):
        self.name = f"swlive{os.getpid()}"
        self.capture_ifs = [CAPTURE_IF + (str(i + 1) if i else "") for i in range(pairs)]
        self.send_ifs = [SEND_IF + (str(i + 1) if i else "") for i in range(pairs)]
        self.capture_if = CAPTURE_IF
        self.send_if = SEND_IF
        self.made = False

    def __enter__(self):
        if os.geteuid() != 0:
            raise Unavailable("needs root (network namespace and veth)")
        r = _run("ip", "netns", "add", self.name)
        if r.returncode != 0:
            raise Unavailable("ip netns add failed: " + r.stderr.strip())
        self.made = True
        steps = []
        for cap, send in zip(self.capture_ifs, self.send_ifs):
            steps += [
                ["ip", "link", "add", "name", cap, "type", "veth", "peer", "name", send],
                ["sysctl", "-qw", f"net.ipv6.conf.{cap}.disable_ipv6=1"],
                ["sysctl", "-qw", f"net.ipv6.conf.{send}.disable_ipv6=1"],
                # Recorded captures come from loopback: segments up to 64 KiB.
                ["ip", "link", "set", cap, "mtu", "65535", "up"],
                ["ip", "link", "set", send, "mtu", "65535", "up"],
            ]
        for step in steps:
            r = self.run(step)
            if r.returncode != 0:
                self.__exit__(None, None, None)
                raise Unavailable(f"{' '.join(step)}: {r.stderr.strip()}")
        time.sleep(0.2)
        return self

    def __exit__(self, *exc):
        if self.made:
            _run("ip", "netns", "del", self.name)
            self.made = False
        return False

    def cmd(self, argv):
        return ["ip", "netns", "exec", self.name] + list(argv)

    def run(self, argv, **kw):
        return subprocess.run(self.cmd(argv), capture_output=True, text=True, **kw)

    def popen(self, argv, **kw):
        return subprocess.Popen(self.cmd(argv), **kw)


def cpu_seconds(pid):
    """utime + stime of process PID (all its threads), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def sensor_pid(popen):
    """The sensor's pid: ip netns exec execs it, so it is the child's."""
    return popen.pid


def wait_capturing(path, popen, timeout=10.0):
    """Waits until the sensor has started (its stderr file exists and it
    is still running); a live capture is open once the process runs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if popen.poll() is not None:
            return False
        if os.path.exists(f"/proc/{popen.pid}/task") and len(os.listdir(f"/proc/{popen.pid}/task")) >= 4:
            return True
        time.sleep(0.05)
    return False

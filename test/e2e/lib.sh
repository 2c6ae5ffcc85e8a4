# shellcheck shell=bash
# Shared helpers for the namespace-based tests (test/e2e/run.sh) and the demo (scripts/demo.sh). Source it.
#
# Model: npsd runs in the root namespace and owns the root end of each veth pair through a net_af_packet port;
# the other end is moved into a network namespace that plays a host (a site, the internet). Every helper works on
# names the caller chooses, so the test and the demo never touch each other's namespaces.

# /usr/bin/python3 is Debian's; a python3 earlier on PATH may be another build. Both do for the helpers below.
NPS_PY=/usr/bin/python3
[ -x "$NPS_PY" ] || NPS_PY=python3

# Disable transmit checksum offload on a veth end. Why: a Linux host sending TCP or UDP through a veth leaves the
# L4 checksum "partial" (only the pseudo-header sum, CHECKSUM_PARTIAL): the peer kernel would finish it, but the
# af_packet socket of npsd receives the frame as it is, forwards it as it is, and the receiving host drops it
# (TcpInCsumErrors / UdpInCsumErrors). With tx checksumming off the sending kernel computes the full checksum in
# software (and TSO goes off with it, so no frame above the MTU reaches af_packet either). This is what
# `ethtool -K IF tx off` does; when ethtool is not installed the same ioctl (SIOCETHTOOL, ETHTOOL_STXCSUM) is
# issued from Python.
nps_txcsum_off() {
	local ifname=$1
	if command -v ethtool >/dev/null 2>&1; then
		ethtool -K "$ifname" tx off >/dev/null 2>&1 && return 0
	fi
	"$NPS_PY" - "$ifname" <<'EOF'
import ctypes, fcntl, socket, struct, sys
SIOCETHTOOL, ETHTOOL_GTXCSUM, ETHTOOL_STXCSUM = 0x8946, 0x16, 0x17
def ethtool(ifname, cmd, value=0):
    buf = ctypes.create_string_buffer(struct.pack("II", cmd, value))
    ifr = struct.pack("16sP16x", ifname.encode(), ctypes.addressof(buf))  # struct ifreq, ifr_data = &buf
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        fcntl.ioctl(s.fileno(), SIOCETHTOOL, ifr)
    return struct.unpack("II", buf.raw[:8])[1]
ethtool(sys.argv[1], ETHTOOL_STXCSUM, 0)
if ethtool(sys.argv[1], ETHTOOL_GTXCSUM) != 0:
    sys.exit("tx checksum offload still on for " + sys.argv[1])
EOF
}

# nps_host NS ROOTIF: create namespace NS and a veth pair; ROOTIF stays in the root namespace (npsd's port), the
# peer becomes "eth0" inside NS (up, with lo up). The root end gets no address and its kernel stack is kept out of
# the way: no IPv6 (else the kernel would answer NDP for the same link-local address as npsd, which uses the same
# MAC), no forwarding, no ARP replies.
nps_host() {
	local ns=$1 rif=$2
	ip netns add "$ns"
	ip link add "$rif" type veth peer name "$rif-h"
	nps_txcsum_off "$rif-h"
	ip link set "$rif-h" netns "$ns"
	ip -n "$ns" link set "$rif-h" name eth0
	ip -n "$ns" link set lo up
	ip -n "$ns" link set eth0 up
	sysctl -qw "net.ipv6.conf.$rif.disable_ipv6=1"
	sysctl -qw "net.ipv4.conf.$rif.forwarding=0"
	sysctl -qw "net.ipv4.conf.$rif.arp_ignore=8"
	ip link set "$rif" up
}

# nps_addr NS ADDR/LEN [GATEWAY]: address on eth0 of NS and, with GATEWAY, the default route through it. IPv6
# addresses skip duplicate address detection so they are usable at once.
nps_addr() {
	local ns=$1 addr=$2 gw=${3:-}
	case $addr in
	*:*)
		ip -n "$ns" -6 addr add "$addr" dev eth0 nodad
		[ -z "$gw" ] || ip -n "$ns" -6 route add default via "$gw" dev eth0
		;;
	*)
		ip -n "$ns" addr add "$addr" dev eth0
		[ -z "$gw" ] || ip -n "$ns" route add default via "$gw" dev eth0
		;;
	esac
}

# nps_del_host NS ROOTIF: kill what runs in NS, remove it and the veth pair. Silent when already gone.
nps_del_host() {
	local ns=$1 rif=$2 pids
	if [ -e "/run/netns/$ns" ]; then
		pids=$(ip netns pids "$ns" 2>/dev/null)
		# shellcheck disable=SC2086 # one word per pid
		[ -z "$pids" ] || kill $pids 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	fi
	ip link del "$rif" 2>/dev/null
	return 0
}

# nps_wait_ready NPSCTL SOCKET PID [SECONDS]: wait until npsd (PID) answers on SOCKET.
nps_wait_ready() {
	local ctl=$1 sock=$2 pid=$3 i
	for ((i = 0; i < ${4:-30} * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || return 1
		"$ctl" -s "$sock" --timeout 500 version >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# nps_stop_pid PID [SECONDS]: SIGTERM, wait, then SIGKILL.
nps_stop_pid() {
	local pid=$1 i
	[ -n "$pid" ] || return 0
	kill "$pid" 2>/dev/null || return 0
	for ((i = 0; i < ${2:-5} * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null
	return 0
}

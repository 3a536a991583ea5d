#!/bin/sh
# xjk-dsr-backend.sh: prepares a Linux backend for xjk's L2 direct server
# return, as for IPVS-DR: the VIP on loopback, so the backend accepts packets
# addressed to it and answers from it, and ARP tuned so that it never answers
# or announces the VIP on the wire (the balancer owns it there).
#
#   xjk-dsr-backend.sh add VIP [VIP...]   VIP is an IPv4 or IPv6 address
#   xjk-dsr-backend.sh del VIP [VIP...]   undo (the ARP settings stay while any
#                                         VIP is left on lo)
#
# arp_ignore=1: answer ARP only for addresses on the receiving interface.
# arp_announce=2: use the best local address of the outgoing interface as ARP
# source, never the VIP. IPv6 needs no equivalent: a /128 on lo is not
# advertised by neighbour discovery on other links.
set -eu

usage() {
	echo "usage: $0 add|del VIP [VIP...]" >&2
	exit 2
}

prefix() {
	case $1 in
	*:*) echo 128 ;;
	*) echo 32 ;;
	esac
}

arp() {
	for c in all default; do
		sysctl -q -w "net.ipv4.conf.$c.arp_ignore=$1" "net.ipv4.conf.$c.arp_announce=$2"
	done
	for d in /proc/sys/net/ipv4/conf/*/; do
		d=${d%/}
		d=${d##*/}
		[ "$d" = all ] || [ "$d" = default ] || [ "$d" = lo ] ||
			sysctl -q -w "net.ipv4.conf.$d.arp_ignore=$1" "net.ipv4.conf.$d.arp_announce=$2"
	done
}

[ $# -ge 2 ] || usage
cmd=$1
shift
case $cmd in
add)
	arp 1 2
	for vip in "$@"; do
		ip addr replace "$vip/$(prefix "$vip")" dev lo
	done
	;;
del)
	for vip in "$@"; do
		ip addr del "$vip/$(prefix "$vip")" dev lo 2>/dev/null || true
	done
	# the kernel defaults, once no VIP is left on lo
	if ! ip -o addr show dev lo | grep -v ' 127\.0\.0\.1/\| ::1/' | grep -q inet; then
		arp 0 0
	fi
	;;
*) usage ;;
esac

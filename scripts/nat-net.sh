#!/usr/bin/env bash
# Builds and tears down a test internet of Linux network namespaces with
# home routers that do NAT, so that NAT traversal is tested on real NATs
# on one machine (root, iproute2, nftables).
#
#   scripts/nat-net.sh up TAG [KIND...]   build; one home per KIND (cone | symmetric | upnp)
#   scripts/nat-net.sh down TAG           remove everything of run TAG
#   scripts/nat-net.sh down-all           remove every leftover of any run (swn-*)
#   scripts/nat-net.sh list               the namespaces of every run
#   scripts/nat-net.sh run TAG KIND... -- CMD ARGS   up, run CMD, then down (also on failure / Ctrl-C)
#   scripts/nat-net.sh check              exit 0 when namespaces + nftables work here, else say why
#
# Address plan (TAG is 1-6 letters/digits, so several runs can coexist):
#   namespace swn-TAG-net          the "internet": one router (ip_forward, no NAT, no default
#                                  route) joining one /24 per attached host. The /24s lie in
#                                  different /8s that libp2p counts as public (its isPrivate
#                                  treats 198.18.0.0/15 and every documentation range as private,
#                                  so AutoNAT, DCUtR and relay address filters would skip them;
#                                  AutoNAT also counts verifiers per /8).
#   namespace swn-TAG-p1 .. -p8    public hosts (seeder, supernodes): host N is (10+N).0.N.10/24
#                                  on eth0 (11.0.1.10, 12.0.2.10, 13.0.3.10, ...), default route
#                                  via (10+N).0.N.1 in swn-TAG-net.
#   namespace swn-TAG-rH           home H's router (H = 1..8): wan (20+H).0.H.2/24 (21.0.1.2,
#                                  22.0.2.2, ...), default route via (20+H).0.H.1; lan bridge
#                                  10.H.0.1/24; NAT by nftables (below).
#   namespace swn-TAG-hHX          host X (a, b, ...) in home H: 10.H.0.(10+i)/24 on eth0,
#                                  default route via 10.H.0.1.
#   These addresses exist only inside the namespaces of the run: nothing is attached to the
#   machine's own namespace (every veth is created inside the namespaces), so no test packet
#   can reach a real interface and no real traffic enters the test network, although the
#   ranges are routed on the real internet. Only the /24s above exist in swn-TAG-net.

# NAT kinds (nftables, table ip swn in the router namespace):
#   cone       "masquerade": Linux keeps the source port when it is free, so one
#              internal address:port maps to one external port whatever the
#              destination (endpoint-independent mapping); conntrack lets in only
#              replies from the address:port a host sent to (port-restricted filtering).
#   symmetric  "masquerade fully-random" (iptables: --random-fully): a random external port for every new
#              destination (endpoint-dependent mapping), same filtering.
#   upnp       "cone" plus miniupnpd (UPnP IGD, nftables backend) on the lan side: hosts of
#              the home may map TCP/UDP ports 1024-65535 of their own address (secure mode);
#              its forwards are DNAT rules in table inet filter, which the forward chain lets
#              through (ct status dnat). Its config and pid file are /tmp/swn-TAG-rH.miniupnpd.*.
#   All drop unsolicited inbound packets (no RST), as home routers do.
set -euo pipefail

PREFIX=swn
PUBLIC_HOSTS=${NAT_NET_PUBLIC_HOSTS:-2}
HOSTS_PER_HOME=${NAT_NET_HOSTS_PER_HOME:-2}

die () { echo "nat-net: $*" >&2; exit 1; }
need_root () { [ "$(id -u)" -eq 0 ] || die "needs root (network namespaces)"; }
check_tag () { [[ "$1" =~ ^[a-z0-9]{1,6}$ ]] || die "TAG must be 1-6 lowercase letters or digits, got '$1'"; }
letters=(a b c d e f g h)

ns_of_tag () { ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^${PREFIX}-$1-" || true; }

down () {
  local tag=$1 ns
  for ns in $(ns_of_tag "$tag"); do
    # Processes still inside would keep the namespace's sockets alive: end them first.
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -TERM "$pid" 2>/dev/null || true; done
  done
  sleep 0.2
  for ns in $(ns_of_tag "$tag"); do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
    rm -f "/tmp/$ns.miniupnpd.conf" "/tmp/$ns.miniupnpd.pid"
  done
}

down_all () {
  local tag
  for tag in $(ip netns list 2>/dev/null | awk '{print $1}' | sed -nE "s/^${PREFIX}-([a-z0-9]+)-.*/\1/p" | sort -u); do down "$tag"; done
}

mkns () { ip netns add "$1"; ip -n "$1" link set lo up; }

# A veth from namespace A (name IA) to namespace B (name IB), created inside them
# so that no name is ever taken in the machine's own namespace.
veth () { ip link add "$2" netns "$1" type veth peer name "$4" netns "$3"; }

nat_rules () {
  local kind=$1 masq=masquerade
  [ "$kind" = symmetric ] && masq="masquerade fully-random"
  cat <<EOF
table ip swn {
  chain postrouting { type nat hook postrouting priority srcnat; policy accept;
    oifname "wan" $masq
  }
  chain forward { type filter hook forward priority filter; policy drop;
    ct state established,related accept
    # Port forwards (miniupnpd's DNAT rules in the upnp kind).
    ct status dnat accept
    iifname "lan" oifname "wan" accept
    # Hosts of one home talk to each other (bridged; seen here when br_netfilter is loaded).
    iifname "lan" oifname "lan" accept
  }
  chain input { type filter hook input priority filter; policy drop;
    ct state established,related accept
    iifname "lo" accept
    iifname "lan" accept
  }
}
EOF
}

# miniupnpd in router namespace $1 (home $2): the chains it fills, its config, the daemon.
start_miniupnpd () {
  local r=$1 h=$2
  command -v miniupnpd >/dev/null || die "miniupnpd not installed (apt-get install miniupnpd-nftables)"
  ip netns exec "$r" nft -f - <<EOF
table inet filter {
  chain miniupnpd { }
  chain prerouting_miniupnpd { }
  chain postrouting_miniupnpd { }
  chain prerouting { type nat hook prerouting priority dstnat; policy accept; jump prerouting_miniupnpd; }
  chain postrouting { type nat hook postrouting priority srcnat; policy accept; jump postrouting_miniupnpd; }
}
EOF
  cat > "/tmp/$r.miniupnpd.conf" <<EOF
ext_ifname=wan
listening_ip=lan
http_port=0
enable_natpmp=no
enable_upnp=yes
secure_mode=yes
system_uptime=yes
notify_interval=10
uuid=$(cat /proc/sys/kernel/random/uuid)
allow 1024-65535 10.$h.0.0/24 1024-65535
deny 0-65535 0.0.0.0/0 0-65535
EOF
  ip netns exec "$r" miniupnpd -f "/tmp/$r.miniupnpd.conf" -P "/tmp/$r.miniupnpd.pid"
}

up () {
  local tag=$1; shift
  local kinds=("$@")
  [ -n "$(ns_of_tag "$tag")" ] && die "run $tag already exists (scripts/nat-net.sh down $tag)"
  [ "$PUBLIC_HOSTS" -le 8 ] && [ "${#kinds[@]}" -le 8 ] || die "at most 8 public hosts and 8 homes"
  local net="${PREFIX}-${tag}-net"
  mkns "$net"
  ip netns exec "$net" sysctl -q -w net.ipv4.ip_forward=1
  local n h i ns r
  for n in $(seq 1 "$PUBLIC_HOSTS"); do
    ns="${PREFIX}-${tag}-p$n"
    mkns "$ns"
    veth "$ns" eth0 "$net" "p$n"
    ip -n "$net" addr add "$((10 + n)).0.$n.1/24" dev "p$n"
    ip -n "$net" link set "p$n" up
    ip -n "$ns" addr add "$((10 + n)).0.$n.10/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" route add default via "$((10 + n)).0.$n.1"
  done
  h=0
  for kind in "${kinds[@]}"; do
    h=$((h + 1))
    [ "$kind" = cone ] || [ "$kind" = symmetric ] || [ "$kind" = upnp ] || die "unknown NAT kind '$kind' (cone | symmetric | upnp)"
    r="${PREFIX}-${tag}-r$h"
    mkns "$r"
    veth "$r" wan "$net" "r$h"
    ip -n "$net" addr add "$((20 + h)).0.$h.1/24" dev "r$h"
    ip -n "$net" link set "r$h" up
    ip -n "$r" addr add "$((20 + h)).0.$h.2/24" dev wan
    ip -n "$r" link set wan up
    ip -n "$r" route add default via "$((20 + h)).0.$h.1"
    ip -n "$r" link add lan type bridge
    ip -n "$r" addr add "10.$h.0.1/24" dev lan
    ip -n "$r" link set lan up
    ip netns exec "$r" sysctl -q -w net.ipv4.ip_forward=1
    nat_rules "$kind" | ip netns exec "$r" nft -f -
    if [ "$kind" = upnp ]; then start_miniupnpd "$r" "$h"; fi
    for i in $(seq 1 "$HOSTS_PER_HOME"); do
      ns="${PREFIX}-${tag}-h$h${letters[$((i - 1))]}"
      mkns "$ns"
      veth "$ns" eth0 "$r" "h$i"
      ip -n "$r" link set "h$i" master lan up
      ip -n "$ns" addr add "10.$h.0.$((10 + i))/24" dev eth0
      ip -n "$ns" link set eth0 up
      ip -n "$ns" route add default via "10.$h.0.1"
    done
  done
  # A process started at once would list the host's interfaces before its link is up (libp2p then
  # sees only 127.0.0.1 among its listen addresses): wait, bounded, until every host's eth0 is UP.
  local t
  for ns in $(ns_of_tag "$tag" | grep -E -- "-(p[0-9]+|h[0-9]+[a-h])$"); do
    for t in $(seq 1 50); do
      ip -n "$ns" -o link show eth0 | grep -q "state UP" && break
      sleep 0.1
    done
  done
  echo "nat-net: run $tag up: $(ns_of_tag "$tag" | tr '\n' ' ')"
}

check () {
  need_root
  command -v nft >/dev/null || die "nft not installed (apt-get install nftables)"
  local t="chk$$"; t=${t:0:6}
  ip netns add "${PREFIX}-$t-x" 2>/dev/null || die "cannot create network namespaces here (ip netns add failed)"
  if ! printf 'table ip t {\n chain p {\n type nat hook postrouting priority srcnat;\n masquerade fully-random\n }\n}\n' | ip netns exec "${PREFIX}-$t-x" nft -f - 2>/dev/null; then
    ip netns del "${PREFIX}-$t-x"; die "nftables NAT does not work in a namespace here"
  fi
  ip netns del "${PREFIX}-$t-x"
  echo "nat-net: ok"
}

cmd=${1:-}; shift || true
case "$cmd" in
  up) need_root; check_tag "${1:-}"; tag=$1; shift
      trap 'down "$tag"' ERR
      up "$tag" "${@:-cone}" ;;
  down) need_root; check_tag "${1:-}"; down "$1" ;;
  down-all) need_root; down_all ;;
  list) ip netns list | awk '{print $1}' | grep -E "^${PREFIX}-" || true ;;
  check) check ;;
  run) need_root; check_tag "${1:-}"; tag=$1; shift
       kinds=(); while [ $# -gt 0 ] && [ "$1" != -- ]; do kinds+=("$1"); shift; done
       [ "${1:-}" = -- ] || die "run TAG KIND... -- CMD"; shift
       child=
       trap 'down "$tag"' EXIT
       # The command runs in the background so that a signal is handled at once
       # (bash defers traps until a foreground child ends), and is passed on.
       trap '[ -n "$child" ] && kill -TERM "$child" 2>/dev/null; exit 130' INT TERM
       up "$tag" "${kinds[@]:-cone}"
       "$@" & child=$!
       wait "$child" ;;
  *) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac

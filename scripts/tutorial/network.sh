#!/usr/bin/env bash
# The tutorial's "cluster" on one machine: network namespaces joined by a bridge.
#   tut-node     the node: bridge 10.77.0.1/24, the workloads' servers, and "the internet"
#                (203.0.113.x addresses on its loopback)
#   tut-app      a pod with the sidecar                      10.77.0.2
#   tut-ingress  the ingress gateway (legate proxy router)   10.77.0.3
#   tut-egress   the egress gateway (legate proxy router)    10.77.0.4
# `network.sh up` (re)creates it, `network.sh down` kills everything inside and removes it.
set -euo pipefail
NODE=tut-node
PODS=(app:10.77.0.2 ingress:10.77.0.3 egress:10.77.0.4)
STATE=/tmp/legate-tutorial

down() {
  for ns in $NODE tut-app tut-ingress tut-egress; do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
  done
  rm -rf /etc/netns/tut-app "$STATE"
}

up() {
  [ "$(id -u)" -eq 0 ] || { echo "network.sh: run as root (network namespaces)" >&2; exit 1; }
  down
  ip netns add $NODE
  ip -n $NODE link set lo up
  ip -n $NODE link add br0 type bridge
  ip -n $NODE addr add 10.77.0.1/24 dev br0
  # One address per workload "pod": reviews v1, v2, v3.
  for a in 11 12 13; do ip -n $NODE addr add 10.77.0.$a/32 dev br0; done
  ip -n $NODE link set br0 up
  for a in 10 21 22; do ip -n $NODE addr add 203.0.113.$a/32 dev lo; done
  for pod in "${PODS[@]}"; do
    name=${pod%%:*} ip=${pod#*:}
    ip netns add tut-$name
    ip -n tut-$name link set lo up
    ip link add eth0 netns tut-$name type veth peer name veth-$name netns $NODE
    ip -n $NODE link set veth-$name master br0 up
    ip -n tut-$name addr add $ip/24 dev eth0
    ip -n tut-$name link set eth0 up
    ip -n tut-$name route add default via 10.77.0.1
    mkdir -p $STATE/$name
  done
  # Gateways bind 80 as uid 1337, as Istio's gateway pods do with this sysctl (and so do the servers, as nobody).
  for ns in tut-ingress tut-egress $NODE; do ip netns exec $ns sysctl -qw net.ipv4.ip_unprivileged_port_start=0; done
  # The pod's resolv.conf (ip netns exec mounts /etc/netns/<ns>/*): Kubernetes' search path.
  mkdir -p /etc/netns/tut-app
  printf 'nameserver 10.77.0.1\nsearch default.svc.cluster.local svc.cluster.local cluster.local\n' > /etc/netns/tut-app/resolv.conf
  chmod -R a+rX $STATE
  echo "namespaces: $(ip netns list | grep -o '^tut-[a-z]*' | sort | tr '\n' ' ')"
  echo "configuration directories: $STATE/{app,ingress,egress}"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  *) echo "usage: network.sh up|down" >&2; exit 2 ;;
esac

# bench/lib/cluster.sh — sourced by bench/exec/run and bench/startup/run: the cheapest cluster that deploys on
# N testbed hosts (one alertmanager per host, so node_exporter + blackbox_exporter land on every host too), from a
# fresh signed mirror, as bench/upgrade/run builds it. Needs root; sets TUG_HOME; defines tug(), die(), step().
# Before sourcing: root (the checkout), work (a scratch directory, replaced), hosts (N).
# After bench_cluster_up: cluster=bench, inventory, key (the cluster's login key, user tidb), tug_source.
cluster=bench
inventory="$root/testbed/.state/inventory.json"
export TUG_HOME="$work/home"
step() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }
die() { echo "bench: $*" >&2; exit 1; }
tug() { "$work/bin/tug" "$@"; }
load1() { cut -d' ' -f1 /proc/loadavg; }
# Noise on this shared machine: compilers or test hosts of other work running.
others() { pgrep -fc 'VBCSCompiler|MSBuild\.dll|/csc\.dll|testhost|dotnet test' || true; }

bench_preflight() {
  [[ $EUID -eq 0 ]] || die "needs root (it boots the testbed): sudo $0"
  [[ $(testbed/testbed status --json 2>/dev/null) == *'"up": false'* ]] \
    || die "the testbed is already up (or owned by another checkout): take it down first with testbed/testbed down"
}

bench_cleanup() {
  local rc=$?
  if [[ ${BENCH_KEEP:-0} == 1 ]]; then
    echo "bench: BENCH_KEEP=1: the testbed stays up (TUG_HOME=$TUG_HOME; remove with: testbed/testbed down)" >&2
  else
    testbed/testbed down >&2 || true
  fi
  exit "$rc"
}

# The published build (./tug publishes it: ReadyToRun, apphost), copied so that nothing rebuilds it during the runs.
bench_build() {
  step "Tug, published once and copied, so that nothing rebuilds it during the runs"
  rm -rf "$work" && mkdir -p "$work"
  ./tug --version >/dev/null
  cp -r "$root/.artifacts/tug" "$work/bin"
  tug_source="$(git rev-parse HEAD)$(git diff --quiet HEAD -- src Directory.Build.props Directory.Packages.props || echo '+uncommitted')"
}

bench_cluster_up() {
  testbed/testbed deps
  step "booting $hosts hosts"
  trap bench_cleanup EXIT
  testbed/testbed up "$hosts" >/dev/null
  step "upstream-style tarballs from Debian's archive"
  testbed/testbed packages "$work/packages"
  pkg() { python3 -c "import json,sys; print(next(p['$2'] for p in json.load(open('$work/packages/packages.json')) if p['component']=='$1' and p['version']=='$3'))"; }
  step "a fresh mirror: node_exporter 1.1.2, blackbox_exporter 0.23.0, alertmanager 0.25.0"
  tug mirror init "$work/mirror" >/dev/null
  tug mirror set "$work/mirror" >/dev/null
  tug mirror genkey >/dev/null
  tug mirror grant pingcap --name PingCAP >/dev/null
  local c
  for c in "node_exporter 1.1.2" "blackbox_exporter 0.23.0" "alertmanager 0.25.0"; do
    set -- $c
    tug mirror publish "$1" "v$2" "$work/packages/$(pkg "$1" file "$2")" "$(pkg "$1" entry "$2")" >/dev/null 2>&1
  done
  tug mirror verify >/dev/null
  step "Tug deploys a $hosts-host cluster: alertmanager + node_exporter + blackbox_exporter on every host"
  python3 "$root/bench/upgrade/bench.py" files "$inventory" "$hosts" "$work"
  local t0=$EPOCHREALTIME
  tug cluster deploy "$cluster" v0.25.0 "$work/topology.yaml" -u root -i "$root/testbed/.state/id_ed25519" -y -c 32 >"$work/deploy.out" 2>"$work/deploy.err" \
    || { tail -n 20 "$work/deploy.out" "$work/deploy.err" >&2; die "deploy failed"; }
  echo "deployed in $(python3 -c "print(round($EPOCHREALTIME - $t0, 1))") s: $(tail -1 "$work/deploy.out")" >&2
  key="$TUG_HOME/clusters/$cluster/ssh/id_rsa"
  [[ -f $key ]] || die "no cluster key at $key"
  free -m | sed -n 2p | awk '{ print "memory used after setup: " $3 " MiB of " $2 " MiB" }' >&2
}

# The same hosts for the peers, logging in as Tug does: user tidb, the cluster's key, the testbed's known host keys.
bench_peer_files() {
  python3 - "$inventory" "$hosts" "$work" "$key" <<'PY'
import json, os, sys
inv, n, work, key = json.load(open(sys.argv[1])), int(sys.argv[2]), sys.argv[3], sys.argv[4]
hosts = inv["hosts"][:n]
with open(os.path.join(work, "pssh-hosts"), "w") as f:
    for h in hosts:
        f.write(f"tidb@{h['address']}:{h['port']}\n")
with open(os.path.join(work, "ansible-hosts.ini"), "w") as f:
    f.write("[nodes]\n")
    for h in hosts:
        f.write(f"{h['name']} ansible_host={h['address']} ansible_port={h['port']}\n")
    f.write(f"\n[nodes:vars]\nansible_user=tidb\nansible_ssh_private_key_file={key}\n")
    f.write(f"ansible_ssh_common_args='-o UserKnownHostsFile={inv['knownHosts']} -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes'\n")
with open(os.path.join(work, "ssh-host"), "w") as f:
    f.write(f"{hosts[0]['address']} {hosts[0]['port']}\n")
PY
}

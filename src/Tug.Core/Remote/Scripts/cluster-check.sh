#!/usr/bin/env bash
# Runs a component's cluster health command (executable, else fallback found on PATH, with environment and
# arguments) once a second, up to attempts times, until it exits 0; then prints its output and exits 0. Otherwise
# prints the last attempt's output on stderr and exits 1.
# tug:params attempts executable fallback component environment[] arguments[]
attempts={{attempts}}
executable={{executable}}
fallback={{fallback}}
component={{component}}
environment=({{environment}})
arguments=({{arguments}})
check() {
  local exe=$executable
  [ -x "$exe" ] || exe=$(command -v "$fallback") || { echo "no $fallback beside $component to check the cluster" >&2; return 2; }
  env "${environment[@]}" "$exe" "${arguments[@]}"
}
out=$(mktemp)
for _ in $(seq 1 "$attempts"); do
  if check > "$out" 2>&1; then cat "$out"; rm -f "$out"; exit 0; fi
  sleep 1
done
cat "$out" >&2; rm -f "$out"; exit 1

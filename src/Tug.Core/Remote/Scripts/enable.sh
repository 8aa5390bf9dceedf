#!/usr/bin/env bash
# Reloads systemd and enables the units. Prints nothing; stops at the first error.
# tug:params units[]
set -e
units=({{units}})
systemctl daemon-reload
systemctl enable "${units[@]}" >/dev/null 2>&1

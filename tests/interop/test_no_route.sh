#!/usr/bin/env bash
# An off-link destination and no --gateway: there is no next hop (RFC 1122 §3.3.1.1), so
# `synack connect` must fail with "No route to host" (EHOSTUNREACH) instead of sending SYNs
# that IP drops and waiting out its --timeout. With a gateway the route exists: the SYNs go
# to the kernel, which does not forward them, and the connect times out instead.
source "$(dirname "$0")/lib.sh"
setup_ns
nsx "$BIN" connect --tap "$TAP" --addr "$SADDR/24" --to 192.0.2.7:80 --timeout 5 \
  >"$TMP/noroute.out" 2>"$TMP/noroute.err"
rc=$?
cat "$TMP/noroute.err"
[ $rc -eq 1 ] || fail "exit status $rc, not 1"
grep -q "No route to host" "$TMP/noroute.err" || fail "no 'No route to host' for an off-link address"
nsx "$BIN" connect --tap "$TAP" --addr "$SADDR/24" --gateway "$KADDR" --to 192.0.2.7:80 \
  --timeout 1 >"$TMP/gw.out" 2>"$TMP/gw.err"
rc=$?
cat "$TMP/gw.err"
[ $rc -eq 1 ] || fail "with a gateway: exit status $rc, not 1"
grep -q "timed out" "$TMP/gw.err" || fail "with a gateway the SYN should leave and time out"
echo "PASS: no route without a gateway, a timeout with one"

#!/usr/bin/env bash
# dropin.real.sqlite: sqlite3 runs a generated SQL script (gen_sql.py:
# 20,000 customers and their orders, indexes, joins, GROUP BY, window
# functions, a recursive CTE, JSON, updates, deletes, VACUUM) on a file
# database; its output on rulloc is the one on glibc.
source "$(dirname "$0")/common.sh" "$@"
here=$(cd "$(dirname "$0")" && pwd)
need sqlite3 /usr/bin/python3
/usr/bin/python3 "$here/gen_sql.py" 20000 >"$tmp/script.sql"
echo "script: $(wc -l <"$tmp/script.sql") lines"

on_glibc glibc sqlite3 -batch -bail "$tmp/glibc.db" -init /dev/null <"$tmp/script.sql"
on_rulloc rulloc sqlite3 -batch -bail "$tmp/rulloc.db" -init /dev/null <"$tmp/script.sql"
served rulloc sqlite3 1 100000
same "$tmp/glibc.out" "$tmp/rulloc.out" "sqlite3 output"
if ! grep -qx 'integrity_check' "$tmp/rulloc.out" ||
  ! grep -qx 'ok' "$tmp/rulloc.out"; then
  fail "no 'ok' from PRAGMA integrity_check"
fi
# The databases written hold the same rows.
dump() { sqlite3 -batch "$1" .dump | sha256sum; }
[[ "$(dump "$tmp/glibc.db")" == "$(dump "$tmp/rulloc.db")" ]] ||
  fail "the databases differ"
echo "same on glibc and rulloc: database dump"
done_ok "sqlite3"

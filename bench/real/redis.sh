#!/usr/bin/env bash
# redis workload driver for bench/run (rulloc benchmark suite).
#
#   redis.sh MEASURE PRELOAD RESULT STDOUT WORKDIR SCALE TIMEOUT
#
# Starts redis-server on a free loopback port (127.0.0.1 only, no persistence)
# under `measure --preload PRELOAD`, runs redis-benchmark (not preloaded) with
# a bounded request count against it, then empties the database, sends the
# deterministic commands of gen_redis.py through redis-cli (replies go to
# STDOUT, compared across allocators), and shuts the server down.
# Appends to RESULT one measure line: the wall time of redis-benchmark, the
# server's CPU time, peak RSS and page faults, and a non-zero status if any
# step failed. Debian's redis-server links jemalloc; PRELOAD replaces its
# malloc family (not mallctl). For "glibc" bench/run preloads libc.so.6,
# which puts glibc's malloc ahead of the linked jemalloc.
set -u
MEASURE=$1 PRELOAD=$2 RESULT=$3 STDOUT=$4 WORKDIR=$5 SCALE=$6 TIMEOUT=$7
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=/usr/bin/python3
mkdir -p "$WORKDIR"
rm -f "$WORKDIR"/server.res "$WORKDIR"/bench.res "$WORKDIR"/server.log

fail_line() { echo "0 0 0 0 0 0 $1" >>"$RESULT"; }

port=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$MEASURE" --preload "$PRELOAD" --result "$WORKDIR/server.res" --timeout "$TIMEOUT" \
  --stdout "$WORKDIR/server.log" --stderr "$WORKDIR/server.err" -- \
  redis-server --port "$port" --bind 127.0.0.1 --protected-mode yes --save '' --appendonly no \
  --daemonize no --dir "$WORKDIR" --logfile '' --loglevel warning &
server=$!

up=0
for _ in $(seq 1 100); do
  if [[ $(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null) == PONG ]]; then up=1; break; fi
  if ! kill -0 "$server" 2>/dev/null; then break; fi
  sleep 0.05
done
if [[ $up != 1 ]]; then
  echo "redis.sh: redis-server did not start" >&2
  cat "$WORKDIR/server.err" >&2 2>/dev/null
  kill "$server" 2>/dev/null; wait "$server" 2>/dev/null
  fail_line 1
  exit 1
fi

requests=$($PY -c "print(max(2000, int(40000 * float('$SCALE'))))")
status=0
"$MEASURE" --result "$WORKDIR/bench.res" --timeout "$TIMEOUT" --stdout "$WORKDIR/benchmark.txt" -- \
  redis-benchmark -h 127.0.0.1 -p "$port" -n "$requests" -r 100000 -d 256 -c 16 -P 16 -q \
  -t set,get,incr,lpush,rpop,sadd,hset,spop,zadd || status=$?

if [[ $status == 0 ]]; then
  redis-cli -h 127.0.0.1 -p "$port" flushall >/dev/null || status=2
  $PY "$HERE/gen_redis.py" "$SCALE" >"$WORKDIR/commands.txt"
  redis-cli -h 127.0.0.1 -p "$port" <"$WORKDIR/commands.txt" >"$STDOUT" 2>&1 || status=2
  redis-cli -h 127.0.0.1 -p "$port" info | grep -E '^(redis_version|mem_allocator)' | tr -d '\r' \
    >"$WORKDIR/server-info.txt" || true
fi
redis-cli -h 127.0.0.1 -p "$port" shutdown nosave >/dev/null 2>&1 || kill "$server" 2>/dev/null
wait "$server"
server_status=$?
# redis exits 0 on shutdown; anything else (a crash, a timeout) is a failure.
if [[ $server_status != 0 ]]; then
  echo "redis.sh: redis-server exited with status $server_status" >&2
  cat "$WORKDIR/server.err" >&2 2>/dev/null
  status=$server_status
fi
if [[ ! -s $WORKDIR/bench.res || ! -s $WORKDIR/server.res ]]; then
  fail_line "${status/#0/3}"
  exit 1
fi
read -r bwall _ _ _ _ _ _ <"$WORKDIR/bench.res"
read -r _ suser ssys srss sminflt smajflt _ <"$WORKDIR/server.res"
echo "$bwall $suser $ssys $srss $sminflt $smajflt $status" >>"$RESULT"
exit "$status"

#!/usr/bin/env bash
# git workload for bench/run (rulloc benchmark suite).
#
#   git.sh WORKDIR HISTORY
#
# Runs as a whole under the allocator being measured (every git process it
# starts is preloaded). Builds a bare repository from HISTORY (a fast-import
# stream written by gen_git.py), repacks it from scratch with a deep delta
# search (git's threaded delta compression: many malloc'ed windows, from
# both CPUs), checks it with fsck, then walks the history the ways people do:
# log with per-file line counts, a diff between the first and the last
# commit, blame of one file, and an archive of the last tree. Prints what is
# the same on every run (commit id, object counts, digests of what log,
# diff, blame and archive printed); any failing git command fails the run.
set -euo pipefail
W=$1 HISTORY=$2
export HOME=$W GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null LC_ALL=C TZ=UTC
rm -rf "$W/repo.git"
mkdir -p "$W"
git init -q --bare -b main "$W/repo.git"
cd "$W/repo.git"
git fast-import --quiet <"$HISTORY"
git repack -a -d -f -q --window=50 --depth=50
git fsck --full --strict --no-progress
echo "head $(git rev-parse main)"
git count-objects -v | grep -E '^(count|in-pack|garbage):' | tr '\n' ' '
echo
first=$(git rev-list --max-parents=0 main)
echo "log $(git log --numstat --format='%H %an %ad %s' main | md5sum | cut -d' ' -f1)"
echo "diff $(git diff --stat=200 "$first" main | md5sum | cut -d' ' -f1)"
echo "blame $(git blame -s main -- src/f00/file000.c | md5sum | cut -d' ' -f1)"
echo "archive $(git archive --format=tar main | md5sum | cut -d' ' -f1)"

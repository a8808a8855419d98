#!/usr/bin/env bash
# dropin.real.git: git builds a scratch repository (many files over many
# commits, branches, a merge), then log, diff, blame, grep, gc, repack,
# fsck and archive; with fixed authors and dates the output on rulloc is the
# one on glibc, commit ids included.
source "$(dirname "$0")/common.sh" "$@"
need git sha256sum
export GIT_AUTHOR_NAME="A U Thor" GIT_AUTHOR_EMAIL=author@example.com
export GIT_COMMITTER_NAME="C O Mitter" GIT_COMMITTER_EMAIL=committer@example.com
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null GIT_TERMINAL_PROMPT=0
export GIT_PAGER=cat PAGER=cat

# The whole session, run in the folder given; prints everything to compare.
session() {
  set -euo pipefail
  local repo=$1 c
  mkdir -p "$repo"
  cd "$repo"
  git init -q -b main .
  git config core.autocrlf false
  git config gc.auto 0
  git config pack.threads 4
  git config grep.threads 4
  mkdir dir0 dir1 dir2 dir3 dir4 dir5 dir6
  for c in $(seq 1 30); do
    export GIT_AUTHOR_DATE="2024-01-$(printf %02d $((c % 28 + 1)))T12:00:00Z"
    export GIT_COMMITTER_DATE="$GIT_AUTHOR_DATE"
    # One process writes this commit's 40 file changes.
    awk -v c="$c" 'BEGIN {
      for (i = 1; i <= 40; i++) {
        f = "dir" (i % 7) "/file" ((c * 13 + i * 7) % 150) ".txt"
        print "commit " c " file " i >>f
        for (k = c * i; k <= c * i + i * 5; k++) print k >>f
        close(f)
      }
    }'
    if ((c % 10 == 0)); then git rm -q "dir$((c % 7))/file$((c % 150)).txt" 2>/dev/null || true; fi
    git add -A
    git commit -q -m "commit $c" -m "$(seq -s ' ' 1 $((c * 3)))"
    if ((c == 15)); then git branch side; fi
  done
  git checkout -q side
  export GIT_AUTHOR_DATE="2024-02-01T00:00:00Z" GIT_COMMITTER_DATE="2024-02-01T00:00:00Z"
  awk 'BEGIN { for (i = 1; i <= 20; i++) for (k = i; k <= 200; k++) print k >"side" i ".txt" }'
  git add -A && git commit -q -m "side work"
  git checkout -q main
  git merge -q --no-edit side
  echo "== log"; git log --stat --format='%H %an %ad %s' --date=iso-strict
  echo "== graph"; git log --graph --oneline --all
  echo "== diff"; git diff HEAD~12 HEAD -- dir1 dir3
  echo "== diff stat"; git diff --stat HEAD~25 HEAD
  echo "== blame"; git blame -s dir2/file5.txt 2>/dev/null || git blame -s "$(git ls-files dir2 | head -1)"
  echo "== grep"; git grep -c 'commit 1[0-9]' HEAD
  echo "== rev-list"; git rev-list --objects --all | sort
  git gc -q --aggressive --prune=now
  git repack -q -adf --depth=50 --window=50
  echo "== fsck"; git fsck --full --strict --no-progress
  echo "== count"; git count-objects -v | grep -v -e size -e prune
  echo "== archive"; git archive --format=tar HEAD | sha256sum
  echo "== show"; git show --format='%H %s' HEAD~3:dir4/"$(git ls-tree --name-only HEAD~3 dir4/ | head -1 | xargs basename)" | sha256sum
}
export -f session

# shellcheck disable=SC2016  # $0 is expanded by the inner bash
on_glibc glibc bash -c 'session "$0"' "$tmp/glibc-repo"
on_rulloc rulloc bash -c 'session "$0"' "$tmp/rulloc-repo"
# One process per commit at least (git commit), each with its own count.
served rulloc git 30 1000
same "$tmp/glibc.out" "$tmp/rulloc.out" "git session output"
same "$tmp/glibc.err" "$tmp/rulloc.err" "git session stderr"
grep -q '^== fsck' "$tmp/rulloc.out" || fail "the session did not get to fsck"
done_ok "git"

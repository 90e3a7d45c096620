#!/usr/bin/env bash
# check-deps.sh: enforce Penstock's package dependency rules (docs/DESIGN.md,
# "Dependency rules") with `go list`. Prints each violation and exits 1 if
# there is any. Test files are not checked: tests may import anything.
#
# Run from anywhere: bash scripts/check-deps.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

module=$(go list -m)
fail=0
violation() {
  echo "check-deps: $*"
  fail=1
}

# pkg<TAB>direct imports<TAB>all dependencies, for every package of the module.
# tools_tmp/ is a git-ignored scratch directory, not part of the product.
listing=$(go list -e -f '{{.ImportPath}}{{"\t"}}{{join .Imports " "}}{{"\t"}}{{join .Deps " "}}' ./... | grep -v "^$module/tools_tmp"$'\t' || true)

# Rule 1: only the transports, the composition root, test helpers, the
# load generator (a network client) and commands may depend on gRPC,
# net/http or the generated Storage API types, directly or through another
# package.
transport="^$module/(internal/(grpcapi|restapi|server|servertest|loadgen)|cmd|test)(/|$)"
wire='^(google\.golang\.org/grpc|net/http|cloud\.google\.com/go/bigquery/storage/apiv1/storagepb)$'
# Rule 3: only commands, test helpers and tests may use the composition root.
root_users="^$module/(cmd|internal/servertest|test)(/|$)"
root="^$module/internal/server$"

while IFS=$'\t' read -r pkg imports deps; do
  if ! [[ $pkg =~ $transport ]]; then
    for d in $deps; do
      if [[ $d =~ $wire ]]; then
        via=""
        for i in $imports; do
          if [[ $i == "$d" ]]; then via=" (imported directly)"; fi
        done
        violation "$pkg depends on $d$via; only grpcapi, restapi, server, servertest, cmd and test may"
      fi
    done
  fi
  if ! [[ $pkg =~ $root_users ]] && ! [[ $pkg =~ $root ]]; then
    for i in $imports; do
      if [[ $i =~ $root ]]; then
        violation "$pkg imports $i; only cmd, servertest and test may use the composition root"
      fi
    done
  fi
done <<<"$listing"

# Rule 2: leaf packages depend on the standard library only.
for leaf in internal/storage/wal internal/schema; do
  [[ -d $leaf ]] || continue
  while read -r dep; do
    [[ -z $dep || $dep == "$module/$leaf" ]] && continue
    violation "$module/$leaf depends on $dep; it may use the standard library only"
  done < <(go list -e -deps -f '{{if not .Standard}}{{.ImportPath}}{{end}}' "./$leaf")
done

if [[ $fail -ne 0 ]]; then
  exit 1
fi
echo "check-deps: ok ($(wc -l <<<"$listing") packages)"

#!/usr/bin/env bash
# tools/check-layers.sh - fail on an include that goes up the layer order
# (STYLE.md C1). Each src/<layer>/ may include only the layers listed here.
# Documented exceptions (docs/ARCHITECTURE.md): db -> proto (effects are
# encoded by proto/effect_codec), cmd -> server (a handler's context is the client).
set -euo pipefail
cd "$(dirname "$0")/.."

declare -A allowed=(
    [core]="core"
    [ds]="core ds"
    [proto]="core proto"
    [net]="core net"
    [db]="core ds db proto"
    [storage]="core proto storage"
    [cmd]="core ds db proto net storage cmd server"
    [server]="core ds db proto net storage cmd server"
    [tools]="core proto storage"
)

bad=0
check() { # file layer
    local file=$1 layer=$2 inc dep
    while IFS= read -r inc; do
        dep=${inc%%/*}
        case " ${allowed[$layer]} " in
            *" $dep "*) ;;
            *) echo "$file: includes \"$inc\": layer '$layer' may not include '$dep'"; bad=1 ;;
        esac
    done < <(sed -n 's/^#include "\([a-z_]*\/[^"]*\)".*/\1/p' "$file")
}

for f in $(find src -mindepth 2 -name '*.[ch]' | sort); do
    layer=${f#src/}
    check "$f" "${layer%%/*}"
done
for f in tools/*.c; do
    [ -e "$f" ] && check "$f" tools
done
if [ "$bad" -ne 0 ]; then
    echo "check-layers: upward includes found"
    exit 1
fi
echo "check-layers: ok"

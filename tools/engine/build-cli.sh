#!/usr/bin/env bash
# Builds the Pulumi CLI of one version from the Go module proxy into $2 (the cache's file for it).
# The pkg module's go.mod replaces the sdk module by ../sdk, which a module download does not
# contain: the replace is dropped and the sdk comes from the proxy at the same version. The version
# is set through ldflags, or some commands refuse a CLI that calls itself v0.0.0. ~15 min on 2 cores.
set -euo pipefail
version=$1
out=$2
export GOFLAGS=-mod=mod
work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
cd "$work"
src=$(go mod download -json "github.com/pulumi/pulumi/pkg/v3@v$version" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).Dir))')
cp -r "$src" pkg
chmod -R u+w pkg
cd pkg
go mod edit -dropreplace github.com/pulumi/pulumi/sdk/v3
go mod edit -require "github.com/pulumi/pulumi/sdk/v3@v$version"
go mod tidy >/dev/null 2>&1 || true
mkdir -p "$(dirname "$out")"
# Written aside and renamed: a reader never sees half a binary.
nice go build -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$version" -o "$out.partial.$$" ./cmd/pulumi
mv "$out.partial.$$" "$out"

#!/usr/bin/env bash
# Builds the Debian package: generates the man page and shell completions from the CLI
# definition, then runs cargo-deb. Usage: packaging/build-deb.sh [PROFILE] (release by default;
# the tests pass "dev" to package the binary they already built).
set -euo pipefail
cd "$(dirname "$0")/.."
profile="${1:-release}"
dir=$([ "$profile" = dev ] && echo debug || echo "$profile")
bin="${CARGO_TARGET_DIR:-target}/$dir/vodkit"
[ -x "$bin" ] || { echo "build-deb.sh: $bin is missing; build it first (cargo build --profile $profile)" >&2; exit 1; }
command -v cargo-deb >/dev/null 2>&1 || cargo install cargo-deb --version 3.8.0 --locked
mkdir -p target/package-assets
"$bin" man > target/package-assets/vodkit.1
"$bin" completions bash > target/package-assets/vodkit.bash
"$bin" completions zsh > target/package-assets/_vodkit
"$bin" completions fish > target/package-assets/vodkit.fish
exec cargo deb --no-build --profile "$profile" ${DEB_OUT:+--output "$DEB_OUT"}

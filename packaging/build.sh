#!/usr/bin/env bash
# Builds the rsupervisor .deb and .rpm packages.
#
#   packaging/build.sh
#
# 1. installs what is missing: cargo-deb and cargo-generate-rpm (cargo install --locked),
#    and, when root with apt-get, dpkg-dev, rpm and lintian;
# 2. builds the release binaries of rsupervisord and rsupervisorctl;
# 3. runs both binaries to write their man pages and bash/zsh/fish completions into
#    $TARGET/release/packaging/ (the package metadata in rsupervisord/Cargo.toml takes
#    them from there);
# 4. runs cargo deb and cargo generate-rpm, and prints the package paths as its last
#    two lines:  "deb: PATH" and "rpm: PATH".
#
# Honours CARGO_TARGET_DIR. Exit status: 0 built, 1 failed, 77 a required tool is
# missing and could not be installed (packaging/test.sh reports that as a SKIP).
set -euo pipefail

CARGO_DEB_VERSION=3.8.0
CARGO_GENERATE_RPM_VERSION=0.21.1
EXIT_MISSING_TOOL=77

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'build.sh: error: %s\n' "$*" >&2; exit 1; }
missing_tool() { printf 'build.sh: missing tool: %s\n' "$*" >&2; exit "$EXIT_MISSING_TOOL"; }

command -v cargo >/dev/null || missing_tool "cargo is not on PATH"

# --- tools ----------------------------------------------------------------------------

# cargo install NAME at VERSION, or the newest release if that version does not resolve.
cargo_install() {
    local name=$1 version=$2
    # --debug: these tools only pack a few megabytes, and an unoptimised build of them takes
    # a fraction of the time of an optimised one on a small CI machine.
    say "installing $name $version (cargo install --locked --debug)"
    if cargo install --locked --debug "$name" --version "$version"; then
        return 0
    fi
    say "$name $version did not install; trying the latest release"
    cargo install --locked --debug "$name"
}

cargo deb --version >/dev/null 2>&1 || cargo_install cargo-deb "$CARGO_DEB_VERSION" ||
    missing_tool "cargo-deb could not be installed"
cargo generate-rpm --version >/dev/null 2>&1 ||
    cargo_install cargo-generate-rpm "$CARGO_GENERATE_RPM_VERSION" ||
    missing_tool "cargo-generate-rpm could not be installed"

# dpkg-deb builds nothing here (cargo-deb writes the archive itself), but dpkg-shlibdeps
# (dpkg-dev) computes Depends for "$auto"; rpm and lintian are for inspecting and testing.
apt_packages=()
command -v dpkg-shlibdeps >/dev/null || apt_packages+=(dpkg-dev)
command -v rpm >/dev/null || apt_packages+=(rpm)
command -v lintian >/dev/null || apt_packages+=(lintian)
if ((${#apt_packages[@]})); then
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
        say "installing ${apt_packages[*]} (apt-get)"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq || say "apt-get update failed; trying the install anyway"
        apt-get install -y -qq --no-install-recommends "${apt_packages[@]}" >/dev/null ||
            say "apt-get install ${apt_packages[*]} failed; going on without"
    else
        say "not installing ${apt_packages[*]} (needs root and apt-get); going on without"
    fi
fi
command -v dpkg-shlibdeps >/dev/null ||
    say "dpkg-shlibdeps not found: the .deb's Depends will lack the libc version"

# --- binaries ---------------------------------------------------------------------------

target_dir=$(cargo metadata --no-deps --format-version 1 |
    grep -o '"target_directory":"[^"]*"' | cut -d'"' -f4)
[[ -n $target_dir ]] || die "cannot find the cargo target directory (cargo metadata)"
release="$target_dir/release"
generated="$release/packaging"

say "building release binaries (target dir: $target_dir)"
cargo build --release --locked -p rsupervisord -p rsupervisorctl

# --- man pages and completions -----------------------------------------------------------

say "generating man pages and completions into $generated"
rm -rf "$generated"
mkdir -p "$generated"
for bin in rsupervisord rsupervisorctl; do
    exe="$release/$bin"
    [[ -x $exe ]] || die "$exe was not built"
    if ! "$exe" --generate-man >"$generated/$bin.1" 2>"$generated/$bin.err" ||
        [[ ! -s $generated/$bin.1 ]]; then
        die "'$bin --generate-man' failed; $bin must support --generate-man and
  --generate-completions bash|zsh|fish (both print to stdout); on a branch without the rsupervisorctl CLI, merge it first. Its output:
$(cat "$generated/$bin.err")"
    fi
    # -n: no name or timestamp in the gzip header, so the output is reproducible.
    gzip -9n "$generated/$bin.1"
    for shell in bash zsh fish; do
        case $shell in
            bash) file="$generated/$bin.bash" ;;
            zsh) file="$generated/_$bin" ;;
            fish) file="$generated/$bin.fish" ;;
        esac
        "$exe" --generate-completions "$shell" >"$file" 2>"$generated/$bin.err" && [[ -s $file ]] ||
            die "'$bin --generate-completions $shell' failed: $(cat "$generated/$bin.err")"
    done
    rm -f "$generated/$bin.err"
done

# --- packages --------------------------------------------------------------------------

say "building the .deb (cargo deb)"
deb=$(cargo deb -p rsupervisord --no-build | tail -n 1)
[[ -f $deb ]] || die "cargo deb did not report a package file (got: '$deb')"

say "building the .rpm (cargo generate-rpm)"
rpm_dir="$target_dir/generate-rpm"
rm -f "$rpm_dir"/rsupervisor-*.rpm
cargo generate-rpm -p rsupervisord --target-dir "$target_dir"
shopt -s nullglob
rpms=("$rpm_dir"/rsupervisor-*.rpm)
((${#rpms[@]} == 1)) || die "expected one rsupervisor-*.rpm in $rpm_dir, found ${#rpms[@]}"

echo "deb: $deb"
echo "rpm: ${rpms[0]}"

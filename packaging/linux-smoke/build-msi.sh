#!/usr/bin/env bash
# Linux smoke build of the MSI with wixl (msitools) from the PyInstaller onedir, for tests that read its tables.
# The release MSI is built on Windows with WiX v5 (packaging/windows/, .github/workflows/windows-msi.yml).
# usage: HELP_URL=<support page> build-msi.sh ONEDIR OUTPUT.msi [VERSION]   (VERSION defaults to pyproject.toml's)
# HELP_URL becomes the help and support links in Add/Remove Programs, as HelpUrl does in the release build.
set -euo pipefail
[ $# -ge 2 ] && [ $# -le 3 ] || { echo "usage: HELP_URL=<support page> $0 ONEDIR OUTPUT.msi [VERSION]" >&2; exit 2; }
[ -n "${HELP_URL:-}" ] || { echo "HELP_URL is not set: the support page Add/Remove Programs links to" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
onedir=$(cd "$1" && pwd)
output=$(realpath -m "$2")
version=${3:-$(python3 -c 'import sys, tomllib; print(tomllib.load(open(sys.argv[1], "rb"))["project"]["version"])' \
  "$here/../../pyproject.toml")}
if [ -f "$onedir/ConsentDesktop.exe" ]; then exe=ConsentDesktop.exe; else exe=ConsentDesktop; fi
[ -f "$onedir/$exe" ] || { echo "no ConsentDesktop executable in $onedir" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# wixl-heat tells files from folders by looking them up in the working directory, so run it inside the onedir.
# Regular files only: a Linux build also links some Qt libraries into _internal, which a Windows build does not.
(cd "$onedir" && find . -type f | LC_ALL=C sort |
  wixl-heat -p ./ --component-group AppFiles --directory-ref INSTALLDIR --var var.SourceDir --win64) \
  > "$work/appfiles.wxs"
# wixl accepts only relative Source paths.
cp "$here/consent-desktop.wxs" "$work/"
(cd "$work" && wixl -a x64 -D Version="$version" -D SourceDir="$(realpath --relative-to="$work" "$onedir")" \
  -D ExeName="$exe" -D HelpUrl="$HELP_URL" -D Win64=yes -o "$output" consent-desktop.wxs appfiles.wxs)

# wixl ignores Secure="yes", and declaring SecureCustomProperties ourselves fails its build (a duplicate row).
# Without the list, msiexec drops these properties in a managed (elevated) install, so patch the table it wrote.
property() { msiinfo export "$output" Property | awk -F'\t' -v name="$1" '$1 == name { print $2 }' | tr -d '\r'; }
public=$(grep -o '<Property Id="[A-Z0-9_]*" Secure="yes"' "$here/consent-desktop.wxs" | cut -d'"' -f2 | paste -sd';')
secure="$public;$(property SecureCustomProperties)"
msibuild "$output" -q "UPDATE \`Property\` SET \`Value\`='$secure' WHERE \`Property\`='SecureCustomProperties'"
# wixl also ignores MajorUpgrade/@AllowSameVersionUpgrades: like WiX, make the row that finds older versions
# include this version too (513 = MigrateFeatures | VersionMaxInclusive). Attributes is part of the key: replace.
msibuild "$output" -q "DELETE FROM \`Upgrade\` WHERE \`ActionProperty\`='WIX_UPGRADE_DETECTED'"
msibuild "$output" -q "INSERT INTO \`Upgrade\` (\`UpgradeCode\`, \`VersionMax\`, \`Attributes\`, \`ActionProperty\`)
  VALUES ('$(property UpgradeCode)', '$version', 513, 'WIX_UPGRADE_DETECTED')"
# msibuild can report a query it could not run and still exit 0: check what it wrote.
[ "$(property SecureCustomProperties)" = "$secure" ] || { echo "patching SecureCustomProperties failed" >&2; exit 1; }
msiinfo export "$output" Upgrade | tr -d '\r' | awk -F'\t' '$5 == 513 && $7 == "WIX_UPGRADE_DETECTED"' | grep -q . ||
  { echo "patching the Upgrade table failed" >&2; exit 1; }
echo "Built $output (version $version)"

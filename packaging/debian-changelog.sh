#!/bin/sh
# Write debian/changelog for a build: one entry for NAME VERSION (from package.mk).
# The date is the last commit's (SOURCE_DATE_EPOCH if set), so rebuilds are reproducible.
set -eu
name=$1 version=$2
epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
cat <<EOT
$name ($version) unstable; urgency=medium

  * Release ${version%-*}: see the project's README and the issue notes.

 -- Netedge Maintainers <maintainers@example.invalid>  $(LC_ALL=C date -R -u -d "@$epoch")
EOT

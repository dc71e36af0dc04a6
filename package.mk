# What is built: the one place for the project's name, version and release.
# Per-OS values live in package-<name>.mk files (see package-rhel.mk); `make print-config` shows every
# value in effect and where it came from.
NAME    := netedge
VERSION := 0.1.0
RELEASE := 1
PACKAGER := Netedge Maintainers <maintainers@example.invalid>
# Components whose packages are built (each has packaging/<c>/component.mk).
COMPONENTS := iptoip daddr l2tpns dsrtools

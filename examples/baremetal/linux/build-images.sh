#!/bin/sh
# SPDX-License-Identifier: MIT
# Builds what the Linux-as-L1 run boots, from Debian packages only:
#   build-images.sh OUT CACHE MINIVMM L2EXITS HELLO_ELF [L2 ...]
# CACHE keeps the packages (apt-get download, never installed on the
# host; dpkg-deb -x); OUT gets bzImage (L1's and L2's kernel), l2.cpio.gz
# (busybox, l2exits, l2-init) and l1.cpio.gz (busybox, the KVM modules of
# the same kernel, minivmm, l1-init, and for each L2 named, "multiboot"
# and/or "linux" (default both), what it boots and its .run script).
# "svm" adds ../guests/svm's test hypervisor ($GUEST_SVM_ELF), run under
# minivmm with snapshots: three levels; "vmx" the same with ../guests/vmx's
# ($GUEST_VMX_ELF), for the VMX stub under Bochs. "kut" adds kvm-unit-tests'
# svm.flat and svm_npt.flat from the built tree $KUT, with the cases to run
# ($KUT_CASES: "SUITE/CASE ...", default every case of both, as
# tests/conformance/cases.sh lists them), each under minivmm with
# $KUT_TIMEOUT seconds (default 90, as tests/conformance), $KUT_MEM MiB (default 256) and
# $KUT_SMP vCPUs (default 1); KUT_LOG=all keeps every case's output.
# $KUT_EXCLUDE ("SUITE/CASE ...", default svm/reg_corruption, whose timer
# storm at L3 starves L1 so that minivmm's time-out never comes) are said
# but not run.
set -eu
if [ $# -lt 5 ]; then
	echo "usage: $0 OUT CACHE MINIVMM L2EXITS HELLO_ELF [multiboot] [linux] [svm] [vmx] [kut]" >&2
	exit 2
fi
OUT=$1 CACHE=$2 MINIVMM=$3 L2EXITS=$4 HELLO=$5
shift 5
L2S=${*:-multiboot linux}
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$OUT" "$CACHE"
OUT=$(cd "$OUT" && pwd) CACHE=$(cd "$CACHE" && pwd)

# The packages: the kernel's metapackage names the versioned image.
fetch() { # fetch PACKAGE: the .deb of PACKAGE in $CACHE, downloaded once
	deb=$(ls "$CACHE/$1"_*.deb 2>/dev/null | head -n 1 || true)
	if [ -z "$deb" ]; then
		(cd "$CACHE" && apt-get download "$1" >&2) || {
			echo "build-images: apt-get download $1 failed (run apt-get update?)" >&2
			exit 1
		}
		deb=$(ls "$CACHE/$1"_*.deb | head -n 1)
	fi
	echo "$deb"
}
meta=$(fetch linux-image-amd64)
kpkg=$(dpkg-deb -f "$meta" Depends | tr ',|' '\n\n' | sed 's/ *(.*//; s/ //g' |
	grep '^linux-image-[0-9]' | head -n 1)
[ -n "$kpkg" ] || { echo "build-images: no kernel image in $meta's Depends" >&2; exit 1; }
kdeb=$(fetch "$kpkg")
bdeb=$(fetch busybox-static)
for d in "$kdeb" "$bdeb"; do
	x="$CACHE/x-$(basename "$d" .deb)"
	[ -d "$x" ] || { rm -rf "$x.tmp" && dpkg-deb -x "$d" "$x.tmp" && mv "$x.tmp" "$x"; }
done
KROOT="$CACHE/x-$(basename "$kdeb" .deb)"
BUSYBOX="$CACHE/x-$(basename "$bdeb" .deb)/bin/busybox"
kver=$(ls "$KROOT/lib/modules" | head -n 1)
MODS="$KROOT/lib/modules/$kver/kernel"
cp "$KROOT/boot/vmlinuz-$kver" "$OUT/bzImage"
echo "build-images: kernel $kver ($kpkg), busybox $(basename "$bdeb")"

mkroot() { # mkroot DIR INIT: busybox and an init
	rm -rf "$1"
	mkdir -p "$1/bin" "$1/lib/modules" "$1/proc" "$1/sys" "$1/dev" "$1/tmp" "$1/l2"
	cp "$BUSYBOX" "$1/bin/busybox"
	for a in $("$BUSYBOX" --list); do
		[ "$a" = busybox ] || ln -s busybox "$1/bin/$a"
	done
	cp "$2" "$1/init"
	chmod 755 "$1/init"
}
pack() { # pack DIR ARCHIVE: a gzip'd newc cpio of DIR, owned by root
	(cd "$1" && find . | "$BUSYBOX" cpio -o -H newc -R 0:0 2>/dev/null) | gzip -6 >"$2"
}

mkroot "$OUT/l2root" "$HERE/l2-init"
cp "$L2EXITS" "$OUT/l2root/bin/l2exits"
pack "$OUT/l2root" "$OUT/l2.cpio.gz"

mkroot "$OUT/l1root" "$HERE/l1-init"
# kvm-amd needs kvm and ccp (its SEV part), kvm needs irqbypass.
for m in arch/x86/kvm/kvm.ko arch/x86/kvm/kvm-amd.ko arch/x86/kvm/kvm-intel.ko \
	virt/lib/irqbypass.ko drivers/crypto/ccp/ccp.ko; do
	cp "$MODS/$m" "$OUT/l1root/lib/modules/"
done
# KVM_AMD_PARAMS: kvm-amd's module parameters in L1 (e.g. "vgif=0").
[ -z "${KVM_AMD_PARAMS:-}" ] || echo "$KVM_AMD_PARAMS" >"$OUT/l1root/lib/modules/kvm-amd.params"
cp "$MINIVMM" "$OUT/l1root/bin/minivmm"
for l2 in $L2S; do
	case $l2 in
	multiboot) cp "$HELLO" "$OUT/l1root/l2/hello.elf" ;;
	linux) cp "$OUT/bzImage" "$OUT/l2.cpio.gz" "$OUT/l1root/l2/" ;;
	svm) cp "${GUEST_SVM_ELF:?GUEST_SVM_ELF: the SVM test hypervisor}" "$OUT/l1root/l2/l1-svm.elf" ;;
	vmx) cp "${GUEST_VMX_ELF:?GUEST_VMX_ELF: the VMX test hypervisor}" "$OUT/l1root/l2/l1-vmx.elf" ;;
	kut)
		k=${KUT:?KUT: the built kvm-unit-tests tree}
		[ -f "$k/x86/svm.flat" ] && [ -f "$k/x86/svm_npt.flat" ] || {
			echo "build-images: no svm.flat and svm_npt.flat in $k/x86: build kvm-unit-tests" \
				"first (make conformance-kut, or tests/conformance/kut-build.sh) and give KUT" >&2
			exit 1
		}
		d=$OUT/l1root/l2/kut
		mkdir -p "$d"
		cp "$k/x86/svm.flat" "$k/x86/svm_npt.flat" "$d/"
		if [ -n "${KUT_CASES:-}" ]; then
			for c in $KUT_CASES; do echo "${c%%/*} ${c#*/}"; done >"$d/cases"
		else
			for s in svm svm_npt; do
				sh "$HERE/../../../tests/conformance/cases.sh" "$k" $s | sed "s/^/$s /"
			done >"$d/cases"
		fi
		# The CPU model the suite's own configuration gives a case
		# (x86/unittests.cfg: a section of its own with "-cpu MODEL"),
		# "SUITE/CASE MODEL" a line: minivmm -f takes its "-NAME"
		# features away, as run-case.sh gives QEMU the model.
		awk '
			/^\[/ { f = ""; a = ""; p = ""; next }
			/^file *=/ { sub(/^file *= */, ""); f = $0 }
			/^test_args *=/ { sub(/^test_args *= */, ""); gsub(/"/, ""); a = $0 }
			/^qemu_params *=/ { sub(/^qemu_params *= */, ""); p = $0 }
			f ~ /^svm(_npt)?\.flat$/ && a ~ /^[A-Za-z0-9_]+$/ && match(p, /-cpu [^ ]+/) {
				s = f; sub(/\.flat$/, "", s)
				print s "/" a, substr(p, RSTART + 5, RLENGTH - 5); a = ""
			}' "$k/x86/unittests.cfg" >"$d/cpu" 2>/dev/null || : >"$d/cpu"
		echo "${KUT_TIMEOUT:-90}" >"$d/timeout"
		for c in ${KUT_EXCLUDE-svm/reg_corruption}; do echo "$c"; done >"$d/exclude"
		echo "${KUT_MEM:-256}" >"$d/mem"
		echo "${KUT_SMP:-1}" >"$d/smp"
		[ "${KUT_LOG:-}" != all ] || : >"$d/log-all"
		echo "build-images: kvm-unit-tests, $(wc -l <"$d/cases") cases"
		;;
	*) echo "build-images: unknown L2 $l2 (multiboot, linux, svm, vmx, kut)" >&2; exit 2 ;;
	esac
	cp "$HERE/l2-$l2.run" "$OUT/l1root/l2/$l2.run"
done
pack "$OUT/l1root" "$OUT/l1.cpio.gz"
echo "build-images: $OUT/l1.cpio.gz ($(($(wc -c <"$OUT/l1.cpio.gz") / 1024)) KiB; L2: $L2S)," \
	"$OUT/l2.cpio.gz ($(($(wc -c <"$OUT/l2.cpio.gz") / 1024)) KiB)"

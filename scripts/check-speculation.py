#!/usr/bin/python3
"""Host-side check of the module's speculation hygiene after #VMEXIT, made on
the compiled objects because the test VM's emulated CPU has none of the
features that turn these paths on (no IBPB, so neither SRSO's ibpb-vmexit
mode nor the VMSCAPE mitigation can be selected there):

  vmrun-clears-gprs      between VMRUN and the first RET of __yakvm_vmrun every
                         general register but RSP is zeroed (XOR), the
                         callee-saved ones included
  vmrun-ibpb-on-vmexit   before that RET there is an alternative for
                         X86_FEATURE_IBPB_ON_VMEXIT whose replacement calls
                         entry_ibpb (SRSO ibpb-vmexit mode)
  vmscape-flag           the module writes x86_ibpb_exit_to_user (VMSCAPE)

  check-speculation.py DRIVER_BUILD_DIR   (holds svm/vmenter.o and yakvm.ko)
Prints one "ok|FAIL style/NAME" line per check.
"""
import re
import struct
import subprocess
import sys

# arch/x86/include/asm/cpufeatures.h: word 11, bit 26
X86_FEATURE_IBPB_ON_VMEXIT = 11 * 32 + 26
GPRS = ["ebx", "ecx", "edx", "esi", "edi", "ebp"] + [f"r{n}d" for n in range(8, 16)]


def run(*cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def verdict(name, ok, why=""):
    print(f"ok style/{name}" if ok else f"FAIL style/{name}: {why}")


def vmrun_window(obj):
    """Offsets of VMRUN and of the first return after it in __yakvm_vmrun."""
    dis = run("objdump", "-dr", "--no-show-raw-insn", obj)
    body = dis.split("<__yakvm_vmrun>:", 1)[1].split("\n\n", 1)[0]
    lines = body.splitlines()
    start = end = None
    xors = set()
    for i, line in enumerate(lines):
        m = re.match(r"\s*([0-9a-f]+):\s+(.*)", line)
        if not m:
            continue
        off, insn = int(m.group(1), 16), m.group(2)
        if start is None:
            if insn.startswith("vmrun"):
                start = off
            continue
        # RET is "jmp __x86_return_thunk" with return thunks, else "ret".
        reloc = lines[i + 1] if i + 1 < len(lines) else ""
        if insn.startswith("ret") or "__x86_return_thunk" in insn + reloc:
            end = off
            break
        x = re.match(r"xor\s+%(\w+),%(\w+)", insn)
        if x and x.group(1) == x.group(2):
            xors.add(x.group(1))
    return start, end, xors


def section_bytes(obj, name):
    dump = run("readelf", "-x", name, obj)
    data = b""
    for line in dump.splitlines():
        m = re.match(r"\s+0x[0-9a-f]+ ((?:[0-9a-f]{2,8} ){1,4})", line + " ")
        if m:
            data += bytes.fromhex(m.group(1).replace(" ", ""))
    return data


def relocations(obj, section):
    """(offset, symbol, addend) of each relocation in .rela<section>."""
    out = run("readelf", "-rW", obj)
    rels, cur = [], None
    for line in out.splitlines():
        m = re.match(r"Relocation section '\.rela(\S+)'", line)
        if m:
            cur = m.group(1)
            continue
        m = re.match(r"\s*([0-9a-f]+)\s+[0-9a-f]+\s+\S+\s+[0-9a-f]+\s+(\S+)\s*([+-])\s*([0-9a-f]+)", line)
        if m and cur == section:
            addend = int(m.group(4), 16) * (1 if m.group(3) == "+" else -1)
            rels.append((int(m.group(1), 16), m.group(2), addend))
    return rels


def ibpb_alternatives(obj):
    """.text offsets of alternatives for IBPB_ON_VMEXIT that call entry_ibpb."""
    table = section_bytes(obj, ".altinstructions")
    rels = sorted(relocations(obj, ".altinstructions"))
    calls = {off for off, sym, _ in relocations(obj, ".altinstr_replacement")
             if sym == "entry_ibpb"}
    entries = len(rels) // 2
    if not entries:
        return []
    size = len(table) // entries
    found = []
    for i in range(entries):
        (o1, s1, a1), (o2, s2, a2) = rels[2 * i], rels[2 * i + 1]
        cpuid = struct.unpack_from("<H", table, i * size + 8)[0]
        replen = table[i * size + size - 1]
        if s1 != ".text" or s2 != ".altinstr_replacement":
            continue
        if cpuid == X86_FEATURE_IBPB_ON_VMEXIT and \
           any(a2 <= c < a2 + replen for c in calls):
            found.append(a1)
    return found


def main():
    build = sys.argv[1]
    obj = f"{build}/svm/vmenter.o"
    start, end, xors = vmrun_window(obj)
    if start is None or end is None:
        verdict("vmrun-clears-gprs", False, "no VMRUN and RET found in __yakvm_vmrun")
        verdict("vmrun-ibpb-on-vmexit", False, "no VMRUN and RET found in __yakvm_vmrun")
    else:
        missing = [r for r in GPRS if r not in xors]
        verdict("vmrun-clears-gprs", not missing,
                "not zeroed after VMRUN before the first RET: " + " ".join(missing))
        sites = [a for a in ibpb_alternatives(obj) if start < a < end]
        verdict("vmrun-ibpb-on-vmexit", bool(sites),
                "no 'call entry_ibpb' alternative on X86_FEATURE_IBPB_ON_VMEXIT "
                "between VMRUN and the first RET")
    syms = run("nm", "-u", f"{build}/yakvm.ko")
    verdict("vmscape-flag", re.search(r"\bx86_ibpb_exit_to_user\b", syms) is not None,
            "the module never writes x86_ibpb_exit_to_user")


main()

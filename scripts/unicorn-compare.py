#!/usr/bin/python3
"""Host-side single-step judge: replays the step.test guest programs in
unicorn (an independent CPU emulator) and compares the registers after every
step with the trace the test VM recorded on /dev/yakvm (and on /dev/kvm, as a
control that checks the judge itself).

    unicorn-compare.py RESULTS [--images DIR]

RESULTS is a test VM results file holding step.test's @init/@step/@end lines
(format in tests/step/step.c); the program bytes come from DIR/step-PROG.bin
(default build/tests).  Prints one line per trace:

    ok unicorn/step/PROG: N steps match
    FAIL unicorn/step/PROG: step N (instruction bytes ..): yakvm {...} unicorn {...}

(unicorn/kvm-step/PROG for KVM's trace), plus one line per program showing
that the judge does catch a corrupted register.  Must run under Debian's
/usr/bin/python3, which has python3-unicorn.

Where a CPU and an emulator may legitimately differ, the rules below say what
the judge does; each is marked RULE.
"""
import argparse
import collections
import os
import re
import subprocess
import sys
import tempfile

try:
    from unicorn import Uc, UcError, UC_ARCH_X86, UC_MODE_16, UC_MODE_32, UC_HOOK_CODE
    from unicorn import x86_const as X
except ImportError:
    Uc = None

GUEST_MEM = 1 << 20            # as step.c's GUEST_MEM
MAX_REP_ITERATIONS = 1 << 17   # a REP the emulator cannot finish is a failure
GPRS = ("rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rsp", "rbp")
SEGS = ("cs", "ds", "es", "ss", "fs", "gs")
DEVICES = {"yakvm": "unicorn/step", "kvm": "unicorn/kvm-step"}

CF, PF, AF, ZF, SF, TF, OF = 1 << 0, 1 << 2, 1 << 4, 1 << 6, 1 << 7, 1 << 8, 1 << 11
PREFIXES = {0x26, 0x2E, 0x36, 0x3E, 0x64, 0x65, 0x66, 0x67, 0xF0, 0xF2, 0xF3}
REP_PREFIXES = {0xF2, 0xF3}
STRING_OPS = {0xA4, 0xA5, 0xA6, 0xA7, 0xAA, 0xAB, 0xAC, 0xAD, 0xAE, 0xAF}
HLT, PUSHF, POPF, OPERAND_SIZE = 0xF4, 0x9C, 0x9D, 0x66

# RULE (undefined flags): the architecture leaves some flags undefined after
# some instructions (AMD APM vol. 3, "rFLAGS Affected" of each instruction).
# The comparison ignores those flags for that step, then unicorn takes the
# CPU's values so that an undefined flag cannot leak into a later comparison
# (through LAHF, PUSHF or an ADC).  Keyed by opcode (0x0Fxx for two-byte
# opcodes) and ModRM.reg (None: any); only the forms the programs use.
LOGIC = [(op, None) for op in (0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D,   # OR
                               0x20, 0x21, 0x22, 0x23, 0x24, 0x25,   # AND
                               0x30, 0x31, 0x32, 0x33, 0x34, 0x35,   # XOR
                               0x84, 0x85, 0xA8, 0xA9)]              # TEST
LOGIC += [(op, reg) for op in (0x80, 0x81, 0x83) for reg in (1, 4, 6)]
LOGIC += [(op, reg) for op in (0xF6, 0xF7) for reg in (0, 1)]
SHIFT_BY_1 = [(op, reg) for op in (0xD0, 0xD1) for reg in (4, 5, 6, 7)]
MULTIPLY = [(op, reg) for op in (0xF6, 0xF7) for reg in (4, 5)]
MULTIPLY += [(0x0FAF, None), (0x69, None), (0x6B, None)]
UNDEFINED_FLAGS = {}
for key in LOGIC + SHIFT_BY_1:
    UNDEFINED_FLAGS[key] = AF
for key in MULTIPLY:
    UNDEFINED_FLAGS[key] = SF | ZF | AF | PF


class Insn:
    """What the judge needs to know about one instruction: prefixes, opcode
    and ModRM.reg, from a minimal decoder that knows the programs' forms."""

    def __init__(self, code):
        i = 0
        while code[i] in PREFIXES:
            i += 1
        self.prefixes = set(code[:i])
        self.opcode = code[i]
        if self.opcode == 0x0F:
            i += 1
            self.opcode = 0x0F00 | code[i]
        self.reg = (code[i + 1] >> 3) & 7 if i + 1 < len(code) else None

    def undefined_flags(self):
        return UNDEFINED_FLAGS.get((self.opcode, self.reg),
                                   UNDEFINED_FLAGS.get((self.opcode, None), 0))

    def loads_ss(self):
        """MOV SS,r/m (8E /2) or POP SS (17)."""
        return (self.opcode, self.reg) == (0x8E, 2) or self.opcode == 0x17

    def is_rep_string(self):
        return bool(self.prefixes & REP_PREFIXES) and self.opcode in STRING_OPS

    def operand_bytes(self, real_mode):
        """2 or 4: the default operand size, or the other one with 66h."""
        return 2 if real_mode != (OPERAND_SIZE in self.prefixes) else 4


# ---- reading the results file ----

STATE_FIELD = re.compile(r"(\w+)=([0-9a-f]+)(?::([0-9a-f]+))?(?=\s|$)")
STATE_NAMES = set(GPRS + SEGS + ("rip", "rflags"))


def parse_state(text):
    """'rax=1 ... cs=1000:10000 ...' -> {'rax': 1, ..., 'cs': (0x1000, 0x10000)}"""
    state = {}
    for name, value, base in STATE_FIELD.findall(text):
        state[name] = (int(value, 16), int(base, 16)) if base else int(value, 16)
    return state


def parse_results(path):
    """Returns {prog: {'init': {...}, 'traces': {dev: [state...]}, 'ended': set}}"""
    programs = {}
    with open(path, errors="replace") as f:
        for line in f:
            line = line.strip()
            words = line.split(" ", 4)
            if words[0] == "@init":
                init = parse_state(line)
                init["mode"] = re.search(r"mode=(\w+)", line).group(1)
                init["image"] = re.search(r"image=(\S+)", line).group(1)
                programs[words[1]] = {"init": init, "traces": {}, "ended": set()}
            elif words[0] == "@step" and words[1] in programs:
                state = parse_state(words[4])
                if not STATE_NAMES <= state.keys():
                    continue    # a line cut short: the replay then shows a gap
                state["exit"] = re.search(r"exit=(\w+)", line).group(1)
                programs[words[1]]["traces"].setdefault(words[2], []).append(state)
            elif words[0] == "@end" and words[1] in programs:
                programs[words[1]]["ended"].add(words[2])
    return programs


def fnv1a(data):
    h = 0xCBF29CE484222325
    for byte in data:
        h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


# ---- the emulator ----

UC_GPRS = dict(zip(GPRS, (X.UC_X86_REG_EAX, X.UC_X86_REG_EBX, X.UC_X86_REG_ECX,
                          X.UC_X86_REG_EDX, X.UC_X86_REG_ESI, X.UC_X86_REG_EDI,
                          X.UC_X86_REG_ESP, X.UC_X86_REG_EBP))) if Uc else {}
UC_SEGS = dict(zip(SEGS, (X.UC_X86_REG_CS, X.UC_X86_REG_DS, X.UC_X86_REG_ES,
                          X.UC_X86_REG_SS, X.UC_X86_REG_FS, X.UC_X86_REG_GS))) if Uc else {}


class Emulator:
    """Unicorn running one program from its @init state."""

    def __init__(self, init, image):
        self.real_mode = init["mode"] == "real16"
        self.init = init
        self.rules_applied = collections.Counter()   # for the verdict line
        self.uc = Uc(UC_ARCH_X86, UC_MODE_16 if self.real_mode else UC_MODE_32)
        self.uc.mem_map(0, GUEST_MEM)
        self.uc.mem_write(init["load"], image)
        for name in GPRS:
            self.uc.reg_write(UC_GPRS[name], init[name])
        # In real mode a selector write also sets base = selector * 16.  In
        # protected mode unicorn has no descriptors to load (the guest has no
        # GDT; the host set the hidden parts), so it keeps its own flat
        # segments and the judge expects the @init segments throughout: the
        # program never loads a segment register there.
        if self.real_mode:
            for name in SEGS:
                self.uc.reg_write(UC_SEGS[name], init[name][0])
        self.uc.reg_write(X.UC_X86_REG_EIP, init["rip"])
        self.uc.reg_write(X.UC_X86_REG_EFLAGS, init["rflags"])

    def ip(self):
        # Unicorn 2.0's EIP in 16-bit mode reads as a linear address.
        return self.uc.reg_read(X.UC_X86_REG_IP if self.real_mode else X.UC_X86_REG_EIP)

    def linear_ip(self):
        return self.segments()["cs"][1] + self.ip()

    def segments(self):
        if not self.real_mode:
            return {name: self.init[name] for name in SEGS}
        return {name: (sel, sel << 4) for name in SEGS
                for sel in [self.uc.reg_read(UC_SEGS[name])]}

    def state(self):
        state = {name: self.uc.reg_read(UC_GPRS[name]) for name in GPRS}
        state["rip"] = self.ip()
        state["rflags"] = self.uc.reg_read(X.UC_X86_REG_EFLAGS)
        state.update(self.segments())
        return state

    def next_insn(self):
        return Insn(bytes(self.uc.mem_read(self.linear_ip(), 16)))

    def run_one(self):
        """Executes one instruction, or one iteration of a REP string one,
        and returns it as an Insn."""
        insn = self.next_insn()
        self.uc.emu_start(self.linear_ip(), GUEST_MEM, count=1)
        self.model_debugger_tf(insn)
        return insn

    def model_debugger_tf(self, insn):
        """RULE (the debugger's TF): while stepping, the CPU runs with TF set
        and GET_REGS hides it, but PUSHF stores it in the flags image.  The
        emulator runs with TF clear, so it sets TF in the image PUSHF just
        wrote and clears TF after POPF loads an image (which has it set)."""
        if insn.opcode in (PUSHF, POPF):
            self.rules_applied["debugger TF"] += 1
        if insn.opcode == PUSHF:
            size = insn.operand_bytes(self.real_mode)
            sp = self.uc.reg_read(X.UC_X86_REG_SP if self.real_mode else X.UC_X86_REG_ESP)
            top = self.segments()["ss"][1] + sp
            image = int.from_bytes(self.uc.mem_read(top, size), "little") | TF
            self.uc.mem_write(top, image.to_bytes(size, "little"))
        elif insn.opcode == POPF:
            rflags = self.uc.reg_read(X.UC_X86_REG_EFLAGS)
            self.uc.reg_write(X.UC_X86_REG_EFLAGS, rflags & ~TF)

    def adopt_flags(self, flags, cpu_rflags):
        """Takes the CPU's values of @flags (RULE: undefined flags)."""
        rflags = self.uc.reg_read(X.UC_X86_REG_EFLAGS)
        rflags = (rflags & ~flags) | (cpu_rflags & flags)
        self.uc.reg_write(X.UC_X86_REG_EFLAGS, rflags)


def replay_step(emu, cpu):
    """Advances the emulator by what the CPU did in one single-step and
    returns (first instruction, flags left undefined)."""
    start_ip = emu.ip()
    first = insn = emu.run_one()
    undefined = insn.undefined_flags()
    # RULE (interrupt shadow): after MOV SS or POP SS the CPU holds off
    # interrupts and debug traps, the single-step trap included, until the
    # next instruction has run (APM vol. 2, "MOV SS and POP SS"), so that SS
    # and SP change together.  One step then covers two instructions.
    if insn.loads_ss():
        emu.rules_applied["interrupt shadow"] += 1
        insn = emu.run_one()
        undefined |= insn.undefined_flags()
    # RULE (REP string): the CPU takes the single-step trap after every
    # iteration of a REP string instruction, RIP staying on it until the
    # last iteration, which leaves it.  Unicorn runs one iteration per
    # instruction count too, but may stop once more on the instruction with
    # the count already at zero.  So when the CPU has left the instruction,
    # the emulator iterates until it has left it as well; a CPU that traps
    # only once per REP instruction would be judged the same way.
    if insn.is_rep_string():
        emu.rules_applied["REP string"] += 1
    if insn.is_rep_string() and cpu["rip"] != start_ip:
        for _ in range(MAX_REP_ITERATIONS):
            if emu.ip() != start_ip:
                break
            emu.run_one()
    return first, undefined


# ---- comparing and reporting ----

def differences(cpu, emu_state, undefined_flags):
    """Names of the fields that differ.  64-bit trace values are compared in
    full with the emulator's 32-bit registers: outside long mode nothing
    may set the upper halves, which all start at zero."""
    names = [n for n in GPRS + ("rip",) + SEGS if cpu[n] != emu_state[n]]
    if (cpu["rflags"] ^ emu_state["rflags"]) & ~undefined_flags:
        names.append("rflags")
    return names


def format_state(state):
    regs = " ".join("%s=%x" % (n, state[n]) for n in GPRS + ("rip", "rflags"))
    segs = " ".join("%s=%x:%x" % ((n,) + state[n]) for n in SEGS)
    return "{%s %s}" % (regs, segs)


def disassemble(code, real_mode):
    """objdump's reading of one instruction, or '' without binutils."""
    with tempfile.NamedTemporaryFile(suffix=".bin") as f:
        f.write(code)
        f.flush()
        try:
            out = subprocess.run(["objdump", "-D", "-b", "binary", "-m",
                                  "i8086" if real_mode else "i386", f.name],
                                 capture_output=True, text=True).stdout
        except OSError:
            return ""
    lines = [l for l in out.splitlines() if re.match(r"\s+0:\t", l)]
    return lines[0].split("\t")[-1].strip() if lines else ""


def describe_insn(emu, linear_ip, length, real_mode):
    code = bytes(emu.uc.mem_read(linear_ip, length))
    text = disassemble(code, real_mode)
    hexed = " ".join("%02x" % b for b in code)
    return "%s at %x%s" % (hexed, linear_ip, ": " + text if text else "")


def judge_trace(name, dev, init, image, trace):
    """Replays @trace; returns the verdict line."""
    tag = "%s/%s" % (DEVICES.get(dev, "unicorn/%s-step" % dev), name)
    emu = Emulator(init, image)
    lengths = {}
    emu.uc.hook_add(UC_HOOK_CODE, lambda uc, addr, size, _: lengths.update({addr: size}))
    wrong = differences(trace[0], emu.state(), 0)
    if wrong:
        return "FAIL %s: step 0 (initial state) differs in %s: %s %s unicorn %s" % (
            tag, ", ".join(wrong), dev, format_state(trace[0]), format_state(emu.state()))
    for n, cpu in enumerate(trace[1:], start=1):
        linear_ip = emu.linear_ip()
        try:
            insn, undefined = replay_step(emu, cpu)
        except UcError as e:
            return "FAIL %s: step %d: unicorn stopped at %x: %s" % (tag, n, linear_ip, e)
        wrong = differences(cpu, emu.state(), undefined)
        if cpu["exit"] == "hlt" and insn.opcode != HLT:
            wrong.append("exit (hlt after a non-HLT instruction)")
        if wrong:
            return "FAIL %s: step %d (instruction bytes %s): differs in %s: %s %s unicorn %s" % (
                tag, n, describe_insn(emu, linear_ip, lengths.get(linear_ip, 8), emu.real_mode),
                ", ".join(wrong), dev, format_state(cpu), format_state(emu.state()))
        if undefined:
            emu.rules_applied["undefined flags"] += 1
            emu.adopt_flags(undefined, cpu["rflags"])
    if trace[-1]["exit"] != "hlt":
        return "FAIL %s: the trace ends after %d steps without HLT" % (tag, len(trace) - 1)
    rules = ", ".join("%s %d" % kv for kv in sorted(emu.rules_applied.items()))
    return "ok %s: %d steps match (steps under a rule: %s)" % (tag, len(trace) - 1, rules or "none")


def read_image(images_dir, init):
    """The image bytes, checked against the fingerprint step.test printed."""
    path = os.path.join(images_dir, init["image"])
    with open(path, "rb") as f:
        image = f.read()
    if len(image) != init["size"] or fnv1a(image) != init["fnv"]:
        raise ValueError("%s is not the image the test VM ran (rebuild?)" % path)
    return image


def catches_corruption(name, init, image, trace):
    """Shows that the judge is not vacuous: flips a bit of RAX in the middle
    of a copy of the trace and expects a FAIL at exactly that step."""
    n = len(trace) // 2
    corrupted = [dict(s) for s in trace]
    corrupted[n]["rax"] ^= 1 << 4
    verdict = judge_trace(name, "corrupted", init, image, corrupted)
    tag = "unicorn/step/%s/catches-corruption" % name
    if verdict.startswith("FAIL") and ": step %d " % n in verdict:
        return "ok %s: a flipped RAX bit at step %d is reported" % (tag, n)
    return "FAIL %s: a flipped RAX bit at step %d gave: %s" % (tag, n, verdict[:200])


def judge_program(name, prog, images_dir, selfcheck):
    init = prog["init"]
    try:
        image = read_image(images_dir, init)
    except (OSError, ValueError) as e:
        return ["FAIL unicorn/step/%s: %s" % (name, e)]
    verdicts = []
    for dev in DEVICES:
        trace = prog["traces"].get(dev)
        tag = "%s/%s" % (DEVICES[dev], name)
        if not trace:
            verdicts.append("# %s: not judged: no %s trace in the results" % (tag, dev))
        elif dev not in prog["ended"]:
            verdicts.append("FAIL %s: the %s trace is cut short (no @end)" % (tag, dev))
        else:
            verdicts.append(judge_trace(name, dev, init, image, trace))
    if selfcheck and verdicts[0].startswith("ok"):   # only a matching trace can show it
        verdicts.append(catches_corruption(name, init, image, prog["traces"]["yakvm"]))
    return verdicts


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results")
    parser.add_argument("--images", default="build/tests")
    parser.add_argument("--no-selfcheck", action="store_true",
                        help="skip catches-corruption (it does not depend on the CPU model: "
                             "make test runs it in its first boot only)")
    args = parser.parse_args()
    try:
        programs = parse_results(args.results)
    except OSError:
        programs = {}   # the harness already fails a boot without results
    if not programs:
        return 0        # or step.test did not run in this boot (--filter)
    if Uc is None:
        print("FAIL unicorn/step: python3-unicorn is missing for %s (make env installs it)"
              % sys.executable)
        return 1
    failed = False
    for name, prog in programs.items():
        for line in judge_program(name, prog, args.images, not args.no_selfcheck):
            print(line)
            failed |= line.startswith("FAIL")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

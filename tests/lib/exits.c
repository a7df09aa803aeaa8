// SPDX-License-Identifier: GPL-2.0
/*
 * The exit-script runner (see exits.h).
 */
#include <stdio.h>
#include <string.h>

#include "exits.h"

struct script_pos {
	size_t step;		/* the step being matched */
	uint32_t done;		/* its elements already seen */
	unsigned int exits;	/* exits it took so far */
};

static const char *step_str(const struct exit_step *s)
{
	static char buf[128];

	if (s->reason == KVM_EXIT_IO)
		snprintf(buf, sizeof(buf), "%s port 0x%llx size %u count %u",
			 s->write ? "out" : "in", (unsigned long long)s->addr,
			 s->size, s->count ? s->count : 1);
	else
		snprintf(buf, sizeof(buf), "MMIO %s gpa 0x%llx len %u",
			 s->write ? "write" : "read", (unsigned long long)s->addr,
			 s->size);
	return buf;
}

/* The expected (write) or supplied (read) bytes of the step's next elements. */
static const uint8_t *step_bytes(const struct exit_step *s, uint32_t done)
{
	if (s->bytes)
		return (const uint8_t *)s->bytes + done * s->size;
	return (const uint8_t *)&s->data;
}

static void __attribute__((noreturn))
mismatch(struct vcpu *v, const struct script_pos *pos,
	 const struct exit_step *s, const char *what)
{
	char expected[128];

	snprintf(expected, sizeof(expected), "%s", step_str(s));
	test_fail("step %zu (%s): %s; got %s", pos->step, expected, what,
		  vcpu_exit_str(v));
}

static bool data_equal(const uint8_t *got, const uint8_t *want, size_t len,
		       char *why, size_t why_len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (got[i] != want[i]) {
			snprintf(why, why_len, "byte %zu is 0x%02x, expected 0x%02x",
				 i, got[i], want[i]);
			return false;
		}
	}
	return true;
}

/* Matches an I/O exit; returns the number of elements it moved. */
static uint32_t match_io(struct vcpu *v, const struct exit_step *s,
			 const struct script_pos *pos)
{
	struct kvm_run *run = v->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	uint32_t left = (s->count ? s->count : 1) - pos->done;
	size_t len = (size_t)run->io.count * s->size;
	char why[96];

	if (run->exit_reason != KVM_EXIT_IO || run->io.port != s->addr ||
	    run->io.size != s->size ||
	    (run->io.direction == KVM_EXIT_IO_OUT) != s->write)
		mismatch(v, pos, s, "a different exit");
	if (!run->io.count || run->io.count > left)
		mismatch(v, pos, s, "a wrong element count");
	if (run->io.data_offset < 4096 || run->io.data_offset + len > v->vm->run_size)
		mismatch(v, pos, s, "data outside the vCPU mapping");
	if (!s->write)
		memcpy(data, step_bytes(s, pos->done), len);
	else if (!data_equal(data, step_bytes(s, pos->done), len, why, sizeof(why)))
		mismatch(v, pos, s, why);
	return run->io.count;
}

static void match_mmio(struct vcpu *v, const struct exit_step *s,
		       const struct script_pos *pos)
{
	struct kvm_run *run = v->run;
	char why[96];

	if (run->exit_reason != KVM_EXIT_MMIO || run->mmio.phys_addr != s->addr ||
	    run->mmio.len != s->size || !!run->mmio.is_write != s->write)
		mismatch(v, pos, s, "a different exit");
	if (!s->write)
		memcpy(run->mmio.data, &s->data, s->size);
	else if (!data_equal(run->mmio.data, (const uint8_t *)&s->data, s->size,
			     why, sizeof(why)))
		mismatch(v, pos, s, why);
}

static void match_exit(struct vcpu *v, const struct exit_script *script,
		       struct script_pos *pos)
{
	const struct exit_step *s = &script->steps[pos->step];
	uint32_t count = s->count ? s->count : 1;

	if (s->reason == KVM_EXIT_MMIO) {
		match_mmio(v, s, pos);
		pos->done = count;
	} else {
		pos->done += match_io(v, s, pos);
	}
	pos->exits++;
	if (pos->done < count)
		return;
	if (script->whole_strings && pos->exits > 1)
		test_fail("step %zu (%s) took %u exits, expected one", pos->step,
			  step_str(s), pos->exits);
	*pos = (struct script_pos){ .step = pos->step + 1 };
}

void run_exit_script(struct vcpu *v, const struct exit_script *script)
{
	struct script_pos pos = { 0 };
	struct ucall uc;

	for (;;) {
		vcpu_run(v);
		switch (vcpu_get_ucall(v, &uc)) {
		case UCALL_DONE:
			if (pos.step != script->nr_steps)
				test_fail("the guest finished at step %zu of %zu (%s)",
					  pos.step, script->nr_steps,
					  step_str(&script->steps[pos.step]));
			return;
		case UCALL_ASSERT:
			test_fail("guest assertion: %s", uc.message);
		case UCALL_PRINT:
			test_log("guest: %s", uc.message);
			continue;
		case UCALL_SYNC:
			continue;
		}
		if (pos.step == script->nr_steps)
			test_fail("an exit after the script's last step: %s",
				  vcpu_exit_str(v));
		match_exit(v, script, &pos);
	}
}

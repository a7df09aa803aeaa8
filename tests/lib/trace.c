// SPDX-License-Identifier: GPL-2.0
/*
 * Traces of what the guests of a case did (see trace.h): recording in the
 * case's child, comparison of two devices' traces in the runner.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "trace.h"

#define FNV_OFFSET	0xcbf29ce484222325ULL
#define FNV_PRIME	0x100000001b3ULL
#define LINE_MAX_LEN	400

static struct trace_buf *trace;
static diff_mask_fn trace_mask;
static int next_vm_id;
static pthread_mutex_t trace_lock = PTHREAD_MUTEX_INITIALIZER;

void trace_start(struct trace_buf *buf, diff_mask_fn mask)
{
	trace = buf;
	trace_mask = mask;
	buf->used = 0;
	buf->truncated = false;
	buf->nr_keys = 0;
}

bool trace_empty(const struct trace_buf *t)
{
	return t->nr_keys == 0;
}

static uint64_t fnv1a(uint64_t hash, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		hash = (hash ^ (uint8_t)s[i]) * FNV_PRIME;
	return hash;
}

/* The key's entry; vCPUs past the table's end share its last entry. */
static struct trace_key *key_entry(const char *name)
{
	uint32_t i;

	for (i = 0; i < trace->nr_keys; i++)
		if (!strcmp(trace->keys[i].name, name))
			return &trace->keys[i];
	if (trace->nr_keys == TRACE_MAX_KEYS)
		return &trace->keys[TRACE_MAX_KEYS - 1];
	snprintf(trace->keys[i].name, sizeof(trace->keys[i].name), "%s", name);
	trace->keys[i].hash = FNV_OFFSET;
	trace->keys[i].lines = 0;
	trace->nr_keys++;
	return &trace->keys[i];
}

static void __attribute__((format(printf, 2, 3)))
record(const struct vcpu *v, const char *fmt, ...)
{
	char key[24], line[LINE_MAX_LEN];
	struct trace_key *k;
	va_list ap;
	int n;

	if (!trace)
		return;
	snprintf(key, sizeof(key), "vm%d.vcpu%u", v->vm->trace_id, v->id);
	n = snprintf(line, sizeof(line), "%s ", key);
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(line) - 1)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	pthread_mutex_lock(&trace_lock);
	k = key_entry(key);
	k->hash = fnv1a(k->hash, line, n);
	k->lines++;
	if (trace->used + n <= trace->size) {
		memcpy(trace->text + trace->used, line, n);
		trace->used += n;
	} else {
		trace->truncated = true;
	}
	pthread_mutex_unlock(&trace_lock);
}

void trace_vm_created(struct vm *vm)
{
	vm->trace_id = next_vm_id++;
}

/* ---------------------------------------------------------------- */
/* Exits                                                            */

/* A ucall, if the exit is one whose struct lies in guest RAM. */
static bool read_ucall(struct vcpu *v, struct ucall *uc)
{
	struct kvm_run *run = v->run;
	struct kvm_regs regs;
	void *src;

	if (run->io.port != UCALL_PORT || run->io.direction != KVM_EXIT_IO_OUT ||
	    ioctl(v->fd, KVM_GET_REGS, &regs))
		return false;
	src = gpa_to_hva_or_null(v->vm, regs.rdi);
	if (!src || !gpa_to_hva_or_null(v->vm, regs.rdi + sizeof(*uc) - 1))
		return false;
	memcpy(uc, src, sizeof(*uc));
	uc->message[UCALL_MSG_LEN - 1] = '\0';
	return true;
}

static void record_ucall(struct vcpu *v, const struct ucall *uc)
{
	record(v, "ucall %llu 0x%llx 0x%llx 0x%llx 0x%llx 0x%llx 0x%llx \"%s\"",
	       (unsigned long long)uc->type, (unsigned long long)uc->args[0],
	       (unsigned long long)uc->args[1], (unsigned long long)uc->args[2],
	       (unsigned long long)uc->args[3], (unsigned long long)uc->args[4],
	       (unsigned long long)uc->args[5], uc->message);
}

static uint64_t little_endian(const uint8_t *p, unsigned int size)
{
	uint64_t v = 0;

	memcpy(&v, p, size < 8 ? size : 8);
	return v;
}

/* One line per element: a string in one exit or in many reads the same. */
static void record_io(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	const uint8_t *data = (const uint8_t *)run + run->io.data_offset;
	bool out = run->io.direction == KVM_EXIT_IO_OUT;
	uint32_t i;

	if (run->io.size > 8 ||
	    run->io.data_offset + (uint64_t)run->io.count * run->io.size > v->vm->run_size) {
		record(v, "io with data outside the mapping");
		return;
	}
	for (i = 0; i < run->io.count; i++) {
		if (out)
			record(v, "out 0x%x/%u 0x%llx", run->io.port, run->io.size,
			       (unsigned long long)little_endian(data + i * run->io.size,
								 run->io.size));
		else
			record(v, "in 0x%x/%u", run->io.port, run->io.size);
	}
}

static void record_mmio(struct vcpu *v)
{
	struct kvm_run *run = v->run;

	if (run->mmio.is_write)
		record(v, "mmio write 0x%llx/%u 0x%llx", (unsigned long long)run->mmio.phys_addr,
		       run->mmio.len,
		       (unsigned long long)little_endian(run->mmio.data, run->mmio.len));
	else
		record(v, "mmio read 0x%llx/%u", (unsigned long long)run->mmio.phys_addr,
		       run->mmio.len);
}

void trace_exit(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	struct ucall uc;

	v->ran = true;
	if (!trace)
		return;
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		if (read_ucall(v, &uc))
			record_ucall(v, &uc);
		else
			record_io(v);
		break;
	case KVM_EXIT_MMIO:
		record_mmio(v);
		break;
	case KVM_EXIT_INTR:
		break;			/* a signal's timing */
	case KVM_EXIT_INTERNAL_ERROR:
		record(v, "exit INTERNAL_ERROR suberror %u", run->internal.suberror);
		break;
	case KVM_EXIT_DEBUG:
		record(v, "exit DEBUG exception %u pc 0x%llx", run->debug.arch.exception,
		       (unsigned long long)run->debug.arch.pc);
		break;
	default:
		record(v, "exit %s", exit_reason_name(run->exit_reason));
		break;
	}
}

void trace_run_failed(struct vcpu *v, int err)
{
	record(v, "KVM_RUN failed: %s", strerrorname_np(err) ?: "?");
}

/* ---------------------------------------------------------------- */
/* Final state                                                      */

static void record_field(const char *name, uint64_t value, void *arg)
{
	record(arg, "final %s 0x%llx", name, (unsigned long long)value);
}

void trace_memory(struct vm *vm, const char *name, uint64_t gpa, uint64_t size)
{
	int i;

	for (i = 0; i < vm->nr_trace_mem; i++)
		if (!strcmp(vm->trace_mem[i].name, name))
			return;
	if (vm->nr_trace_mem < VM_MAX_TRACE_RANGES)
		vm->trace_mem[vm->nr_trace_mem++] = (struct trace_range){ name, gpa, size };
}

void trace_memory_forget(struct vm *vm, const char *name)
{
	int i;

	for (i = 0; i < vm->nr_trace_mem; i++)
		if (!strcmp(vm->trace_mem[i].name, name))
			vm->trace_mem[i] = vm->trace_mem[--vm->nr_trace_mem];
}

void trace_memory_skip(struct vm *vm, uint64_t gpa, uint64_t size)
{
	int i;

	for (i = 0; i < vm->nr_trace_skip; i++)
		if (vm->trace_skip[i].gpa == gpa && vm->trace_skip[i].size == size)
			return;
	TEST_ASSERT(vm->nr_trace_skip < VM_MAX_TRACE_SKIPS, "too many trace_memory_skip ranges");
	vm->trace_skip[vm->nr_trace_skip++] = (struct trace_skip){ gpa, size };
}

/* Zeroes the bytes of @page (guest-physical @gpa, @n bytes) that are skipped. */
static void clear_skipped(const struct vm *vm, uint8_t *page, uint64_t gpa, uint64_t n)
{
	int i;

	for (i = 0; i < vm->nr_trace_skip; i++) {
		uint64_t lo = vm->trace_skip[i].gpa, hi = lo + vm->trace_skip[i].size;

		if (lo < gpa)
			lo = gpa;
		if (hi > gpa + n)
			hi = gpa + n;
		if (lo < hi)
			memset(page + (lo - gpa), 0, hi - lo);
	}
}

void trace_msr(struct vm *vm, uint32_t index)
{
	if (vm->nr_trace_msrs < VM_MAX_TRACE_MSRS)
		vm->trace_msrs[vm->nr_trace_msrs++] = index;
}

static void hex(char *out, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

static void record_fpu(struct vcpu *v)
{
	struct kvm_fpu f;
	char buf[40];
	int i;

	if (ioctl(v->fd, KVM_GET_FPU, &f)) {
		record(v, "final fpu unreadable");
		return;
	}
	record(v, "final fpu fcw 0x%x fsw 0x%x ftwx 0x%x fop 0x%x fip 0x%llx fdp 0x%llx",
	       f.fcw, f.fsw, f.ftwx, f.last_opcode, (unsigned long long)f.last_ip,
	       (unsigned long long)f.last_dp);
	for (i = 0; i < 8; i++) {
		hex(buf, f.fpr[i], 10);
		record(v, "final fpu st%d %s", i, buf);
	}
	for (i = 0; i < 16; i++) {
		hex(buf, f.xmm[i], 16);
		record(v, "final fpu xmm%d %s", i, buf);
	}
}

/* The MSRs a guest may write, whose values both devices report. */
static const uint32_t final_msrs[] = {
	0x174, 0x175, 0x176,			/* SYSENTER_CS, _ESP, _EIP */
	0x277, 0x2ff,				/* PAT, MTRR_DEF_TYPE */
	0xc0000081, 0xc0000082, 0xc0000083,	/* STAR, LSTAR, CSTAR */
	0xc0000084, 0xc0000102, 0xc0000103,	/* SFMASK, KERNEL_GS_BASE, TSC_AUX */
};

static void record_msr(struct vcpu *v, uint32_t index)
{
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e;
	} m = { .h.nmsrs = 1, .e.index = index };

	if (ioctl(v->fd, KVM_GET_MSRS, &m) == 1)
		record(v, "final msr 0x%x 0x%llx", index, (unsigned long long)m.e.data);
	else
		record(v, "final msr 0x%x unreadable", index);
}

/*
 * State only some devices report (yakvm has neither ioctl yet): one line
 * each, "unavailable" where the device does not have it.
 */
static void record_optional(struct vcpu *v)
{
	struct kvm_debugregs d;
	struct kvm_vcpu_events e;

	memset(&d, 0, sizeof(d));
	if (ioctl(v->fd, KVM_GET_DEBUGREGS, &d))
		record(v, "final debugregs unavailable");
	else
		record(v, "final debugregs dr0 0x%llx dr1 0x%llx dr2 0x%llx dr3 0x%llx "
		       "dr6 0x%llx dr7 0x%llx", (unsigned long long)d.db[0],
		       (unsigned long long)d.db[1], (unsigned long long)d.db[2],
		       (unsigned long long)d.db[3], (unsigned long long)d.dr6,
		       (unsigned long long)d.dr7);
	memset(&e, 0, sizeof(e));
	if (ioctl(v->fd, KVM_GET_VCPU_EVENTS, &e)) {
		record(v, "final events unavailable");
		return;
	}
	/*
	 * An event that is neither injected nor pending has no vector: KVM
	 * leaves the last delivered one's there (its vcpu->arch.exception
	 * and .interrupt are not cleared on delivery), yakvm reports zeros.
	 */
	if (!e.exception.injected && !e.exception.pending) {
		e.exception.nr = 0;
		e.exception.has_error_code = 0;
		e.exception.error_code = 0;
	}
	if (!e.interrupt.injected) {
		e.interrupt.nr = 0;
		e.interrupt.soft = 0;
	}
	record(v, "final events exception %u/%u/%u/%u/0x%x interrupt %u/%u/%u/0x%x "
	       "nmi %u/%u/%u", e.exception.injected, e.exception.pending,
	       e.exception.nr, e.exception.has_error_code, e.exception.error_code,
	       e.interrupt.injected, e.interrupt.nr, e.interrupt.soft,
	       e.interrupt.shadow, e.nmi.injected, e.nmi.pending, e.nmi.masked);
}

/* FNV-1a of guest memory [gpa, gpa + size), page by page; unbacked pages count as absent. */
static void record_memory(struct vm *vm, struct vcpu *v, const struct trace_range *r)
{
	static uint8_t page[PAGE_SIZE];
	uint64_t h = FNV_OFFSET, off;
	unsigned int absent = 0;

	for (off = 0; off < r->size; off += PAGE_SIZE) {
		uint64_t n = r->size - off < PAGE_SIZE ? r->size - off : PAGE_SIZE;
		const uint8_t *p = gpa_to_hva_or_null(vm, r->gpa + off);

		if (!p || !gpa_to_hva_or_null(vm, r->gpa + off + n - 1)) {
			absent++;
			continue;
		}
		memcpy(page, p, n);
		clear_skipped(vm, page, r->gpa + off, n);
		h = fnv1a(h, (const char *)page, n);
	}
	record(v, "final mem %s 0x%llx+0x%llx 0x%016llx%s", r->name,
	       (unsigned long long)r->gpa, (unsigned long long)r->size,
	       (unsigned long long)h, absent ? " (pages not in RAM skipped)" : "");
}

void trace_vm_freed(struct vm *vm)
{
	struct vcpu_snapshot s;
	bool first = true;
	int i, j;

	if (!trace)
		return;
	for (i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = vm->vcpus[i];

		if (!v->ran)
			continue;
		memset(&s, 0, sizeof(s));
		s.exit_reason = v->run->exit_reason;
		if (ioctl(v->fd, KVM_GET_REGS, &s.regs) ||
		    ioctl(v->fd, KVM_GET_SREGS, &s.sregs)) {
			record(v, "final state unreadable");
			continue;
		}
		if (trace_mask)
			trace_mask(&s);
		snapshot_for_each_field(&s, record_field, v);
		record(v, "final run if_flag %u ready_for_interrupt_injection %u",
		       v->run->if_flag, v->run->ready_for_interrupt_injection);
		record_fpu(v);
		for (j = 0; j < (int)(sizeof(final_msrs) / sizeof(final_msrs[0])); j++)
			record_msr(v, final_msrs[j]);
		for (j = 0; j < vm->nr_trace_msrs; j++)
			record_msr(v, vm->trace_msrs[j]);
		record_optional(v);
		/* Guest memory is the VM's: recorded with its first vCPU that ran. */
		for (j = 0; first && j < vm->nr_trace_mem; j++)
			record_memory(vm, v, &vm->trace_mem[j]);
		first = false;
	}
}

/* ---------------------------------------------------------------- */
/* Comparing two traces                                             */

struct line {
	const char *text;	/* the line, with its key */
	size_t len;		/* without the newline */
	size_t key_len;
	size_t seq;		/* position in the trace: keeps each vCPU's order */
};

struct lines {
	struct line *v;
	size_t n;
};

static int by_key_then_seq(const void *pa, const void *pb)
{
	const struct line *a = pa, *b = pb;
	size_t n = a->key_len < b->key_len ? a->key_len : b->key_len;
	int c = memcmp(a->text, b->text, n);

	if (c)
		return c;
	if (a->key_len != b->key_len)
		return a->key_len < b->key_len ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static struct lines split_sorted(const struct trace_buf *t)
{
	struct lines l = { calloc(t->used / 2 + 1, sizeof(struct line)), 0 };
	const char *p = t->text, *end = t->text + t->used;

	if (!l.v) {
		fprintf(stderr, "trace: out of memory\n");
		exit(2);
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', end - p);
		const char *sp = memchr(p, ' ', (nl ? nl : end) - p);
		struct line *ln = &l.v[l.n];

		ln->text = p;
		ln->len = (nl ? nl : end) - p;
		ln->key_len = sp ? (size_t)(sp - p) : ln->len;
		ln->seq = l.n++;
		p = nl ? nl + 1 : end;
	}
	qsort(l.v, l.n, sizeof(*l.v), by_key_then_seq);
	return l;
}

static const struct trace_key *find_key(const struct trace_buf *t, const char *name)
{
	uint32_t i;

	for (i = 0; i < t->nr_keys; i++)
		if (!strcmp(t->keys[i].name, name))
			return &t->keys[i];
	return NULL;
}

/* The hashes cover every line, also those a full buffer could not keep. */
static bool keys_differ(const struct trace_buf *a, const struct trace_buf *b,
			const char *name_a, const char *name_b, char *why, size_t len)
{
	uint32_t i;

	if (a->nr_keys != b->nr_keys) {
		snprintf(why, len, "%s has %u traced vCPUs, %s %u", name_a, a->nr_keys,
			 name_b, b->nr_keys);
		return true;
	}
	for (i = 0; i < a->nr_keys; i++) {
		const struct trace_key *ka = &a->keys[i], *kb = find_key(b, ka->name);

		if (!kb) {
			snprintf(why, len, "%s has no %s", name_b, ka->name);
			return true;
		}
		if (ka->lines != kb->lines || ka->hash != kb->hash) {
			snprintf(why, len, "%s: %s has %llu lines, %s %llu, or they differ",
				 ka->name, name_a, (unsigned long long)ka->lines, name_b,
				 (unsigned long long)kb->lines);
			return true;
		}
	}
	return false;
}

static int key_cmp(const struct line *x, const struct line *y)
{
	if (!x || !y)
		return !x - !y;		/* an exhausted side sorts last */
	return by_key_then_seq(&(struct line){ x->text, 0, x->key_len, 0 },
			       &(struct line){ y->text, 0, y->key_len, 0 });
}

static const struct line *at(const struct lines *l, size_t i)
{
	return i < l->n ? &l->v[i] : NULL;
}

static void say_goes_on(const char *name, const struct line *x, char *why, size_t len)
{
	snprintf(why, len, "only %s goes on: \"%.*s\"", name, (int)x->len, x->text);
}

/* "KEY final GROUP ..." against "KEY final GROUP unavailable": a device without the ioctl. */
static bool optional_unavailable(const struct line *x, const struct line *y)
{
	static const char *const groups[] = { " final debugregs ", " final events " };
	size_t i, k;

	for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		size_t g = strlen(groups[i]);

		if (x->len < x->key_len + g || y->len < y->key_len + g ||
		    memcmp(x->text + x->key_len, groups[i], g) ||
		    memcmp(y->text + y->key_len, groups[i], g))
			continue;
		for (k = 0; k < 2; k++) {
			const struct line *l = k ? y : x;

			if (l->len == l->key_len + g + strlen("unavailable") &&
			    !memcmp(l->text + l->key_len + g, "unavailable", strlen("unavailable")))
				return true;
		}
	}
	return false;
}

/*
 * Walks both sorted traces one vCPU at a time.  With @partial (a buffer
 * filled up) a vCPU's lines may stop early on either side: only lines both
 * kept are compared, and the hashes decide the rest.
 */
static bool lines_differ(const struct lines *a, const struct lines *b, bool partial,
			 const char *name_a, const char *name_b, char *why, size_t len)
{
	size_t i = 0, j = 0;

	while (i < a->n || j < b->n) {
		const struct line *x = at(a, i), *y = at(b, j);
		int c = key_cmp(x, y);

		if (c && partial) {
			if (c < 0)
				i++;
			else
				j++;
			continue;
		}
		if (c < 0) {
			say_goes_on(name_a, x, why, len);
			return true;
		}
		if (c > 0) {
			say_goes_on(name_b, y, why, len);
			return true;
		}
		if ((x->len != y->len || memcmp(x->text, y->text, x->len)) &&
		    !optional_unavailable(x, y)) {
			snprintf(why, len, "%s: \"%.*s\"; %s: \"%.*s\"", name_a,
				 (int)x->len, x->text, name_b, (int)y->len, y->text);
			return true;
		}
		i++;
		j++;
	}
	return false;
}

bool trace_compare(const struct trace_buf *a, const struct trace_buf *b,
		   const char *name_a, const char *name_b, char *why, size_t len)
{
	bool partial = a->truncated || b->truncated;
	struct lines la = split_sorted(a), lb = split_sorted(b);
	bool differ = lines_differ(&la, &lb, partial, name_a, name_b, why, len) ||
		      (partial && keys_differ(a, b, name_a, name_b, why, len));

	free(la.v);
	free(lb.v);
	return !differ;
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Just enough of the kernel's API, in user space, to build driver/irq's
 * device models (i8259.c, ioapic.c, i8254.c) into host-side unit tests.
 * scripts/unit.sh puts this folder first on the include path, so the
 * models' <linux/...> and "yakvm.h" includes land here.
 *
 * Spinlocks and mutexes only record who holds them: taking one twice
 * aborts (a model calling out with its lock held would deadlock in the
 * kernel), and shim_locks_held lets callbacks check that nothing is held.
 * Time is shim_now_ns, moved by the test; hrtimers and work items only
 * record that they are armed or queued, and the test runs them
 * (shim_run_timers, shim_run_work).
 */
#ifndef KSHIM_H
#define KSHIM_H

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>

typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef __s8 s8;
typedef __s16 s16;
typedef __s32 s32;
typedef __s64 s64;

#define __rcu
#define __user
#define __weak			__attribute__((weak))
#define __must_hold(x)
#define __acquires(x)
#define __releases(x)
#define likely(x)		(x)
#define unlikely(x)		(x)

#define BIT(n)			(1UL << (n))
#define BIT_ULL(n)		(1ULL << (n))
#define GENMASK(h, l)		(((~0UL) << (l)) & (~0UL >> (63 - (h))))
#define BITS_PER_LONG		64
#define BITS_TO_LONGS(n)	(((n) + BITS_PER_LONG - 1) / BITS_PER_LONG)
#define DECLARE_BITMAP(name, n)	unsigned long name[BITS_TO_LONGS(n)]
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define container_of(p, type, member) \
	((type *)((char *)(p) - offsetof(type, member)))
#define READ_ONCE(x)		(*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v)	(*(volatile __typeof__(x) *)&(x) = (v))
#define smp_store_release(p, v)	WRITE_ONCE(*(p), v)
#define min(a, b)		((a) < (b) ? (a) : (b))
#define max(a, b)		((a) > (b) ? (a) : (b))
#define min_t(t, a, b)		((t)(a) < (t)(b) ? (t)(a) : (t)(b))
#define max_t(t, a, b)		((t)(a) > (t)(b) ? (t)(a) : (t)(b))
#define array_index_nospec(i, n)	(i)

static inline void __set_bit(long nr, unsigned long *addr)
{
	addr[nr / BITS_PER_LONG] |= 1UL << (nr % BITS_PER_LONG);
}

static inline void __clear_bit(long nr, unsigned long *addr)
{
	addr[nr / BITS_PER_LONG] &= ~(1UL << (nr % BITS_PER_LONG));
}

static inline bool test_bit(long nr, const unsigned long *addr)
{
	return (addr[nr / BITS_PER_LONG] >> (nr % BITS_PER_LONG)) & 1;
}

static inline unsigned long __ffs(unsigned long w)
{
	return __builtin_ctzl(w);
}

static inline u8 ror8(u8 w, unsigned int shift)
{
	return (w >> (shift & 7)) | (w << ((-shift) & 7));
}

#define for_each_set_bit(bit, addr, size) \
	for ((bit) = 0; (bit) < (size); (bit)++) \
		if (test_bit((bit), (addr)))

/* Locks */
extern int shim_locks_held;

typedef struct {
	int held;
} spinlock_t;

struct mutex {
	int held;
};

static inline void spin_lock_init(spinlock_t *l)
{
	l->held = 0;
}

static inline void spin_lock(spinlock_t *l)
{
	assert(!l->held);	/* would deadlock in the kernel */
	l->held = 1;
	shim_locks_held++;
}

static inline void spin_unlock(spinlock_t *l)
{
	assert(l->held);
	l->held = 0;
	shim_locks_held--;
}

#define lockdep_assert_held(m)	assert((m)->held)

struct list_head {
	struct list_head *next, *prev;
};

struct rcu_head {
	int unused;
};

/* Memory, counted so tests can check that failed creations free it all. */
extern int shim_allocations;
#define GFP_KERNEL_ACCOUNT	0

static inline void *kzalloc(size_t size, int flags)
{
	(void)flags;
	shim_allocations++;
	return calloc(1, size);
}

/*
 * Not given back: a test may still look at a destroyed device (was its
 * timer cancelled?); the programs are short-lived.
 */
static inline void kfree(void *p)
{
	if (p)
		shim_allocations--;
}

/* Time */
typedef s64 ktime_t;
extern s64 shim_now_ns;
#define NSEC_PER_SEC	1000000000L
#define NSEC_PER_USEC	1000L
#define HZ		250
#define CLOCK_MONOTONIC	1

static inline ktime_t ktime_get(void)
{
	return shim_now_ns;
}

static inline s64 ktime_to_ns(ktime_t t)
{
	return t;
}

static inline ktime_t ns_to_ktime(u64 ns)
{
	return (ktime_t)ns;
}

static inline u64 mul_u64_u32_div(u64 a, u32 mul, u32 divisor)
{
	return (u64)((unsigned __int128)a * mul / divisor);
}

/* Atomics (single-threaded here) */
typedef struct {
	int counter;
} atomic_t;

static inline int atomic_read(const atomic_t *v)
{
	return v->counter;
}

static inline void atomic_set(atomic_t *v, int i)
{
	v->counter = i;
}

static inline int atomic_xchg(atomic_t *v, int i)
{
	int old = v->counter;

	v->counter = i;
	return old;
}

static inline int atomic_cmpxchg(atomic_t *v, int old, int new)
{
	int cur = v->counter;

	if (cur == old)
		v->counter = new;
	return cur;
}

static inline bool atomic_try_cmpxchg(atomic_t *v, int *old, int new)
{
	int cur = atomic_cmpxchg(v, *old, new);

	if (cur == *old)
		return true;
	*old = cur;
	return false;
}

static inline int atomic_dec_if_positive(atomic_t *v)
{
	int n = v->counter - 1;

	if (n >= 0)
		v->counter = n;
	return n;
}

/* hrtimers: armed or not; shim_run_timers() expires the due ones. */
enum hrtimer_mode { HRTIMER_MODE_ABS };
enum hrtimer_restart { HRTIMER_NORESTART, HRTIMER_RESTART };

struct hrtimer {
	ktime_t expires;
	bool active;
	enum hrtimer_restart (*function)(struct hrtimer *t);
};

#define SHIM_MAX_TIMERS 8
extern struct hrtimer *shim_timers[SHIM_MAX_TIMERS];

static inline void hrtimer_init(struct hrtimer *t, int clock,
				enum hrtimer_mode mode)
{
	int i;

	(void)clock;
	(void)mode;
	memset(t, 0, sizeof(*t));
	for (i = 0; i < SHIM_MAX_TIMERS; i++) {
		if (!shim_timers[i]) {
			shim_timers[i] = t;
			return;
		}
	}
	assert(!"too many timers");
}

static inline void hrtimer_start(struct hrtimer *t, ktime_t when,
				 enum hrtimer_mode mode)
{
	(void)mode;
	t->expires = when;
	t->active = true;
}

static inline int hrtimer_cancel(struct hrtimer *t)
{
	int was = t->active;

	t->active = false;
	return was;
}

static inline u64 hrtimer_forward_now(struct hrtimer *t, ktime_t interval)
{
	u64 n;

	if (shim_now_ns < t->expires)
		return 0;
	n = (u64)(shim_now_ns - t->expires) / (u64)interval + 1;
	t->expires += n * interval;
	return n;
}

/* Work items: queued or not; shim_run_work() runs the queued ones. */
struct workqueue_struct {
	int unused;
};

extern struct workqueue_struct *system_highpri_wq;

struct work_struct {
	void (*func)(struct work_struct *w);
	bool pending;
};

struct delayed_work {
	struct work_struct work;
	unsigned long delay;
};

#define SHIM_MAX_WORK 8
extern struct work_struct *shim_works[SHIM_MAX_WORK];

static inline void shim_work_add(struct work_struct *w,
				 void (*func)(struct work_struct *))
{
	int i;

	w->func = func;
	w->pending = false;
	for (i = 0; i < SHIM_MAX_WORK; i++) {
		if (!shim_works[i]) {
			shim_works[i] = w;
			return;
		}
	}
	assert(!"too many work items");
}

#define INIT_WORK(w, f)		shim_work_add((w), (f))
#define INIT_DELAYED_WORK(w, f)	shim_work_add(&(w)->work, (f))

static inline struct delayed_work *to_delayed_work(struct work_struct *w)
{
	return container_of(w, struct delayed_work, work);
}

static inline bool queue_work(struct workqueue_struct *wq,
			      struct work_struct *w)
{
	bool was = w->pending;

	(void)wq;
	w->pending = true;
	return !was;
}

static inline bool schedule_delayed_work(struct delayed_work *w,
					 unsigned long delay)
{
	w->delay = delay;
	return queue_work(NULL, &w->work);
}

static inline bool cancel_work_sync(struct work_struct *w)
{
	bool was = w->pending;

	w->pending = false;
	return was;
}

static inline bool cancel_delayed_work_sync(struct delayed_work *w)
{
	return cancel_work_sync(&w->work);
}

#endif /* KSHIM_H */

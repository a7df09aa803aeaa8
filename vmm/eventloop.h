/* The main thread while the guest runs: signals, console input, stop requests. */
#ifndef YAKVM_EVENTLOOP_H
#define YAKVM_EVENTLOOP_H

struct vm;
struct console;

/* Blocks the signals the loop handles (and the vCPU kick) in this thread and
 * every thread started after it, and opens the loop's signalfd; call before
 * starting vCPU threads. */
void eventloop_block_signals(void);
/* Runs until the VM must stop; returns the stop status (status.h). */
int eventloop_run(struct vm *vm, struct console *con);

#endif

/* Raw mode for the guest console, and putting the terminal back. */
#ifndef YAKVM_TERMINAL_H
#define YAKVM_TERMINAL_H

#include <stdbool.h>

/* Raw input on @fd if it is a terminal; false (and nothing changed) otherwise.
 * The saved settings come back at exit, on a fatal signal, or on
 * terminal_restore(), whichever comes first. */
bool terminal_enter_raw(int fd);
/* Idempotent and async-signal-safe. */
void terminal_restore(void);

#endif

#ifndef YAKVM_STAT_H
#define YAKVM_STAT_H

/* yakvm stat [--interval S] [--once] [--debugfs DIR]: live exit rates. */
int stat_main(int argc, char **argv);

#endif

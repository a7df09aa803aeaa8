/*
 * yakvm: the command line.  `yakvm run [options] IMAGE` builds a VM on a
 * KVM-ABI device, loads IMAGE, runs one thread per vCPU and returns the
 * guest's verdict as the exit status (status.h).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "console.h"
#include "cpumode.h"
#include "devices/devices.h"
#include "dump.h"
#include "eventloop.h"
#include "interrupts.h"
#include "loaders/loader.h"
#include "stat.h"
#include "status.h"
#include "terminal.h"
#include "util.h"
#include "vcpu.h"
#include "vm.h"

#define YAKVM_VERSION "0.1.0"

static const char usage_text[] =
"usage: yakvm run [options] IMAGE\n"
"       yakvm run [options] --kernel BZIMAGE [--initrd FILE] [--cmdline STR]\n"
"       yakvm stat [--interval SECONDS] [--once]   (live exit rates of yakvm VMs)\n"
"       yakvm --version | -h | --help\n"
"\n"
"Runs IMAGE in a VM on a KVM-ABI device (/dev/yakvm or /dev/kvm).\n"
"\n"
"options for run:\n"
"  --dev PATH        device to use (default /dev/yakvm; /dev/kvm works the same)\n"
"  --mem SIZE        guest RAM, e.g. 64M, 2G, 512K or bytes (default 64M, 256M for\n"
"                    a Linux kernel, at least 1M); RAM above 3G continues at 4G\n"
"  --cpus N          number of vCPUs, one thread each (default 1); every vCPU starts\n"
"                    at the entry point, CPUID gives each its own APIC ID\n"
"  --format FMT      flat, elf, multiboot or bzimage (default: detected from the file:\n"
"                    multiboot header, ELF magic, Linux 'HdrS', otherwise flat)\n"
"  --kernel FILE     the image, given as an option (kvmtool/QEMU style) instead of IMAGE\n"
"  --load ADDR       flat: load address (default 0x1000 in real mode, else 0x100000)\n"
"  --entry ADDR      flat: entry point (default: the load address); in real mode\n"
"                    also SEG:OFF (a linear address A becomes (A>>4 & 0xf000):(A & 0xffff))\n"
"  --mode MODE       flat: real (default; CS=DS=ES=SS, SP=0), prot (32-bit, flat\n"
"                    segments) or long (64-bit, first 4G identity-mapped);\n"
"                    bzimage: long (64-bit boot protocol, default) or prot (32-bit)\n"
"  --cmdline STR     command line for elf, multiboot and bzimage guests; a Linux\n"
"                    kernel gets yakvm's default first, then STR (a later parameter\n"
"                    overrides an earlier one); the default:\n"
"                    " LINUX_DEFAULT_CMDLINE "\n"
"  --initrd FILE     initial ramdisk for a bzimage (Linux) kernel\n"
"  --trace-exits     print one line per VM exit on stderr\n"
"  --strict          stop the VM when the guest touches a port or MMIO address\n"
"                    no device claims (default: reads return all ones, writes are\n"
"                    dropped, the first access of each kind is logged)\n"
"  -h, --help        this text\n"
"\n"
"ELF32 images start in protected mode, ELF64 images in long mode; multiboot v1\n"
"kernels in protected mode with EAX=0x2BADB002 and EBX=multiboot info.  ELF images\n"
"get the same info in EBX (and RDI, with the magic in RSI, for ELF64).  Linux\n"
"bzImages start through the boot protocol (zero page in RSI, e820 map, initrd).\n"
"\n"
"devices: 16550 UART at 0x3f8 on IRQ4 (stdout/stdin), 8259A PIC pair (0x20, 0xa0,\n"
"ELCR 0x4d0) wired to vCPU 0, 8254 PIT (0x40, IRQ0) with port 0x61, MC146818 RTC\n"
"(0x70), i8042 (0x60/0x64; its reset ends the VM), empty PCI config space (0xcf8),\n"
"ports 0x80/0xed/0x92; debug-exit port 0xf4 (a write of V exits with status\n"
"(V<<1)|1), debug console port 0xe9 (stdout), MMIO test device at 0xfeb00000\n"
"(ID register 'YMIO' at +0, read-back scratch from +8 to +0xff).\n"
"\n"
"console: when stdin is a terminal it is put in raw mode; Ctrl-A x quits,\n"
"Ctrl-A Ctrl-A sends Ctrl-A.  The terminal is restored on every exit.\n"
"\n"
"exit status: 0 every vCPU halted, or the guest reset the machine (reboot);\n"
"  odd (V<<1)|1 guest wrote V to port 0xf4;\n"
"  2 bad usage or input; 4 device or setup failure; 6 guest triple fault;\n"
"  8 internal error (failed entry, unexpected exit); 10 --strict violation;\n"
"  12 quit with Ctrl-A x; 128+N stopped by signal N (130 SIGINT, 143 SIGTERM)\n";

enum option_id {
	OPT_DEV = 256, OPT_MEM, OPT_CPUS, OPT_FORMAT, OPT_LOAD, OPT_ENTRY, OPT_MODE,
	OPT_CMDLINE, OPT_INITRD, OPT_TRACE_EXITS, OPT_STRICT, OPT_VERSION, OPT_KERNEL,
};

static const struct option run_options[] = {
	{ "dev", required_argument, NULL, OPT_DEV },
	{ "mem", required_argument, NULL, OPT_MEM },
	{ "cpus", required_argument, NULL, OPT_CPUS },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "load", required_argument, NULL, OPT_LOAD },
	{ "entry", required_argument, NULL, OPT_ENTRY },
	{ "mode", required_argument, NULL, OPT_MODE },
	{ "cmdline", required_argument, NULL, OPT_CMDLINE },
	{ "initrd", required_argument, NULL, OPT_INITRD },
	{ "kernel", required_argument, NULL, OPT_KERNEL },
	{ "trace-exits", no_argument, NULL, OPT_TRACE_EXITS },
	{ "strict", no_argument, NULL, OPT_STRICT },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

static _Noreturn void usage_error(const char *fmt, const char *arg)
{
	char what[512];

	snprintf(what, sizeof(what), fmt, arg);
	fail(STATUS_USAGE, "%s; see 'yakvm --help'", what);
}

static uint64_t parse_address(const char *s, const char *option)
{
	uint64_t v;

	if (!parse_u64(s, &v))
		fail(STATUS_USAGE, "%s: bad address '%s' (decimal or 0x-hex)", option, s);
	return v;
}

static void parse_entry(const char *s, struct entry_point *entry)
{
	const char *colon = strchr(s, ':');
	char segment[32];
	uint64_t seg;

	entry->set = true;
	if (!colon) {
		entry->offset = parse_address(s, "--entry");
		return;
	}
	if ((size_t)(colon - s) >= sizeof(segment))
		usage_error("--entry: bad SEG:OFF '%s'", s);
	memcpy(segment, s, colon - s);
	segment[colon - s] = '\0';
	if (!parse_u64(segment, &seg) || seg > 0xffff)
		usage_error("--entry: bad segment in '%s'", s);
	entry->segmented = true;
	entry->segment = seg;
	entry->offset = parse_address(colon + 1, "--entry");
}

static unsigned int parse_cpus(const char *s)
{
	uint64_t n;

	if (!parse_u64(s, &n) || n == 0 || n > 4096)
		fail(STATUS_USAGE, "--cpus: bad vCPU count '%s'", s);
	return n;
}

static void apply_option(struct vm_config *cfg, int id, const char *arg)
{
	switch (id) {
	case OPT_DEV: cfg->dev_path = arg; break;
	case OPT_MEM:
		if (!parse_size(arg, &cfg->mem_size))
			fail(STATUS_USAGE, "--mem: bad size '%s' (e.g. 64M, 2G, 512K)", arg);
		cfg->mem_set = true;
		break;
	case OPT_CPUS: cfg->nr_cpus = parse_cpus(arg); break;
	case OPT_FORMAT:
		if (!format_from_name(arg, &cfg->format))
			usage_error("--format: unknown value '%s'", arg);
		break;
	case OPT_LOAD:
		cfg->load_set = true;
		cfg->load_addr = parse_address(arg, "--load");
		break;
	case OPT_ENTRY: parse_entry(arg, &cfg->entry); break;
	case OPT_MODE:
		cfg->mode_set = true;
		if (!mode_from_name(arg, &cfg->mode))
			usage_error("--mode: unknown value '%s'", arg);
		break;
	case OPT_CMDLINE: cfg->cmdline = arg; break;
	case OPT_INITRD: cfg->initrd = arg; break;
	case OPT_KERNEL: cfg->image = arg; break;
	case OPT_TRACE_EXITS: cfg->trace_exits = true; break;
	case OPT_STRICT: cfg->strict = true; break;
	}
}

static void print_usage_and_exit(void)
{
	fputs(usage_text, stdout);
	exit(0);
}

static void print_version_and_exit(void)
{
	printf("yakvm %s\n", YAKVM_VERSION);
	exit(0);
}

/* After getopt_long() returned '?': optopt says which kind of mistake it was. */
static _Noreturn void reject_option(const char *arg)
{
	char short_opt[3] = { '-', (char)optopt, '\0' };

	if (optopt >= OPT_DEV)
		usage_error("option '%s' needs a value", arg);
	if (optopt)
		usage_error("unknown option '%s'", short_opt);
	usage_error("unknown option '%s'", arg);
}

static void parse_run_options(int argc, char **argv, struct vm_config *cfg)
{
	int id;

	opterr = 0;
	while ((id = getopt_long(argc, argv, "h", run_options, NULL)) != -1) {
		if (id == 'h')
			print_usage_and_exit();
		if (id == OPT_VERSION)
			print_version_and_exit();
		if (id == '?')
			reject_option(argv[optind - 1]);
		apply_option(cfg, id, optarg);
	}
	if (cfg->image) {	/* --kernel */
		if (optind < argc)
			usage_error("unexpected argument '%s': --kernel already names the image",
				    argv[optind]);
		return;
	}
	if (optind == argc)
		usage_error("%s", "no IMAGE (or --kernel) given");
	if (optind + 1 < argc)
		usage_error("unexpected argument '%s' after IMAGE", argv[optind + 1]);
	cfg->image = argv[optind];
}

/* Everything before the first guest instruction; fail()s with one line on error. */
static void prepare_vm(const struct vm_config *user_cfg, struct vm *vm, struct serial **uart)
{
	struct vm_config config = *user_cfg;
	struct vm_config *cfg = &config;
	enum image_format format = cfg->format;
	struct boot_cpu boot = { 0 };
	struct image img;
	char where[64];

	/* User mistakes first: they are cheaper to report than device problems. */
	image_read(&img, cfg->image);
	if (format == FORMAT_AUTO)
		format = image_detect(&img);
	loader_check_options(cfg, format);
	if (format == FORMAT_BZIMAGE && !cfg->mem_set)
		cfg->mem_size = DEFAULT_LINUX_MEM_SIZE;

	vm_open_device(vm, cfg->dev_path);
	vm_create(vm, cfg);
	*uart = devices_create(vm, interrupts_notify);
	load_image(vm, cfg, &img, format, &boot);
	cpumode_setup(vm, &boot);
	if (cfg->trace_exits) {
		cpumode_describe(&boot, where, sizeof(where));
		msg("%s: %s image; %u vCPU(s) start in %s", cfg->image, format_name(format),
		    vm->nr_vcpus, where);
	}
}

/* With --trace-exits: where every vCPU stood when the VM stopped. */
static void dump_all_vcpus(struct vm *vm)
{
	unsigned int i;

	for (i = 0; i < vm->nr_vcpus; i++)
		dump_vcpu_state(&vm->vcpus[i]);
}

static int run_vm(const struct vm_config *cfg)
{
	struct vm vm = { 0 };
	struct console con;
	struct serial *uart;
	unsigned int joined;
	int status;

	prepare_vm(cfg, &vm, &uart);
	vcpu_install_kick_handler();
	eventloop_block_signals();
	console_init(&con, STDIN_FILENO, uart);
	vcpus_start(&vm);
	status = eventloop_run(&vm, &con);
	joined = vcpus_stop(&vm);
	terminal_restore();
	if (cfg->trace_exits)
		dump_all_vcpus(&vm);
	if (status >= STATUS_SIGNAL_BASE)
		msg("stopped; %u vCPU thread%s joined, exit status %d", joined,
		    joined == 1 ? "" : "s", status);
	return status;
}

int main(int argc, char **argv)
{
	struct vm_config cfg = {
		.dev_path = DEFAULT_DEVICE,
		.mem_size = DEFAULT_MEM_SIZE,
		.nr_cpus = 1,
		.format = FORMAT_AUTO,
	};

	if (argc < 2)
		usage_error("%s", "no command given");
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)
		print_version_and_exit();
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0)
		print_usage_and_exit();
	if (strcmp(argv[1], "stat") == 0)
		return stat_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "run") != 0)
		usage_error("unknown command or option '%s'", argv[1]);
	parse_run_options(argc - 1, argv + 1, &cfg);
	return run_vm(&cfg);
}

/*
 * MC146818 real-time clock and CMOS RAM (Motorola MC146818A data sheet) at
 * 0x70 (index; bit 7 is the PC's NMI mask, ignored) and 0x71 (data).  The
 * clock shows the host's UTC time plus whatever offset the guest set by
 * writing the time registers.  Register A's update-in-progress bit is set
 * only in the last 244 us before each second (the data sheet's t_BUC), so a
 * guest waiting for it to clear never waits long; register D reports valid
 * RAM and time.  No RTC interrupts (IRQ8) are generated: periodic, alarm and
 * update-ended flags in register C stay clear.
 */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "devices.h"
#include "platform.h"
#include "../status.h"
#include "../util.h"
#include "../vm.h"

#define CMOS_SIZE	128
#define INDEX_MASK	0x7f
#define REG_SECONDS	0x00
#define REG_MINUTES	0x02
#define REG_HOURS	0x04
#define REG_WEEKDAY	0x06
#define REG_DAY		0x07
#define REG_MONTH	0x08
#define REG_YEAR	0x09
#define REG_A		0x0a
#define REG_B		0x0b
#define REG_C		0x0c
#define REG_D		0x0d
#define REG_CENTURY	0x32	/* IBM PC AT convention */
#define A_UIP		0x80
#define A_DEFAULT	0x26	/* 32.768 kHz time base, 1.024 kHz periodic rate */
#define B_SET		0x80
#define B_BINARY	0x04	/* DM: binary, else BCD */
#define B_24H		0x02
#define B_DEFAULT	B_24H	/* BCD, 24-hour: what PC firmware sets */
#define D_VRT		0x80
#define UIP_NS		244000	/* t_BUC: UIP rises this long before the update */

struct rtc {
	pthread_mutex_t lock;
	uint8_t index;
	uint8_t ram[CMOS_SIZE];
	time_t offset;		/* guest time - host time, in seconds */
};

static uint8_t encode(const struct rtc *rtc, unsigned int v)
{
	return (rtc->ram[REG_B] & B_BINARY) ? v : (v / 10) << 4 | v % 10;
}

static unsigned int decode(const struct rtc *rtc, uint8_t v)
{
	return (rtc->ram[REG_B] & B_BINARY) ? v : (v >> 4) * 10 + (v & 0xf);
}

static void guest_time(const struct rtc *rtc, struct tm *tm, long *nsec)
{
	struct timespec ts;
	time_t t;

	clock_gettime(CLOCK_REALTIME, &ts);
	t = ts.tv_sec + rtc->offset;
	gmtime_r(&t, tm);
	*nsec = ts.tv_nsec;
}

static uint8_t encode_hours(const struct rtc *rtc, int hour)
{
	int h12;

	if (rtc->ram[REG_B] & B_24H)
		return encode(rtc, hour);
	h12 = hour % 12 ? hour % 12 : 12;
	return encode(rtc, h12) | (hour >= 12 ? 0x80 : 0);
}

static int decode_hours(const struct rtc *rtc, uint8_t v)
{
	int h;

	if (rtc->ram[REG_B] & B_24H)
		return decode(rtc, v);
	h = decode(rtc, v & 0x7f) % 12;
	return (v & 0x80) ? h + 12 : h;
}

static uint8_t read_clock(const struct rtc *rtc, unsigned int reg)
{
	struct tm tm;
	long nsec;

	guest_time(rtc, &tm, &nsec);
	switch (reg) {
	case REG_SECONDS: return encode(rtc, tm.tm_sec);
	case REG_MINUTES: return encode(rtc, tm.tm_min);
	case REG_HOURS: return encode_hours(rtc, tm.tm_hour);
	case REG_WEEKDAY: return encode(rtc, tm.tm_wday + 1);	/* Sunday = 1 */
	case REG_DAY: return encode(rtc, tm.tm_mday);
	case REG_MONTH: return encode(rtc, tm.tm_mon + 1);
	case REG_YEAR: return encode(rtc, tm.tm_year % 100);
	case REG_CENTURY: return encode(rtc, (tm.tm_year + 1900) / 100);
	default:	/* REG_A */
		return rtc->ram[REG_A] | (nsec >= 1000000000L - UIP_NS ? A_UIP : 0);
	}
}

static bool is_alarm_reg(unsigned int reg)
{
	return reg == 1 || reg == 3 || reg == 5;
}

/* Seconds, minutes, hours, weekday, day, month, year, century. */
static bool is_time_reg(unsigned int reg)
{
	return (reg <= REG_YEAR && !is_alarm_reg(reg)) || reg == REG_CENTURY;
}

/* A write to a time register moves the guest's clock; alarms (1, 3, 5) are RAM. */
static void write_clock(struct rtc *rtc, unsigned int reg, uint8_t v)
{
	struct tm tm;
	long nsec;
	time_t host = time(NULL);

	guest_time(rtc, &tm, &nsec);
	switch (reg) {
	case REG_SECONDS: tm.tm_sec = decode(rtc, v); break;
	case REG_MINUTES: tm.tm_min = decode(rtc, v); break;
	case REG_HOURS: tm.tm_hour = decode_hours(rtc, v); break;
	case REG_DAY: tm.tm_mday = decode(rtc, v); break;
	case REG_MONTH: tm.tm_mon = decode(rtc, v) - 1; break;
	case REG_YEAR: tm.tm_year = tm.tm_year / 100 * 100 + decode(rtc, v); break;
	case REG_CENTURY:
		tm.tm_year = (decode(rtc, v) - 19) * 100 + tm.tm_year % 100;
		break;
	default:
		return;		/* the weekday follows from the date */
	}
	rtc->offset = timegm(&tm) - host;
}

static uint8_t rtc_read(struct rtc *rtc, unsigned int reg)
{
	uint8_t v;

	if (reg == REG_A || is_time_reg(reg))
		return read_clock(rtc, reg);
	if (reg == REG_C) {
		v = rtc->ram[REG_C];
		rtc->ram[REG_C] = 0;	/* reading C clears the flags */
		return v;
	}
	return rtc->ram[reg];
}

static void rtc_write(struct rtc *rtc, unsigned int reg, uint8_t v)
{
	if (reg == REG_A)
		rtc->ram[REG_A] = v & ~A_UIP;
	else if (is_time_reg(reg))
		write_clock(rtc, reg, v);
	else if (reg != REG_C && reg != REG_D)	/* C and D are read-only */
		rtc->ram[reg] = v;
}

static void rtc_access(void *opaque, uint64_t offset, uint8_t *data,
		       unsigned int size, bool is_write)
{
	struct rtc *rtc = opaque;
	unsigned int i;

	pthread_mutex_lock(&rtc->lock);
	for (i = 0; i < size; i++) {
		bool index_port = (offset + i) == 0;

		if (index_port && is_write)
			rtc->index = data[i] & INDEX_MASK;
		else if (index_port)
			data[i] = 0xff;		/* the index register is write-only */
		else if (is_write)
			rtc_write(rtc, rtc->index, data[i]);
		else
			data[i] = rtc_read(rtc, rtc->index);
	}
	pthread_mutex_unlock(&rtc->lock);
}

void rtc_create(struct vm *vm)
{
	struct rtc *rtc = calloc(1, sizeof(*rtc));

	if (!rtc)
		fail(STATUS_SETUP, "out of memory for the RTC");
	pthread_mutex_init(&rtc->lock, NULL);
	rtc->ram[REG_A] = A_DEFAULT;
	rtc->ram[REG_B] = B_DEFAULT;
	rtc->ram[REG_D] = D_VRT;
	io_register(&vm->pio, RTC_PORT, 2, rtc_access, rtc, "MC146818 RTC/CMOS");
}

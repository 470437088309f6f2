/* The control files' value parsers at their boundaries: what md's stores
 * take (kstrtouint, strict_strtoul_scaled, sync_min_store, cmd_match) and
 * nothing more. */
#include <errno.h>
#include <string.h>
#include "../src/ctl.h"

static void test_value(void)
{
	static const struct { const char *in; size_t len; const char *want; } t[] = {
		{ "5\n", 2, "5" }, { "5", 1, "5" }, { "\n", 1, "" },
		{ "5\n\n", 3, "5\n" }, { "5 \n", 3, "5 " }, { "", 0, "" },
		{ "5\0", 2, NULL }, { "\0", 1, NULL }, { "a\0b\n", 4, NULL },
	};
	for (unsigned i = 0; i < G_N_ELEMENTS(t); i++) {
		char *v = ctl_value(t[i].in, t[i].len);
		g_assert_cmpstr(v, ==, t[i].want);
		g_free(v);
	}
}

static void test_uint(void)
{
	static const struct { const char *in; int r; unsigned v; } t[] = {
		{ "0", 0, 0 }, { "7", 0, 7 }, { "007", 0, 7 },
		{ "4294967295", 0, 4294967295u }, { "4294967296", -EINVAL, 0 },
		{ "18446744073709551616", -EINVAL, 0 },
		{ "99999999999999999999999", -EINVAL, 0 },
		{ "", -EINVAL, 0 }, { "-0", -EINVAL, 0 }, { "+1", -EINVAL, 0 },
		{ " 1", -EINVAL, 0 }, { "1 ", -EINVAL, 0 }, { "0x10", -EINVAL, 0 },
		{ "1\n", -EINVAL, 0 }, { "1e3", -EINVAL, 0 }, { "nan", -EINVAL, 0 },
	};
	for (unsigned i = 0; i < G_N_ELEMENTS(t); i++) {
		unsigned v = 12345;
		g_assert_cmpint(ctl_parse_uint(t[i].in, &v), ==, t[i].r);
		g_assert_cmpuint(v, ==, t[i].r ? 12345 : t[i].v);
	}
}

static void test_speed(void)
{
	unsigned v;

	g_assert_cmpint(ctl_parse_speed("system", &v), ==, 0);
	g_assert_cmpuint(v, ==, 0);
	g_assert_cmpint(ctl_parse_speed("1", &v), ==, 0);
	g_assert_cmpuint(v, ==, 1);
	g_assert_cmpint(ctl_parse_speed("0", &v), ==, -EINVAL);
	g_assert_cmpint(ctl_parse_speed("systemx", &v), ==, -EINVAL);
	g_assert_cmpint(ctl_parse_speed("syste", &v), ==, -EINVAL);
	g_assert_cmpint(ctl_parse_speed("-0", &v), ==, -EINVAL);
}

static void test_msec(void)
{
	static const struct { const char *in; int r; unsigned ms; } t[] = {
		{ "0", 0, 0 }, { "5", 0, 5000 }, { "0.5", 0, 500 }, { ".25", 0, 250 },
		{ "5.", 0, 5000 }, { "1.234", 0, 1234 }, { "0.001", 0, 1 },
		{ "3600", 0, 3600000 }, { "3600.000", 0, 3600000 },
		{ "3600.001", -EINVAL, 0 }, { "4294967.296", -EINVAL, 0 },
		{ "99999999999999999999", -EINVAL, 0 }, { "1.2345", -EINVAL, 0 },
		{ "", -EINVAL, 0 }, { ".", -EINVAL, 0 }, { "1..2", -EINVAL, 0 },
		{ "1.2.3", -EINVAL, 0 }, { "-1", -EINVAL, 0 }, { "+1", -EINVAL, 0 },
		{ " 5", -EINVAL, 0 }, { "5 ", -EINVAL, 0 }, { "nan", -EINVAL, 0 },
		{ "inf", -EINVAL, 0 }, { "0x10", -EINVAL, 0 }, { "1e3", -EINVAL, 0 },
		{ "5\n", -EINVAL, 0 },
	};
	for (unsigned i = 0; i < G_N_ELEMENTS(t); i++) {
		unsigned ms = 12345;
		int r = ctl_parse_msec(t[i].in, SAFE_MODE_DELAY_MAX_MS, &ms);
		if (r != t[i].r)
			g_error("'%s': %d, want %d", t[i].in, r, t[i].r);
		g_assert_cmpuint(ms, ==, r ? 12345 : t[i].ms);
	}
}

static void test_words(void)
{
	enum sync_action a;
	uint64_t seed;

	g_assert_cmpint(md_sync_action_parse("check", &a), ==, 0);
	g_assert_cmpint(a, ==, ACTION_CHECK);
	g_assert_cmpint(md_sync_action_parse("check ", &a), ==, -EINVAL);
	g_assert_cmpint(md_sync_action_parse("", &a), ==, -EINVAL);
	g_assert_cmpint(ctl_parse_rdev_state("faulty"), ==, RDEV_STATE_FAULTY);
	g_assert_cmpint(ctl_parse_rdev_state("faulty "), ==, -EINVAL);
	g_assert_cmpint(ctl_parse_rdev_state("remove"), ==, RDEV_STATE_REMOVE);
	g_assert_cmpint(ctl_parse_rdev_state("re-add"), ==, RDEV_STATE_READD);
	g_assert_cmpint(ctl_parse_rdev_state("-writemostly"), ==,
			RDEV_STATE_NO_WRITEMOSTLY);
	g_assert_cmpint(ctl_parse_rdev_state("-blocked"), ==, RDEV_STATE_NO_BLOCKED);
	g_assert_cmpint(ctl_parse_rdev_state("want_replacement"), ==,
			RDEV_STATE_WANT_REPLACEMENT);
	g_assert_cmpint(ctl_parse_rdev_state("insync"), ==, -EINVAL);
	g_assert_cmpint(ctl_parse_rdev_state("-remove"), ==, -EINVAL);
	g_assert_cmpint(ctl_parse_rdev_state(""), ==, -EINVAL);
	g_assert_cmpint(ctl_parse_array_state("inactive"), ==, AS_INACTIVE);
	g_assert_cmpint(ctl_parse_array_state("clear"), ==, AS_CLEAR);
	g_assert_cmpint(ctl_parse_array_state("read-auto"), ==, AS_READ_AUTO);
	g_assert_cmpint(ctl_parse_array_state("broken"), ==, AS_BROKEN);
	g_assert_cmpint(ctl_parse_array_state("inactive "), ==, -EINVAL);
	g_assert_cmpint(ctl_parse_array_state("read_auto"), ==, -EINVAL);
	g_assert_cmpint(ctl_parse_array_state(""), ==, -EINVAL);
	g_assert_cmpint(ctl_parse_power_cut("arm", &seed), ==, PC_ARM);
	g_assert_cmpint(ctl_parse_power_cut("cut", &seed), ==, PC_CUT);
	g_assert_cmpint(ctl_parse_power_cut("cut 18446744073709551615", &seed), ==,
			PC_CUT_SEED);
	g_assert_cmpuint(seed, ==, UINT64_MAX);
	g_assert_cmpint(ctl_parse_power_cut("cut 18446744073709551616", &seed), ==,
			-EINVAL);
	g_assert_cmpint(ctl_parse_power_cut("cut +1", &seed), ==, -EINVAL);
	g_assert_cmpint(ctl_parse_power_cut("cut ", &seed), ==, -EINVAL);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/ctl/value", test_value);
	g_test_add_func("/ctl/uint", test_uint);
	g_test_add_func("/ctl/speed", test_speed);
	g_test_add_func("/ctl/msec", test_msec);
	g_test_add_func("/ctl/words", test_words);
	return g_test_run();
}

/* log.c: where raidfs's messages go.  GLib's g_message and g_warning,
 * written as mdadm writes its own: one plain "raidfs: ..." line on
 * standard error.  A daemon in the background has no terminal: its
 * messages go to the journal where one runs, to syslog otherwise. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <glib.h>
#include "log.h"

static atomic_bool to_system;
/* GLib's journald writer opens its socket on first use, unguarded: two
 * threads logging at once race on it (TSan saw two sync threads do so). */
static pthread_mutex_t system_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *field(const GLogField *fields, gsize n, const char *key)
{
	for (gsize i = 0; i < n; i++)
		if (!strcmp(fields[i].key, key))
			return fields[i].length < 0 ? fields[i].value : NULL;
	return NULL;
}

static int syslog_priority(GLogLevelFlags level)
{
	if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
		return LOG_CRIT;
	if (level & G_LOG_LEVEL_WARNING)
		return LOG_WARNING;
	if (level & G_LOG_LEVEL_DEBUG)
		return LOG_DEBUG;
	return level & G_LOG_LEVEL_INFO ? LOG_INFO : LOG_NOTICE;
}

static GLogWriterOutput writer(GLogLevelFlags level, const GLogField *fields,
			       gsize n, gpointer data)
{
	const char *msg = field(fields, n, "MESSAGE");

	if (!msg || g_log_writer_default_would_drop(level, field(fields, n, "GLIB_DOMAIN")))
		return G_LOG_WRITER_HANDLED;
	if (atomic_load(&to_system)) {
		pthread_mutex_lock(&system_lock);
		if (g_log_writer_journald(level, fields, n, data) != G_LOG_WRITER_HANDLED)
			syslog(syslog_priority(level), "%s", msg);
		pthread_mutex_unlock(&system_lock);
		return G_LOG_WRITER_HANDLED;
	}
	fprintf(stderr, "raidfs: %s\n", msg);
	return G_LOG_WRITER_HANDLED;
}

void log_init(void)
{
	g_log_set_writer_func(writer, NULL, NULL);
}

void log_to_system(void)
{
	openlog("raidfs", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	atomic_store(&to_system, true);
}

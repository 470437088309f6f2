#ifndef RAIDFS_LOG_H
#define RAIDFS_LOG_H

/* Plain "raidfs: ..." lines on standard error for GLib's messages. */
void log_init(void);
/* From now on to the journal, or syslog where none runs: the daemon
 * left its terminal. */
void log_to_system(void);

#endif

/* Changing the member set of a running array: md's mddev_suspend around
 * the change. */
#include "raid.h"

/* ---- suspend: md's active_io and mddev_suspend ---- */

/* A thread inside a request may enter again (a level calling back into
 * the core): only its outermost entry counts, or a pending suspend would
 * hold it off its own request. */
static __thread unsigned io_depth;

void md_io_enter(struct mddev *mddev)
{
	if (io_depth++)
		return;
	pthread_mutex_lock(&mddev->io_lock);
	/* A suspend waiting holds new requests off, so a stream of them
	 * cannot starve it. */
	while (mddev->suspended)
		pthread_cond_wait(&mddev->io_cond, &mddev->io_lock);
	mddev->active_io++;
	pthread_mutex_unlock(&mddev->io_lock);
}

void md_io_exit(struct mddev *mddev)
{
	if (--io_depth)
		return;
	pthread_mutex_lock(&mddev->io_lock);
	if (--mddev->active_io == 0 && mddev->suspended)
		pthread_cond_broadcast(&mddev->io_cond);
	pthread_mutex_unlock(&mddev->io_lock);
}

/* Never called from inside a request (io_depth 0): it waits for them all.
 * reconfig_lock makes one change at a time. */
void md_suspend(struct mddev *mddev)
{
	g_assert(io_depth == 0);
	pthread_mutex_lock(&mddev->reconfig_lock);
	pthread_mutex_lock(&mddev->io_lock);
	mddev->suspended++;
	while (mddev->active_io)
		pthread_cond_wait(&mddev->io_cond, &mddev->io_lock);
	pthread_mutex_unlock(&mddev->io_lock);
}

void md_resume(struct mddev *mddev)
{
	pthread_mutex_lock(&mddev->io_lock);
	mddev->suspended--;
	pthread_cond_broadcast(&mddev->io_cond);
	pthread_mutex_unlock(&mddev->io_lock);
	pthread_mutex_unlock(&mddev->reconfig_lock);
}

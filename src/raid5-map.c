/* md's placement for raid4, raid5 and raid6 (raid5_compute_sector,
 * set_syndrome_sources, only_parity): pure functions of the geometry. */
#include "raid5.h"

static int raid5_data_dev(const struct r5conf *c, uint64_t s, int d, int *pd)
{
	int n = c->raid_disks, dd = c->data_disks;

	switch (c->algorithm) {
	case ALGORITHM_LEFT_ASYMMETRIC:
		*pd = dd - s % n;
		return d >= *pd ? d + 1 : d;
	case ALGORITHM_RIGHT_ASYMMETRIC:
		*pd = s % n;
		return d >= *pd ? d + 1 : d;
	case ALGORITHM_LEFT_SYMMETRIC:
		*pd = dd - s % n;
		return (*pd + 1 + d) % n;
	case ALGORITHM_RIGHT_SYMMETRIC:
		*pd = s % n;
		return (*pd + 1 + d) % n;
	case ALGORITHM_PARITY_0:
		*pd = 0;
		return d + 1;
	default:                      /* ALGORITHM_PARITY_N */
		*pd = dd;
		return d;
	}
}

/* The asymmetric raid6 rotations: Q follows P, or opens the row when P
 * closes it ("Q D D D P"). */
static int raid6_asym(int n, int d, int *pd, int *qd)
{
	*qd = *pd + 1;
	if (*pd == n - 1) {
		*qd = 0;
		return d + 1;
	}
	return d >= *pd ? d + 2 : d;
}

static int raid6_data_dev(const struct r5conf *c, uint64_t s, int d, int *pd,
			  int *qd, bool *ddf)
{
	int n = c->raid_disks, dd = c->data_disks;

	*ddf = false;
	switch (c->algorithm) {
	case ALGORITHM_LEFT_ASYMMETRIC:
		*pd = n - 1 - s % n;
		return raid6_asym(n, d, pd, qd);
	case ALGORITHM_RIGHT_ASYMMETRIC:
		*pd = s % n;
		return raid6_asym(n, d, pd, qd);
	case ALGORITHM_LEFT_SYMMETRIC:
		*pd = n - 1 - s % n;
		*qd = (*pd + 1) % n;
		return (*pd + 2 + d) % n;
	case ALGORITHM_RIGHT_SYMMETRIC:
		*pd = s % n;
		*qd = (*pd + 1) % n;
		return (*pd + 2 + d) % n;
	case ALGORITHM_PARITY_0:
		*pd = 0;
		*qd = 1;
		return d + 2;
	case ALGORITHM_PARITY_N:
		*pd = dd;
		*qd = dd + 1;
		return d;
	case ALGORITHM_ROTATING_ZERO_RESTART:
		*ddf = true;
		*pd = s % n;
		return raid6_asym(n, d, pd, qd);
	case ALGORITHM_ROTATING_N_RESTART:
		*ddf = true;
		*pd = n - 1 - (s + 1) % n;
		return raid6_asym(n, d, pd, qd);
	case ALGORITHM_ROTATING_N_CONTINUE:
		*ddf = true;
		*pd = n - 1 - s % n;
		*qd = (*pd + n - 1) % n;
		return (*pd + 1 + d) % n;
	case ALGORITHM_LEFT_ASYMMETRIC_6:
		*pd = dd - s % (n - 1);
		*qd = n - 1;
		return d >= *pd ? d + 1 : d;
	case ALGORITHM_RIGHT_ASYMMETRIC_6:
		*pd = s % (n - 1);
		*qd = n - 1;
		return d >= *pd ? d + 1 : d;
	case ALGORITHM_LEFT_SYMMETRIC_6:
		*pd = dd - s % (n - 1);
		*qd = n - 1;
		return (*pd + 1 + d) % (n - 1);
	case ALGORITHM_RIGHT_SYMMETRIC_6:
		*pd = s % (n - 1);
		*qd = n - 1;
		return (*pd + 1 + d) % (n - 1);
	default:                      /* ALGORITHM_PARITY_0_6 */
		*pd = 0;
		*qd = n - 1;
		return d + 1;
	}
}

/* md's set_syndrome_sources: walk the members from raid6_d0, data taking
 * slots in turn; with ddf_layout P and Q take (empty) slots too, so a data
 * member's slot is its own index. */
static void syndrome_slots(const struct r5conf *c, bool ddf, struct rowmap *m)
{
	int n = c->raid_disks, count = 0;
	int d0 = ddf || m->qd == n - 1 ? 0 : m->qd + 1;

	m->syndrome_disks = ddf ? n : n - 2;
	for (int k = 0, i = d0; k < n; k++, i = (i + 1) % n) {
		int slot = count;
		if (ddf)
			count++;
		if (i == m->pd || i == m->qd) {
			m->slot_of[i] = -1;
			continue;
		}
		if (!ddf)
			count++;
		m->slot_of[i] = slot;
	}
}

void stripe_map(const struct r5conf *c, uint64_t s, struct rowmap *m)
{
	bool ddf = false;

	m->qd = -1;
	for (int d = 0; d < c->data_disks; d++) {
		int dev;
		if (c->level == 4) {
			m->pd = c->data_disks;
			dev = d;
		} else if (c->level == 5) {
			dev = raid5_data_dev(c, s, d, &m->pd);
		} else {
			dev = raid6_data_dev(c, s, d, &m->pd, &m->qd, &ddf);
		}
		m->dev_of[d] = dev;
	}
	if (c->level == 6) {
		syndrome_slots(c, ddf, m);
	} else {
		m->syndrome_disks = c->data_disks;
		m->slot_of[m->pd] = -1;
		for (int d = 0; d < c->data_disks; d++)
			m->slot_of[m->dev_of[d]] = d;
	}
}

bool layout_valid(int level, uint32_t layout)
{
	if (level == 4)
		return true;              /* md ignores it: parity on the last member */
	if (layout <= ALGORITHM_PARITY_N)
		return true;
	return level == 6 && ((layout >= ALGORITHM_ROTATING_ZERO_RESTART &&
			       layout <= ALGORITHM_ROTATING_N_CONTINUE) ||
			      (layout >= ALGORITHM_LEFT_ASYMMETRIC_6 &&
			       layout <= ALGORITHM_PARITY_0_6));
}

/* md's only_parity: does member slot hold parity and never data? */
bool only_parity(int slot, int algorithm, int raid_disks, int max_degraded)
{
	switch (algorithm) {
	case ALGORITHM_PARITY_0:
		return slot < max_degraded;
	case ALGORITHM_PARITY_N:
		return slot >= raid_disks - max_degraded;
	case ALGORITHM_PARITY_0_6:
		return slot == 0 || slot == raid_disks - 1;
	case ALGORITHM_LEFT_ASYMMETRIC_6:
	case ALGORITHM_RIGHT_ASYMMETRIC_6:
	case ALGORITHM_LEFT_SYMMETRIC_6:
	case ALGORITHM_RIGHT_SYMMETRIC_6:
		return slot == raid_disks - 1;
	}
	return false;
}

/* raid4, raid5 and raid6 parity over a stripe's pages: P is the XOR of the
 * data, Q (raid6) the Reed-Solomon syndrome over GF(2^8) with polynomial
 * 0x11d in md's syndrome order (set_syndrome_sources, incl. its ddf_layout
 * rule).  All parity arithmetic is ISA-L's. */
#include <string.h>
#include <isa-l/erasure_code.h>
#include <isa-l/mem_routines.h>
#include <isa-l/raid.h>
#include "raid5.h"

/* P (and Q) of the data pages into the parity pages. */
void compute_parity(struct r5conf *c, struct stripe *sh)
{
	size_t len = stripe_bytes(sh);
	int syn = sh->map.syndrome_disks;
	void *v[MAX_DISKS + 2];

	for (int s = 0; s < syn; s++)
		v[s] = c->zero;           /* ddf: the P and Q slots stay empty */
	for (int i = 0; i < c->raid_disks; i++)
		if (is_data(sh, i))
			v[sh->map.slot_of[i]] = sh->dev[i].page;
	v[syn] = sh->dev[sh->map.pd].page;
	if (c->level == 6) {
		v[syn + 1] = sh->dev[sh->map.qd].page;
		if (pq_gen(syn + 2, len, v))
			g_error("pq_gen refused %d vectors of %zu bytes", syn + 2, len);
	} else if (syn == 1) {
		memcpy(v[1], v[0], len);  /* two members: parity mirrors the data */
	} else if (xor_gen(syn + 1, len, v)) {
		g_error("xor_gen refused %d vectors of %zu bytes", syn + 1, len);
	}
}

/* Solve for the missing data members from the good ones and the parity,
 * as rows of GF(2^8) coefficients over the sources (md's raid6 recovery
 * paths, expressed for ISA-L's ec_encode_data). */
static void recover_gf(struct r5conf *c, struct stripe *sh, const int *miss,
		       int nmiss)
{
	int n = c->raid_disks, k = 0;
	bool p_ok = sh->dev[sh->map.pd].good;
	void *src[MAX_DISKS], *dst[2];
	uint8_t coef[2 * MAX_DISKS];
	uint8_t gx = c->gexp[sh->map.slot_of[miss[0]]];
	uint8_t gy = nmiss == 2 ? c->gexp[sh->map.slot_of[miss[1]]] : 0;
	/* Two missing: Dx = a*Pxy + b*Qxy with b = 1/(gx+gy), a = gy*b;
	 * one missing with P gone: Dx = Qx / gx. */
	uint8_t b = nmiss == 2 ? gf_inv(gx ^ gy) : gf_inv(gx);
	uint8_t a = nmiss == 2 ? gf_mul(gy, b) : 0;

	for (int i = 0; i < n; i++) {
		if (!sh->dev[i].good || (i == sh->map.pd && !p_ok))
			continue;
		uint8_t cx;
		if (i == sh->map.pd)
			cx = a;
		else if (i == sh->map.qd)
			cx = b;
		else
			cx = a ^ gf_mul(b, c->gexp[sh->map.slot_of[i]]);
		coef[k] = cx;
		/* Dy = Dx + Pxy: the same row plus one on P and the data. */
		coef[MAX_DISKS + k] = i == sh->map.qd ? cx : cx ^ 1;
		src[k++] = sh->dev[i].page;
	}
	if (nmiss == 2)
		memmove(coef + k, coef + MAX_DISKS, k);
	for (int j = 0; j < nmiss; j++)
		dst[j] = sh->dev[miss[j]].page;
	unsigned char *tbls = g_malloc(32 * k * nmiss);
	ec_init_tables(k, nmiss, coef, tbls);
	ec_encode_data(stripe_bytes(sh), k, nmiss, tbls, (unsigned char **)src,
		       (unsigned char **)dst);
	g_free(tbls);
}

/* Rebuild the pages of data members that are not good from the rest. */
void reconstruct(struct r5conf *c, struct stripe *sh)
{
	int miss[2], nmiss = 0, k = 0;
	void *v[MAX_DISKS + 1];

	for (int i = 0; i < c->raid_disks; i++)
		if (!sh->dev[i].good && is_data(sh, i))
			miss[nmiss++] = i;
	if (nmiss == 0)
		return;
	if (nmiss == 2 || !sh->dev[sh->map.pd].good) {
		recover_gf(c, sh, miss, nmiss);
		return;
	}
	for (int i = 0; i < c->raid_disks; i++)
		if (i != miss[0] && i != sh->map.qd)
			v[k++] = sh->dev[i].page;   /* the other data and P */
	v[k] = sh->dev[miss[0]].page;
	if (k == 1)
		memcpy(v[1], v[0], stripe_bytes(sh));
	else
		xor_gen(k + 1, stripe_bytes(sh), v);
}

/* read-modify-write: new parity = old parity + the change of each written
 * member, weighted by its Q coefficient. */
void rmw_parity(struct req *rq, struct stripe *sh)
{
	struct r5conf *c = rq->conf;
	size_t len = stripe_bytes(sh);
	void *src[2 * MAX_DISKS + 3];
	uint8_t coef[2][2 * MAX_DISKS + 2];
	int k = 0, parity = c->level == 6 ? 2 : 1;

	sh->pnew = req_alloc(rq, len);
	src[k] = sh->dev[sh->map.pd].page;
	coef[0][k] = 1, coef[1][k++] = 0;
	if (parity == 2) {
		src[k] = sh->dev[sh->map.qd].page;
		coef[0][k] = 0, coef[1][k++] = 1;
	}
	for (int i = 0; i < c->raid_disks; i++) {
		struct r5dev *dev = &sh->dev[i];
		if (dev->wa == dev->wb)
			continue;
		uint8_t g = c->gexp[sh->map.slot_of[i]];
		src[k] = dev->orig;
		coef[0][k] = 1, coef[1][k++] = g;
		src[k] = dev->page;
		coef[0][k] = 1, coef[1][k++] = g;
	}
	if (parity == 1) {
		src[k] = sh->pnew;
		xor_gen(k + 1, len, src);
		return;
	}
	sh->qnew = req_alloc(rq, len);
	uint8_t flat[2 * (2 * MAX_DISKS + 2)];
	memcpy(flat, coef[0], k);
	memcpy(flat + k, coef[1], k);
	unsigned char *tbls = g_malloc(32 * k * 2);
	void *dst[2] = { sh->pnew, sh->qnew };
	ec_init_tables(k, 2, flat, tbls);
	ec_encode_data(len, k, 2, tbls, (unsigned char **)src, (unsigned char **)dst);
	g_free(tbls);
}

/* The data member in syndrome slot z with g^z == r; -1 if none (ddf's empty
 * P and Q slots, or no slot at all). */
static int member_of_coef(struct r5conf *c, struct stripe *sh, uint8_t r)
{
	for (int i = 0; i < c->raid_disks; i++)
		if (is_data(sh, i) && c->gexp[sh->map.slot_of[i]] == r)
			return i;
	return -1;
}

/* mdadm raid6check's diagnosis of one page of a stripe whose P and Q were
 * recomputed from the data as read (dev.orig: P and Q as read).  One bad
 * data member in syndrome slot z leaves dP = P + P' = E and dQ = Q + Q' =
 * g^z * E at every byte; a bad P alone leaves dQ = 0, a bad Q alone dP = 0.
 * The member that explains every byte of [o, o + len) of the page, or -1;
 * scratch: 3 * len bytes, aligned.  A data member's page is put right. */
int raid6_bad_member(struct r5conf *c, struct stripe *sh, size_t o,
		     size_t len, char *scratch)
{
	int pd = sh->map.pd, qd = sh->map.qd;
	uint8_t *dp = (uint8_t *)scratch, *dq = dp + len, *e = dq + len;
	void *v[3] = { sh->dev[pd].orig + o, sh->dev[pd].page + o, dp };

	xor_gen(3, len, v);
	v[0] = sh->dev[qd].orig + o, v[1] = sh->dev[qd].page + o, v[2] = dq;
	xor_gen(3, len, v);
	bool p_ok = isal_zero_detect(dp, len) == 0;
	bool q_ok = isal_zero_detect(dq, len) == 0;
	if (p_ok != q_ok)
		return p_ok ? qd : pd;
	if (p_ok)
		return -1;                /* consistent: nothing to blame */
	size_t i = 0;
	while (!dp[i])
		i++;
	if (!dq[i])
		return -1;                /* P alone here, more elsewhere */
	uint8_t r = gf_mul(dq[i], gf_inv(dp[i]));
	int bad = member_of_coef(c, sh, r);
	unsigned char tbl[32];
	gf_vect_mul_init(r, tbl);
	if (bad < 0 || gf_vect_mul(len, tbl, dp, e) || memcmp(e, dq, len))
		return -1;
	/* The data as written: what was read plus the error P shows. */
	v[0] = sh->dev[bad].page + o, v[1] = dp, v[2] = e;
	xor_gen(3, len, v);
	memcpy(sh->dev[bad].page + o, e, len);
	return bad;
}

/*
 * pci-msi.c: MSI and MSI-X emulation for a PCI function. MSI state is
 * config space (message control, address, data, mask, pending); the
 * MSI-X table and PBA are arrays the PCI core traps inside the
 * function's BARs. Every change of a vector's effective message, enable
 * or mask state is reported once through ops->vector_changed, and
 * pending vectors are delivered through the bus's MSI sink on unmask.
 */
#include "devices/pci/pci-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/log.h"

static unsigned int log2u(unsigned int x)
{
	unsigned int n = 0;

	while (x > 1) {
		x >>= 1;
		n++;
	}
	return n;
}

/* --- MSI --- */

static unsigned int msi_len(const struct pci_msi_state *m)
{
	if (m->maskable)
		return m->is64 ? PCI_MSI_PENDING_64 + 4 : PCI_MSI_PENDING_32 + 4;
	return m->is64 ? PCI_MSI_DATA_64 + 2 : PCI_MSI_DATA_32 + 2;
}

static unsigned int msi_data_off(const struct pci_msi_state *m)
{
	return m->is64 ? PCI_MSI_DATA_64 : PCI_MSI_DATA_32;
}

static unsigned int msi_mask_off(const struct pci_msi_state *m)
{
	return m->is64 ? PCI_MSI_MASK_64 : PCI_MSI_MASK_32;
}

static uint16_t msi_ctrl(const struct pci_dev *dev)
{
	return pci_le_get(&dev->cfg[dev->msi.cap + PCI_MSI_FLAGS], 2);
}

/* Vectors the guest enabled: 2^MME, clamped to what the function has. */
static unsigned int msi_enabled_vectors(const struct pci_dev *dev)
{
	unsigned int mme = (msi_ctrl(dev) & PCI_MSI_FLAGS_QSIZE) >> 4;

	return MIN(1u << mme, dev->msi.nvec);
}

static void msi_state(const struct pci_dev *dev, unsigned int vec,
		      struct pci_msi_vector *v)
{
	const struct pci_msi_state *m = &dev->msi;
	unsigned int cap = m->cap, nen = msi_enabled_vectors(dev);
	uint32_t data = pci_le_get(&dev->cfg[cap + msi_data_off(m)], 2);

	memset(v, 0, sizeof(*v));
	v->kind = PCI_MSI_KIND_MSI;
	v->vec = vec;
	v->addr = pci_le_get(&dev->cfg[cap + PCI_MSI_ADDRESS_LO], 4);
	if (m->is64)
		v->addr |= (uint64_t)pci_le_get(
				   &dev->cfg[cap + PCI_MSI_ADDRESS_HI], 4) << 32;
	/*
	 * With N vectors enabled the function puts the vector number in
	 * data's low log2(N) bits. Vectors beyond N never fire: report the
	 * raw data so that MME changes do not look like message changes.
	 */
	v->data = vec < nen ? (data & ~(nen - 1)) | vec : data;
	v->enabled = (msi_ctrl(dev) & PCI_MSI_FLAGS_ENABLE) && vec < nen;
	v->masked = m->maskable &&
		    (pci_le_get(&dev->cfg[cap + msi_mask_off(m)], 4) >> vec) & 1;
}

static void msi_set_pending(struct pci_dev *dev, uint32_t pending)
{
	struct pci_msi_state *m = &dev->msi;

	m->pending = pending;
	if (m->maskable)
		pci_le_put(&dev->cfg[m->cap + msi_mask_off(m) + 4], 4, pending);
}

static bool vector_differs(const struct pci_msi_vector *a,
			   const struct pci_msi_vector *b)
{
	return a->addr != b->addr || a->data != b->data ||
	       a->enabled != b->enabled || a->masked != b->masked;
}

static void report(struct pci_dev *dev, struct pci_msi_vector *last,
		   const struct pci_msi_vector *now)
{
	if (!vector_differs(last, now))
		return;
	*last = *now;
	if (dev->ops && dev->ops->vector_changed)
		dev->ops->vector_changed(dev->opaque, now);
}

/* Called with dev->lock held. */
static void msi_update(struct pci_dev *dev)
{
	struct pci_msi_state *m = &dev->msi;
	unsigned int vec;

	for (vec = 0; vec < m->nvec; vec++) {
		struct pci_msi_vector v;

		msi_state(dev, vec, &v);
		report(dev, &m->reported[vec], &v);
		if (v.enabled && !v.masked && (m->pending >> vec) & 1) {
			msi_set_pending(dev, m->pending & ~(1u << vec));
			pci__msi_send(dev, v.addr, v.data);
		}
	}
}

int pci_dev__msi_init(struct pci_dev *dev, unsigned int off, unsigned int nvec,
		      unsigned int flags)
{
	struct pci_msi_state *m = &dev->msi;
	unsigned int cap = off, vec;
	uint32_t mask_bits;
	int ret = 0;

	if (!nvec || nvec > PCI_MSI_MAX_VECTORS || (nvec & (nvec - 1)) ||
	    (flags & ~(PCI_MSI_F_64BIT | PCI_MSI_F_MASKABLE)))
		return -EINVAL;
	pthread_mutex_lock(&dev->lock);
	if (m->cap || dev->bus) {
		pthread_mutex_unlock(&dev->lock);
		return m->cap ? -EEXIST : -EBUSY;
	}
	m->is64 = flags & PCI_MSI_F_64BIT;
	m->maskable = flags & PCI_MSI_F_MASKABLE;
	m->nvec = nvec;
	if (!cap) {
		ret = pci_dev__add_cap(dev, PCI_CAP_ID_MSI, msi_len(m), &cap);
		if (ret)
			goto out;
	} else if (cap < PCI_STD_HEADER_END || (cap & 3) ||
		   cap + msi_len(m) > PCI_CFG_SIZE ||
		   dev->cfg[cap] != PCI_CAP_ID_MSI) {
		ret = -EINVAL;
		goto out;
	}
	memset(&dev->cfg[cap + 2], 0, msi_len(m) - 2);
	memset(&dev->wmask[cap], 0, msi_len(m));
	memset(&dev->w1cmask[cap], 0, msi_len(m));
	memset(&dev->pt[cap], 0, msi_len(m));
	pci_le_put(&dev->cfg[cap + PCI_MSI_FLAGS], 2,
		   (log2u(nvec) << 1) | (m->is64 ? PCI_MSI_FLAGS_64BIT : 0) |
			   (m->maskable ? PCI_MSI_FLAGS_MASKBIT : 0));
	pci_le_put(&dev->wmask[cap + PCI_MSI_FLAGS], 2,
		   PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE);
	/* Message address is dword aligned: bits 1:0 read as zero. */
	pci_le_put(&dev->wmask[cap + PCI_MSI_ADDRESS_LO], 4, 0xfffffffc);
	if (m->is64)
		pci_le_put(&dev->wmask[cap + PCI_MSI_ADDRESS_HI], 4, 0xffffffff);
	pci_le_put(&dev->wmask[cap + msi_data_off(m)], 2, 0xffff);
	if (m->maskable) {
		mask_bits = nvec == 32 ? 0xffffffffu : (1u << nvec) - 1;
		pci_le_put(&dev->wmask[cap + msi_mask_off(m)], 4, mask_bits);
	}
	m->cap = cap;
	m->pending = 0;
	for (vec = 0; vec < nvec; vec++)
		msi_state(dev, vec, &m->reported[vec]);
out:
	if (ret)
		memset(m, 0, sizeof(*m));
	pthread_mutex_unlock(&dev->lock);
	return ret;
}

int pci_dev__msi_notify(struct pci_dev *dev, unsigned int vec)
{
	struct pci_msi_vector v;
	int ret = 0;

	pthread_mutex_lock(&dev->lock);
	if (!dev->msi.cap || vec >= dev->msi.nvec) {
		ret = -EINVAL;
		goto out;
	}
	msi_state(dev, vec, &v);
	if (!v.enabled)
		ret = -EAGAIN;
	else if (v.masked)
		msi_set_pending(dev, dev->msi.pending | (1u << vec));
	else
		ret = pci__msi_send(dev, v.addr, v.data);
out:
	pthread_mutex_unlock(&dev->lock);
	return ret;
}

int pci_dev__msi_vector(struct pci_dev *dev, unsigned int vec,
			struct pci_msi_vector *out)
{
	int ret = -EINVAL;

	pthread_mutex_lock(&dev->lock);
	if (dev->msi.cap && vec < dev->msi.nvec) {
		msi_state(dev, vec, out);
		ret = 0;
	}
	pthread_mutex_unlock(&dev->lock);
	return ret;
}

bool pci_dev__msi_pending(struct pci_dev *dev, unsigned int vec)
{
	bool p;

	pthread_mutex_lock(&dev->lock);
	p = dev->msi.cap && vec < dev->msi.nvec && (dev->msi.pending >> vec) & 1;
	pthread_mutex_unlock(&dev->lock);
	return p;
}

bool pci_dev__msi_enabled(struct pci_dev *dev)
{
	bool en;

	pthread_mutex_lock(&dev->lock);
	en = dev->msi.cap && (msi_ctrl(dev) & PCI_MSI_FLAGS_ENABLE);
	pthread_mutex_unlock(&dev->lock);
	return en;
}

/* --- MSI-X --- */

static uint16_t msix_ctrl(const struct pci_dev *dev)
{
	return pci_le_get(&dev->cfg[dev->msix.cap + PCI_MSIX_FLAGS], 2);
}

static uint64_t pba_len(unsigned int nvec)
{
	return (uint64_t)(nvec + 63) / 64 * 8;
}

static void msix_state(const struct pci_dev *dev, unsigned int vec,
		       struct pci_msi_vector *v)
{
	const uint8_t *e = &dev->msix.table[vec * PCI_MSIX_ENTRY_SIZE];
	uint16_t ctrl = msix_ctrl(dev);

	memset(v, 0, sizeof(*v));
	v->kind = PCI_MSI_KIND_MSIX;
	v->vec = vec;
	v->addr = pci_le_get(e + PCI_MSIX_ENTRY_ADDR_LO, 4) |
		  (uint64_t)pci_le_get(e + PCI_MSIX_ENTRY_ADDR_HI, 4) << 32;
	v->data = pci_le_get(e + PCI_MSIX_ENTRY_DATA, 4);
	v->enabled = ctrl & PCI_MSIX_FLAGS_ENABLE;
	v->masked = (ctrl & PCI_MSIX_FLAGS_MASKALL) ||
		    (e[PCI_MSIX_ENTRY_CTRL] & PCI_MSIX_ENTRY_CTRL_MASKBIT);
}

static bool msix_pending(const struct pci_dev *dev, unsigned int vec)
{
	return (dev->msix.pba[vec / 64] >> (vec % 64)) & 1;
}

/* Report and deliver for vectors [first, first+n). dev->lock held. */
static void msix_update(struct pci_dev *dev, unsigned int first, unsigned int n)
{
	struct pci_msix_state *m = &dev->msix;
	unsigned int vec;

	for (vec = first; vec < first + n && vec < m->nvec; vec++) {
		struct pci_msi_vector v;

		msix_state(dev, vec, &v);
		report(dev, &m->reported[vec], &v);
		if (v.enabled && !v.masked && msix_pending(dev, vec)) {
			m->pba[vec / 64] &= ~(1ULL << (vec % 64));
			pci__msi_send(dev, v.addr, v.data);
		}
	}
}

static void msix_reset_table(struct pci_msix_state *m)
{
	unsigned int vec;

	memset(m->table, 0, (size_t)m->nvec * PCI_MSIX_ENTRY_SIZE);
	for (vec = 0; vec < m->nvec; vec++)
		m->table[vec * PCI_MSIX_ENTRY_SIZE + PCI_MSIX_ENTRY_CTRL] =
			PCI_MSIX_ENTRY_CTRL_MASKBIT;
	memset(m->pba, 0, pba_len(m->nvec));
}

static bool mem_bar_fits(struct pci_dev *dev, unsigned int bar, uint64_t off,
			 uint64_t len)
{
	const struct pci_bar *b = &dev->bars[bar];

	return bar < PCI_BAR_COUNT && b->size && !(b->flags & PCI_BAR_F_IO) &&
	       !(off & 7) && off <= b->size && len <= b->size - off;
}

int pci_dev__msix_init(struct pci_dev *dev, unsigned int off, unsigned int nvec,
		       unsigned int table_bar, uint32_t table_off,
		       unsigned int pba_bar, uint32_t pba_off)
{
	struct pci_msix_state *m = &dev->msix;
	uint64_t tlen = (uint64_t)nvec * PCI_MSIX_ENTRY_SIZE;
	unsigned int cap = off, vec;
	int ret;

	if (!nvec || nvec > PCI_MSIX_MAX_VECTORS || table_bar >= PCI_BAR_COUNT ||
	    pba_bar >= PCI_BAR_COUNT)
		return -EINVAL;
	pthread_mutex_lock(&dev->lock);
	if (m->cap || dev->bus) {
		ret = m->cap ? -EEXIST : -EBUSY;
		goto out_unlock;
	}
	if (!mem_bar_fits(dev, table_bar, table_off, tlen) ||
	    !mem_bar_fits(dev, pba_bar, pba_off, pba_len(nvec)) ||
	    (table_bar == pba_bar && pba_off < table_off + tlen &&
	     table_off < pba_off + pba_len(nvec))) {
		ret = -EINVAL;
		goto out_unlock;
	}
	if (cap && (cap < PCI_STD_HEADER_END || (cap & 3) ||
		    cap + PCI_MSIX_CAP_SIZE > PCI_CFG_SIZE ||
		    dev->cfg[cap] != PCI_CAP_ID_MSIX)) {
		ret = -EINVAL;
		goto out_unlock;
	}
	m->table = calloc(nvec, PCI_MSIX_ENTRY_SIZE);
	m->pba = calloc(1, pba_len(nvec));
	m->reported = calloc(nvec, sizeof(*m->reported));
	if (!m->table || !m->pba || !m->reported) {
		ret = -ENOMEM;
		goto err_free;
	}
	if (!cap) {
		ret = pci_dev__add_cap(dev, PCI_CAP_ID_MSIX, PCI_MSIX_CAP_SIZE,
				       &cap);
		if (ret)
			goto err_free;
	}
	memset(&dev->wmask[cap], 0, PCI_MSIX_CAP_SIZE);
	memset(&dev->w1cmask[cap], 0, PCI_MSIX_CAP_SIZE);
	memset(&dev->pt[cap], 0, PCI_MSIX_CAP_SIZE);
	pci_le_put(&dev->cfg[cap + PCI_MSIX_FLAGS], 2, nvec - 1);
	pci_le_put(&dev->wmask[cap + PCI_MSIX_FLAGS], 2,
		   PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	pci_le_put(&dev->cfg[cap + PCI_MSIX_TABLE], 4, table_off | table_bar);
	pci_le_put(&dev->cfg[cap + PCI_MSIX_PBA], 4, pba_off | pba_bar);
	m->cap = cap;
	m->nvec = nvec;
	m->table_bar = table_bar;
	m->table_off = table_off;
	m->pba_bar = pba_bar;
	m->pba_off = pba_off;
	msix_reset_table(m);
	for (vec = 0; vec < nvec; vec++)
		msix_state(dev, vec, &m->reported[vec]);
	pthread_mutex_unlock(&dev->lock);
	return 0;

err_free:
	free(m->table);
	free(m->pba);
	free(m->reported);
	memset(m, 0, sizeof(*m));
out_unlock:
	pthread_mutex_unlock(&dev->lock);
	return ret;
}

int pci_dev__msix_notify(struct pci_dev *dev, unsigned int vec)
{
	struct pci_msi_vector v;
	int ret = 0;

	pthread_mutex_lock(&dev->lock);
	if (!dev->msix.cap || vec >= dev->msix.nvec) {
		ret = -EINVAL;
		goto out;
	}
	msix_state(dev, vec, &v);
	if (!v.enabled)
		ret = -EAGAIN;
	else if (v.masked)
		dev->msix.pba[vec / 64] |= 1ULL << (vec % 64);
	else
		ret = pci__msi_send(dev, v.addr, v.data);
out:
	pthread_mutex_unlock(&dev->lock);
	return ret;
}

int pci_dev__msix_vector(struct pci_dev *dev, unsigned int vec,
			 struct pci_msi_vector *out)
{
	int ret = -EINVAL;

	pthread_mutex_lock(&dev->lock);
	if (dev->msix.cap && vec < dev->msix.nvec) {
		msix_state(dev, vec, out);
		ret = 0;
	}
	pthread_mutex_unlock(&dev->lock);
	return ret;
}

bool pci_dev__msix_pending(struct pci_dev *dev, unsigned int vec)
{
	bool p;

	pthread_mutex_lock(&dev->lock);
	p = dev->msix.cap && vec < dev->msix.nvec && msix_pending(dev, vec);
	pthread_mutex_unlock(&dev->lock);
	return p;
}

bool pci_dev__msix_enabled(struct pci_dev *dev)
{
	bool en;

	pthread_mutex_lock(&dev->lock);
	en = dev->msix.cap && (msix_ctrl(dev) & PCI_MSIX_FLAGS_ENABLE);
	pthread_mutex_unlock(&dev->lock);
	return en;
}

/* Guest-writable bits of each byte of a table entry. */
static uint8_t entry_wmask(unsigned int byte)
{
	if (byte == PCI_MSIX_ENTRY_ADDR_LO)
		return 0xfc; /* dword-aligned message address */
	if (byte < PCI_MSIX_ENTRY_CTRL)
		return 0xff;
	/* Vector control: only the mask bit; the rest is reserved. */
	return byte == PCI_MSIX_ENTRY_CTRL ? PCI_MSIX_ENTRY_CTRL_MASKBIT : 0;
}

bool pci_msi__bar_access(struct pci_dev *dev, unsigned int bar,
			 uint64_t offset, void *data, uint32_t len,
			 bool is_write)
{
	struct pci_msix_state *m = &dev->msix;
	uint64_t tlen, plen, i;
	uint8_t *buf = data;
	bool in_table, in_pba;
	unsigned int first = ~0u, last = 0;

	/* cap, bars and offsets are fixed once the device is registered. */
	if (!m->cap)
		return false;
	tlen = (uint64_t)m->nvec * PCI_MSIX_ENTRY_SIZE;
	plen = pba_len(m->nvec);
	in_table = bar == m->table_bar && offset >= m->table_off &&
		   offset - m->table_off < tlen;
	in_pba = bar == m->pba_bar && offset >= m->pba_off &&
		 offset - m->pba_off < plen;
	if (!in_table && !in_pba)
		return false;

	pthread_mutex_lock(&dev->lock);
	for (i = 0; i < len; i++) {
		uint64_t o = offset + i;

		if (bar == m->table_bar && o >= m->table_off &&
		    o - m->table_off < tlen) {
			uint64_t t = o - m->table_off;
			uint8_t wm = entry_wmask(t % PCI_MSIX_ENTRY_SIZE);

			if (!is_write) {
				buf[i] = m->table[t];
				continue;
			}
			m->table[t] = (m->table[t] & ~wm) | (buf[i] & wm);
			first = MIN(first, (unsigned int)(t / PCI_MSIX_ENTRY_SIZE));
			last = MAX(last, (unsigned int)(t / PCI_MSIX_ENTRY_SIZE));
		} else if (bar == m->pba_bar && o >= m->pba_off &&
			   o - m->pba_off < plen) {
			/* The PBA is read-only; writes are ignored. */
			if (!is_write)
				buf[i] = (uint8_t)(m->pba[(o - m->pba_off) / 8] >>
						   (8 * ((o - m->pba_off) % 8)));
		} else if (!is_write) {
			/* Straddles the end of the table or PBA. */
			buf[i] = 0xff;
		}
	}
	if (is_write && first != ~0u)
		msix_update(dev, first, last - first + 1);
	pthread_mutex_unlock(&dev->lock);
	return true;
}

/* --- shared --- */

void pci_msi__cfg_written(struct pci_dev *dev, unsigned int off,
			  unsigned int len)
{
	bool hit = false;

	if (dev->msi.cap && off < dev->msi.cap + msi_len(&dev->msi) &&
	    dev->msi.cap < off + len) {
		msi_update(dev);
		hit = true;
	}
	if (dev->msix.cap && off < dev->msix.cap + PCI_MSIX_CAP_SIZE &&
	    dev->msix.cap < off + len) {
		msix_update(dev, 0, dev->msix.nvec);
		hit = true;
	}
	if (hit)
		pci_dev__intx_refresh(dev);
}

void pci_msi__reset(struct pci_dev *dev)
{
	if (dev->msi.cap) {
		msi_set_pending(dev, 0);
		msi_update(dev);
	}
	if (dev->msix.cap) {
		msix_reset_table(&dev->msix);
		msix_update(dev, 0, dev->msix.nvec);
	}
}

void pci_msi__destroy(struct pci_dev *dev)
{
	free(dev->msix.table);
	free(dev->msix.pba);
	free(dev->msix.reported);
	dev->msix.table = NULL;
	dev->msix.pba = NULL;
	dev->msix.reported = NULL;
	dev->msix.cap = 0;
}

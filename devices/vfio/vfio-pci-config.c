/*
 * vfio-pci-config.c: the config space of a VFIO PCI function. The
 * device's config region (VFIO_PCI_CONFIG_REGION_INDEX) is read once and
 * becomes an emulated pci_dev: the header (identity, command, status,
 * BARs sized from regions 0..5, expansion ROM absent, interrupt pin) is
 * ferry's; the standard capability list is mirrored at the device's
 * offsets with its ID/next bytes emulated, MSI and MSI-X taken over by the
 * PCI core, and every other byte from 0x40 up passed through to the
 * device (cfg_read/cfg_write). The emulated command register is forwarded
 * to the device on every write, so it sees decode and bus master.
 */
#include <errno.h>
#include <string.h>

#include <linux/vfio.h>

#include "devices/pci/pci-dev.h"
#include "devices/pci/pci-msi.h"
#include "devices/pci/pci-regs.h"
#include "devices/vfio/vfio-pci-internal.h"
#include "vmm/log.h"

/* A guest walks at most this many capabilities; so do we (loop guard). */
#define CAP_WALK_MAX 48
/* Smallest and largest I/O BAR the PCI core accepts (pci-dev.h). */
#define IO_BAR_MIN 4u
#define IO_BAR_MAX 256u
/* Smallest memory BAR (PCI spec: 16 bytes) and largest 32-bit one. */
#define MEM_BAR_MIN 16ULL
#define MEM32_BAR_MAX (2ULL << 30)
/* MSI-X table entries are 16 bytes; PBA bits are kept in u64 words. */
#define MSIX_PBA_LEN(n) ((((n) + 63u) / 64u) * 8u)

static uint32_t le_get(const uint8_t *p, unsigned int len)
{
	uint32_t v = 0;

	while (len--)
		v = (v << 8) | p[len];
	return v;
}

static uint64_t pow2_roundup(uint64_t x)
{
	uint64_t p = 1;

	while (p < x && p)
		p <<= 1;
	return p;
}

/* Declare BAR @i from region info and the device's BAR register flags. */
static int setup_bar(struct vfio_pci *vp, const uint8_t *cfg, unsigned int i,
		     unsigned int *next)
{
	struct vfio_region_desc rd;
	uint32_t reg = le_get(&cfg[PCI_BAR0 + 4 * i], 4);
	struct vfio_pci_bar *b = &vp->bars[i];
	unsigned int flags = 0;
	uint64_t size;
	int ret;

	*next = i + 1;
	ret = vp->be->ops->get_region_info(vp->be, i, &rd);
	if (ret == -EINVAL)
		return 0; /* the device lacks the region: no BAR */
	if (ret)
		return vfio_pci__backend_error(vp, "region info", ret);
	if (!rd.size)
		return 0;
	if (reg & PCI_BAR_SPACE_IO) {
		flags = PCI_BAR_F_IO;
		size = MAX(pow2_roundup(rd.size), (uint64_t)IO_BAR_MIN);
		if (size > IO_BAR_MAX) {
			log_err("%s: I/O BAR%u of %llu bytes is too large",
				vp->dev.id, i, (unsigned long long)rd.size);
			return -ENOTSUP;
		}
	} else {
		if (((reg >> 1) & 3) == 2) {
			if (i == VFIO_PCI_NR_BARS - 1) {
				log_err("%s: BAR5 claims to be 64-bit",
					vp->dev.id);
				return -EINVAL;
			}
			flags |= PCI_BAR_F_MEM64;
			*next = i + 2;
		}
		if (reg & PCI_BAR_MEM_PREFETCH)
			flags |= PCI_BAR_F_PREFETCH;
		size = MAX(pow2_roundup(rd.size), MEM_BAR_MIN);
		if (!size || (!(flags & PCI_BAR_F_MEM64) && size > MEM32_BAR_MAX)) {
			log_err("%s: BAR%u of %llu bytes does not fit its type",
				vp->dev.id, i, (unsigned long long)rd.size);
			return -ENOTSUP;
		}
	}
	if (!(rd.flags & VFIO_REGION_INFO_FLAG_READ) ||
	    !(rd.flags & VFIO_REGION_INFO_FLAG_WRITE))
		log_warn("%s: BAR%u region is not read/write (flags 0x%x)",
			 vp->dev.id, i, rd.flags);
	ret = pci_dev__set_bar(vp->pdev, i, size, flags);
	if (ret) {
		log_err("%s: cannot declare BAR%u (%llu bytes): %s", vp->dev.id,
			i, (unsigned long long)size, strerror(-ret));
		return ret;
	}
	b->region_size = rd.size;
	b->size = size;
	b->flags = flags;
	return 0;
}

/* Remove the capability at @off from the emulated list (@prev: 0 = head). */
static int unlink_cap(struct vfio_pci *vp, unsigned int prev, unsigned int off)
{
	uint8_t next = pci_dev__cfg_get(vp->pdev, off + PCI_CAP_NEXT, 1);

	return pci_dev__cfg_load(vp->pdev,
				 prev ? prev + PCI_CAP_NEXT : PCI_CAPABILITY_LIST,
				 &next, 1);
}

static int setup_msix(struct vfio_pci *vp, const uint8_t *cfg,
		      unsigned int off, unsigned int *nvec_out)
{
	uint16_t ctrl = le_get(&cfg[off + PCI_MSIX_FLAGS], 2);
	uint32_t table = le_get(&cfg[off + PCI_MSIX_TABLE], 4);
	uint32_t pba = le_get(&cfg[off + PCI_MSIX_PBA], 4);
	unsigned int nvec = (ctrl & PCI_MSIX_FLAGS_QSIZE) + 1;
	unsigned int tbir = table & PCI_MSIX_BIR_MASK;
	unsigned int pbir = pba & PCI_MSIX_BIR_MASK;
	uint32_t toff = table & ~PCI_MSIX_BIR_MASK;
	uint32_t poff = pba & ~PCI_MSIX_BIR_MASK;
	struct vfio_pci_bar *b;
	int ret;

	ret = pci_dev__msix_init(vp->pdev, off, nvec, tbir, toff, pbir, poff);
	if (ret) {
		log_err("%s: MSI-X capability at 0x%x (%u vectors, table BAR%u+0x%x, PBA BAR%u+0x%x) is unusable: %s",
			vp->dev.id, off, nvec, tbir, toff, pbir, poff,
			strerror(-ret));
		return ret;
	}
	b = &vp->bars[tbir];
	b->holes[b->nr_holes++] = (struct vfio_pci_hole){
		toff, (uint64_t)nvec * PCI_MSIX_ENTRY_SIZE };
	b = &vp->bars[pbir];
	b->holes[b->nr_holes++] =
		(struct vfio_pci_hole){ poff, MSIX_PBA_LEN(nvec) };
	*nvec_out = nvec;
	return 0;
}

static int setup_msi(struct vfio_pci *vp, const uint8_t *cfg, unsigned int off,
		     unsigned int *nvec_out)
{
	uint16_t ctrl = le_get(&cfg[off + PCI_MSI_FLAGS], 2);
	unsigned int mmc = (ctrl & PCI_MSI_FLAGS_QMASK) >> 1;
	unsigned int nvec = 1u << MIN(mmc, 5u); /* 32 vectors at most */
	unsigned int flags = 0;
	int ret;

	if (ctrl & PCI_MSI_FLAGS_64BIT)
		flags |= PCI_MSI_F_64BIT;
	if (ctrl & PCI_MSI_FLAGS_MASKBIT)
		flags |= PCI_MSI_F_MASKABLE;
	ret = pci_dev__msi_init(vp->pdev, off, nvec, flags);
	if (ret) {
		log_err("%s: MSI capability at 0x%x is unusable: %s",
			vp->dev.id, off, strerror(-ret));
		return ret;
	}
	*nvec_out = nvec;
	return 0;
}

/* Vectors the device backs for IRQ index @index (0 when it has none). */
static unsigned int irq_count(struct vfio_pci *vp, uint32_t index)
{
	struct vfio_irq_desc d;

	if (vp->be->ops->get_irq_info(vp->be, index, &d))
		return 0;
	return (d.flags & VFIO_IRQ_INFO_EVENTFD) ? d.count : 0;
}

/*
 * Mirror the standard capability list. Bodies are passed through; the
 * list structure (ID and next bytes) is emulated so that capabilities
 * ferry cannot back (MSI or MSI-X without device vectors, a second MSI
 * or MSI-X) can be unlinked.
 */
static int setup_caps(struct vfio_pci *vp, const uint8_t *cfg)
{
	unsigned int off, prev = 0, n, msi_nvec = 0, msix_nvec = 0;
	uint8_t st, head;
	int ret;

	ret = pci_dev__cfg_load(vp->pdev, PCI_STD_HEADER_END,
				&cfg[PCI_STD_HEADER_END],
				vp->cfg_size - PCI_STD_HEADER_END);
	if (!ret)
		ret = pci_dev__cfg_passthrough(vp->pdev, PCI_STD_HEADER_END,
					       vp->cfg_size - PCI_STD_HEADER_END,
					       true);
	if (ret || !(le_get(&cfg[PCI_STATUS], 2) & PCI_STATUS_CAP_LIST))
		return ret;
	head = cfg[PCI_CAPABILITY_LIST] & ~3u;
	st = pci_dev__cfg_get(vp->pdev, PCI_STATUS, 1) | PCI_STATUS_CAP_LIST;
	ret = pci_dev__cfg_load(vp->pdev, PCI_CAPABILITY_LIST, &head, 1);
	if (!ret)
		ret = pci_dev__cfg_load(vp->pdev, PCI_STATUS, &st, 1);
	for (off = head, n = 0; !ret && off >= PCI_STD_HEADER_END &&
				off <= PCI_CFG_SIZE - 4 && n < CAP_WALK_MAX;
	     n++) {
		uint8_t id = cfg[off], next = cfg[off + PCI_CAP_NEXT] & ~3u;
		bool drop = false;

		/* Keep the list ferry's: ID and next read from the emulation. */
		ret = pci_dev__cfg_load(vp->pdev, off + PCI_CAP_NEXT, &next, 1);
		if (!ret)
			ret = pci_dev__cfg_passthrough(vp->pdev, off, 2, false);
		if (ret)
			break;
		if (id == PCI_CAP_ID_MSIX) {
			drop = msix_nvec ||
			       !irq_count(vp, VFIO_PCI_MSIX_IRQ_INDEX);
			if (!drop)
				ret = setup_msix(vp, cfg, off, &msix_nvec);
		} else if (id == PCI_CAP_ID_MSI) {
			drop = msi_nvec || !irq_count(vp, VFIO_PCI_MSI_IRQ_INDEX);
			if (!drop)
				ret = setup_msi(vp, cfg, off, &msi_nvec);
		}
		if (drop) {
			log_info("%s: hiding capability 0x%02x at 0x%x (no device vectors behind it)",
				 vp->dev.id, id, off);
			ret = unlink_cap(vp, prev, off);
		} else {
			prev = off;
		}
		if (!ret && next && next <= off) {
			/* A list that loops or goes backwards ends here. */
			unsigned int at = !drop ? off + PCI_CAP_NEXT
				: prev ? prev + PCI_CAP_NEXT : PCI_CAPABILITY_LIST;

			ret = pci_dev__cfg_load(vp->pdev, at, &(uint8_t){ 0 }, 1);
			break;
		}
		off = next;
	}
	if (ret)
		return ret;
	return vfio_pci__irqs_init(vp, msi_nvec, msix_nvec);
}

int vfio_pci__build_config(struct vfio_pci *vp, const struct pci_dev_ops *ops)
{
	uint8_t cfg[VFIO_PCI_CFG_MAX];
	struct vfio_region_desc rd;
	struct pci_dev_ident ident;
	unsigned int i, next;
	uint16_t cmd = 0;
	int ret;

	ret = vp->be->ops->get_region_info(vp->be, VFIO_PCI_CONFIG_REGION_INDEX,
					   &rd);
	if (ret)
		return vfio_pci__backend_error(vp, "config region info", ret);
	if (rd.size < PCI_CFG_SIZE) {
		log_err("%s: config region of %llu bytes; need at least %u",
			vp->dev.id, (unsigned long long)rd.size, PCI_CFG_SIZE);
		return -EINVAL;
	}
	vp->cfg_size = MIN(rd.size, (uint64_t)VFIO_PCI_CFG_MAX);
	memset(cfg, 0, sizeof(cfg));
	ret = vp->be->ops->region_read(vp->be, VFIO_PCI_CONFIG_REGION_INDEX, 0,
				       cfg, vp->cfg_size);
	if (ret)
		return vfio_pci__backend_error(vp, "config read", ret);
	/* Bit 7 is the multi-function flag, bits 6:0 the layout. */
	if ((cfg[PCI_HEADER_TYPE] & 0x7f) != PCI_HEADER_TYPE_NORMAL) {
		log_err("%s: header type 0x%02x: only type 0 functions can be passed through",
			vp->dev.id, cfg[PCI_HEADER_TYPE]);
		return -ENOTSUP;
	}
	ret = vfio_pci__intx_init(vp, cfg[PCI_INTERRUPT_PIN]);
	if (ret)
		return ret;
	ident = (struct pci_dev_ident){
		.vendor_id = le_get(&cfg[PCI_VENDOR_ID], 2),
		.device_id = le_get(&cfg[PCI_DEVICE_ID], 2),
		.class_code = le_get(&cfg[PCI_CLASS_PROG], 3),
		.revision = cfg[PCI_REVISION_ID],
		.subsys_vendor_id = le_get(&cfg[PCI_SUBSYSTEM_VENDOR_ID], 2),
		.subsys_id = le_get(&cfg[PCI_SUBSYSTEM_ID], 2),
		.intx_pin = vp->intx.pin, /* 0 unless the device backs it */
	};
	ret = pci_dev__create(vp->dev.id, &ident, ops, vp, &vp->pdev);
	if (ret) {
		log_err("%s: bad PCI identity %04x:%04x: %s", vp->dev.id,
			ident.vendor_id, ident.device_id, strerror(-ret));
		return ret;
	}
	for (i = 0; i < VFIO_PCI_NR_BARS; i = next) {
		ret = setup_bar(vp, cfg, i, &next);
		if (ret)
			return ret;
	}
	ret = setup_caps(vp, cfg);
	if (ret)
		return ret;
	/* Power-on state to match the emulation: no decode, no DMA. */
	ret = vp->be->ops->region_write(vp->be, VFIO_PCI_CONFIG_REGION_INDEX,
					PCI_COMMAND, &cmd, sizeof(cmd));
	if (ret)
		return vfio_pci__backend_error(vp, "command write", ret);
	log_info("%s: %04x:%04x class %06x, config %u bytes", vp->dev.id,
		 ident.vendor_id, ident.device_id, ident.class_code,
		 vp->cfg_size);
	return 0;
}

uint32_t vfio_pci__cfg_read(void *opaque, unsigned int off, unsigned int len)
{
	struct vfio_pci *vp = opaque;
	uint8_t buf[4];
	int ret;

	if (vfio_pci__failed(vp) || len > sizeof(buf) || off + len > vp->cfg_size)
		return 0xffffffffu;
	ret = vp->be->ops->region_read(vp->be, VFIO_PCI_CONFIG_REGION_INDEX,
				       off, buf, len);
	if (ret) {
		vfio_pci__backend_error(vp, "config read", ret);
		return 0xffffffffu;
	}
	return le_get(buf, len);
}

/* Forward bytes [off+from, off+to) of @val to the device. */
static void cfg_forward(struct vfio_pci *vp, unsigned int off, uint32_t val,
			unsigned int from, unsigned int to)
{
	uint8_t buf[4];
	unsigned int i;
	int ret;

	if (off + to > vp->cfg_size)
		return;
	for (i = from; i < to; i++)
		buf[i - from] = val >> (8 * i);
	ret = vp->be->ops->region_write(vp->be, VFIO_PCI_CONFIG_REGION_INDEX,
					off + from, buf, to - from);
	if (ret)
		vfio_pci__backend_error(vp, "config write", ret);
}

void vfio_pci__cfg_write(void *opaque, unsigned int off, unsigned int len,
			 uint32_t val, uint32_t pt_mask)
{
	struct vfio_pci *vp = opaque;
	unsigned int i, start;

	if (vfio_pci__failed(vp))
		return;
	/* Pass-through lanes, in contiguous runs. */
	for (i = 0; i < len;) {
		if (!((pt_mask >> (8 * i)) & 0xff)) {
			i++;
			continue;
		}
		for (start = i; i < len && ((pt_mask >> (8 * i)) & 0xff); i++)
			;
		cfg_forward(vp, off, val, start, i);
	}
	/* The command register is emulated; the device follows it. */
	if (off < PCI_COMMAND + 2 && PCI_COMMAND < off + len)
		cfg_forward(vp, PCI_COMMAND,
			    pci_dev__cfg_get(vp->pdev, PCI_COMMAND, 2), 0, 2);
}

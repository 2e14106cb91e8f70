/*
 * vfio-compat.h: VFIO uAPI facts newer than the Linux 6.1 headers ferry
 * builds against. Include it after <linux/vfio.h>. Every block is guarded
 * by a macro that arrived in the same kernel release, so a newer
 * <linux/vfio.h> wins and nothing is defined twice. Values and layouts are
 * the kernel's (include/uapi/linux/vfio.h); only the state-name helper
 * at the end is ferry's own.
 */
#ifndef VMM_COMPAT_VFIO_COMPAT_H
#define VMM_COMPAT_VFIO_COMPAT_H

#include <linux/types.h>
#include <linux/vfio.h>
#include <stdint.h>

/*
 * Linux 6.2: PRE_COPY support. The device states are enum values in the
 * kernel header (so #ifdef cannot see them); VFIO_MIGRATION_PRE_COPY was
 * added in the same patch and guards the whole block.
 */
#ifndef VFIO_MIGRATION_PRE_COPY
#define VFIO_MIGRATION_PRE_COPY (1 << 2)
#define VFIO_DEVICE_STATE_PRE_COPY 6
#define VFIO_DEVICE_STATE_PRE_COPY_P2P 7

/* ioctl on the migration data_fd, PRE_COPY states only. */
struct vfio_precopy_info {
	__u32 argsz;
	__u32 flags;
	__aligned_u64 initial_bytes;
	__aligned_u64 dirty_bytes;
};
#define VFIO_MIG_GET_PRECOPY_INFO _IO(VFIO_TYPE, VFIO_BASE + 21)
#endif

/* Number of migration states (enum vfio_device_mig_state's _NR). */
#define VFIO_COMPAT_DEVICE_STATE_NR 8

/* Linux 6.2: estimated stop-copy size, GET on any state. */
#ifndef VFIO_DEVICE_FEATURE_MIG_DATA_SIZE
#define VFIO_DEVICE_FEATURE_MIG_DATA_SIZE 9
struct vfio_device_feature_mig_data_size {
	__aligned_u64 stop_copy_length;
};
#endif

/* 2026 (PRE_COPY initial-bytes re-initialisation), opt-in SET, no data. */
#ifndef VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2
#define VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2 12
#endif
#ifndef VFIO_PRECOPY_INFO_REINIT
#define VFIO_PRECOPY_INFO_REINIT (1 << 0)
#endif

/*
 * Linux 6.6: a VFIO device cdev (/dev/vfio/devices/vfioN) bound to an
 * iommufd and attached to an IOAS or HW page table. Later kernels append
 * fields (a VF token pointer, a PASID) behind flags, so users size argsz
 * up to the last field they fill, not with sizeof.
 */
#ifndef VFIO_DEVICE_BIND_IOMMUFD
struct vfio_device_bind_iommufd {
	__u32 argsz;
	__u32 flags;
	__s32 iommufd;
	__u32 out_devid;
};
#define VFIO_DEVICE_BIND_IOMMUFD _IO(VFIO_TYPE, VFIO_BASE + 18)

struct vfio_device_attach_iommufd_pt {
	__u32 argsz;
	__u32 flags;
	__u32 pt_id; /* in: IOAS or HWPT id; out: the attached HWPT */
};
#define VFIO_DEVICE_ATTACH_IOMMUFD_PT _IO(VFIO_TYPE, VFIO_BASE + 19)

struct vfio_device_detach_iommufd_pt {
	__u32 argsz;
	__u32 flags;
};
#define VFIO_DEVICE_DETACH_IOMMUFD_PT _IO(VFIO_TYPE, VFIO_BASE + 20)
#endif

/*
 * Name of a VFIO migration FSM state (enum vfio_device_mig_state, with
 * the PRE_COPY states above) for logs; "UNKNOWN" for other values. One
 * table for the vfio-user protocol code, ferry-testdev and migration/.
 */
static inline const char *vfio_compat__state_name(uint32_t state)
{
	switch (state) {
	case 0: return "ERROR";
	case 1: return "STOP";
	case 2: return "RUNNING";
	case 3: return "STOP_COPY";
	case 4: return "RESUMING";
	case 5: return "RUNNING_P2P";
	case 6: return "PRE_COPY";
	case 7: return "PRE_COPY_P2P";
	default: return "UNKNOWN";
	}
}

#endif /* VMM_COMPAT_VFIO_COMPAT_H */

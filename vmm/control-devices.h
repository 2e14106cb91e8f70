/*
 * control-devices.h: the device list of `GET /vm`, gathered on the VMM
 * thread into plain data (devices/device-info.h) that the API thread
 * serialises (vmm/api-devices.h).
 */
#ifndef VMM_CONTROL_DEVICES_H
#define VMM_CONTROL_DEVICES_H

struct vm;
struct device_info;

/*
 * Describe up to @max devices of @vm into @out, in creation order: id,
 * type and failure for each, what its type's optional describe hook
 * adds (PCI address, migration support), and for VFIO devices the
 * backend and path from the VM's configuration. Entries are zeroed
 * first. VMM thread. Returns the number of entries filled.
 */
unsigned int control__describe_devices(struct vm *vm, struct device_info *out,
				       unsigned int max);

#endif /* VMM_CONTROL_DEVICES_H */

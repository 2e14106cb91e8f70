/*
 * registry.h: the explicit list of device types ferry knows. No
 * constructors or linker sets: to add a device type, add it here.
 */
#ifndef DEVICES_REGISTRY_H
#define DEVICES_REGISTRY_H

#include <stddef.h>

struct device_type;

/* The device types, in creation order (by phase). Sets *n. */
const struct device_type *const *registry__types(size_t *n);

/* Find a type by name; NULL when unknown. */
const struct device_type *registry__find(const char *name);

#endif /* DEVICES_REGISTRY_H */

/*
 * api-devices.h: the "devices" member of the `GET /vm` reply: the plain
 * device descriptions the VMM thread gathered (devices/device-info.h)
 * as JSON, in the schema of docs/api.md ("Devices"). No shared state;
 * the API thread calls it.
 */
#ifndef VMM_API_DEVICES_H
#define VMM_API_DEVICES_H

struct device_info;
struct json_object;

/*
 * A JSON array with one object per entry of @devs[0..@n). The caller
 * owns the result (json_object_put). NULL on allocation failure.
 */
struct json_object *api_devices__to_json(const struct device_info *devs,
					 unsigned int n);

#endif /* VMM_API_DEVICES_H */

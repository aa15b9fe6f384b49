/**
 * The "fnctl" generic netlink family: vfiolab's PROPOSAL for the common function-creation uAPI the seed
 * mail says is missing (issue 6 §4; facts/kernel.md §8). No Linux header defines these numbers: they are
 * this project's, written the way include/uapi/linux/<family>.h would spell them, and docs/creation-api.md
 * explains every choice. One family creates N functions of one kind (SR-IOV VF, subfunction, SIOV-style
 * function with a guest and a hypervisor RID) on one parent, with one driver for all of them, in one
 * request, and destroys them.
 *
 * Attribute spaces: the top-level space (enum fnctl_attr), the per-function nest (enum fnctl_fn_attr,
 * inside FNCTL_ATTR_FUNCTION) and the per-kind capability nest (enum fnctl_caps_attr, inside
 * FNCTL_ATTR_KIND_CAPS). Value 0 of every enum is UNSPEC, as Linux families reserve it.
 */

/** Family name (GENL_NAMSIZ-bounded), version, and its one multicast group. */
export const FNCTL_GENL_NAME = 'fnctl';
export const FNCTL_GENL_VERSION = 1;
export const FNCTL_MCGRP_CONFIG = 'config';

// --- enum fnctl_cmd ---

export const FNCTL_CMD_UNSPEC = 0;
/** Request: create COUNT functions; reply and notification: the created functions, in parts. */
export const FNCTL_CMD_CREATE = 1;
/** Request: destroy by ID (repeated) or ALL; notification: the destroyed functions, in parts. */
export const FNCTL_CMD_DESTROY = 2;
/** doit: one parent's functions; dumpit: every parent's. */
export const FNCTL_CMD_GET = 3;
/** doit: one parent's kinds, drivers per kind and capacity; dumpit: every parent's. */
export const FNCTL_CMD_CAPS_GET = 4;
export const FNCTL_CMD_MAX = FNCTL_CMD_CAPS_GET;

// --- enum fnctl_attr (top level) ---

export const FNCTL_ATTR_UNSPEC = 0;
/** string: the parent's bus, "pci" or "auxiliary" (the devlink handle's first half). */
export const FNCTL_ATTR_BUS_NAME = 1;
/** string: the parent's device name, "0000:01:00.0". */
export const FNCTL_ATTR_DEV_NAME = 2;
/** u8: enum fnctl_kind. */
export const FNCTL_ATTR_KIND = 3;
/** u32: how many functions to create (request, 1..FNCTL_COUNT_MAX); how many a reply lists in total. */
export const FNCTL_ATTR_COUNT = 4;
/** u8: enum fnctl_driver; absent in a request means NONE. */
export const FNCTL_ATTR_DRIVER = 5;
/** binary, 6 bytes: the first function's MAC; function i gets it plus i in the low 24 bits. */
export const FNCTL_ATTR_MAC = 6;
/** u8 0/1: every function must be able to migrate (EOPNOTSUPP when the parent cannot). */
export const FNCTL_ATTR_MIGRATABLE = 7;
/** nested (enum fnctl_fn_attr), repeated: one per function in a reply or notification part. */
export const FNCTL_ATTR_FUNCTION = 8;
/** u32, repeated: a function id to destroy (DESTROY) or to show (GET doit). */
export const FNCTL_ATTR_ID = 9;
/** flag: destroy every function of the parent. */
export const FNCTL_ATTR_ALL = 10;
/** nested (enum fnctl_caps_attr), repeated: one per kind the parent can make (CAPS_GET reply). */
export const FNCTL_ATTR_KIND_CAPS = 11;
export const FNCTL_ATTR_MAX = FNCTL_ATTR_KIND_CAPS;

// --- enum fnctl_fn_attr (inside FNCTL_ATTR_FUNCTION) ---

export const FNCTL_FN_ATTR_UNSPEC = 0;
/** u32: provider-local id, stable until destroyed (a VF's is its 0-based VF index). */
export const FNCTL_FN_ATTR_ID = 1;
/** u8: enum fnctl_kind. */
export const FNCTL_FN_ATTR_KIND = 2;
/** string: the device the subsystem driver binds, a PCI name or an auxiliary device name. */
export const FNCTL_FN_ATTR_DEV_NAME = 3;
/** u16: the routing ID (bus << 8 | devfn) the function's DMA uses, in the parent's PCI segment. */
export const FNCTL_FN_ATTR_RID = 4;
/** u16: SIOV only, the hypervisor's RID for the function. */
export const FNCTL_FN_ATTR_HV_RID = 5;
/** binary, 6 bytes: the function's MAC, when the parent provisions one. */
export const FNCTL_FN_ATTR_MAC = 6;
/** u8 0/1: the function can migrate. */
export const FNCTL_FN_ATTR_MIGRATABLE = 7;
/** u8: enum fnctl_driver, the driver the function is bound to now. */
export const FNCTL_FN_ATTR_DRIVER = 8;
/** string: what the driver made of it ("vfio3", "eth7", "vdpa2"); absent when unbound. */
export const FNCTL_FN_ATTR_BOUND_AS = 9;
export const FNCTL_FN_ATTR_MAX = FNCTL_FN_ATTR_BOUND_AS;

// --- enum fnctl_caps_attr (inside FNCTL_ATTR_KIND_CAPS) ---

export const FNCTL_CAPS_ATTR_UNSPEC = 0;
/** u8: enum fnctl_kind. */
export const FNCTL_CAPS_ATTR_KIND = 1;
/** u32: bitmap of enum fnctl_driver values that fit the kind (bit n = driver n). */
export const FNCTL_CAPS_ATTR_DRIVERS = 2;
/** u32: how many more functions of the kind can be created now. */
export const FNCTL_CAPS_ATTR_CAPACITY = 3;
/** u8 0/1: FNCTL_ATTR_MAC is honoured for the kind. */
export const FNCTL_CAPS_ATTR_MAC = 4;
/** u8 0/1: FNCTL_ATTR_MIGRATABLE 1 can be honoured for the kind. */
export const FNCTL_CAPS_ATTR_MIGRATABLE = 5;
export const FNCTL_CAPS_ATTR_MAX = FNCTL_CAPS_ATTR_MIGRATABLE;

// --- enum fnctl_kind ---

export const FNCTL_KIND_UNSPEC = 0;
export const FNCTL_KIND_VF = 1;
export const FNCTL_KIND_SF = 2;
export const FNCTL_KIND_SIOV = 3;
export const FNCTL_KIND_MAX = FNCTL_KIND_SIOV;

// --- enum fnctl_driver ---

/** No driver: the functions exist and nothing probes them. */
export const FNCTL_DRIVER_NONE = 0;
export const FNCTL_DRIVER_VFIO = 1;
export const FNCTL_DRIVER_NET = 2;
export const FNCTL_DRIVER_VDPA = 3;
export const FNCTL_DRIVER_MAX = FNCTL_DRIVER_VDPA;

// --- limits ---

/** Largest COUNT one request may ask for (NumVFs is a u16; larger is ERANGE before any parent check). */
export const FNCTL_COUNT_MAX = 65535;
/**
 * Largest reply or notification part, nlmsg_len included: NLMSG_GOODSIZE with 4 KiB pages on x86-64
 * (SKB_WITH_OVERHEAD(4096) = 4096 - 320), which also fits libmnl's MNL_SOCKET_BUFFER_SIZE receive
 * buffer (the page size). A part holds as many whole FUNCTION nests as fit; ~40 VFs per part.
 */
export const FNCTL_PART_MAX_BYTES = 3776;

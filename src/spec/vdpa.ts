/**
 * The vdpa generic netlink family's numbers, as include/uapi/linux/vdpa.h spells them (issue 6 §3):
 * family "vdpa", version 1, no multicast groups (drivers/vdpa/vdpa.c registers none). Commands and
 * attributes are enums counted from 0; VDPA_ATTR_PAD shares 0 with UNSPEC.
 */

export const VDPA_GENL_NAME = 'vdpa';
export const VDPA_GENL_VERSION = 1;

// --- enum vdpa_command ---
export const VDPA_CMD_MGMTDEV_NEW = 1;
export const VDPA_CMD_MGMTDEV_GET = 2;
export const VDPA_CMD_DEV_NEW = 3;
export const VDPA_CMD_DEV_DEL = 4;
export const VDPA_CMD_DEV_GET = 5;
export const VDPA_CMD_DEV_CONFIG_GET = 6;
export const VDPA_CMD_DEV_VSTATS_GET = 7;

// --- enum vdpa_attr ---
export const VDPA_ATTR_PAD = 0;
export const VDPA_ATTR_MGMTDEV_BUS_NAME = 1;
export const VDPA_ATTR_MGMTDEV_DEV_NAME = 2;
export const VDPA_ATTR_MGMTDEV_SUPPORTED_CLASSES = 3;
export const VDPA_ATTR_DEV_NAME = 4;
export const VDPA_ATTR_DEV_ID = 5;
export const VDPA_ATTR_DEV_VENDOR_ID = 6;
export const VDPA_ATTR_DEV_MAX_VQS = 7;
export const VDPA_ATTR_DEV_MAX_VQ_SIZE = 8;
export const VDPA_ATTR_DEV_MIN_VQ_SIZE = 9;
export const VDPA_ATTR_DEV_NET_CFG_MACADDR = 10;
export const VDPA_ATTR_DEV_NET_STATUS = 11;
export const VDPA_ATTR_DEV_NET_CFG_MAX_VQP = 12;
export const VDPA_ATTR_DEV_NET_CFG_MTU = 13;
export const VDPA_ATTR_DEV_NEGOTIATED_FEATURES = 14;
export const VDPA_ATTR_DEV_MGMTDEV_MAX_VQS = 15;
export const VDPA_ATTR_DEV_SUPPORTED_FEATURES = 16;
export const VDPA_ATTR_DEV_QUEUE_INDEX = 17;
export const VDPA_ATTR_DEV_VENDOR_ATTR_NAME = 18;
export const VDPA_ATTR_DEV_VENDOR_ATTR_VALUE = 19;
export const VDPA_ATTR_DEV_FEATURES = 20;
export const VDPA_ATTR_MAX = 21;

/** Virtio device ids (include/uapi/linux/virtio_ids.h) the tool names. */
export const VIRTIO_ID_NET = 1;
export const VIRTIO_ID_BLOCK = 2;

/** virtio_net_config.status bits (include/uapi/linux/virtio_net.h). */
export const VIRTIO_NET_S_LINK_UP = 1;
export const VIRTIO_NET_S_ANNOUNCE = 2;

/** NLA_POLICY_MIN(NLA_U16, 68) on VDPA_ATTR_DEV_NET_CFG_MTU (virtio 1.1 §5.1.4.1). */
export const VDPA_MIN_MTU = 68;

/** `vfio list`, `info`, `read`, `write` and `reset`: device enumeration, region/irq info, region access and reset. */
import { ERRNO_MESSAGE, vfio } from '../../../spec/index.js';
import {
  DEVICE_FLAG_NAMES,
  errnoOf,
  flagNames,
  hex,
  hexN,
  IRQ_FLAG_NAMES,
  IRQ_NAMES,
  leValue,
  num,
  parseBig,
  REGION_FLAG_NAMES,
  REGION_NAMES,
  type Reply,
  UsageError,
} from './format.js';
import type { Session } from './session.js';

export function list(ses: Session): Reply {
  const devices = ses.core.devices.map((d) => ({
    name: d.name,
    device: d.dev.name,
    group: d.group,
    cdev: d.cdevPath,
    driver: d.ops.name,
    open: ses.held.get(d)?.file.isOpen === true,
  }));
  return {
    text: devices.map(
      (d) => `${d.name} ${d.device} group ${d.group} ${d.driver} ${d.cdev}${d.open ? ' (open)' : ''}`,
    ),
    json: { devices },
  };
}

export function info(ses: Session, dev: string): Reply {
  const h = ses.open(dev);
  const i = h.file.getInfo();
  const text = [
    `${h.vdev.dev.name} (${h.vdev.name}, group ${h.vdev.group}, ${h.vdev.ops.name}): flags ${flagNames(i.flags, DEVICE_FLAG_NAMES).join('|') || '0'}, ${i.numRegions} regions, ${i.numIrqs} irqs`,
  ];
  const regions: Record<string, unknown>[] = [];
  for (let r = 0; r < i.numRegions; r++) {
    const rname = REGION_NAMES[r] ?? `REGION${r}`;
    try {
      const ri = h.file.getRegionInfo(r);
      // The typed reply leaves CAPS to the ioctl encoder, which sets it when a chain exists.
      const flags = flagNames(
        ri.flags | (ri.caps.length > 0 ? vfio.VFIO_REGION_INFO_FLAG_CAPS : 0),
        REGION_FLAG_NAMES,
      );
      regions.push({ index: r, name: rname, size: num(ri.sizeBytes), offset: hexN(ri.offset), flags });
      text.push(
        `region ${r} ${rname}: size ${hexN(ri.sizeBytes)} offset ${hexN(ri.offset)} flags ${flags.join('|') || '0'}${ri.caps.length > 0 ? ` caps ${ri.caps.map((c) => c.id).join(',')}` : ''}`,
      );
    } catch (e) {
      const errno = errnoOf(e);
      regions.push({ index: r, name: rname, errno });
      text.push(`region ${r} ${rname}: ${ERRNO_MESSAGE[errno]}`);
    }
  }
  const irqs: Record<string, unknown>[] = [];
  for (let q = 0; q < i.numIrqs; q++) {
    const qname = IRQ_NAMES[q] ?? `IRQ${q}`;
    try {
      const qi = h.file.getIrqInfo(q);
      const flags = flagNames(qi.flags, IRQ_FLAG_NAMES);
      irqs.push({ index: q, name: qname, count: qi.count, flags });
      text.push(`irq ${q} ${qname}: count ${qi.count} flags ${flags.join('|') || '0'}`);
    } catch (e) {
      const errno = errnoOf(e);
      irqs.push({ index: q, name: qname, errno });
      text.push(`irq ${q} ${qname}: ${ERRNO_MESSAGE[errno]}`);
    }
  }
  return {
    text,
    json: {
      device: h.vdev.dev.name,
      name: h.vdev.name,
      group: h.vdev.group,
      driver: h.vdev.ops.name,
      flags: flagNames(i.flags, DEVICE_FLAG_NAMES),
      numRegions: i.numRegions,
      numIrqs: i.numIrqs,
      regions,
      irqs,
    },
  };
}

function regionIndex(text: string): number {
  const byName = REGION_NAMES.indexOf(text.toUpperCase());
  if (byName >= 0) return byName;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`bad region '${text}'`);
  return n;
}

export function access(
  ses: Session,
  dev: string,
  regionText: string,
  offText: string,
  sizeText: string,
  valueText?: string,
): Reply {
  const region = regionIndex(regionText);
  const off = parseBig('OFFSET', offText);
  const size = Number(parseBig('SIZE', sizeText));
  const h = ses.open(dev);
  const ri = h.file.getRegionInfo(region);
  const at = ri.offset + off;
  const rname = REGION_NAMES[region] ?? `REGION${region}`;
  if (valueText === undefined) {
    if (size < 1 || size > 4096) throw new UsageError('SIZE must be 1 to 4096');
    const b = h.file.read(at, size);
    const value = size <= 8 ? leValue(b) : undefined;
    return {
      text: [`${rname}+${hexN(off)}: ${value === undefined ? hex(b) : hexN(value)}`],
      json: {
        region: rname,
        offset: hexN(off),
        size,
        hex: hex(b),
        ...(value === undefined ? {} : { value: num(value) }),
      },
    };
  }
  if (![1, 2, 4, 8].includes(size)) throw new UsageError('SIZE must be 1, 2, 4 or 8 for a write');
  const value = parseBig('VALUE', valueText);
  if (value >= 1n << BigInt(8 * size)) throw new UsageError(`VALUE does not fit in ${size} bytes`);
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = Number((value >> BigInt(8 * i)) & 0xffn);
  const n = h.file.write(at, bytes);
  return {
    text: [`${rname}+${hexN(off)}: wrote ${hexN(value)} (${n} bytes)`],
    json: { region: rname, offset: hexN(off), size, value: num(value), written: n },
  };
}

export function reset(ses: Session, dev: string): Reply {
  const h = ses.open(dev);
  const t0 = ses.core.clock.nowNs;
  h.file.reset();
  const modeledNs = ses.core.clock.nowNs - t0;
  return {
    text: [`${h.vdev.dev.name}: reset (${modeledNs / 1e6} ms modeled)`],
    json: { device: h.vdev.dev.name, reset: true, modeledNs },
  };
}

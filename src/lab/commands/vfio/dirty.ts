/** `vfio dirty`: DMA dirty-page logging (start, stop, report) through the tool process's user memory. */
import { decodeStruct, encodeStruct } from '../../../base/index.js';
import { vfio } from '../../../spec/index.js';
import { GET, hexN, num, parseBig, type Reply, SET, UsageError } from './format.js';
import type { Session } from './session.js';

export function dirty(ses: Session, dev: string, op: string | undefined, rest: readonly string[]): Reply {
  let pageSize = 4096n;
  const positional: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === '--page-size') pageSize = parseBig('--page-size', rest[++i]);
    else positional.push(rest[i]!);
  }
  const base = ses.userMemory.baseVa;
  switch (op) {
    case 'start': {
      if (positional.length === 0) throw new UsageError('dirty start needs at least one IOVA:LENGTH');
      const ranges = positional.map((r) => {
        const [a, b, extra] = r.split(':');
        if (a === undefined || b === undefined || extra !== undefined)
          throw new UsageError(`bad range '${r}' (IOVA:LENGTH)`);
        return { iova: parseBig('IOVA', a), length: parseBig('LENGTH', b) };
      });
      const h = ses.open(dev);
      const rb = vfio.VfioDeviceFeatureDmaLoggingRange.sizeBytes;
      ranges.forEach((r, i) => {
        ses.userMemory.write(base + BigInt(i * rb), encodeStruct(vfio.VfioDeviceFeatureDmaLoggingRange, r));
      });
      const control = encodeStruct(vfio.VfioDeviceFeatureDmaLoggingControl, {
        pageSize,
        numRanges: ranges.length,
        ranges: base,
      });
      const p = ses.feature(
        h,
        SET | vfio.VFIO_DEVICE_FEATURE_DMA_LOGGING_START,
        control,
        'DMA_LOGGING_START',
      );
      const chosen = decodeStruct(vfio.VfioDeviceFeatureDmaLoggingControl, p).pageSize;
      return {
        text: [`${h.vdev.dev.name}: DMA logging started, ${ranges.length} ranges, page size ${chosen}`],
        json: { started: true, ranges: ranges.length, pageSize: num(chosen) },
      };
    }
    case 'stop': {
      if (positional.length > 0) throw new UsageError('dirty stop takes no arguments');
      const h = ses.open(dev);
      ses.feature(h, SET | vfio.VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP, new Uint8Array(0), 'DMA_LOGGING_STOP');
      return { text: [`${h.vdev.dev.name}: DMA logging stopped`], json: { stopped: true } };
    }
    case 'report': {
      if (positional.length !== 2) throw new UsageError('dirty report needs IOVA LENGTH');
      const iova = parseBig('IOVA', positional[0]);
      const length = parseBig('LENGTH', positional[1]);
      if (pageSize === 0n) throw new UsageError('--page-size must not be 0');
      const pages = length === 0n ? 0n : (length - 1n) / pageSize + 1n;
      const words = Number((pages + 63n) / 64n);
      if (words * 8 > ses.userMemory.bytes.length)
        throw new UsageError('range too large for the bitmap buffer');
      const h = ses.open(dev);
      ses.userMemory.bytes.fill(0, 0, words * 8);
      const req = encodeStruct(vfio.VfioDeviceFeatureDmaLoggingReport, {
        iova,
        length,
        pageSize,
        bitmap: base,
      });
      ses.feature(h, GET | vfio.VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT, req, 'DMA_LOGGING_REPORT');
      const dirtyPages: bigint[] = [];
      // Bit n of the bitmap is page n (u64 words, LSB first: byte n/8, bit n%8); skip zero bytes.
      for (let at = 0; at < words * 8; at++) {
        const byte = ses.userMemory.bytes[at]!;
        if (byte === 0) continue;
        for (let bit = 0; bit < 8; bit++) {
          const n = BigInt(at * 8 + bit);
          if ((byte >> bit) & 1 && n < pages) dirtyPages.push(iova + n * pageSize);
        }
      }
      return {
        text: [
          `${h.vdev.dev.name}: ${dirtyPages.length} dirty pages of ${pages} (page size ${pageSize})`,
          ...dirtyPages.map((p) => hexN(p)),
        ],
        json: { iova: num(iova), length: num(length), pageSize: num(pageSize), dirty: dirtyPages.map(num) },
      };
    }
    default:
      throw new UsageError(`unknown dirty operation '${op ?? ''}' (start, stop, report)`);
  }
}

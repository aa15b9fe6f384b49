/** A modeled host with one mnic whose knobs a test chooses, and the kernel-side firmware client. */
import { isLabError } from '../../src/base/index.js';
import { mnicFwOpener } from '../../src/kernel/drivers/mnic/fw.js';
import type { MnicFw } from '../../src/kernel/drivers/mnic/fw-api.js';
import type { Device } from '../../src/kernel/index.js';
import { type Host, Lab } from '../../src/lab/index.js';

export interface MnicHost {
  readonly host: Host;
  readonly pf: Device;
  readonly fw: MnicFw;
}

export function mnicHost(
  knobs: {
    maxSfs?: number;
    maxSiovFns?: number;
    subordinateBus?: number;
    costs?: Record<string, unknown>;
  } = {},
): MnicHost {
  const { subordinateBus, costs, ...rest } = knobs;
  const lab = Lab.fromTopology(
    {
      hosts: [
        {
          name: 'h',
          rootPorts: [
            {
              name: 'rp',
              address: '00:02.0',
              secondaryBus: 0x10,
              subordinateBus: subordinateBus ?? 0x1f,
              devices: [
                {
                  kind: 'mnic',
                  name: 'mnic0',
                  address: '10:00.0',
                  totalVfs: 8,
                  ...rest,
                  ...(costs ? { costs } : {}),
                },
              ],
            },
          ],
        },
      ],
    },
    'test topology',
  );
  const host = lab.host();
  const pf = host.kernel.findPciDevice('0000:10:00.0')!;
  return { host, pf, fw: mnicFwOpener(host.kernel).openPci(pf) };
}

export function errnoOf(f: () => unknown): string | undefined {
  try {
    f();
    return undefined;
  } catch (e) {
    if (isLabError(e)) return e.errno;
    throw e;
  }
}

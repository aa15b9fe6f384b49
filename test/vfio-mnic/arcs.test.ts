/**
 * Every arc of the full flag set (facts/kernel.md 1.3's list, from test/vfio-migration's table) run on
 * MnicMigrationDriver over the fake firmware: each one succeeds, returns a data fd exactly when 1.5
 * says so, and leaves the function quiesced as the state requires — nothing suspended in RUNNING and
 * PRE_COPY, the initiator side in RUNNING_P2P and PRE_COPY_P2P, both sides in STOP, STOP_COPY and
 * RESUMING (the firmware refuses out-of-order SUSPEND/RESUME, so a wrong arc fails here).
 */
import { describe, expect, it } from 'vitest';
import { MnicMigrationDriver } from '../../src/kernel/drivers/vfio-mnic/index.js';
import { MigrationFsm } from '../../src/kernel/vfio/migration/index.js';
import { ALLOWED_ARCS, FD_ARCS, NAMES, S, type St } from '../vfio-migration/support.js';
import { FakeMnicFw } from './fake-fw.js';

const QUIESCED: Record<St, [boolean, boolean] | undefined> = {
  [S.ERROR]: undefined,
  [S.RUNNING]: [false, false],
  [S.PRE_COPY]: [false, false],
  [S.RUNNING_P2P]: [true, false],
  [S.PRE_COPY_P2P]: [true, false],
  [S.STOP]: [true, true],
  [S.STOP_COPY]: [true, true],
  [S.RESUMING]: [true, true],
};

describe('every arc of STOP_COPY | P2P | PRE_COPY on firmware commands', () => {
  it.each(ALLOWED_ARCS.map(([a, b]) => [NAMES[a]!, NAMES[b]!, a, b] as const))(
    '%s -> %s',
    (_, __, from, to) => {
      const fw = new FakeMnicFw();
      const fn = fw.addFn('vf', 1, 4);
      const warns: string[] = [];
      const driver = new MnicMigrationDriver({ fw, fn, warn: (t) => warns.push(t) });
      const fsm = MigrationFsm.register(driver, { warn: (t) => warns.push(t) });
      const image = fw.saveVhcaState(fn);
      const toFrom = fsm.setState(from);
      if (from === S.RESUMING && to === S.STOP) {
        // A valid stream from a sibling driver, so that the load has something to load.
        const other = new FakeMnicFw();
        const src = new MnicMigrationDriver({ fw: other, fn: other.addFn('vf', 1, 9), warn: () => {} });
        const sfsm = MigrationFsm.register(src, { warn: () => {} });
        const s = sfsm.setState(S.STOP_COPY).stream!;
        toFrom.stream!.write(s.read(1 << 20));
      }
      const out = fsm.setState(to);
      expect(out.path).toEqual([from, to]);
      expect(out.stream?.direction).toBe(FD_ARCS.get(`${from}>${to}`));
      const st = fw.state(fn);
      expect([st.initiatorSuspended, st.responderSuspended]).toEqual(QUIESCED[to]);
      expect(warns).toEqual([]);
      if (from === S.RESUMING) expect(fw.saveVhcaState(fn)).not.toEqual(image);
    },
  );
});

/**
 * A test-local devlink driver, netdevsim-style: one instance "netdevsim/netdevsim10" with a PF port,
 * eswitch modes, SF ports created by PORT_NEW (mlx5's rules from facts/kernel.md 7.3: PCI_SF only, no
 * user index, sfnum mandatory, own pfnum only, switchdev mode), function hw_addr/state/caps, and two
 * parameters. It shares no code with the family; it only implements DevlinkOps.
 */
import {
  DEVLINK_PORT_FLAVOUR,
  DEVLINK_PORT_TYPE,
  type DevlinkFnState,
  type DevlinkInstance,
  type DevlinkParam,
  type DevlinkPort,
  type DevlinkRegistry,
  nlError,
} from '../../src/kernel/index.js';

export interface FakeSf {
  readonly port: DevlinkPort;
  mac: Uint8Array;
  state: DevlinkFnState;
  roce: boolean;
}

export interface FakeNic {
  readonly inst: DevlinkInstance;
  mode: number;
  readonly sfs: Map<number, FakeSf>;
  readonly params: { enableVnet: boolean; maxMacs: number };
}

export function fakeNic(registry: DevlinkRegistry, dev = 'netdevsim10'): FakeNic {
  const sfs = new Map<number, FakeSf>();
  const params = { enableVnet: true, maxMacs: 128 };
  let nextIndex = 32768;
  const paramList: DevlinkParam[] = [
    {
      name: 'enable_vnet',
      type: 'bool',
      cmodes: ['driverinit'],
      get: () => params.enableVnet,
      set: (_c, v) => {
        params.enableVnet = v === true;
      },
    },
    {
      name: 'max_macs',
      type: 'u32',
      cmodes: ['driverinit'],
      get: () => params.maxMacs,
      set: (_c, v) => {
        if (typeof v !== 'number' || v > 2048) throw nlError('EINVAL', 'max_macs out of range');
        params.maxMacs = v;
      },
    },
  ];
  const nic: FakeNic = {
    inst: undefined as unknown as DevlinkInstance,
    mode: 0,
    sfs,
    params,
  };
  const inst = registry.register('netdevsim', dev, {
    eswitchModeGet: () => nic.mode,
    eswitchModeSet: (mode) => {
      nic.mode = mode;
    },
    portNew: (req) => {
      if (req.flavour !== DEVLINK_PORT_FLAVOUR.PCI_SF)
        throw nlError('EOPNOTSUPP', 'Unsupported port flavour');
      if (req.index !== undefined)
        throw nlError('EOPNOTSUPP', 'Driver does not support user defined port index assignment');
      if (req.sfnum === undefined) throw nlError('EOPNOTSUPP', 'User must provide unique sfnum');
      if (req.pfnum !== 0) throw nlError('EOPNOTSUPP', 'Invalid pfnum supplied');
      if (nic.mode !== 1) throw nlError('EOPNOTSUPP', 'Port add is only supported in eswitch switchdev mode');
      const index = nextIndex++;
      const sf: FakeSf = {
        port: {
          index,
          flavour: DEVLINK_PORT_FLAVOUR.PCI_SF,
          type: DEVLINK_PORT_TYPE.ETH,
          controller: req.controller ?? 0,
          pfnum: req.pfnum,
          sfnum: req.sfnum,
          external: false,
          splittable: false,
          netdevName: `eth${index - 32767}`,
          netdevIfindex: 100 + index - 32768,
          fn: () => ({
            hwAddr: sf.mac,
            state: sf.state,
            opstate: sf.state === 'active' ? 'attached' : 'detached',
            caps: { roce: sf.roce, migratable: false },
          }),
        },
        mac: new Uint8Array(6),
        state: 'inactive',
        roce: true,
      };
      sfs.set(index, sf);
      nic.inst.portRegister(sf.port);
      return sf.port;
    },
    portDel: (port) => {
      sfs.delete(port.index);
      nic.inst.portUnregister(port.index);
    },
    portFnHwAddrSet: (port, mac) => {
      const sf = sfs.get(port.index);
      if (sf === undefined) throw nlError('EOPNOTSUPP', 'Port function is not an SF');
      sf.mac = mac.slice();
    },
    portFnStateSet: (port, state) => {
      const sf = sfs.get(port.index);
      if (sf === undefined) throw nlError('EOPNOTSUPP', 'Port function is not an SF');
      sf.state = state;
    },
    portFnCapsSet: (port, caps) => {
      const sf = sfs.get(port.index);
      if (sf !== undefined && caps.roce !== undefined) sf.roce = caps.roce;
    },
    params: () => paramList,
  });
  (nic as { inst: DevlinkInstance }).inst = inst;
  inst.portRegister({
    index: 0,
    flavour: DEVLINK_PORT_FLAVOUR.PCI_PF,
    type: DEVLINK_PORT_TYPE.ETH,
    controller: 0,
    pfnum: 0,
    external: false,
    splittable: false,
    netdevName: 'eni10np0',
    netdevIfindex: 10,
    fn: () => ({ hwAddr: Uint8Array.of(0x02, 0, 0, 0, 0, 0x10) }),
  });
  return nic;
}

/** ls, cat, readlink, echo, cd/pwd and redirects on a small fake /sys: exact text and statuses. */
import { describe, expect, it } from 'vitest';
import { Sysfs } from '../../src/kernel/sysfs/index.js';
import { fsCommands } from '../../src/lab/commands/fs.js';
import { Lab } from '../../src/lab/index.js';
import type { ShellCommand } from '../../src/lab/shell/command.js';
import { Shell } from '../../src/lab/shell/shell.js';
import { fakeTree, PF, PF_DIR, VF0 } from '../kernel/sysfs/fake-tree.js';

const host = Lab.default().host();
const PF_LINK = `/sys/bus/pci/devices/${PF}`;
const ROOT_PORT = '/sys/devices/pci0000:00/0000:00:01.0';

function setup() {
  const tree = fakeTree();
  const fs = new Sysfs(tree.root);
  let runs = 0;
  /** Prints its arguments in two pieces, to show a redirect writes once. */
  const pieces: ShellCommand = {
    name: 'pieces',
    summary: 'print each argument separately, then a newline',
    run(args, io) {
      runs++;
      for (const a of args) io.out(a);
      io.out('\n');
      return 0;
    },
  };
  const shell: Shell = new Shell({ host, wallNowNs: () => 0, fs }, [
    ...fsCommands({ fs, absolutePath: (p) => shell.absolutePath(p) }),
    pieces,
  ]);
  return { tree, shell, runs: () => runs };
}

describe('cat', () => {
  it('prints attributes, through links and relative to the working directory', () => {
    const { shell } = setup();
    expect(shell.execute(`cat ${PF_LINK}/vendor ${PF_LINK}/device`)).toEqual({
      stdout: '0x1af4\n0x1041\n',
      stderr: '',
      status: 0,
    });
    shell.execute(`cd ${PF_LINK}`);
    expect(shell.execute('cat sriov_totalvfs').stdout).toBe('8\n');
  });

  it('prints binary attributes as raw bytes', () => {
    const { shell } = setup();
    const r = shell.execute(`cat ${PF_DIR}/config`);
    expect(r.stdout.length).toBe(256);
    expect(r.stdout.slice(0, 8)).toBe('\xf4\x1a\x41\x10\x06\x04\x10\x00');
  });

  it('reports each failing file as coreutils does and goes on', () => {
    const { shell } = setup();
    expect(shell.execute('cat /sys/bus/pci/drivers/virtio-pci/bind /sys/bus /sys/nope /sys/loop/a')).toEqual({
      stdout: '',
      stderr:
        'cat: /sys/bus/pci/drivers/virtio-pci/bind: Permission denied\n' +
        'cat: /sys/bus: Is a directory\n' +
        'cat: /sys/nope: No such file or directory\n' +
        'cat: /sys/loop/a: Too many levels of symbolic links\n',
      status: 1,
    });
    // quotef quotes names with a colon, or a space.
    expect(shell.execute(`cat ${PF_LINK}/nope ${PF_LINK}/vendor`)).toEqual({
      stdout: '0x1af4\n',
      stderr: `cat: '${PF_LINK}/nope': No such file or directory\n`,
      status: 1,
    });
    expect(shell.execute(`cat ${PF_DIR}/broken`).stderr).toBe(`cat: '${PF_DIR}/broken': No such device\n`);
    expect(shell.execute("cat 'a b' \"it's\"").stderr).toBe(
      "cat: 'a b': No such file or directory\ncat: \"it's\": No such file or directory\n",
    );
    expect(shell.execute('cat -x')).toMatchObject({
      stderr: "cat: invalid option -- 'x'\nTry 'cat --help' for more information.\n",
      status: 1,
    });
  });
});

describe('echo and redirects', () => {
  it('writes the whole line, newline included, with one store', () => {
    const { shell, tree } = setup();
    expect(shell.execute(`echo 4 > ${PF_LINK}/sriov_numvfs`)).toEqual({ stdout: '', stderr: '', status: 0 });
    expect(tree.numvfsWrites).toEqual(['4\n']);
    expect(shell.execute(`cat ${PF_LINK}/sriov_numvfs`).stdout).toBe('4\n');
    expect(shell.execute(`echo ${PF} >> /sys/bus/pci/drivers/virtio-pci/bind`).status).toBe(0);
    expect(tree.bindWrites).toEqual([`${PF}\n`]);
    shell.execute(`pieces 1 2 > ${PF_LINK}/sriov_numvfs`);
    expect(tree.numvfsWrites).toEqual(['4\n', '12\n']);
  });

  it("reports a store error as bash's echo does", () => {
    const { shell, tree } = setup();
    expect(shell.execute(`echo 9 > ${PF_LINK}/sriov_numvfs`)).toEqual({
      stdout: '',
      stderr: 'vfiolab: echo: write error: Numerical result out of range\n',
      status: 1,
    });
    expect(shell.execute(`echo x > ${PF_LINK}/sriov_numvfs`).stderr).toBe(
      'vfiolab: echo: write error: Invalid argument\n',
    );
    expect(tree.numVfs()).toBe(0);
  });

  it('reports a write error of other programs with their own name and status', () => {
    const { shell } = setup();
    expect(shell.execute(`cat ${PF_LINK}/vendor > ${PF_LINK}/sriov_numvfs`)).toEqual({
      stdout: '',
      stderr: 'cat: write error: Invalid argument\n',
      status: 1,
    });
    expect(shell.execute(`ls /sys > ${PF_LINK}/sriov_numvfs`)).toEqual({
      stdout: '',
      stderr: 'ls: write error: Invalid argument\n',
      status: 2,
    });
  });

  it('fails the open as bash does and does not run the command', () => {
    const { shell, runs, tree } = setup();
    const cases: [string, string][] = [
      [`${PF_LINK}/vendor`, 'Permission denied'],
      [`${PF_LINK}/new_file`, 'Permission denied'],
      ['/sys/nope/x', 'No such file or directory'],
      ['/sys/bus', 'Is a directory'],
      [`${PF_LINK}/sriov_numvfs/`, 'Is a directory'],
      [`${PF_LINK}/vendor/x`, 'Not a directory'],
      ['/sys/loop/self', 'Too many levels of symbolic links'],
    ];
    for (const [path, message] of cases) {
      expect(shell.execute(`pieces 1 > ${path}`)).toEqual({
        stdout: '',
        stderr: `vfiolab: ${path}: ${message}\n`,
        status: 1,
      });
    }
    expect(runs()).toBe(0);
    expect(shell.execute(`exit 3 > ${PF_LINK}/vendor`)).toEqual({
      stdout: '',
      stderr: `vfiolab: ${PF_LINK}/vendor: Permission denied\n`,
      status: 1,
    });
    expect(shell.execute(`> ${PF_LINK}/sriov_numvfs`)).toEqual({ stdout: '', stderr: '', status: 0 });
    expect(shell.execute(`echo -n > ${PF_LINK}/sriov_numvfs`).status).toBe(0);
    expect(tree.numvfsWrites).toEqual([]);
  });

  it('runs a missing command after the file opened', () => {
    const { shell } = setup();
    expect(shell.execute(`nope > ${PF_LINK}/sriov_numvfs`)).toEqual({
      stdout: '',
      stderr: 'vfiolab: nope: command not found\n',
      status: 127,
    });
  });

  it('prints to stdout without a redirect, with bash option and escape rules', () => {
    const { shell } = setup();
    expect(shell.execute('echo a  b').stdout).toBe('a b\n');
    expect(shell.execute('echo -n a').stdout).toBe('a');
    expect(shell.execute('echo -- -x -n').stdout).toBe('-- -x -n\n');
    expect(shell.execute('echo -nx a').stdout).toBe('-nx a\n');
    expect(shell.execute("echo 'a\\tb'").stdout).toBe('a\\tb\n');
    expect(shell.execute("echo -e 'a\\tb\\x41\\0102\\101\\q\\\\'").stdout).toBe('a\tbABA\\q\\\n');
    expect(shell.execute("echo -e 'a\\cb' c").stdout).toBe('a');
    expect(shell.execute("echo -eE 'a\\tb'").stdout).toBe('a\\tb\n');
    expect(shell.execute('echo').stdout).toBe('\n');
  });

  it('keeps the old answer when the shell has no file tree', () => {
    const sh = new Shell(
      { host, wallNowNs: () => 0 },
      fsCommands({ fs: new Sysfs(fakeTree().root), absolutePath: (p) => p }),
    );
    expect(sh.execute('echo 1 > /sys/x')).toEqual({
      stdout: '',
      stderr: 'vfiolab: /sys/x: No such file or directory\n',
      status: 1,
    });
    expect(sh.execute('cd /sys').status).toBe(127);
    expect(sh.prompt).toBe(`root@${host.name}:~# `);
  });
});

describe('ls', () => {
  it('lists one name per line in C order, following a command-line link to a directory', () => {
    const { shell } = setup();
    expect(shell.execute('ls /sys')).toEqual({ stdout: 'bus\ndevices\nloop\n', stderr: '', status: 0 });
    expect(shell.execute(`ls ${PF_LINK}`).stdout).toBe(
      'broken\nconfig\ndevice\ndriver\npower\nremove\nsriov_numvfs\nsriov_totalvfs\nsubsystem\nvendor\n',
    );
    expect(shell.execute('ls -a /sys').stdout).toBe('.\n..\nbus\ndevices\nloop\n');
    expect(shell.execute('ls -1 /sys/bus').stdout).toBe('pci\n');
    expect(shell.execute('ls /sys/bus -a').stdout).toBe('.\n..\npci\n');
  });

  it('prints the long format with total, aligned columns and link targets', () => {
    const { shell } = setup();
    expect(shell.execute(`ls -l ${PF_LINK}/`).stdout).toBe(
      [
        'total 0',
        '-r--r--r-- 1 root root 4096 Jan  1 00:00 broken',
        '-rw-r--r-- 1 root root  256 Jan  1 00:00 config',
        '-r--r--r-- 1 root root 4096 Jan  1 00:00 device',
        'lrwxrwxrwx 1 root root    0 Jan  1 00:00 driver -> ../../../../bus/pci/drivers/virtio-pci',
        'drwxr-xr-x 2 root root    0 Jan  1 00:00 power',
        '--w------- 1 root root 4096 Jan  1 00:00 remove',
        '-rw-r--r-- 1 root root 4096 Jan  1 00:00 sriov_numvfs',
        '-r--r--r-- 1 root root 4096 Jan  1 00:00 sriov_totalvfs',
        'lrwxrwxrwx 1 root root    0 Jan  1 00:00 subsystem -> ../../../../bus/pci',
        '-r--r--r-- 1 root root 4096 Jan  1 00:00 vendor',
        '',
      ].join('\n'),
    );
    expect(shell.execute('ls -la /sys/bus').stdout).toBe(
      [
        'total 0',
        'drwxr-xr-x 3 root root 0 Jan  1 00:00 .',
        'drwxr-xr-x 5 root root 0 Jan  1 00:00 ..',
        'drwxr-xr-x 4 root root 0 Jan  1 00:00 pci',
        '',
      ].join('\n'),
    );
  });

  it('shows a command-line link itself with -l', () => {
    const { shell } = setup();
    expect(shell.execute(`ls -l ${PF_LINK}`).stdout).toBe(
      `lrwxrwxrwx 1 root root 0 Jan  1 00:00 ${PF_LINK} -> ../../../devices/pci0000:00/0000:00:01.0/${PF}\n`,
    );
    expect(shell.execute(`ls -l ${PF_LINK}/vendor`).stdout).toBe(
      `-r--r--r-- 1 root root 4096 Jan  1 00:00 ${PF_LINK}/vendor\n`,
    );
  });

  it('prints files first, then each directory under a header', () => {
    const { shell } = setup();
    expect(
      shell.execute(`ls /sys/bus /sys/loop/to-file ${PF_LINK}/vendor /sys/loop/a /sys/bus/pci/drivers`),
    ).toEqual({
      stdout:
        `${PF_LINK}/vendor\n/sys/loop/a\n/sys/loop/to-file\n\n` +
        '/sys/bus:\npci\n\n/sys/bus/pci/drivers:\nvirtio-pci\n',
      stderr: '',
      status: 0,
    });
    expect(shell.execute('ls /sys/bus /sys/bus/pci/drivers').stdout).toBe(
      '/sys/bus:\npci\n\n/sys/bus/pci/drivers:\nvirtio-pci\n',
    );
  });

  it('reports what it cannot access with status 2 and lists the rest', () => {
    const { shell } = setup();
    expect(shell.execute('ls nope /sys/bus')).toEqual({
      stdout: '/sys/bus:\npci\n',
      stderr: "ls: cannot access 'nope': No such file or directory\n",
      status: 2,
    });
    expect(shell.execute(`ls ${PF_LINK}/vendor/x`).stderr).toBe(
      `ls: cannot access '${PF_LINK}/vendor/x': Not a directory\n`,
    );
    expect(shell.execute('ls -l /sys/loop/self/')).toMatchObject({
      stderr: "ls: cannot access '/sys/loop/self/': Too many levels of symbolic links\n",
      status: 2,
    });
    expect(shell.execute('ls -z')).toEqual({
      stdout: '',
      stderr: "ls: invalid option -- 'z'\nTry 'ls --help' for more information.\n",
      status: 2,
    });
    expect(shell.execute('ls --nope').stderr).toBe(
      "ls: unrecognized option '--nope'\nTry 'ls --help' for more information.\n",
    );
  });
});

describe('readlink', () => {
  it('prints a link target, or nothing and status 1', () => {
    const { shell } = setup();
    expect(shell.execute(`readlink ${PF_LINK}`)).toEqual({
      stdout: `../../../devices/pci0000:00/0000:00:01.0/${PF}\n`,
      stderr: '',
      status: 0,
    });
    expect(shell.execute(`readlink ${PF_LINK}/vendor`)).toEqual({ stdout: '', stderr: '', status: 1 });
    expect(shell.execute('readlink /sys/nope')).toEqual({ stdout: '', stderr: '', status: 1 });
    expect(shell.execute(`readlink -v ${PF_LINK}/vendor`).stderr).toBe(
      `readlink: '${PF_LINK}/vendor': Invalid argument\n`,
    );
    expect(shell.execute('readlink -n /sys/loop/a').stdout).toBe('b');
    expect(shell.execute('readlink')).toEqual({
      stdout: '',
      stderr: "readlink: missing operand\nTry 'readlink --help' for more information.\n",
      status: 1,
    });
  });

  it('canonicalizes with -f, -e and -m', () => {
    const { shell } = setup();
    shell.execute(`echo 1 > ${PF_LINK}/sriov_numvfs`);
    expect(shell.execute(`readlink -f /sys/bus/pci/devices/${VF0}/physfn/../${VF0}/physfn`).stdout).toBe(
      `${PF_DIR}\n`,
    );
    expect(shell.execute(`readlink -f ${PF_LINK}/nope`).stdout).toBe(`${PF_DIR}/nope\n`);
    expect(shell.execute(`readlink -f ${PF_LINK}/nope/x`)).toEqual({ stdout: '', stderr: '', status: 1 });
    expect(shell.execute('readlink -f /sys/loop/a')).toEqual({ stdout: '', stderr: '', status: 1 });
    expect(shell.execute(`readlink -e ${PF_LINK}/nope`).status).toBe(1);
    expect(shell.execute(`readlink -m ${PF_LINK}/nope/x/..`).stdout).toBe(`${PF_DIR}/nope\n`);
    shell.execute(`cd ${PF_LINK}`);
    expect(shell.execute('readlink -f ../driver').stdout).toBe(`${ROOT_PORT}/driver\n`);
  });
});

describe('cd and pwd', () => {
  it('keeps a logical $PWD while the kernel resolves from the physical directory', () => {
    const { shell } = setup();
    expect(shell.prompt).toBe(`root@${host.name}:/# `);
    expect(shell.execute(`cd ${PF_LINK}`)).toEqual({ stdout: '', stderr: '', status: 0 });
    expect(shell.execute('pwd').stdout).toBe(`${PF_LINK}\n`);
    expect(shell.execute('pwd -P').stdout).toBe(`${PF_DIR}\n`);
    expect(shell.prompt).toBe(`root@${host.name}:${PF_LINK}# `);
    // `ls ..` goes to the physical parent; `cd ..` goes back along the logical path.
    expect(shell.execute('ls ..').stdout).toBe(`${PF}\nvendor\n`);
    expect(shell.execute('echo 2 > sriov_numvfs').status).toBe(0);
    expect(shell.execute('ls ..').stdout).toBe(`${PF}\n0000:01:00.1\n0000:01:00.2\nvendor\n`);
    expect(shell.execute('cd ..').status).toBe(0);
    expect(shell.execute('pwd').stdout).toBe('/sys/bus/pci/devices\n');
    expect(shell.execute('ls').stdout).toBe(`0000:00:01.0\n${PF}\n0000:01:00.1\n0000:01:00.2\n`);
  });

  it('goes back with cd -, and physically with cd -P', () => {
    const { shell } = setup();
    shell.execute('cd /sys/bus');
    expect(shell.execute(`cd -P pci/devices/${PF}`).status).toBe(0);
    expect(shell.execute('pwd').stdout).toBe(`${PF_DIR}\n`);
    expect(shell.execute('cd -')).toEqual({ stdout: '/sys/bus\n', stderr: '', status: 0 });
    expect(shell.execute('cd /sys/loop/to-file/..').stderr).toBe(
      'vfiolab: cd: /sys/loop/to-file/..: Not a directory\n',
    );
  });

  it('reports errors as bash does', () => {
    const { shell } = setup();
    expect(shell.execute('cd /sys/nope')).toEqual({
      stdout: '',
      stderr: 'vfiolab: cd: /sys/nope: No such file or directory\n',
      status: 1,
    });
    expect(shell.execute(`cd ${PF_LINK}/vendor`).stderr).toBe(
      `vfiolab: cd: ${PF_LINK}/vendor: Not a directory\n`,
    );
    expect(shell.execute('cd a b').stderr).toBe('vfiolab: cd: too many arguments\n');
    expect(shell.execute('cd -')).toMatchObject({ stderr: 'vfiolab: cd: OLDPWD not set\n', status: 1 });
    expect(shell.execute('cd -x')).toMatchObject({
      stderr: 'vfiolab: cd: -x: invalid option\ncd: usage: cd [-L|[-P [-e]] [-@]] [dir]\n',
      status: 2,
    });
    expect(shell.execute('pwd').stdout).toBe('/\n');
  });
});

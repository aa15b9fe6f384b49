/**
 * The Node.js platform: files, stdout/stderr, stdin lines (with a prompt on a terminal), a monotonic
 * wall clock, and the machine description benchmark records carry.
 */
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { createInterface } from 'node:readline';
import { badInput } from '../../base/index.js';
import type { Platform } from '../../lab/index.js';

/** A failed file operation as `PATH: <strerror>` (the texts of the errno codes files commonly fail with). */
function fileError(path: string, e: unknown): Error {
  const code = (e as NodeJS.ErrnoException).code;
  const why: Record<string, string> = {
    ENOENT: 'No such file or directory',
    EISDIR: 'Is a directory',
    EACCES: 'Permission denied',
    ENOTDIR: 'Not a directory',
    EROFS: 'Read-only file system',
    ENOSPC: 'No space left on device',
  };
  return badInput(`${path}: ${why[code ?? ''] ?? String(code)}`, e);
}

export function nodePlatform(): Platform {
  return {
    readFile(path) {
      try {
        return readFileSync(path, 'utf8');
      } catch (e) {
        throw fileError(path, e);
      }
    },
    writeFile(path, data) {
      try {
        writeFileSync(path, data);
      } catch (e) {
        throw fileError(path, e);
      }
    },
    appendFile(path, data) {
      try {
        appendFileSync(path, data);
      } catch (e) {
        throw fileError(path, e);
      }
    },
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    wallNowNs: () => Number(process.hrtime.bigint()),
    stdinIsTty: process.stdin.isTTY === true,
    async *readLines(prompt) {
      const tty = process.stdin.isTTY === true;
      const rl = createInterface({
        input: process.stdin,
        output: tty ? process.stdout : undefined,
        terminal: tty,
      });
      if (!tty) {
        for await (const line of rl) yield line;
        return;
      }
      try {
        for (;;) {
          const line = await new Promise<string | undefined>((resolve) => {
            rl.question(prompt(), resolve);
            rl.once('close', () => resolve(undefined));
          });
          if (line === undefined) return;
          yield line;
        }
      } finally {
        rl.close();
      }
    },
    machine: () => ({
      cpu: os.cpus()[0]?.model ?? 'unknown',
      cores: os.cpus().length,
      memoryBytes: os.totalmem(),
      node: process.version,
      os: `${os.type()} ${os.release()}`,
    }),
  };
}

/**
 * How iproute2's netlink tools (devlink, vdpa) print: text lines built from "key value" pairs, or with
 * -j one JSON document (json_writer: compact, or with -p indented by four spaces with "key": value),
 * always ending in a newline, even when nothing was printed into it. Each show command opens a section
 * object ({"port": {...}}) and every reply adds one entry keyed by its handle; parameters group under
 * their device handle as an array (pr_out_handle_start_arr).
 *
 * Errors, as lib/mnl_utils.c and lib/libnetlink.c report them: an extended-ack message is printed as
 * "Error: <message>." (a period added unless it ends with one), then mnlu_gen_socket_sndrcv prints
 * "kernel answers: <strerror>"; the tool exits with status 1.
 */
import { ERRNO_MESSAGE, Errno, type ErrnoName } from '../../../spec/index.js';
import type { CommandIo } from '../../shell/command.js';

export type JsonValue = string | number | boolean | JsonValue[] | { [key: string]: JsonValue };

/** What a tool collects while it runs: text, or the JSON section being filled. */
export class ToolOutput {
  readonly json: boolean;
  readonly pretty: boolean;
  #text = '';
  #root: { [key: string]: JsonValue } | undefined;
  #section: { [key: string]: JsonValue } | undefined;

  constructor(json: boolean, pretty: boolean) {
    this.json = json;
    this.pretty = pretty;
  }

  /** pr_out_section_start: {"name": {...}} in JSON; nothing in text. */
  section(name: string): void {
    if (!this.json) return;
    this.#section = {};
    this.#root = { [name]: this.#section };
  }

  text(t: string): void {
    if (!this.json) this.#text += t;
  }

  /** One object entry of the section (a handle and its fields). */
  entry(key: string, value: { [key: string]: JsonValue }): void {
    if (this.#section !== undefined) this.#section[key] = value;
  }

  /** One array element under `key` (consecutive replies with the same handle share the array). */
  arrayEntry(key: string, value: { [key: string]: JsonValue }): void {
    if (this.#section === undefined) return;
    const cur = this.#section[key];
    if (Array.isArray(cur)) cur.push(value);
    else this.#section[key] = [value];
  }

  /** Write everything to stdout (JSON mode: the document and its newline). */
  flush(io: CommandIo): void {
    if (!this.json) {
      if (this.#text !== '') io.out(this.#text);
      return;
    }
    const doc = this.#root === undefined ? '' : JSON.stringify(this.#root, null, this.pretty ? 4 : undefined);
    io.out(`${doc}\n`);
  }
}

/**
 * iproute2 tools' leading options as getopt splits them: "-jp" is "-j -p", long options stay whole.
 * Returns the options and the index of the first non-option argument.
 */
export function leadingOptions(args: readonly string[]): {
  readonly options: string[];
  readonly rest: number;
} {
  const options: string[] = [];
  let i = 0;
  for (; i < args.length && args[i]!.startsWith('-'); i++) {
    const a = args[i]!;
    if (a.startsWith('--')) options.push(a);
    else for (const ch of a.slice(1)) options.push(`-${ch}`);
  }
  return { options, rest: i };
}

/** The failure of one request, as the tool's library reports it on stderr. */
export function reportNetlinkError(io: CommandIo, errno: number, extack: string | undefined): void {
  if (extack !== undefined && extack !== '') io.err(`Error: ${extack}${extack.endsWith('.') ? '' : '.'}\n`);
  io.err(`kernel answers: ${strerror(errno)}\n`);
}

export function strerror(errno: number): string {
  const name = (Object.keys(Errno) as ErrnoName[]).find((n) => Errno[n] === errno);
  return name === undefined ? `Unknown error ${errno}` : ERRNO_MESSAGE[name];
}

/** ll_addr_n2a for Ethernet-style addresses: lower-case hex bytes joined by ':'. */
export function formatHwAddr(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

/**
 * ll_addr_a2n (iproute2 lib/utils.c): up to `maxBytes` ':'-separated components, each read with
 * sscanf("%x") (leading hex digits, optional 0x) and at most 255; components past `maxBytes` are
 * ignored. A bad component is reported as iproute2 prints it: "\"<component>\" is invalid lladdr.".
 */
export function parseHwAddr(text: string, maxBytes: number): Uint8Array | { readonly bad: string } {
  const parts = text.split(':');
  const out: number[] = [];
  for (const part of parts.slice(0, maxBytes)) {
    const m = /^\s*[+-]?(0[xX])?([0-9a-fA-F]+)/.exec(part);
    const v = m === null ? Number.NaN : Number.parseInt(m[2]!, 16) * (part.trim().startsWith('-') ? -1 : 1);
    if (!(v >= 0 && v <= 255)) return { bad: part };
    out.push(v);
  }
  return Uint8Array.from(out);
}

export const INVALID_LLADDR = (component: string): string => `"${component}" is invalid lladdr.`;

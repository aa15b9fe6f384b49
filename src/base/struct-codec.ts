/**
 * Describe-once wire structs. A struct is an ordered list of fields, each with its C-side type and an
 * explicit byte offset; `defineStruct` checks every offset against the running layout (no silent
 * gaps or overlaps; padding must be named as `reserved`) and checks the total size. The same
 * description encodes a typed value to bytes and decodes bytes to a typed value, little-endian and
 * bounds-checked, through the helpers of bytes.ts.
 *
 * Field types: u8, le16, le32 (number), le64 (bigint), bytes(n) (Uint8Array), reserved(n) (written as
 * zero, not part of the value), a nested struct, a fixed-count array of structs, and a trailing
 * flexible array member (`tail`: every byte after the fixed part, like C's `u8 data[]`).
 *
 * Short input: `missing: 'error'` (the default) throws LabError('bad-input'); `missing: 'zero'` reads
 * the missing bytes as zero, which is virtio's forward-compatibility rule for the device-readable part
 * of an admin command (virtio spec admin.tex). Bytes beyond the struct are ignored unless the struct has
 * a tail, which takes them.
 *
 * Deliberately left out: bit fields (callers mask named bits), big-endian fields, unions (describe
 * each union member as its own struct and decode the raw bytes with the one the discriminant names).
 *
 * Load order: spec/ files build descriptors at module evaluation, and base/errors.ts imports spec/, so
 * these modules form an import cycle. Everything a descriptor needs at definition time is therefore a
 * hoisted function declaration that touches no module-level binding, so a descriptor can be defined
 * while this module or errors.ts is still being evaluated.
 */
import { readLe, u64, writeLe, writeU64 } from './bytes.js';
import { LabError } from './errors.js';

declare const valueType: unique symbol;

type IntKind = 'u8' | 'le16' | 'le32';

export interface IntField<N extends string = string> {
  readonly kind: IntKind;
  readonly name: N;
  readonly offset: number;
  readonly sizeBytes: 1 | 2 | 4;
}
export interface Le64Field<N extends string = string> {
  readonly kind: 'le64';
  readonly name: N;
  readonly offset: number;
  readonly sizeBytes: 8;
}
export interface BytesField<N extends string = string> {
  readonly kind: 'bytes';
  readonly name: N;
  readonly offset: number;
  readonly sizeBytes: number;
}
export interface ReservedField<N extends string = string> {
  readonly kind: 'reserved';
  readonly name: N;
  readonly offset: number;
  readonly sizeBytes: number;
}
export interface StructField<N extends string = string, T = unknown> {
  readonly kind: 'struct';
  readonly name: N;
  readonly offset: number;
  readonly sizeBytes: number;
  readonly desc: StructDesc<T>;
}
export interface ArrayField<N extends string = string, T = unknown> {
  readonly kind: 'array';
  readonly name: N;
  readonly offset: number;
  readonly sizeBytes: number;
  readonly element: StructDesc<T>;
  readonly count: number;
}
/** A trailing flexible array member: all bytes after the fixed part. Counts 0 towards `sizeBytes`. */
export interface TailField<N extends string = string> {
  readonly kind: 'tail';
  readonly name: N;
  readonly offset: number;
  readonly sizeBytes: 0;
}

export type Field = IntField | Le64Field | BytesField | ReservedField | StructField | ArrayField | TailField;

/** A wire struct. `T` is the decoded value type; it exists only at the type level. */
export interface StructDesc<T> {
  /** The C struct name, for messages (e.g. `virtio_admin_cmd_hdr`). */
  readonly name: string;
  /** Size of the fixed part, what C's sizeof gives (a tail adds nothing). */
  readonly sizeBytes: number;
  readonly fields: readonly Field[];
  readonly hasTail: boolean;
  readonly [valueType]?: T;
}

/** The decoded value type of a descriptor: `StructValue<typeof VirtioAdminCmdHdr>`. */
export type StructValue<D> = D extends StructDesc<infer T> ? T : never;

type FieldValue<F> = F extends IntField
  ? number
  : F extends Le64Field
    ? bigint
    : F extends BytesField | TailField
      ? Uint8Array
      : F extends StructField<string, infer T>
        ? T
        : F extends ArrayField<string, infer T>
          ? T[]
          : never;

type Simplify<T> = { [K in keyof T]: T[K] } & {};

type ValueOfFields<Fs extends readonly Field[]> = Simplify<{
  [F in Fs[number] as F extends ReservedField ? never : F['name']]: FieldValue<F>;
}>;

export interface DecodeOptions {
  /** What a buffer shorter than the struct means: an error (default) or zero bytes (virtio). */
  readonly missing?: 'error' | 'zero';
}

// Field constructors (function declarations: see the load-order note above).

export function u8Field<const N extends string>(name: N, offset: number): IntField<N> {
  return { kind: 'u8', name, offset, sizeBytes: 1 };
}
export function le16Field<const N extends string>(name: N, offset: number): IntField<N> {
  return { kind: 'le16', name, offset, sizeBytes: 2 };
}
export function le32Field<const N extends string>(name: N, offset: number): IntField<N> {
  return { kind: 'le32', name, offset, sizeBytes: 4 };
}
export function le64Field<const N extends string>(name: N, offset: number): Le64Field<N> {
  return { kind: 'le64', name, offset, sizeBytes: 8 };
}
export function bytesField<const N extends string>(
  name: N,
  offset: number,
  sizeBytes: number,
): BytesField<N> {
  return { kind: 'bytes', name, offset, sizeBytes };
}
export function reservedField<const N extends string>(
  name: N,
  offset: number,
  sizeBytes: number,
): ReservedField<N> {
  return { kind: 'reserved', name, offset, sizeBytes };
}
export function structField<const N extends string, T>(
  name: N,
  offset: number,
  desc: StructDesc<T>,
): StructField<N, T> {
  return { kind: 'struct', name, offset, sizeBytes: desc.sizeBytes, desc };
}
export function arrayField<const N extends string, T>(
  name: N,
  offset: number,
  element: StructDesc<T>,
  count: number,
): ArrayField<N, T> {
  return { kind: 'array', name, offset, sizeBytes: element.sizeBytes * count, element, count };
}
export function tailField<const N extends string>(name: N, offset: number): TailField<N> {
  return { kind: 'tail', name, offset, sizeBytes: 0 };
}

function layoutError(structName: string, message: string): LabError {
  return new LabError('internal', `struct ${structName}: ${message}`);
}

/**
 * Describe a struct. `sizeBytes` is the size of the fixed part as the spec states it; every field's
 * offset must equal the end of the previous field, and the last field must end at `sizeBytes`.
 */
export function defineStruct<const Fs extends readonly Field[]>(
  name: string,
  sizeBytes: number,
  fields: Fs,
): StructDesc<ValueOfFields<Fs>> {
  const names = new Set<string>();
  let at = 0;
  let hasTail = false;
  for (const f of fields) {
    if (hasTail) throw layoutError(name, `field ${f.name} follows the tail`);
    if (names.has(f.name)) throw layoutError(name, `duplicate field ${f.name}`);
    names.add(f.name);
    if (f.offset !== at) throw layoutError(name, `field ${f.name} at offset ${f.offset}, layout says ${at}`);
    switch (f.kind) {
      case 'bytes':
      case 'reserved':
        if (!Number.isInteger(f.sizeBytes) || f.sizeBytes <= 0) {
          throw layoutError(name, `field ${f.name} has size ${f.sizeBytes}`);
        }
        break;
      case 'struct':
        if (f.desc.hasTail) throw layoutError(name, `nested struct ${f.name} has a tail`);
        break;
      case 'array':
        if (f.element.hasTail) throw layoutError(name, `array ${f.name} elements have a tail`);
        if (!Number.isInteger(f.count) || f.count <= 0 || f.element.sizeBytes === 0) {
          throw layoutError(name, `array ${f.name} has ${f.count} elements of ${f.element.sizeBytes} bytes`);
        }
        break;
      case 'tail':
        hasTail = true;
        break;
      case 'u8':
      case 'le16':
      case 'le32':
      case 'le64':
        break;
      default:
        return assertNever(f);
    }
    at += f.sizeBytes;
  }
  if (at !== sizeBytes) throw layoutError(name, `fields end at ${at}, declared size is ${sizeBytes}`);
  return Object.freeze({ name, sizeBytes, fields: Object.freeze([...fields]), hasTail });
}

function assertNever(x: never): never {
  throw new LabError('internal', `unexpected field ${JSON.stringify(x)}`);
}

function badValue(desc: StructDesc<unknown>, f: Field, message: string): LabError {
  return new LabError('bad-input', `${desc.name}.${f.name}: ${message}`);
}

const INT_MAX: Record<IntKind, number> = { u8: 0xff, le16: 0xffff, le32: 0xffffffff };
const LE64_MAX = (1n << 64n) - 1n;

function encodeFields(desc: StructDesc<unknown>, value: unknown, buf: Uint8Array, base: number): void {
  if (typeof value !== 'object' || value === null) {
    throw new LabError('bad-input', `${desc.name}: value is not an object`);
  }
  const record = value as Record<string, unknown>;
  for (const f of desc.fields) {
    const at = base + f.offset;
    if (f.kind === 'reserved') continue; // the buffer starts zeroed
    const v = record[f.name];
    switch (f.kind) {
      case 'u8':
      case 'le16':
      case 'le32':
        if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > INT_MAX[f.kind]) {
          throw badValue(desc, f, `${String(v)} is not a ${f.kind} value`);
        }
        writeLe(buf, at, f.sizeBytes, v);
        break;
      case 'le64':
        if (typeof v !== 'bigint' || v < 0n || v > LE64_MAX) {
          throw badValue(desc, f, `${String(v)} is not a le64 value (bigint)`);
        }
        writeU64(buf, at, v);
        break;
      case 'bytes':
        if (!(v instanceof Uint8Array) || v.length !== f.sizeBytes) {
          throw badValue(desc, f, `expected ${f.sizeBytes} bytes`);
        }
        buf.set(v, at);
        break;
      case 'struct':
        encodeFields(f.desc, v, buf, at);
        break;
      case 'array':
        if (!Array.isArray(v) || v.length !== f.count)
          throw badValue(desc, f, `expected ${f.count} elements`);
        v.forEach((e, i) => {
          encodeFields(f.element, e, buf, at + i * f.element.sizeBytes);
        });
        break;
      case 'tail':
        if (!(v instanceof Uint8Array)) throw badValue(desc, f, 'expected a Uint8Array');
        buf.set(v, at);
        break;
      default:
        assertNever(f);
    }
  }
}

function tailOf(desc: StructDesc<unknown>, value: unknown): Uint8Array | undefined {
  const last = desc.fields[desc.fields.length - 1];
  if (last?.kind !== 'tail' || typeof value !== 'object' || value === null) return undefined;
  const v = (value as Record<string, unknown>)[last.name];
  return v instanceof Uint8Array ? v : undefined;
}

/** Encode a value: the fixed part (reserved bytes zero) followed by the tail, if the struct has one. */
export function encodeStruct<T>(desc: StructDesc<T>, value: T): Uint8Array {
  const buf = new Uint8Array(desc.sizeBytes + (tailOf(desc, value)?.length ?? 0));
  encodeFields(desc, value, buf, 0);
  return buf;
}

/** Encode values back to back (a C array of `desc`). */
export function encodeStructArray<T>(desc: StructDesc<T>, values: readonly T[]): Uint8Array {
  if (desc.hasTail) throw new LabError('internal', `${desc.name} has a tail and cannot form an array`);
  const buf = new Uint8Array(desc.sizeBytes * values.length);
  values.forEach((v, i) => {
    encodeFields(desc, v, buf, i * desc.sizeBytes);
  });
  return buf;
}

function decodeFields(desc: StructDesc<unknown>, buf: Uint8Array, base: number, end: number): unknown {
  const out: Record<string, unknown> = {};
  for (const f of desc.fields) {
    const at = base + f.offset;
    switch (f.kind) {
      case 'u8':
      case 'le16':
      case 'le32':
        out[f.name] = readLe(buf, at, f.sizeBytes);
        break;
      case 'le64':
        out[f.name] = u64(buf, at);
        break;
      case 'bytes':
        out[f.name] = buf.slice(at, at + f.sizeBytes);
        break;
      case 'reserved':
        break;
      case 'struct':
        out[f.name] = decodeFields(f.desc, buf, at, end);
        break;
      case 'array':
        out[f.name] = Array.from({ length: f.count }, (_, i) =>
          decodeFields(f.element, buf, at + i * f.element.sizeBytes, end),
        );
        break;
      case 'tail':
        out[f.name] = buf.slice(at, Math.max(at, end));
        break;
      default:
        assertNever(f);
    }
  }
  return out;
}

/** `bytes` as at least `sizeBytes` bytes, zero-extended or rejected as `missing` says. */
function atLeast(name: string, bytes: Uint8Array, sizeBytes: number, options: DecodeOptions): Uint8Array {
  if (bytes.length >= sizeBytes) return bytes;
  if ((options.missing ?? 'error') === 'error') {
    throw new LabError('bad-input', `${name}: ${bytes.length} bytes, the struct needs ${sizeBytes}`);
  }
  const padded = new Uint8Array(sizeBytes);
  padded.set(bytes);
  return padded;
}

/**
 * Decode a value. Bytes beyond the fixed part go to the tail if there is one and are ignored
 * otherwise; a short buffer is an error or reads as zeros, as `options.missing` says.
 */
export function decodeStruct<T>(desc: StructDesc<T>, bytes: Uint8Array, options: DecodeOptions = {}): T {
  const buf = atLeast(desc.name, bytes, desc.sizeBytes, options);
  return decodeFields(desc, buf, 0, buf.length) as T;
}

/**
 * Decode a C array of `desc` filling `bytes`. A trailing partial element is an error, or, with
 * `missing: 'zero'`, one more element whose missing bytes read as zero.
 */
export function decodeStructArray<T>(
  desc: StructDesc<T>,
  bytes: Uint8Array,
  options: DecodeOptions = {},
): T[] {
  if (desc.hasTail || desc.sizeBytes === 0) {
    throw new LabError('internal', `${desc.name} cannot form an array`);
  }
  const count = Math.ceil(bytes.length / desc.sizeBytes);
  const buf = atLeast(`${desc.name}[${count}]`, bytes, count * desc.sizeBytes, options);
  return Array.from(
    { length: count },
    (_, i) => decodeFields(desc, buf, i * desc.sizeBytes, buf.length) as T,
  );
}

/** Byte offset of a named field (value fields only). */
export function offsetOf<T>(desc: StructDesc<T>, name: keyof T & string): number {
  const f = desc.fields.find((x) => x.name === name);
  if (f === undefined) throw new LabError('internal', `${desc.name} has no field ${name}`);
  return f.offset;
}

/**
 * Names of reserved fields (nested ones as `outer.inner`, array ones as `outer[i].inner`) that hold a
 * non-zero byte within `bytes`. Lets a strict device or a test see what a lenient decode ignored.
 */
export function nonZeroReserved<T>(desc: StructDesc<T>, bytes: Uint8Array): string[] {
  const found: string[] = [];
  const walk = (d: StructDesc<unknown>, base: number, prefix: string): void => {
    for (const f of d.fields) {
      const at = base + f.offset;
      if (f.kind === 'reserved') {
        if (bytes.subarray(at, at + f.sizeBytes).some((b) => b !== 0)) found.push(prefix + f.name);
      } else if (f.kind === 'struct') {
        walk(f.desc, at, `${prefix}${f.name}.`);
      } else if (f.kind === 'array') {
        for (let i = 0; i < f.count; i++) {
          walk(f.element, at + i * f.element.sizeBytes, `${prefix}${f.name}[${i}].`);
        }
      }
    }
  };
  walk(desc, 0, '');
  return found;
}

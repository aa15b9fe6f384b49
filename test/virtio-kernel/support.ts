/** Helpers shared by the virtio kernel tests: hex dumps and scripted admin answers. */
export const hexOf = (b: Uint8Array): string => [...b].map((x) => x.toString(16).padStart(2, '0')).join('');

export const fromHex = (s: string): Uint8Array =>
  Uint8Array.from(s.match(/../g) ?? [], (x) => Number.parseInt(x, 16));

/** le64 of a number as 8 bytes. */
export function le64(v: bigint): Uint8Array {
  const out = new Uint8Array(8);
  for (let i = 0; i < 8; i++) out[i] = Number((v >> BigInt(8 * i)) & 0xffn);
  return out;
}

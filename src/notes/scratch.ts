// Reusable typed arrays for the per-word work of one reading. The reader is synchronous and a reading keeps none of
// these arrays, so one set serves every read: a note of a few hundred characters then allocates no typed array at
// all for its words (typed arrays are slow to create), and a 1,000,000-character one no megabytes per read.

const ints: Int32Array<ArrayBuffer>[] = [];
const bytes: Uint8Array<ArrayBuffer>[] = [];

/** Int32 scratch array `slot` with room for `size` entries; its contents are left over from earlier reads. */
export function scratchInts(slot: number, size: number): Int32Array<ArrayBuffer> {
  let a = ints[slot];
  if (a === undefined || a.length < size) {
    a = new Int32Array(Math.max(size, 1024, (a?.length ?? 0) * 2));
    ints[slot] = a;
  }
  return a;
}

/** Uint8 scratch array `slot` with room for `size` entries, the first `size` zeroed. */
export function scratchBytes(slot: number, size: number): Uint8Array<ArrayBuffer> {
  let a = bytes[slot];
  if (a === undefined || a.length < size) {
    a = new Uint8Array(Math.max(size, 1024, (a?.length ?? 0) * 2));
    bytes[slot] = a;
  } else {
    a.fill(0, 0, size);
  }
  return a;
}

/** Slots: one per array of a reading. */
export const S_BLOCKED = 0;
export const S_BLOCKERS = 1;
export const S_SENTENCE_OF = 0;
export const S_TOK0 = 1;
export const S_TOK1 = 2;
export const S_SENT_START = 3;
export const S_SENT_END = 4;
export const S_EFFECT = 2;

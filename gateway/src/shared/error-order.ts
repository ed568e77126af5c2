// Where an entry sorts in errors[] (docs/contract.md): the document, /instances, unknown document members by name,
// then row by row (the row itself, its features in schema order, its unknown members by name). Names compare by
// UTF-16 code units, as JavaScript's default sort does: JSON parsers disagree on member order (V8 puts integer-like
// keys first), so the order a body was sent in is not something both servers can keep. Pure: the gateway and the
// client package's validator sort with it.

export type Rank = readonly [group: number, row: number, part: number, feature: number, name: string];
export const DOCUMENT = 0;
export const INSTANCES = 1;
export const DOCUMENT_MEMBER = 2;
export const ROW = 3;
export const ROW_ITSELF = 0;
export const ROW_FEATURE = 1;
export const ROW_MEMBER = 2;

export function compareRanks(a: Rank, b: Rank): number {
  for (let i = 0; i < 4; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return a[4] < b[4] ? -1 : a[4] > b[4] ? 1 : 0;
}

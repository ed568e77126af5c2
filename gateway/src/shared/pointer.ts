/** An RFC 6901 JSON pointer for a path into the request (`~` and `/` escaped). */
export function toPointer(path: ReadonlyArray<string | number>): string {
  return path.map((part) => `/${String(part).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

/** The path of a pointer, unescaped (`/instances/0/a~1b` -> ['instances', '0', 'a/b']). */
export function fromPointer(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/**
 * Fills `{name}` placeholders in one pass: a filled-in value is never scanned again, so a category named
 * "{count}" stays as it is. A placeholder without a value is left as written. Pure: the client package fills the
 * contract's sentences with it too.
 */
export function fill(template: string, values: Record<string, string | number> = {}): string {
  return template.replace(/\{([A-Za-z]+)\}/g, (whole, name: string) =>
    Object.hasOwn(values, name) ? String(values[name]) : whole,
  );
}

/**
 * The project README is the user's (scaffold: written once), so upgrades leave it alone. Adding the gateway to an
 * existing project is the one change a README must follow: its section is taken from the README the generator would
 * write now and inserted where a new project has it, leaving the rest of the user's text as it is.
 */
export const GATEWAY_HEADING = '## The prediction gateway';

/** The README with the gateway section added, or undefined when it has one already (or the render has none). */
export function withGatewaySection(readme: string, rendered: string): string | undefined {
  if (readme.includes(GATEWAY_HEADING)) return undefined;
  const start = rendered.indexOf(GATEWAY_HEADING);
  if (start < 0) return undefined;
  const next = rendered.indexOf('\n## ', start + GATEWAY_HEADING.length);
  const section = `${rendered.slice(start, next < 0 ? undefined : next + 1).trimEnd()}\n`;
  // Where a new project has it: before the heading that follows it there, if the user's README still has that heading.
  const following = next < 0 ? undefined : rendered.slice(next + 1).split('\n', 1)[0];
  const at = following ? readme.indexOf(`\n${following}\n`) : -1;
  if (at >= 0) return `${readme.slice(0, at + 1)}${section}\n${readme.slice(at + 1)}`;
  return `${readme.trimEnd()}\n\n${section}`;
}

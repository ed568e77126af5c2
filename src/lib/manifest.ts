/**
 * The manifest of .yo-rc.json: what the generator wrote last time, a kind and a hash per file. Its own module because
 * both the upgrade's decisions (./apply) and the merge bases those hashes name (./merge-bases) read it.
 */
import type { FileKind } from './file-specs.js';

export interface ManifestEntry {
  kind: FileKind;
  /** sha256 of what the generator last wrote: tells an edited file from an untouched one, and names its merge base. */
  sha256: string;
}
export type Manifest = Record<string, ManifestEntry>;
